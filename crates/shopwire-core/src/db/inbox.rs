//! The inbox of deliveries: record, claim, finish, fail, sweep, list.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgExecutor, PgPool};

use super::lease::{self, DeadQueue, JobTable};
use crate::domain::{Delivery, InboxStatus, Provider};
use crate::jobs::Queue;

mod batch;

pub use batch::{NewDelivery, record_batch};

/// The id of an inbox row: the one id that traces a webhook to its order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type,
)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct InboxId(i64);

impl InboxId {
    /// Wrap a raw id (from a job payload or the CLI).
    pub fn new(id: i64) -> Self {
        Self(id)
    }

    /// The raw value.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for InboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for InboxId {
    type Err = std::num::ParseIntError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(InboxId)
    }
}

/// Whether a delivery was new or already in the inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// First time we see it: enqueue it.
    New(InboxId),
    /// Already recorded (a retry or a concurrent duplicate): enqueue nothing.
    Duplicate(InboxId),
}

impl Recorded {
    /// The inbox id either way.
    pub fn id(self) -> InboxId {
        match self {
            Recorded::New(id) | Recorded::Duplicate(id) => id,
        }
    }
}

/// Record a verified delivery. The unique (provider, dedupe_key) constraint decides,
/// inside Postgres, which of several concurrent copies wins.
pub async fn record(
    pool: &PgPool,
    provider: Provider,
    delivery: &Delivery,
    body: &[u8],
) -> Result<Recorded, sqlx::Error> {
    insert_or_find(
        pool,
        provider,
        &delivery.dedupe_key,
        Some(&delivery.event_type),
        body,
        InboxStatus::Queued,
        None,
    )
    .await
}

/// Keep a verified but malformed delivery for audit, as `rejected`.
pub async fn record_rejected(
    pool: &PgPool,
    provider: Provider,
    body: &[u8],
    reason: &str,
) -> Result<Recorded, sqlx::Error> {
    let key = format!("rejected:{}", crate::domain::body_hash(body));
    insert_or_find(
        pool,
        provider,
        &key,
        None,
        body,
        InboxStatus::Rejected,
        Some(reason),
    )
    .await
}

async fn insert_or_find(
    pool: &PgPool,
    provider: Provider,
    dedupe_key: &str,
    event_type: Option<&str>,
    body: &[u8],
    status: InboxStatus,
    last_error: Option<&str>,
) -> Result<Recorded, sqlx::Error> {
    let inserted: Option<(InboxId,)> = sqlx::query_as(
        "INSERT INTO inbox (provider, dedupe_key, event_type, body, status, last_error)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (provider, dedupe_key) DO NOTHING
         RETURNING id",
    )
    .bind(provider.as_str())
    .bind(dedupe_key)
    .bind(event_type)
    .bind(body)
    .bind(status.as_str())
    .bind(last_error)
    .fetch_optional(pool)
    .await?;
    if let Some((id,)) = inserted {
        return Ok(Recorded::New(id));
    }
    // A separate statement: its snapshot sees the row the conflicting insert committed.
    let (id,): (InboxId,) =
        sqlx::query_as("SELECT id FROM inbox WHERE provider = $1 AND dedupe_key = $2")
            .bind(provider.as_str())
            .bind(dedupe_key)
            .fetch_one(pool)
            .await?;
    Ok(Recorded::Duplicate(id))
}

/// A delivery a worker holds the lease on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    /// Inbox id.
    pub id: InboxId,
    /// Provider name as stored.
    pub provider: String,
    /// Provider's event type.
    pub event_type: Option<String>,
    /// The exact bytes received.
    pub body: Vec<u8>,
    /// Attempts including this one.
    pub attempts: i32,
    /// The lease holder: the token finishing and failing check.
    pub locked_by: String,
    /// When it arrived.
    pub received_at: chrono::DateTime<chrono::Utc>,
}

/// Take the lease on a delivery if it is due and nobody else holds it. Returns `None`
/// when it is finished, leased by a live worker, or scheduled for later: the job is then
/// a harmless duplicate and ends.
pub async fn claim(
    pool: &PgPool,
    id: InboxId,
    worker: &str,
    lease: Duration,
) -> Result<Option<Claimed>, sqlx::Error> {
    lease::claim(
        pool,
        JobTable::Inbox,
        id.get(),
        worker,
        lease,
        "id, provider, event_type, body, attempts, locked_by, received_at",
    )
    .await
}

/// How long until a delivery waiting for its next attempt is due, and its queue, if it
/// is waiting for one (a job that came before its time is scheduled again).
pub async fn due_in(pool: &PgPool, id: InboxId) -> Result<Option<(Duration, Queue)>, sqlx::Error> {
    let wait = lease::next_attempt_in(pool, JobTable::Inbox, id.get()).await?;
    Ok(wait.map(|(wait, provider)| (wait, Queue::for_provider_name(&provider))))
}

/// Mark a claimed delivery done (inside the transaction that applied its effects).
/// Returns false if the lease was lost, in which case the caller must roll back.
pub async fn finish(
    conn: impl PgExecutor<'_>,
    id: InboxId,
    worker: &str,
    outcome: InboxStatus,
) -> Result<bool, sqlx::Error> {
    lease::finish(conn, JobTable::Inbox, id.get(), worker, outcome.as_str()).await
}

pub use super::lease::AfterFailure;

/// Record a failed attempt and its consequence; returns false if the lease was lost.
/// A delivery that dies is put in the dead-letter queue (`dead_jobs`, on its provider's
/// queue) in the same statement, so no death is ever missing from the DLQ.
pub async fn fail(
    conn: impl PgExecutor<'_>,
    id: InboxId,
    worker: &str,
    error: &str,
    after: AfterFailure,
) -> Result<bool, sqlx::Error> {
    lease::fail(
        conn,
        JobTable::Inbox,
        id.get(),
        worker,
        DeadQueue::OfProvider,
        error,
        after,
    )
    .await
}

/// Which rows `requeue` may reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequeueFrom {
    /// Only a `dead` row (a DLQ replay).
    Dead,
    /// Any row but a `rejected` one or one a live worker holds, provided nothing has
    /// enqueued it since `snapshot_at` (an events replay: a row this same call, a
    /// concurrent one, a failed retry or the sweeper enqueued after the snapshot is left
    /// alone, so no call enqueues a row twice or loops over rows failing again).
    AnyBut {
        /// When the replay took its snapshot (Postgres time).
        snapshot_at: DateTime<Utc>,
    },
}

/// The result of `requeue`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requeued {
    /// Reset: push an `InboxJob` for it after commit.
    Yes {
        /// Its provider, as stored.
        provider: String,
        /// Its status before the reset.
        previous: String,
    },
    /// Not eligible; nothing changed. Its current status, or `None` if there is no row.
    No(Option<String>),
}

/// Put a delivery back in line: `queued`, attempts 0, due now, no lease, no
/// `processed_at`, stamped as enqueued now (the sweeper re-enqueues it after
/// `SWEEP_AFTER_SECS` if the push that follows the commit is lost). `last_error` is kept
/// until an attempt succeeds. Its open `dead_jobs` entries are closed (`replayed_at`)
/// in the same statement. Handlers are idempotent, so replaying a processed delivery
/// applies nothing twice. A row whose body was purged is never reset.
pub async fn requeue(
    conn: &mut PgConnection,
    id: InboxId,
    from: RequeueFrom,
) -> Result<Requeued, sqlx::Error> {
    let (only_dead, snapshot_at) = match from {
        RequeueFrom::Dead => (true, None),
        RequeueFrom::AnyBut { snapshot_at } => (false, Some(snapshot_at)),
    };
    let reset: Option<(String, String)> = sqlx::query_as(
        "WITH old AS (
             SELECT id, status FROM inbox WHERE id = $1 FOR UPDATE
         ), reset AS (
             UPDATE inbox i
                SET status = 'queued', attempts = 0, next_attempt_at = now(),
                    locked_until = NULL, locked_by = NULL, processed_at = NULL,
                    enqueued_at = now()
               FROM old
              WHERE i.id = old.id
                -- A purged body has nothing left to process.
                AND i.body_purged_at IS NULL
                AND CASE WHEN $2 THEN old.status = 'dead'
                         ELSE old.status <> 'rejected'
                              AND NOT (old.status = 'processing' AND i.locked_until > now())
                              AND (i.enqueued_at IS NULL OR i.enqueued_at < $3)
                    END
              RETURNING i.id, i.provider, old.status
         ), closed AS (
             UPDATE dead_jobs d SET replayed_at = now()
               FROM reset
              WHERE d.inbox_id = reset.id AND d.job_id IS NULL AND d.replayed_at IS NULL
         )
         SELECT provider, status FROM reset",
    )
    .bind(id)
    .bind(only_dead)
    .bind(snapshot_at)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((provider, previous)) = reset {
        return Ok(Requeued::Yes { provider, previous });
    }
    let status: Option<(String,)> = sqlx::query_as("SELECT status FROM inbox WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(Requeued::No(status.map(|(s,)| s)))
}

/// A delivery the sweeper re-enqueues.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stranded {
    /// Inbox id.
    pub id: InboxId,
    /// Provider name as stored.
    pub provider: String,
}

/// Find unfinished deliveries nobody has enqueued for `after` (Redis lost them, or the
/// web could not reach Redis) or whose lease ran out (their worker died), and stamp them
/// as enqueued now.
/// `SKIP LOCKED` lets several workers sweep at once without picking the same rows.
pub async fn sweep(
    pool: &PgPool,
    after: Duration,
    limit: i64,
) -> Result<Vec<Stranded>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE inbox SET enqueued_at = now()
          WHERE id IN (
                SELECT id FROM inbox
                 WHERE (status IN ('queued', 'failed')
                        AND next_attempt_at <= now() - make_interval(secs => $1)
                        AND coalesce(enqueued_at, received_at) < now() - make_interval(secs => $1))
                    -- A lease that ran out means its worker died: take over at once,
                    -- but enqueue each expired lease only once.
                    OR (status = 'processing'
                        AND locked_until < now()
                        AND coalesce(enqueued_at, received_at) < locked_until)
                 ORDER BY id
                 LIMIT $2
                 FOR UPDATE SKIP LOCKED)
          RETURNING id, provider",
    )
    .bind(after.as_secs_f64())
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// One inbox row as `events list` and `events show` print it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct InboxRow {
    /// Inbox id.
    pub id: InboxId,
    /// Provider name.
    pub provider: String,
    /// Provider's dedupe key.
    pub dedupe_key: String,
    /// Provider's event type.
    pub event_type: Option<String>,
    /// Lifecycle status.
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// When the web recorded it.
    pub received_at: DateTime<Utc>,
    /// When a worker finished it.
    pub processed_at: Option<DateTime<Utc>>,
    /// The last failure, if any.
    pub last_error: Option<String>,
    /// When its body was erased (`inbox purge`, `buyers forget`); the body is then empty.
    /// Absent from JSON until then, so the documented fields of a row stay as they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_purged_at: Option<DateTime<Utc>>,
}

macro_rules! row_columns {
    () => {
        "id, provider, dedupe_key, event_type, status, attempts, received_at, processed_at, last_error, body_purged_at"
    };
}

/// Newest deliveries first, optionally filtered.
pub async fn list(
    pool: &PgPool,
    provider: Option<Provider>,
    status: Option<InboxStatus>,
    limit: i64,
) -> Result<Vec<InboxRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        row_columns!(),
        " FROM inbox
          WHERE ($1::text IS NULL OR provider = $1) AND ($2::text IS NULL OR status = $2)
          ORDER BY id DESC LIMIT $3"
    ))
    .bind(provider.map(Provider::as_str))
    .bind(status.map(InboxStatus::as_str))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// One delivery by id.
pub async fn get(pool: &PgPool, id: InboxId) -> Result<Option<InboxRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        row_columns!(),
        " FROM inbox WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// The exact body of a delivery (for `events show --body` and replays).
pub async fn body(pool: &PgPool, id: InboxId) -> Result<Option<Vec<u8>>, sqlx::Error> {
    let row: Option<(Vec<u8>,)> = sqlx::query_as("SELECT body FROM inbox WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|(b,)| b))
}

/// Inbox counts by status, for `queues` and the metrics gauges.
pub async fn count_by_status(pool: &PgPool) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT status, count(*) FROM inbox GROUP BY status ORDER BY status")
        .fetch_all(pool)
        .await
}

/// The snapshot an events replay works through: deliveries received in the last `since`,
/// optionally from one provider, except rejected ones, oldest first, and Postgres's time
/// of the snapshot (see [`RequeueFrom::AnyBut`]).
pub async fn replay_snapshot(
    pool: &PgPool,
    provider: Option<Provider>,
    since: Duration,
    limit: Option<i64>,
) -> Result<(DateTime<Utc>, Vec<InboxRow>), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let (now,): (DateTime<Utc>,) = sqlx::query_as("SELECT now()").fetch_one(&mut *tx).await?;
    let rows = sqlx::query_as(concat!(
        "SELECT ",
        row_columns!(),
        " FROM inbox
          WHERE ($1::text IS NULL OR provider = $1) AND status <> 'rejected'
            AND received_at >= now() - make_interval(secs => $2)
          ORDER BY id LIMIT $3"
    ))
    .bind(provider.map(Provider::as_str))
    .bind(since.as_secs_f64())
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((now, rows))
}

/// Postgres's clock now (the snapshot time of a one-row replay).
pub async fn db_now(pool: &PgPool) -> Result<DateTime<Utc>, sqlx::Error> {
    let (now,): (DateTime<Utc>,) = sqlx::query_as("SELECT now()").fetch_one(pool).await?;
    Ok(now)
}

/// Seconds since the oldest delivery still waiting (`queued` or `failed`) was received.
pub async fn oldest_pending_age_secs(pool: &PgPool) -> Result<Option<i64>, sqlx::Error> {
    let (age,): (Option<i64>,) = sqlx::query_as(
        "SELECT floor(extract(epoch FROM now() - min(received_at)))::bigint
           FROM inbox WHERE status IN ('queued', 'failed')",
    )
    .fetch_one(pool)
    .await?;
    Ok(age)
}
