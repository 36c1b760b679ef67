//! `buyers forget`: erase one buyer's personal data and keep the money and stock history.
//!
//! The handle is replaced everywhere by one stable [`pseudonym`], so counts, per-buyer limits
//! and a block still group the same rows; the buyer's words go: message texts and DM
//! conversation ids are cleared, the bodies of the deliveries that were theirs (their
//! messages, and the Stripe and TikTok Shop notifications about their orders) are purged as
//! [`super::purge_settled`] purges them, and the `buyer` of every outbox event about them
//! names the pseudonym, their comment or message id cleared; the request bodies and errors
//! of jobs about them (a Checkout Session's metadata, a DM reply) name the pseudonym too.
//! Orders keep their totals,
//! currency, quantities, statuses and SKUs; reservations and stock are not touched. All of
//! it happens in one transaction.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};

/// The pseudonym that replaces `handle`: `forgotten-` and the first 12 hex digits of its
/// SHA-256, the same every time, so forgetting twice (or a later delivery's rows, forgotten
/// again) groups under one name.
pub fn pseudonym(handle: &str) -> String {
    let digest = hex::encode(Sha256::digest(handle.as_bytes()));
    format!("forgotten-{}", &digest[..12])
}

/// How many rows of each table hold the buyer (what a forget changes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Footprint {
    /// Their messages (handle replaced, text and conversation cleared).
    pub messages: i64,
    /// Their claims, waitlist places included (handle replaced).
    pub claims: i64,
    /// Their orders (handle replaced; money, quantities and statuses kept).
    pub orders: i64,
    /// Their live carts (handle replaced).
    pub carts: i64,
    /// Their block, 0 or 1 (kept under the pseudonym).
    pub buyer_blocks: i64,
    /// Outbox events about them (buyer replaced, comment and message ids cleared).
    pub outbox_events: i64,
    /// Inbox deliveries that were theirs whose body is purged.
    pub inbox_bodies: i64,
    /// Jobs about them whose request body or error names them (handle replaced).
    pub jobs: i64,
    /// Of those deliveries and jobs, the ones still in flight (queued, processing, failed):
    /// a forget waits for them to settle (a job's stored request is what its retry sends).
    pub in_flight: i64,
}

impl Footprint {
    /// True when no row holds the buyer.
    pub fn is_empty(&self) -> bool {
        self.messages
            + self.claims
            + self.orders
            + self.carts
            + self.buyer_blocks
            + self.outbox_events
            + self.inbox_bodies
            + self.jobs
            == 0
    }
}

/// Why a forget did nothing.
#[derive(Debug, thiserror::Error)]
pub enum ForgetError {
    /// No row holds the handle.
    #[error("no buyer `{0}` in the database")]
    Unknown(String),
    /// Some of their deliveries are still being processed.
    #[error(
        "`{handle}` has {in_flight} deliveries still in flight (queued, processing or failed); forget them once they have settled"
    )]
    InFlight {
        /// The handle.
        handle: String,
        /// How many.
        in_flight: i64,
    },
    /// Postgres failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// What a forget did.
#[derive(Debug, Clone, Serialize)]
pub struct Forgotten {
    /// The name the buyer's rows now carry.
    pub pseudonym: String,
    /// The rows changed, per table.
    pub changed: Footprint,
}

/// The buyer's order, claim, inbox and outbox event ids, as temporary tables of this
/// transaction (created empty, then filled: a `CREATE TABLE AS` takes no parameters).
const COLLECT: &[&str] = &[
    "INSERT INTO forget_orders SELECT id FROM orders WHERE buyer = $1",
    "INSERT INTO forget_claims SELECT id FROM claims WHERE buyer = $1",
    "INSERT INTO forget_inbox
         SELECT inbox_id FROM messages WHERE buyer = $1
         UNION SELECT p.inbox_id FROM payments p JOIN forget_orders o ON o.id = p.order_id
         UNION SELECT t.inbox_id FROM tiktok_order_events t JOIN forget_orders o ON o.id = t.order_id",
    "INSERT INTO forget_events
         SELECT id FROM outbox_events WHERE data ->> 'buyer' = $1
         UNION SELECT id FROM outbox_events WHERE order_id IN (SELECT id FROM forget_orders)
         UNION SELECT id FROM outbox_events WHERE claim_id IN (SELECT id FROM forget_claims)",
    // Jobs whose subject is theirs (an order, a cart, a message) or that came from their
    // deliveries, and whose stored request or error names them.
    "INSERT INTO forget_jobs
         SELECT id FROM jobs
          WHERE (inbox_id IN (SELECT id FROM forget_inbox)
                 OR subject_id IN (SELECT id FROM forget_orders)
                 OR subject_id IN (SELECT id FROM carts WHERE buyer = $1)
                 OR subject_id IN (SELECT id FROM messages WHERE buyer = $1))
            AND (position($1 IN coalesce(request_body, '')) > 0
                 OR position($1 IN coalesce(last_error, '')) > 0)",
];

/// Count what holds `handle`, in `conn`'s transaction (filling the tables of [`COLLECT`]).
async fn count(conn: &mut PgConnection, handle: &str) -> Result<Footprint, sqlx::Error> {
    sqlx::raw_sql(
        "CREATE TEMP TABLE forget_orders (id BIGINT PRIMARY KEY) ON COMMIT DROP;
         CREATE TEMP TABLE forget_claims (id BIGINT PRIMARY KEY) ON COMMIT DROP;
         CREATE TEMP TABLE forget_inbox (id BIGINT PRIMARY KEY) ON COMMIT DROP;
         CREATE TEMP TABLE forget_events (id BIGINT PRIMARY KEY) ON COMMIT DROP;
         CREATE TEMP TABLE forget_jobs (id BIGINT PRIMARY KEY) ON COMMIT DROP;",
    )
    .execute(&mut *conn)
    .await?;
    for &statement in COLLECT {
        sqlx::query(statement)
            .bind(handle)
            .execute(&mut *conn)
            .await?;
    }
    let row: (i64, i64, i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM messages WHERE buyer = $1),
                (SELECT count(*) FROM forget_claims),
                (SELECT count(*) FROM forget_orders),
                (SELECT count(*) FROM carts WHERE buyer = $1),
                (SELECT count(*) FROM buyer_blocks WHERE buyer = $1),
                (SELECT count(*) FROM forget_events),
                (SELECT count(*) FROM forget_inbox),
                (SELECT count(*) FROM forget_jobs),
                (SELECT count(*) FROM inbox WHERE id IN (SELECT id FROM forget_inbox)
                    AND status IN ('queued', 'processing', 'failed'))
                + (SELECT count(*) FROM jobs WHERE id IN (SELECT id FROM forget_jobs)
                    AND status IN ('queued', 'processing', 'failed'))",
    )
    .bind(handle)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Footprint {
        messages: row.0,
        claims: row.1,
        orders: row.2,
        carts: row.3,
        buyer_blocks: row.4,
        outbox_events: row.5,
        inbox_bodies: row.6,
        jobs: row.7,
        in_flight: row.8,
    })
}

/// What a forget of `handle` would change now; changes nothing.
pub async fn footprint(pool: &PgPool, handle: &str) -> Result<Footprint, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let found = count(&mut tx, handle).await?;
    tx.rollback().await?;
    Ok(found)
}

/// Forget `handle` (see the module docs), in one transaction.
pub async fn forget(pool: &PgPool, handle: &str) -> Result<Forgotten, ForgetError> {
    let pseudonym = pseudonym(handle);
    let mut tx = pool.begin().await?;
    // Two forgets of one buyer at once: the second waits, then finds nothing.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('buyers forget:' || $1, 0))")
        .bind(handle)
        .execute(&mut *tx)
        .await?;
    let changed = count(&mut tx, handle).await?;
    if changed.is_empty() {
        return Err(ForgetError::Unknown(handle.to_owned()));
    }
    if changed.in_flight > 0 {
        return Err(ForgetError::InFlight {
            handle: handle.to_owned(),
            in_flight: changed.in_flight,
        });
    }
    for statement in [
        "UPDATE messages SET buyer = $2, text = '', conversation = NULL WHERE buyer = $1",
        "UPDATE claims SET buyer = $2 WHERE buyer = $1",
        "UPDATE orders SET buyer = $2 WHERE buyer = $1",
        "UPDATE carts SET buyer = $2 WHERE buyer = $1",
        // The block stays, under the pseudonym (one already there is kept as it is).
        "WITH old AS (DELETE FROM buyer_blocks WHERE buyer = $1 RETURNING reason, blocked_at)
         INSERT INTO buyer_blocks (buyer, reason, blocked_at)
         SELECT $2, reason, blocked_at FROM old
         ON CONFLICT (buyer) DO NOTHING",
        // Every top-level value naming the buyer names the pseudonym; the ids of the
        // buyer's comment or DM are cleared.
        "UPDATE outbox_events e
            SET data = coalesce((
                SELECT jsonb_object_agg(key, CASE
                           WHEN key IN ('comment_id', 'message_id') THEN 'null'::jsonb
                           WHEN value = to_jsonb($1::text) THEN to_jsonb($2::text)
                           ELSE value END)
                  FROM jsonb_each(e.data)), '{}'::jsonb)
          WHERE e.id IN (SELECT id FROM forget_events)",
        "UPDATE inbox
            SET body = ''::bytea, body_purged_at = coalesce(body_purged_at, now()),
                last_error = replace(last_error, $1, $2)
          WHERE id IN (SELECT id FROM forget_inbox)",
        "UPDATE jobs
            SET request_body = replace(request_body, $1, $2),
                last_error = replace(last_error, $1, $2)
          WHERE id IN (SELECT id FROM forget_jobs)",
    ] {
        sqlx::query(statement)
            .bind(handle)
            .bind(&pseudonym)
            .execute(&mut *tx)
            .await?;
    }
    // A dead delivery of theirs leaves the DLQ (as `dlq purge` deletes dead jobs): its body
    // is gone, so there is nothing left to replay.
    sqlx::query(
        "DELETE FROM dead_jobs
          WHERE job_id IS NULL AND inbox_id IN (SELECT id FROM forget_inbox)",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Forgotten { pseudonym, changed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pseudonym_is_stable_short_and_differs_per_handle() {
        assert_eq!(pseudonym("viewer_1"), pseudonym("viewer_1"));
        assert_ne!(pseudonym("viewer_1"), pseudonym("viewer_2"));
        let name = pseudonym("viewer_1");
        assert_eq!(name.len(), "forgotten-".len() + 12, "{name}");
        assert!(!name.contains("viewer_1"));
    }
}
