//! The apalis handler of the `jobs`-table queues (checkout, replies, trends): claim the row with a
//! lease, run the queue's attempt, and record the outcome — done, a retry scheduled with
//! backoff (honouring `Retry-After`), or dead with a `dead_jobs` row — in Postgres.
//! apalis's own retry loop never runs.

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
use super::{create_checkout, expire_checkout, refund_payment, reply_to_buyer, score_trends};
use crate::context::JobContext;

/// Entry point for apalis: decode the job, then process it.
pub async fn handle(job: serde_json::Value, ctx: Data<Arc<JobContext>>) -> Result<(), BoxDynError> {
    let job: JobRef = match serde_json::from_value(job) {
        Ok(job) => job,
        Err(e) => {
            tracing::error!(error = %e, "undecodable job payload; aborting it");
            return Err(AbortError::new(e).into());
        }
    };
    let span = tracing::info_span!(
        "job",
        job_id = job.job_id.get(),
        queue = tracing::field::Empty,
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
            let due = jobs::due_in(&ctx.pool, id).await;
            return super::schedule_if_early(ctx, due, JobRef { job_id: id }).await;
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not claim; the sweeper will retry it");
            return;
        }
    };
    let span = tracing::Span::current();
    span.record("queue", claimed.queue.as_str());
    if let Some(inbox_id) = claimed.inbox_id {
        span.record("inbox_id", inbox_id.get());
    }
    let queue = Queue::from_name(&claimed.queue);
    let attempt = async {
        match queue {
            Some(Queue::Checkout) => stripe_call(ctx, &claimed).await,
            Some(Queue::Replies) => reply_to_buyer::attempt(ctx, &claimed).await,
            Some(Queue::Trends) => score_trends::attempt(ctx, &claimed).await,
            _ => Err(JobError::permanent(format!(
                "no handler for queue `{}`",
                claimed.queue
            ))),
        }
    };
    let result = ctx.within_attempt_timeout(attempt).await;
    let outcome = match result {
        Ok(outcome) => {
            tracing::info!(outcome, attempts = claimed.attempts, "job done");
            outcome
        }
        Err(error) => record_failure(ctx, &claimed, queue, error).await,
    };
    let name = queue.map_or("unknown", Queue::as_str);
    metrics::counter!(JOBS_TOTAL, "queue" => name, "outcome" => outcome).increment(1);
    metrics::histogram!(JOB_SECONDS, "queue" => name).record(started.elapsed().as_secs_f64());
}

/// What every Stripe job about an order starts from: the order's id, the Stripe client and
/// the order as checkout sees it. A job without an order, or without Stripe configured,
/// cannot succeed by retrying.
pub async fn stripe_order<'a>(
    ctx: &'a JobContext,
    claimed: &ClaimedJob,
) -> Result<
    (
        i64,
        &'a crate::stripe::StripeClient,
        payments::CheckoutOrder,
    ),
    JobError,
> {
    let order_id = claimed
        .subject_id
        .ok_or_else(|| JobError::permanent(format!("job {} names no order", claimed.id)))?;
    let stripe = ctx
        .stripe
        .as_ref()
        .ok_or_else(|| JobError::permanent("STRIPE_SECRET_KEY is not set"))?;
    let mut conn = ctx.pool.acquire().await?;
    let order = payments::checkout_order(&mut conn, order_id)
        .await?
        .ok_or_else(|| JobError::permanent(format!("order {order_id} does not exist")))?;
    Ok((order_id, stripe, order))
}

/// Mark the claimed job processed in `tx` and commit both; on a lost lease `tx` rolls
/// back and the attempt counts as failed (the job's new holder decides).
pub async fn commit(
    mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
    claimed: &ClaimedJob,
) -> Result<(), JobError> {
    if !jobs::finish(&mut *tx, claimed).await? {
        tx.rollback().await?;
        return Err(JobError::transient("lease lost before commit"));
    }
    tx.commit().await?;
    Ok(())
}

/// The checkout queue carries every Stripe call about an order; its key says which.
async fn stripe_call(ctx: &JobContext, claimed: &ClaimedJob) -> Result<&'static str, JobError> {
    let key = claimed.idempotency_key.as_str();
    if key.starts_with(orders::EXPIRE_SESSION_KEY_PREFIX) {
        expire_checkout::attempt(ctx, claimed).await
    } else if key.starts_with(refund_payment::KEY_PREFIX) {
        refund_payment::attempt(ctx, claimed).await
    } else {
        create_checkout::attempt(ctx, claimed).await
    }
}

/// Push a job after the transaction that created it has committed. Best effort: a job
/// Redis never got is pushed by the sweeper.
pub async fn enqueue(ctx: &JobContext, queue: Queue, job: JobId) {
    if let Err(e) = ctx.queue.push_refs(queue, &[JobRef { job_id: job }]).await {
        tracing::warn!(job_id = job.get(), queue = queue.as_str(), error = %e, "could not push the job; the sweeper will");
    }
}

async fn record_failure(
    ctx: &JobContext,
    claimed: &ClaimedJob,
    queue: Option<Queue>,
    error: JobError,
) -> &'static str {
    let after = ctx.after_failure(claimed.attempts, &error);
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
    match (after, queue) {
        (AfterFailure::Dead, _) | (_, None) => {
            tracing::error!(error = %message, attempts = claimed.attempts, permanent = error.is_permanent(), "job is dead");
            "dead"
        }
        (AfterFailure::RetryAt(at), Some(queue)) => {
            let delay = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
            tracing::warn!(error = %message, attempts = claimed.attempts, retry_in_ms = delay.as_millis() as u64, "attempt failed; retry scheduled");
            let job = JobRef { job_id: claimed.id };
            if let Err(e) = ctx.queue.push_ref_after(queue, job, delay).await {
                tracing::warn!(error = %e, "could not schedule the retry in Redis; the sweeper will");
            }
            "retry"
        }
    }
}
