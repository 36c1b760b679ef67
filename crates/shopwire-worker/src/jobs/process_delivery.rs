//! The apalis handler of every queue: claim the delivery in Postgres, apply it, and record
//! the outcome — success, a scheduled retry, or death — in Postgres, never in apalis.
//!
//! The handler returns `Ok` for everything it understood, so apalis-redis's hard-coded
//! 25-retry loop never runs; only a payload that is not an inbox job is aborted.

use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::{AbortError, BoxDynError, Data};
use shopwire_core::db::inbox::{self, AfterFailure, Claimed, InboxId};
use shopwire_core::jobs::{InboxJob, Queue};
use tracing::Instrument;

use super::apply_delivery::{self, JobError};
use crate::context::JobContext;

/// Jobs by queue and outcome.
pub const JOBS_TOTAL: &str = "shopwire_jobs_total";
/// Job duration (seconds), by queue.
pub const JOB_SECONDS: &str = "shopwire_job_seconds";

/// Entry point for apalis: decode the job, then process it.
pub async fn handle(job: serde_json::Value, ctx: Data<Arc<JobContext>>) -> Result<(), BoxDynError> {
    let job: InboxJob = match serde_json::from_value(job) {
        Ok(job) => job,
        Err(e) => {
            tracing::error!(error = %e, "undecodable job payload; aborting it");
            return Err(AbortError::new(e).into());
        }
    };
    let span = tracing::info_span!(
        "job",
        inbox_id = job.inbox_id.get(),
        provider = tracing::field::Empty
    );
    process(&ctx, job.inbox_id).instrument(span).await;
    Ok(())
}

/// Claim, apply, record. Errors talking to Postgres leave the row as it was: the sweeper
/// enqueues it again once the database is back.
pub async fn process(ctx: &JobContext, id: InboxId) {
    let started = std::time::Instant::now();
    let claimed = match inbox::claim(&ctx.pool, id, &ctx.instance, ctx.lease).await {
        Ok(Some(claimed)) => claimed,
        Ok(None) => {
            let due = inbox::due_in(&ctx.pool, id).await;
            return super::schedule_if_early(ctx, due, InboxJob { inbox_id: id }).await;
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not claim; the sweeper will retry it");
            return;
        }
    };
    tracing::Span::current().record("provider", claimed.provider.as_str());
    let queue = queue_of(&claimed);
    let result = ctx
        .within_attempt_timeout(apply_delivery::apply(ctx, &claimed))
        .await;
    let outcome = match result {
        Ok(status) => {
            tracing::info!(
                outcome = status.as_str(),
                attempts = claimed.attempts,
                "delivery applied"
            );
            status.as_str()
        }
        Err(error) => record_failure(ctx, &claimed, queue, error).await,
    };
    metrics::counter!(JOBS_TOTAL, "queue" => queue.as_str(), "outcome" => outcome).increment(1);
    metrics::histogram!(JOB_SECONDS, "queue" => queue.as_str())
        .record(started.elapsed().as_secs_f64());
}

async fn record_failure(
    ctx: &JobContext,
    claimed: &Claimed,
    queue: Queue,
    error: JobError,
) -> &'static str {
    let after = ctx.after_failure(claimed.attempts, &error);
    let message = error.to_string();
    match inbox::fail(&ctx.pool, claimed.id, &ctx.instance, &message, after).await {
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
            tracing::error!(error = %message, attempts = claimed.attempts, permanent = error.is_permanent(), "delivery is dead");
            "dead"
        }
        AfterFailure::RetryAt(at) => {
            let delay = (at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
            tracing::warn!(error = %message, attempts = claimed.attempts, retry_in_ms = delay.as_millis() as u64, "attempt failed; retry scheduled");
            if let Err(e) = ctx
                .queue
                .push_after(
                    queue,
                    InboxJob {
                        inbox_id: claimed.id,
                    },
                    delay,
                )
                .await
            {
                tracing::warn!(error = %e, "could not schedule the retry in Redis; the sweeper will");
            }
            "retry"
        }
    }
}

fn queue_of(claimed: &Claimed) -> Queue {
    Queue::for_provider_name(&claimed.provider)
}
