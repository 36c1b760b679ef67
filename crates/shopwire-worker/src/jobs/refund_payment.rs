//! The late-payment refund job: a buyer paid for an order whose hold had lapsed and whose
//! units were sold meanwhile, so the order's total goes back (all of the payment for an
//! order paid alone, its share of a live cart's) (`POST /v1/refunds`, with
//! the job's key as the `Idempotency-Key` and the request fixed on the job, so retries can
//! never refund twice). The decision was reported when it was made; this job carries it
//! out. Stripe's `charge.refunded` event then records the refund on the order's payments.

use shopwire_core::db::jobs::{self, ClaimedJob};

use super::JobError;
use super::run_job;
use crate::attempt::commit;
use crate::context::JobContext;

/// Idempotency-key prefix of a refund job: `refund:<order number>`.
pub const KEY_PREFIX: &str = "refund:";

/// One attempt; returns the outcome name on success.
pub async fn attempt(ctx: &JobContext, claimed: &ClaimedJob) -> Result<&'static str, JobError> {
    let (_, stripe, order) = run_job::stripe_order(ctx, claimed).await?;
    let number = order.order_number;
    let intent = order.payment_intent_id.ok_or_else(|| {
        JobError::permanent(format!("order {number} has no PaymentIntent to refund"))
    })?;
    let rendered = stripe.render_refund(&intent, &number, order.total_cents);
    let body = jobs::fix_request(&ctx.pool, claimed, rendered).await?;
    let refund = stripe.create_refund(body, &claimed.idempotency_key).await?;
    commit::job(ctx.pool.begin().await?, claimed).await?;
    tracing::warn!(order = %number, refund = %refund.id, status = refund.status.as_deref(), "late payment refunded");
    Ok("refunded")
}
