//! The one job runner. Every queue whose rows carry a lease — inbox deliveries, `jobs` rows,
//! outbound deliveries — runs here: claim the row in Postgres (`shopwire_core::db::lease`),
//! run one attempt under the attempt timeout, and record the outcome (done, a retry
//! scheduled with backoff and `Retry-After`, or dead with its dead-letter row) in
//! Postgres, never in apalis.
//!
//! The apalis handler returns `Ok` for everything it understood, so apalis-redis's
//! hard-coded 25-retry loop never runs; only a payload that is not a job id is aborted.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::{AbortError, BoxDynError, Data};
use serde::Serialize;
use serde::de::DeserializeOwned;
use shopwire_core::db::lease::AfterFailure;
use shopwire_core::jobs::Queue;
use tracing::Instrument;

use crate::attempt::JobError;
use crate::context::JobContext;
use crate::retry::RetryPolicy;

/// Jobs by queue and outcome.
pub const JOBS_TOTAL: &str = "shopwire_jobs_total";
/// Job duration (seconds), by queue.
pub const JOB_SECONDS: &str = "shopwire_job_seconds";

/// One kind of job: where its rows live, what Redis carries, and what an attempt does.
pub trait JobKind: Send + Sync + 'static {
    /// The row as a claim returns it.
    type Claimed: Send + Sync;
    /// What Redis carries: the row's id and nothing else.
    type Payload: Serialize + DeserializeOwned + Send + Sync;

    /// The payload naming row `id`.
    fn payload(id: i64) -> Self::Payload;
    /// The row a payload names.
    fn row_id(payload: &Self::Payload) -> i64;
    /// Take the lease on row `id`, if it is due and free.
    fn claim(
        ctx: &JobContext,
        id: i64,
    ) -> impl Future<Output = Result<Option<Self::Claimed>, sqlx::Error>> + Send;
    /// How long until row `id` is due and on which queue, when it waits for a later attempt.
    fn due_in(
        ctx: &JobContext,
        id: i64,
    ) -> impl Future<Output = Result<Option<(Duration, Queue)>, sqlx::Error>> + Send;
    /// The claimed row's id.
    fn id(claimed: &Self::Claimed) -> i64;
    /// The claimed row's queue (`None`: a row of no known queue, which can only die).
    fn queue(claimed: &Self::Claimed) -> Option<Queue>;
    /// Attempts including this one.
    fn attempts(claimed: &Self::Claimed) -> i32;
    /// Note the row's identity on the job's span.
    fn describe(claimed: &Self::Claimed, span: &tracing::Span);
    /// Run one attempt; `Ok` names the outcome for logs and metrics.
    fn attempt(
        ctx: &JobContext,
        claimed: &Self::Claimed,
    ) -> impl Future<Output = Result<&'static str, JobError>> + Send;
    /// Record a failed attempt (fenced by the lease); false when the lease was lost.
    fn fail(
        ctx: &JobContext,
        claimed: &Self::Claimed,
        error: &str,
        after: AfterFailure,
    ) -> impl Future<Output = Result<bool, sqlx::Error>> + Send;
    /// The retry budget and backoff of this kind.
    fn policy(ctx: &JobContext) -> RetryPolicy {
        ctx.retry
    }
    /// Called once the row is finished for good (done or dead): what it held back may go.
    fn settled(_ctx: &JobContext, _claimed: &Self::Claimed) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// Entry point for apalis: decode the job, then process it.
pub async fn handle<K: JobKind>(
    job: serde_json::Value,
    ctx: Data<Arc<JobContext>>,
) -> Result<(), BoxDynError> {
    let job: K::Payload = match serde_json::from_value(job) {
        Ok(job) => job,
        Err(e) => {
            tracing::error!(error = %e, "undecodable job payload; aborting it");
            return Err(AbortError::new(e).into());
        }
    };
    let id = K::row_id(&job);
    let span = tracing::info_span!(
        "job",
        id,
        queue = tracing::field::Empty,
        inbox_id = tracing::field::Empty,
        provider = tracing::field::Empty,
    );
    process::<K>(&ctx, id).instrument(span).await;
    Ok(())
}

/// Claim, attempt, record. Errors talking to Postgres leave the row as it was: the
/// sweeper enqueues it again.
pub async fn process<K: JobKind>(ctx: &JobContext, id: i64) {
    let started = std::time::Instant::now();
    let claimed = match K::claim(ctx, id).await {
        Ok(Some(claimed)) => claimed,
        Ok(None) => return schedule_if_early::<K>(ctx, id).await,
        Err(e) => {
            tracing::warn!(error = %e, "could not claim; the sweeper will retry it");
            return;
        }
    };
    let span = tracing::Span::current();
    K::describe(&claimed, &span);
    let queue = K::queue(&claimed);
    let name = queue.map_or("unknown", Queue::as_str);
    span.record("queue", name);
    let attempts = K::attempts(&claimed);
    let outcome = match ctx.within_attempt_timeout(K::attempt(ctx, &claimed)).await {
        Ok(outcome) => {
            tracing::info!(outcome, attempts, "job done");
            K::settled(ctx, &claimed).await;
            outcome
        }
        Err(error) => record_failure::<K>(ctx, &claimed, queue, error).await,
    };
    metrics::counter!(JOBS_TOTAL, "queue" => name, "outcome" => outcome).increment(1);
    metrics::histogram!(JOB_SECONDS, "queue" => name).record(started.elapsed().as_secs_f64());
}

/// A job whose row could not be claimed: if the row waits for a later attempt (the copy
/// came early, e.g. on a clock a little ahead of Postgres's), schedule it again for then;
/// otherwise it is done or leased elsewhere and this copy simply ends.
async fn schedule_if_early<K: JobKind>(ctx: &JobContext, id: i64) {
    match K::due_in(ctx, id).await {
        Ok(Some((wait, queue))) => {
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                "came before its time; scheduled again"
            );
            if let Err(e) = ctx.queue.schedule(queue, &K::payload(id), wait).await {
                tracing::warn!(error = %e, "could not schedule it again; the sweeper will");
            }
        }
        Ok(None) => tracing::debug!("already done or leased elsewhere; nothing to do"),
        Err(e) => {
            tracing::warn!(error = %e, "could not read its schedule; the sweeper will retry it")
        }
    }
}

/// What a failed attempt leads to: death when the error is permanent or the attempts
/// (including this one) are spent, else the next attempt's time under `policy`.
pub fn after_failure(policy: &RetryPolicy, attempts: i32, error: &JobError) -> AfterFailure {
    let attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
    if error.is_permanent() || policy.exhausted(attempts) {
        return AfterFailure::Dead;
    }
    let delay = policy.delay(attempts, error.retry_after());
    AfterFailure::RetryAt(
        chrono::Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default(),
    )
}

async fn record_failure<K: JobKind>(
    ctx: &JobContext,
    claimed: &K::Claimed,
    queue: Option<Queue>,
    error: JobError,
) -> &'static str {
    let attempts = K::attempts(claimed);
    let after = match queue {
        Some(_) => after_failure(&K::policy(ctx), attempts, &error),
        None => AfterFailure::Dead,
    };
    let message = error.report();
    match K::fail(ctx, claimed, &message, after).await {
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
        (AfterFailure::RetryAt(at), Some(queue)) => {
            let delay = (at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
            tracing::warn!(error = %message, attempts, retry_in_ms = delay.as_millis() as u64, "attempt failed; retry scheduled");
            let job = K::payload(K::id(claimed));
            if let Err(e) = ctx.queue.schedule(queue, &job, delay).await {
                tracing::warn!(error = %e, "could not schedule the retry in Redis; the sweeper will");
            }
            "retry"
        }
        _ => {
            tracing::error!(error = %message, attempts, permanent = error.is_permanent(), "job is dead");
            K::settled(ctx, claimed).await;
            "dead"
        }
    }
}

/// Push jobs after the transaction that created them has committed (see
/// `QueueClient::enqueue_after_commit`).
pub async fn enqueue_after_commit<J: Serialize + Sync>(ctx: &JobContext, queue: Queue, jobs: &[J]) {
    ctx.queue.enqueue_after_commit(queue, jobs).await;
}
