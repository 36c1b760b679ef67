//! The allocator's job: decide one variant's due claims, and serve its waitlist, in one
//! transaction under the variant's row lock (`db::claims::allocate`).
//!
//! A claim is recorded `pending` by the message stage, due `CLAIM_ORDER_WINDOW_MS` after
//! its message's own time; the process's claim watch (`claim_watch`) pushes this job once
//! the claim is due and every buyer message that arrived before it + the window has been
//! read — one job for the variant, so a burst of claims for the last units is decided by
//! one call in message-time order, whichever worker took which message. The claims table
//! is the truth: a lost or failed run is made up by the sweeper
//! (`db::claims::needing_allocation`), and running twice decides nothing twice.

use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::{AbortError, BoxDynError, Data};
use chrono::Utc;
use shopwire_core::db::claims::{self, Allocation, AllocationRules};
use shopwire_core::jobs::{AllocateJob, JobRef, Queue};
use tracing::Instrument;

use crate::context::JobContext;
use crate::pipeline::checkout;

/// Claims decided by the allocator, by outcome.
pub const CLAIM_OUTCOMES_TOTAL: &str = "shopwire_claim_outcomes_total";

/// After a failed allocation, try again this soon (the sweeper is the backstop).
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Entry point for apalis: decode the job, then allocate.
pub async fn handle(job: serde_json::Value, ctx: Data<Arc<JobContext>>) -> Result<(), BoxDynError> {
    let job: AllocateJob = match serde_json::from_value(job) {
        Ok(job) => job,
        Err(e) => {
            tracing::error!(error = %e, "undecodable allocation job; aborting it");
            return Err(AbortError::new(e).into());
        }
    };
    let span = tracing::info_span!("allocate", product_id = job.product_id);
    run(&ctx, job.product_id).instrument(span).await;
    Ok(())
}

/// The allocator's rules from settings.
pub fn rules(ctx: &JobContext) -> AllocationRules<'static> {
    AllocationRules {
        hold: ctx.reservation_ttl,
        checkout: ctx
            .stripe
            .is_some()
            .then_some((Queue::Checkout.as_str(), checkout::JOB_KEY_PREFIX)),
        waitlist_max: ctx.claims.waitlist_max,
        waitlist_ttl: ctx.claims.waitlist_ttl,
        max_open_holds: ctx.claims.buyer_max_open_holds,
        order_window: ctx.claims.order_window,
    }
}

/// Allocate `product_id`'s due claims now; push the new orders' checkout jobs and have the
/// claim watch run it again for claims still waiting for their window or for earlier
/// messages to be read. Returns what was decided (`None` when the allocation failed and
/// was rescheduled). With `CART_MODE=live` a hold's
/// checkout job is its cart's, due later: the runner finds it early and schedules it for
/// its time, so the cart settles on time without a sweep.
pub async fn run(ctx: &JobContext, product_id: i64) -> Option<Allocation> {
    let allocated =
        claims::allocate_with_carts(&ctx.pool, product_id, &rules(ctx), ctx.cart_settle).await;
    let allocation = match allocated {
        Ok(allocation) => allocation,
        Err(e) => {
            tracing::warn!(error = %e, "allocation failed; retrying shortly");
            let retry = chrono::Duration::from_std(RETRY_AFTER).unwrap_or_default();
            ctx.claim_watch.due_at(product_id, Utc::now() + retry);
            return None;
        }
    };
    let jobs: Vec<JobRef> = allocation
        .decided
        .iter()
        .filter_map(|d| d.checkout_job.map(|job_id| JobRef { job_id }))
        .collect();
    super::runner::enqueue_after_commit(ctx, Queue::Checkout, &jobs).await;
    for d in &allocation.decided {
        metrics::counter!(CLAIM_OUTCOMES_TOTAL, "outcome" => d.outcome.as_str()).increment(1);
        tracing::info!(claim = d.claim_id.get(), outcome = %d.outcome, order = d.order_number.as_deref(), position = d.waitlist_position, "claim decided");
    }
    // Due claims that wait for earlier buyer messages to be read, and claims not yet due
    // (by the transaction's clock: one that fell due since is simply due now): the watch
    // pushes this variant again when either is ready.
    if let Some(after) = allocation.settled_once_unread_after {
        ctx.claim_watch.settled_after(product_id, after);
    }
    if let Some((due, after)) = allocation.next_wait {
        ctx.claim_watch.due_and_settled(product_id, due, after);
    }
    Some(allocation)
}
