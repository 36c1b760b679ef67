//! Later-stage jobs (checkout creation, …): insert, claim, finish, fail, sweep.
//!
//! Like the inbox, the `jobs` table is the truth about a job and Redis carries only its
//! id. Claims, finishing and failing follow the one fencing scheme of [`super::lease`].

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgExecutor, PgPool};

use super::lease::{self, AfterFailure, DeadQueue, JobTable};
use crate::db::inbox::InboxId;
use crate::jobs::Queue;

/// The id of a `jobs` row.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type,
)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct JobId(i64);

impl JobId {
    /// Wrap a raw id (from a job payload or the CLI).
    pub fn new(id: i64) -> Self {
        Self(id)
    }

    /// The raw value.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Insert the job `queue` / `idempotency_key` for an order, tied to the inbox row of the
/// message the order came from. Returns the job's id; a job with this key that already
/// exists is returned as it is (its key is unique), so scheduling twice is harmless.
pub async fn insert_for_order(
    conn: &mut PgConnection,
    queue: &str,
    order_id: i64,
    idempotency_key: &str,
) -> Result<JobId, sqlx::Error> {
    if let Some(id) = insert_once(&mut *conn, queue, order_id, idempotency_key).await? {
        return Ok(id);
    }
    let (id,): (JobId,) = sqlx::query_as("SELECT id FROM jobs WHERE idempotency_key = $1")
        .bind(idempotency_key)
        .fetch_one(conn)
        .await?;
    Ok(id)
}

/// A job a worker holds the lease on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedJob {
    /// Job id.
    pub id: JobId,
    /// Queue name as stored.
    pub queue: String,
    /// The delivery the job descends from, if any.
    pub inbox_id: Option<InboxId>,
    /// What the job acts on (an order id for checkout).
    pub subject_id: Option<i64>,
    /// The key outbound calls carry, the same on every attempt.
    pub idempotency_key: String,
    /// Attempts including this one.
    pub attempts: i32,
    /// The lease holder: the token `finish` and `fail` check.
    pub locked_by: String,
    /// The outbound request fixed by an earlier attempt ([`fix_request`]), if any.
    pub request_body: Option<String>,
}

/// Take the lease on a job if it is due and nobody else holds it. Returns `None` when it
/// is finished, leased by a live worker, or scheduled for later.
pub async fn claim(
    pool: &PgPool,
    id: JobId,
    worker: &str,
    lease: Duration,
) -> Result<Option<ClaimedJob>, sqlx::Error> {
    lease::claim(
        pool,
        JobTable::Jobs,
        id.get(),
        worker,
        lease,
        "id, queue, inbox_id, subject_id, idempotency_key, attempts, locked_by, request_body",
    )
    .await
}

/// The request this job sends on every attempt: `rendered` unless an earlier attempt
/// already fixed one, committed before the first call so that a retry under the job's
/// idempotency key never sends other bytes (e.g. after the product was renamed).
pub async fn fix_request(
    pool: &PgPool,
    job: &ClaimedJob,
    rendered: String,
) -> Result<String, sqlx::Error> {
    if let Some(fixed) = &job.request_body {
        return Ok(fixed.clone());
    }
    let (fixed,): (String,) = sqlx::query_as(
        "UPDATE jobs SET request_body = coalesce(request_body, $2) WHERE id = $1
         RETURNING request_body",
    )
    .bind(job.id)
    .bind(rendered)
    .fetch_one(pool)
    .await?;
    Ok(fixed)
}

/// Insert the job `queue` / `idempotency_key` for an order (tied, like
/// [`insert_for_order`], to the inbox row of the order's message, if any) in `conn`'s
/// transaction. Returns the new job's id, or `None` when a job with this key exists.
pub async fn insert_once(
    conn: &mut PgConnection,
    queue: &str,
    order_id: i64,
    idempotency_key: &str,
) -> Result<Option<JobId>, sqlx::Error> {
    let row: Option<(JobId,)> = sqlx::query_as(
        "INSERT INTO jobs (queue, inbox_id, subject_id, idempotency_key)
         SELECT $1, m.inbox_id, o.id, $3
           FROM orders o LEFT JOIN messages m ON m.id = o.message_id
          WHERE o.id = $2
         ON CONFLICT (idempotency_key) DO NOTHING
         RETURNING id",
    )
    .bind(queue)
    .bind(order_id)
    .bind(idempotency_key)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(id,)| id))
}

/// How long until a job waiting for its next attempt is due, and its queue, if it is
/// waiting for one.
pub async fn due_in(pool: &PgPool, id: JobId) -> Result<Option<(Duration, Queue)>, sqlx::Error> {
    let wait = lease::next_attempt_in(pool, JobTable::Jobs, id.get()).await?;
    Ok(wait.and_then(|(wait, queue)| Some((wait, Queue::from_name(&queue)?))))
}

/// Mark a claimed job done (inside the transaction that applied its effects). Returns
/// false if the lease was lost, in which case the caller must roll back.
pub async fn finish(conn: impl PgExecutor<'_>, job: &ClaimedJob) -> Result<bool, sqlx::Error> {
    lease::finish(
        conn,
        JobTable::Jobs,
        job.id.get(),
        &job.locked_by,
        "processed",
    )
    .await
}

/// Record a failed attempt: schedule the next one, or mark the job dead and put it in the
/// dead-letter queue (`dead_jobs`) in the same statement. Returns false if the lease was
/// lost.
pub async fn fail(
    conn: impl PgExecutor<'_>,
    job: &ClaimedJob,
    error: &str,
    after: AfterFailure,
) -> Result<bool, sqlx::Error> {
    lease::fail(
        conn,
        JobTable::Jobs,
        job.id.get(),
        &job.locked_by,
        DeadQueue::Named(&job.queue),
        error,
        after,
    )
    .await
}

/// Put a dead job back in line (a DLQ replay, inside its transaction): `queued`,
/// attempts 0, due now, no lease; the last error is kept until an attempt succeeds. The
/// jobs sweeper re-pushes it after `SWEEP_AFTER_SECS` if the push after commit is lost.
/// Returns its queue, or its current status (`None` if there is no row) when it is not
/// `dead`, in which case nothing changed.
pub async fn requeue_dead(
    conn: &mut PgConnection,
    id: JobId,
) -> Result<Result<String, Option<String>>, sqlx::Error> {
    let reset: Option<(String,)> = sqlx::query_as(
        "UPDATE jobs
            SET status = 'queued', attempts = 0, next_attempt_at = now(), locked_until = NULL
          WHERE id = $1 AND status = 'dead'
          RETURNING queue",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((queue,)) = reset {
        return Ok(Ok(queue));
    }
    let status: Option<(String,)> = sqlx::query_as("SELECT status FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(Err(status.map(|(s,)| s)))
}

/// A job the sweeper re-enqueues.
#[derive(Debug, Clone)]
pub struct StrandedJob {
    /// Job id.
    pub id: JobId,
    /// Queue name as stored.
    pub queue: String,
}

/// Find unfinished jobs that have been due for `after` without anyone finishing them, or
/// whose lease ran out ([`lease::sweep`]).
pub async fn sweep(
    pool: &PgPool,
    after: Duration,
    limit: i64,
) -> Result<Vec<StrandedJob>, sqlx::Error> {
    let stranded = lease::sweep(pool, JobTable::Jobs, after, limit).await?;
    Ok(stranded
        .into_iter()
        .map(|row| StrandedJob {
            id: JobId::new(row.id),
            queue: row.queue,
        })
        .collect())
}

/// One job as tests and the admin views inspect it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct JobRow {
    /// Job id.
    pub id: JobId,
    /// Queue name.
    pub queue: String,
    /// The delivery it descends from.
    pub inbox_id: Option<InboxId>,
    /// What it acts on.
    pub subject_id: Option<i64>,
    /// Its outbound idempotency key.
    pub idempotency_key: String,
    /// `queued`, `processing`, `processed`, `failed` or `dead`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// When the next attempt is due.
    pub next_attempt_at: DateTime<Utc>,
    /// The last failure, if any.
    pub last_error: Option<String>,
    /// When it finished.
    pub processed_at: Option<DateTime<Utc>>,
}

/// One job by id.
pub async fn get(pool: &PgPool, id: JobId) -> Result<Option<JobRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, queue, inbox_id, subject_id, idempotency_key, status, attempts,
                next_attempt_at, last_error, processed_at
           FROM jobs WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}
