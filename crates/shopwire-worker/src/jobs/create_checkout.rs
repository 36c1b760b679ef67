//! The checkout job: create an order's Stripe Checkout Session and store it on the order.
//!
//! Claim the `jobs` row with a lease; call Stripe with the order number as the
//! `Idempotency-Key` (the same on every attempt, so a retry after a lost answer returns
//! the session already created); then store the session and finish the job in one
//! transaction. Failures are recorded in Postgres and retried with backoff, or
//! dead-lettered (`dead_jobs`); apalis's own retry loop never runs.

use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::{AbortError, BoxDynError, Data};
use chrono::Utc;
use shopwire_core::db::inbox::AfterFailure;
use shopwire_core::db::jobs::{self, ClaimedJob, JobId};
use shopwire_core::db::{orders, payments};
use shopwire_core::jobs::{JobRef, Queue};
use tracing::Instrument;

use super::apply_delivery::JobError;
use super::process_delivery::{JOB_SECONDS, JOBS_TOTAL};
use crate::context::JobContext;
use crate::stripe::{NewCheckoutSession, StripeError};

/// Stripe refuses an `expires_at` less than 30 minutes after the session's creation; keep
/// a margin for the request's own latency.
const MIN_SESSION_LIFETIME: Duration = Duration::from_secs(30 * 60 + 30);

/// Entry point for apalis: decode the job, then process it.
pub async fn handle(job: serde_json::Value, ctx: Data<Arc<JobContext>>) -> Result<(), BoxDynError> {
    let job: JobRef = match serde_json::from_value(job) {
        Ok(job) => job,
        Err(e) => {
            tracing::error!(error = %e, "undecodable checkout job payload; aborting it");
            return Err(AbortError::new(e).into());
        }
    };
    let span = tracing::info_span!(
        "job",
        queue = Queue::Checkout.as_str(),
        job_id = job.job_id.get(),
        inbox_id = tracing::field::Empty,
    );
    process(&ctx, job.job_id).instrument(span).await;
    Ok(())
}

/// Claim, attempt, record. Errors talking to Postgres leave the row as it was: the
/// sweeper enqueues it again.
pub async fn process(ctx: &JobContext, id: JobId) {
    let started = std::time::Instant::now();
    let claimed = match jobs::claim(&ctx.pool, id, ctx.lease).await {
        Ok(Some(claimed)) => claimed,
        Ok(None) => {
            tracing::debug!("already done, leased elsewhere or not yet due; nothing to do");
            return;
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not claim; the sweeper will retry it");
            return;
        }
    };
    if let Some(inbox_id) = claimed.inbox_id {
        tracing::Span::current().record("inbox_id", inbox_id.get());
    }
    let result = match tokio::time::timeout(ctx.attempt_timeout, attempt(ctx, &claimed)).await {
        Ok(result) => result,
        Err(_) => Err(JobError::transient(format!(
            "attempt timed out after {:?}",
            ctx.attempt_timeout
        ))),
    };
    let outcome = match result {
        Ok(outcome) => {
            tracing::info!(outcome, attempts = claimed.attempts, "checkout job done");
            outcome
        }
        Err(error) => record_failure(ctx, &claimed, error).await,
    };
    let queue = Queue::Checkout.as_str();
    metrics::counter!(JOBS_TOTAL, "queue" => queue, "outcome" => outcome).increment(1);
    metrics::histogram!(JOB_SECONDS, "queue" => queue).record(started.elapsed().as_secs_f64());
}

/// One attempt; returns the outcome name on success.
async fn attempt(ctx: &JobContext, claimed: &ClaimedJob) -> Result<&'static str, JobError> {
    let order_id = claimed
        .subject_id
        .ok_or_else(|| JobError::permanent("checkout job without an order"))?;
    let stripe = ctx
        .stripe
        .as_ref()
        .ok_or_else(|| JobError::permanent("STRIPE_SECRET_KEY is not set"))?;
    let order = {
        let mut conn = ctx.pool.acquire().await?;
        payments::checkout_order(&mut conn, order_id)
            .await?
            .ok_or_else(|| JobError::permanent(format!("order {order_id} does not exist")))?
    };
    if order.status != "pending" {
        tracing::info!(order = %order.order_number, status = %order.status, "order no longer pending; no session created");
        return finish(ctx, claimed, None).await.map(|()| "not_pending");
    }
    if order.checkout_session_id.is_some() {
        return finish(ctx, claimed, None).await.map(|()| "already_created");
    }
    let expires_at = order.expires_at.ok_or_else(|| {
        JobError::permanent(format!("order {} has no reservation", order.order_number))
    })?;
    let lifetime = (expires_at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
    if lifetime < MIN_SESSION_LIFETIME {
        return Err(JobError::permanent(format!(
            "reservation of {} lapses in {}s, under Stripe Checkout's 30-minute minimum",
            order.order_number,
            lifetime.as_secs()
        )));
    }
    // One line item of `quantity` units when the total divides evenly, else the whole
    // total as a single unit: the buyer is charged exactly the order's total either way.
    let (quantity, unit_amount) = match order.quantity {
        q if q > 0 && order.total_cents % i64::from(q) == 0 => {
            (q, order.total_cents / i64::from(q))
        }
        _ => (1, order.total_cents),
    };
    let name = order.title.as_deref().unwrap_or(&order.order_number);
    let session = stripe
        .create_checkout_session(&NewCheckoutSession {
            order_number: &order.order_number,
            product_name: name,
            currency: &order.currency,
            unit_amount,
            quantity,
            expires_at: expires_at.timestamp(),
        })
        .await
        .map_err(job_error)?;
    finish(ctx, claimed, Some((order_id, &session.id, &session.url))).await?;
    tracing::info!(order = %order.order_number, session = %session.id, "checkout session created");
    Ok("processed")
}

/// Store the session (if any) and mark the job processed, in one transaction.
async fn finish(
    ctx: &JobContext,
    claimed: &ClaimedJob,
    session: Option<(i64, &str, &str)>,
) -> Result<(), JobError> {
    let mut tx = ctx.pool.begin().await?;
    if let Some((order_id, session_id, url)) = session {
        orders::set_checkout(&mut tx, order_id, session_id, url).await?;
    }
    if !jobs::finish(&mut *tx, claimed).await? {
        tx.rollback().await?;
        return Err(JobError::transient("lease lost before commit"));
    }
    tx.commit().await?;
    Ok(())
}

fn job_error(e: StripeError) -> JobError {
    if e.is_transient() {
        JobError::Transient {
            retry_after: e.retry_after(),
            message: e.to_string(),
        }
    } else {
        JobError::permanent(e.to_string())
    }
}

async fn record_failure(ctx: &JobContext, claimed: &ClaimedJob, error: JobError) -> &'static str {
    let attempts = u32::try_from(claimed.attempts).unwrap_or(u32::MAX);
    let after = if error.is_permanent() || ctx.retry.exhausted(attempts) {
        AfterFailure::Dead
    } else {
        let delay = ctx.retry.delay(attempts, error.retry_after());
        AfterFailure::RetryAt(Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default())
    };
    let message = error.to_string();
    match jobs::fail(&ctx.pool, claimed, &message, after).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!("lease lost before the failure was recorded; another worker owns it");
            return "lease_lost";
        }
        Err(e) => {
            tracing::error!(error = %e, "could not record the failure; the lease will expire and the sweeper retries");
            return "unrecorded";
        }
    }
    match after {
        AfterFailure::Dead => {
            tracing::error!(error = %message, attempts, permanent = error.is_permanent(), "checkout job is dead");
            "dead"
        }
        AfterFailure::RetryAt(at) => {
            let delay = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
            tracing::warn!(error = %message, attempts, retry_in_ms = delay.as_millis() as u64, "checkout attempt failed; retry scheduled");
            let job = JobRef { job_id: claimed.id };
            if let Err(e) = ctx.queue.push_ref_after(Queue::Checkout, job, delay).await {
                tracing::warn!(error = %e, "could not schedule the retry in Redis; the sweeper will");
            }
            "retry"
        }
    }
}
