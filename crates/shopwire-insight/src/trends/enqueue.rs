//! Asking for a scoring run: a `trends` job row, idempotent by key, pushed to Redis when new.
//! The worker's clock, the RapidAPI fetch and `shopwire-admin trends import` all ask here.

use shopwire_core::db::jobs::JobId;
use shopwire_core::db::trends;
use shopwire_core::jobs::{JobRef, Queue};
use shopwire_queue::QueueClient;
use sqlx::PgPool;

/// Why no scoring job could be created.
#[derive(Debug, thiserror::Error)]
#[error("failed to create the trend scoring job")]
pub struct EnqueueError(#[from] sqlx::Error);

/// Create the scoring job `key` unless it exists, and push it when new (a job Redis never
/// got is pushed by the sweeper). Returns its id.
pub async fn enqueue_scoring(
    pool: &PgPool,
    queue: &QueueClient,
    key: &str,
) -> Result<JobId, EnqueueError> {
    let (job_id, created) = trends::insert_scoring_job(pool, key).await?;
    if created && let Err(e) = queue.push_refs(Queue::Trends, &[JobRef { job_id }]).await {
        tracing::warn!(job_id = job_id.get(), error = %e, "could not push the trend scoring job; the sweeper will");
    }
    Ok(job_id)
}
