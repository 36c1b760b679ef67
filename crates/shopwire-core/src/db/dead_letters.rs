//! The dead-letter queue (`dead_jobs`): list, show, replay, purge and count dead jobs.
//!
//! A row is written in the same statement that marks its inbox row or `jobs` row dead
//! (`inbox::fail`, `jobs::fail`). Nothing caps or prunes the table: rows leave it only
//! through an operator's `dlq purge --yes`, and a replay only stamps `replayed_at`. A dead
//! outbound delivery (`outbound_delivery_id`) is replayed through
//! [`outbox::replay_delivery`], so its row, not the DLQ entry, says whether it is still dead.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::db::inbox::{self, InboxId, Requeued};
use crate::db::jobs::{self, JobId};
use crate::db::outbox::{self, DeliveryReplay};
use crate::jobs::Queue;
use crate::outbound::{DeliveryId, EndpointId};

/// The id of a `dead_jobs` row.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type,
)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct DeadJobId(i64);

impl DeadJobId {
    /// Wrap a raw id (from the CLI).
    pub fn new(id: i64) -> Self {
        Self(id)
    }

    /// The raw value.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for DeadJobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for DeadJobId {
    type Err = std::num::ParseIntError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(DeadJobId)
    }
}

/// One dead job.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeadJob {
    /// Dead-job id (what `dlq show` and `dlq replay` take).
    pub id: DeadJobId,
    /// The queue it died on.
    pub queue: String,
    /// The delivery it is, or descends from.
    pub inbox_id: Option<InboxId>,
    /// The `jobs` row, for later-stage jobs (checkout); `None` for a delivery.
    pub job_id: Option<JobId>,
    /// The outbound delivery, for the `outbound` queue.
    pub outbound_delivery_id: Option<DeliveryId>,
    /// Attempts made before it died.
    pub attempts: i32,
    /// The error of its last attempt.
    pub last_error: String,
    /// When it died.
    pub died_at: DateTime<Utc>,
    /// When it was replayed; `None` while it is in the DLQ.
    pub replayed_at: Option<DateTime<Utc>>,
}

macro_rules! dead_columns {
    () => {
        "id, queue, inbox_id, job_id, outbound_delivery_id, attempts, last_error, died_at, replayed_at"
    };
}

/// Dead jobs not yet replayed, newest first, optionally on one queue.
pub async fn list_open(
    pool: &PgPool,
    queue: Option<Queue>,
    limit: i64,
) -> Result<Vec<DeadJob>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        dead_columns!(),
        " FROM dead_jobs
          WHERE replayed_at IS NULL AND ($1::text IS NULL OR queue = $1)
          ORDER BY died_at DESC, id DESC LIMIT $2"
    ))
    .bind(queue.map(Queue::as_str))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The snapshot a bulk replay works through: dead jobs not yet replayed, oldest first,
/// optionally on one queue and at most `limit`. Taken once, before anything is replayed,
/// so jobs that die again during the replay are not picked up again by it.
pub async fn snapshot_open(
    pool: &PgPool,
    queue: Option<Queue>,
    limit: Option<i64>,
) -> Result<Vec<DeadJob>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        dead_columns!(),
        " FROM dead_jobs
          WHERE replayed_at IS NULL AND ($1::text IS NULL OR queue = $1)
          ORDER BY id LIMIT $2"
    ))
    .bind(queue.map(Queue::as_str))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// One dead job by id, replayed or not.
pub async fn get(pool: &PgPool, id: DeadJobId) -> Result<Option<DeadJob>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        dead_columns!(),
        " FROM dead_jobs WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// What to push after a replay committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A delivery: push an `InboxJob` to its provider's queue.
    Inbox {
        /// The delivery.
        id: InboxId,
        /// Its provider, as stored.
        provider: String,
    },
    /// A later-stage job: push a `JobRef` to `queue`.
    Job {
        /// The `jobs` row.
        id: JobId,
        /// Its queue, as stored.
        queue: String,
    },
    /// An outbound delivery: push an `OutboundJob` to the `outbound` queue.
    Outbound {
        /// The delivery.
        id: DeliveryId,
    },
}

/// The result of replaying one dead job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    /// Reset (queued, attempts 0, due now) and marked replayed, committed: push `Target`.
    Replayed(Target),
    /// Already replayed — by an earlier call or a concurrent one. Nothing changed.
    AlreadyReplayed,
    /// No dead job has this id.
    NotFound,
    /// The row it points at is no longer dead (its status, or `None` when it is gone);
    /// nothing changed.
    NotDead(Option<String>),
    /// An outbound delivery whose endpoint is disabled or removed; nothing changed.
    EndpointInactive {
        /// The endpoint.
        endpoint: EndpointId,
        /// True when removed, false when disabled.
        removed: bool,
    },
}

/// Replay one dead job in one transaction: stamp `replayed_at` only if it is still NULL
/// (the row lock makes a concurrent replay of the same job wait, then find it stamped),
/// and reset its inbox row or `jobs` row to queued with attempts 0, due now. The last
/// error is kept until a later attempt succeeds, so `events list` still shows why it died.
/// The caller pushes the job after this returns. A dead outbound delivery is replayed by
/// [`outbox::replay_delivery`] instead, which closes its DLQ entries: a second replay finds
/// the delivery no longer dead.
pub async fn replay(pool: &PgPool, id: DeadJobId) -> Result<Replay, sqlx::Error> {
    let outbound: Option<(Option<DeliveryId>,)> =
        sqlx::query_as("SELECT outbound_delivery_id FROM dead_jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    match outbound {
        None => return Ok(Replay::NotFound),
        Some((Some(delivery),)) => return replay_outbound(pool, delivery).await,
        Some((None,)) => {}
    }
    let mut tx = pool.begin().await?;
    // Lock a delivery's inbox row before the dead job, the order `events replay` takes
    // them in (inbox row, then its dead jobs), so the two never deadlock.
    sqlx::query(
        "SELECT i.id FROM dead_jobs d JOIN inbox i ON i.id = d.inbox_id
          WHERE d.id = $1 AND d.job_id IS NULL
            FOR UPDATE OF i",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let stamped: Option<(Option<InboxId>, Option<JobId>)> = sqlx::query_as(
        "UPDATE dead_jobs SET replayed_at = now()
          WHERE id = $1 AND replayed_at IS NULL
          RETURNING inbox_id, job_id",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let outcome = match stamped {
        None => {
            let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM dead_jobs WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            return Ok(match exists {
                Some(_) => Replay::AlreadyReplayed,
                None => Replay::NotFound,
            });
        }
        Some((_, Some(job))) => match jobs::requeue_dead(&mut tx, job).await? {
            Ok(queue) => Replay::Replayed(Target::Job { id: job, queue }),
            Err(status) => Replay::NotDead(status),
        },
        Some((Some(delivery), None)) => {
            match inbox::requeue(&mut tx, delivery, inbox::RequeueFrom::Dead).await? {
                Requeued::Yes { provider, .. } => Replay::Replayed(Target::Inbox {
                    id: delivery,
                    provider,
                }),
                Requeued::No(status) => Replay::NotDead(status),
            }
        }
        Some((None, None)) => Replay::NotDead(None),
    };
    if matches!(outcome, Replay::Replayed(_)) {
        tx.commit().await?;
    }
    Ok(outcome)
}

/// Replay a dead outbound delivery through the outbox.
async fn replay_outbound(pool: &PgPool, delivery: DeliveryId) -> Result<Replay, sqlx::Error> {
    Ok(match outbox::replay_delivery(pool, delivery).await? {
        DeliveryReplay::Replayed { .. } => Replay::Replayed(Target::Outbound { id: delivery }),
        DeliveryReplay::NotFound => Replay::NotDead(None),
        DeliveryReplay::NotReplayable(status) => Replay::NotDead(Some(status.as_str().to_owned())),
        DeliveryReplay::EndpointInactive { endpoint, removed } => {
            Replay::EndpointInactive { endpoint, removed }
        }
    })
}

/// What `purge` deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Purged {
    /// Rows that had been replayed.
    pub replayed: i64,
    /// Rows never replayed (their inbox or `jobs` row stays `dead`, body and all).
    pub unreplayed: i64,
}

/// Delete every dead job that died more than `older_than` ago, replayed or not. Only the
/// DLQ entry goes: the inbox row (with its body) or `jobs` row it points at stays `dead`,
/// so `events replay` can still bring a delivery back.
pub async fn purge(pool: &PgPool, older_than: Duration) -> Result<Purged, sqlx::Error> {
    sqlx::query_as(
        "WITH gone AS (
             DELETE FROM dead_jobs
              WHERE died_at < now() - make_interval(secs => $1)
              RETURNING replayed_at
         )
         SELECT count(*) FILTER (WHERE replayed_at IS NOT NULL) AS replayed,
                count(*) FILTER (WHERE replayed_at IS NULL) AS unreplayed
           FROM gone",
    )
    .bind(older_than.as_secs_f64())
    .fetch_one(pool)
    .await
}

/// Dead jobs not yet replayed, by queue (for `queues` and the DLQ-size gauge).
pub async fn open_counts_by_queue(pool: &PgPool) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT queue, count(*) FROM dead_jobs WHERE replayed_at IS NULL
          GROUP BY queue ORDER BY queue",
    )
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_queue_is_found_by_its_name() {
        for queue in Queue::ALL {
            assert_eq!(Queue::from_name(queue.as_str()), Some(queue));
        }
        assert_eq!(Queue::from_name("nope"), None);
    }
}
