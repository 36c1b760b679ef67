//! Retention (issue #11): erasing what buyers wrote once it has served its purpose.
//!
//! A settled delivery (`processed`, `ignored` or `rejected`) keeps its row — provider, dedupe
//! key, status and times still make a retried delivery a duplicate and trace an order to its
//! webhook — but its body becomes the empty bytea, stamped `body_purged_at`, and the text of
//! the messages it caused becomes empty (intent, scores and links stay). Deliveries still in
//! flight (`queued`, `processing`, `failed`) or `dead` ones (the DLQ may replay them) are never
//! touched, nor a delivery whose claim is still open (pending or on a waitlist: its claim
//! events still read the delivery). `shopwire-admin inbox purge` and the worker's periodic
//! purge (`INBOX_RETENTION_DAYS`) both call [`purge_settled`]; `buyers forget` is in
//! [`forget`].

pub mod forget;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

/// Rows erased per statement, so a large purge never holds one long transaction.
pub const PURGE_BATCH: i64 = 1_000;

/// What a purge erased.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    /// Inbox rows whose body was erased.
    pub bodies: i64,
    /// Messages whose text was erased.
    pub messages: i64,
}

/// The rows a purge with cutoff `$1` may erase (`inbox` aliased as `i`).
macro_rules! purgeable {
    () => {
        "i.body_purged_at IS NULL
         AND i.status IN ('processed', 'ignored', 'rejected')
         AND coalesce(i.processed_at, i.received_at) < $1
         AND NOT EXISTS (SELECT 1 FROM messages m JOIN claims c ON c.message_id = m.id
                          WHERE m.inbox_id = i.id AND c.status IN ('pending', 'waiting'))"
    };
}

/// Postgres's time `older_than` ago: the cutoff one purge works to.
async fn cutoff(pool: &PgPool, older_than: Duration) -> Result<DateTime<Utc>, sqlx::Error> {
    sqlx::query_scalar("SELECT now() - make_interval(secs => $1)")
        .bind(older_than.as_secs_f64())
        .fetch_one(pool)
        .await
}

/// How many deliveries settled more than `older_than` ago a purge would erase now.
pub async fn purgeable(pool: &PgPool, older_than: Duration) -> Result<i64, sqlx::Error> {
    let cutoff = cutoff(pool, older_than).await?;
    sqlx::query_scalar(concat!("SELECT count(*) FROM inbox i WHERE ", purgeable!()))
        .bind(cutoff)
        .fetch_one(pool)
        .await
}

/// Erase the bodies of deliveries settled more than `older_than` ago and their messages'
/// texts, [`PURGE_BATCH`] rows per statement (each its own transaction), until none is left
/// that settled before the cutoff taken at the start.
pub async fn purge_settled(pool: &PgPool, older_than: Duration) -> Result<Purged, sqlx::Error> {
    purge_settled_in_batches(pool, older_than, PURGE_BATCH).await
}

/// [`purge_settled`] with `batch` rows per statement.
pub async fn purge_settled_in_batches(
    pool: &PgPool,
    older_than: Duration,
    batch: i64,
) -> Result<Purged, sqlx::Error> {
    let cutoff = cutoff(pool, older_than).await?;
    let mut total = Purged::default();
    loop {
        let (bodies, messages): (i64, i64) = sqlx::query_as(concat!(
            "WITH picked AS (
                 SELECT i.id FROM inbox i WHERE ",
            purgeable!(),
            "     ORDER BY coalesce(i.processed_at, i.received_at), i.id
                  LIMIT $2
                  FOR UPDATE SKIP LOCKED
             ), bodies AS (
                 UPDATE inbox i SET body = ''::bytea, body_purged_at = now()
                   FROM picked WHERE i.id = picked.id
                 RETURNING i.id
             ), texts AS (
                 UPDATE messages m SET text = ''
                   FROM bodies WHERE m.inbox_id = bodies.id AND m.text <> ''
                 RETURNING m.id
             )
             SELECT (SELECT count(*) FROM bodies), (SELECT count(*) FROM texts)"
        ))
        .bind(cutoff)
        .bind(batch)
        .fetch_one(pool)
        .await?;
        total.bodies += bodies;
        total.messages += messages;
        if bodies < batch {
            return Ok(total);
        }
    }
}
