//! One fencing scheme for every job table — the inbox (a delivery's first stage), `jobs`
//! (later stages: checkout, replies, trends) and `outbound_deliveries` (events sent to
//! endpoints).
//!
//! A claim stamps the row `processing`, counts the attempt, and records this process's name
//! as `locked_by` with a lease (`locked_until`). Finishing or failing touches the row only
//! while it is still `processing` under that holder: a worker whose lease ran out and was
//! taken over can never overwrite its successor's result, and its transaction rolls back.
//! A failure that ends the job writes its dead-letter row (`dead_jobs`) in the same
//! statement, so no death is ever missing from the DLQ.
//!
//! The statements are composed at run time from static fragments only (table names from
//! [`JobTable`], column lists that are `&'static str`, queue names from [`Queue`]); every
//! value is a bind parameter.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, FromRow, PgExecutor, PgPool};

use crate::domain::Provider;
use crate::jobs::Queue;

/// A table whose rows are jobs: status, attempts, schedule, lease and last error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobTable {
    /// `inbox`: one row per webhook delivery.
    Inbox,
    /// `jobs`: later stages tied to their delivery.
    Jobs,
    /// `outbound_deliveries`: one event for one endpoint.
    Outbound,
}

impl JobTable {
    /// The table's name.
    pub fn name(self) -> &'static str {
        match self {
            JobTable::Inbox => "inbox",
            JobTable::Jobs => "jobs",
            JobTable::Outbound => "outbound_deliveries",
        }
    }

    /// The column naming the row's queue: its provider (inbox), its queue (jobs), or the
    /// outbound queue.
    fn queue_column(self) -> &'static str {
        match self {
            JobTable::Inbox => "provider",
            JobTable::Jobs => "queue",
            JobTable::Outbound => "'outbound'",
        }
    }

    /// The `dead_jobs` columns naming a dead row of this table: (inbox_id, job_id,
    /// outbound_delivery_id), as expressions over the failed row.
    fn dead_letter_refs(self) -> &'static str {
        match self {
            JobTable::Inbox => "id, NULL::bigint, NULL::bigint",
            JobTable::Jobs => "inbox_id, id, NULL::bigint",
            JobTable::Outbound => "NULL::bigint, NULL::bigint, id",
        }
    }
}

/// What happens after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AfterFailure {
    /// Try again at this time.
    RetryAt(DateTime<Utc>),
    /// Out of attempts, or permanent: dead-letter it.
    Dead,
}

/// The condition every finish and failure is fenced by (`$1` the id, `$2` the holder).
pub const FENCE: &str = "id = $1 AND locked_by = $2 AND status = 'processing'";

/// The claim statement of `table` (`$1` id, `$2` holder, `$3` lease seconds): take the
/// lease if the row is due, not finished and not leased by a live worker, and `condition`
/// holds (`"true"` for none), returning `returning`. Kinds that need more than one table's
/// columns wrap it in a CTE.
pub fn claim_statement(table: JobTable, returning: &str, condition: &str) -> String {
    format!(
        "UPDATE {table}
            SET status = 'processing', attempts = attempts + 1, locked_by = $2,
                locked_until = now() + make_interval(secs => $3)
          WHERE id = $1
            AND next_attempt_at <= now()
            AND (status IN ('queued', 'failed')
                 OR (status = 'processing' AND locked_until < now()))
            AND ({condition})
          RETURNING {returning}",
        table = table.name(),
    )
}

/// Take the lease on row `id` of `table` for `holder` if it is due and nobody else holds
/// it, returning the `returning` columns. `None` when it is finished, leased by a live
/// worker, or scheduled for later: the job that asked is then a harmless duplicate.
pub async fn claim<T>(
    pool: &PgPool,
    table: JobTable,
    id: i64,
    holder: &str,
    lease: Duration,
    returning: &'static str,
) -> Result<Option<T>, sqlx::Error>
where
    T: for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    sqlx::query_as(AssertSqlSafe(claim_statement(table, returning, "true")))
        .bind(id)
        .bind(holder)
        .bind(lease.as_secs_f64())
        .fetch_optional(pool)
        .await
}

/// Mark a claimed row finished with `status` (inside the transaction that applied its
/// effects). Returns false if the lease was lost, in which case the caller must roll back.
pub async fn finish(
    conn: impl PgExecutor<'_>,
    table: JobTable,
    id: i64,
    holder: &str,
    status: &str,
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "UPDATE {table}
            SET status = $3, processed_at = now(), locked_until = NULL, last_error = NULL
          WHERE {FENCE}",
        table = table.name(),
    );
    let done = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .bind(holder)
        .bind(status)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The queue a dead row's dead-letter entry is filed under.
#[derive(Debug, Clone, Copy)]
pub enum DeadQueue<'a> {
    /// This queue.
    Named(&'a str),
    /// The queue of the inbox row's provider ([`Queue::for_provider`]).
    OfProvider,
}

impl DeadQueue<'_> {
    /// The SQL expression over the failed row (`$6` is the named queue).
    fn expression(self) -> String {
        match self {
            DeadQueue::Named(_) => "$6".to_owned(),
            DeadQueue::OfProvider => {
                let arms: String = Provider::ALL
                    .iter()
                    .map(|p| {
                        format!(
                            " WHEN '{}' THEN '{}'",
                            p.as_str(),
                            Queue::for_provider(*p).as_str()
                        )
                    })
                    .collect();
                // `$6` is bound (empty) either way; an unknown provider files under itself.
                format!("coalesce(CASE provider{arms} END, provider || $6::text)")
            }
        }
    }
}

/// Record a failed attempt and its consequence: the next attempt's time, or death with a
/// dead-letter row on `queue`. Returns false if the lease was lost.
pub async fn fail(
    conn: impl PgExecutor<'_>,
    table: JobTable,
    id: i64,
    holder: &str,
    queue: DeadQueue<'_>,
    error: &str,
    after: AfterFailure,
) -> Result<bool, sqlx::Error> {
    let (status, next) = match after {
        AfterFailure::RetryAt(at) => ("failed", Some(at)),
        AfterFailure::Dead => ("dead", None),
    };
    // The inbox also notes when the retry was handed to Redis (its sweeper reads it).
    let enqueued = if table == JobTable::Inbox {
        ", enqueued_at = now()"
    } else {
        ""
    };
    let sql = format!(
        "WITH failed AS (
             UPDATE {table}
                SET status = $3, last_error = left($4, 2000), locked_until = NULL,
                    next_attempt_at = coalesce($5, next_attempt_at){enqueued}
              WHERE {FENCE}
              RETURNING *
         ), buried AS (
             INSERT INTO dead_jobs (queue, inbox_id, job_id, outbound_delivery_id, attempts,
                                    last_error)
             SELECT {queue}, {refs}, attempts, coalesce(last_error, '')
               FROM failed WHERE status = 'dead'
         )
         SELECT count(*) FROM failed",
        table = table.name(),
        refs = table.dead_letter_refs(),
        queue = queue.expression(),
    );
    let named = match queue {
        DeadQueue::Named(name) => name,
        DeadQueue::OfProvider => "",
    };
    let (updated,): (i64,) = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .bind(holder)
        .bind(status)
        .bind(error)
        .bind(next)
        .bind(named)
        .fetch_one(conn)
        .await?;
    Ok(updated == 1)
}

/// A row the sweeper pushes again.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stranded {
    /// Row id.
    pub id: i64,
    /// Its queue's name.
    pub queue: String,
}

/// Find unfinished rows of `table` (`jobs` or `outbound_deliveries`) that have been due for
/// `after` without anyone finishing them (Redis lost their task, or the push after commit
/// failed) or whose lease ran out (their worker died). `next_attempt_at` is set to now on
/// each one found, so a row is pushed again at most once per `after` and once per expired
/// lease. `SKIP LOCKED` lets several workers sweep at once without picking the same rows.
pub async fn sweep(
    pool: &PgPool,
    table: JobTable,
    after: Duration,
    limit: i64,
) -> Result<Vec<Stranded>, sqlx::Error> {
    let queue = table.queue_column();
    let sql = format!(
        "UPDATE {table} SET next_attempt_at = now()
          WHERE id IN (
                SELECT id FROM {table}
                 WHERE (status IN ('queued', 'failed')
                        AND next_attempt_at <= now() - make_interval(secs => $1))
                    OR (status = 'processing'
                        AND locked_until < now()
                        AND next_attempt_at < locked_until)
                 ORDER BY id
                 LIMIT $2
                 FOR UPDATE SKIP LOCKED)
          RETURNING id, {queue} AS queue",
        table = table.name(),
    );
    sqlx::query_as(AssertSqlSafe(sql))
        .bind(after.as_secs_f64())
        .bind(limit)
        .fetch_all(pool)
        .await
}

/// Time until row `id` of `table` is due for its next attempt, when it is waiting for one,
/// with the row's [`JobTable::queue_column`] (a provider name for the inbox).
pub async fn next_attempt_in(
    pool: &PgPool,
    table: JobTable,
    id: i64,
) -> Result<Option<(Duration, String)>, sqlx::Error> {
    let sql = format!(
        "SELECT extract(epoch FROM next_attempt_at - now())::float8, {queue}::text FROM {table}
          WHERE id = $1 AND status IN ('queued', 'failed') AND next_attempt_at > now()",
        queue = table.queue_column(),
        table = table.name(),
    );
    let wait: Option<(f64, String)> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(wait.map(|(secs, name)| (Duration::from_secs_f64(secs.max(0.0)), name)))
}
