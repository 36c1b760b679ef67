//! Claims: recorded by the message stage, decided by the allocator (`allocate_claims`, whose
//! source is `crates/shopwire-core/sql/allocate_claims.sql`) in message-time order under
//! the variant's row lock, listed by the CLI.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use super::jobs::JobId;
use crate::domain::{ClaimOutcome, ClaimStatus};

/// The id of a `claims` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, sqlx::Type)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct ClaimId(i64);

impl ClaimId {
    /// The raw value.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for ClaimId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A claim as the message stage records it.
#[derive(Debug, Clone)]
pub struct NewClaim<'a> {
    /// The buy message.
    pub message_id: i64,
    /// Whose live it was claimed in.
    pub streamer: Option<&'a str>,
    /// The buyer's platform user id.
    pub buyer: &'a str,
    /// `comment` or `dm`.
    pub channel: &'a str,
    /// The variant claimed (`None` when the claim named none).
    pub product_id: Option<i64>,
    /// The product it belongs to.
    pub product_code: Option<&'a str>,
    /// Units asked for.
    pub quantity: i32,
    /// The message's own time (or its arrival, when that time cannot be trusted).
    pub message_time: DateTime<Utc>,
    /// When the allocator may decide it: message time + `CLAIM_ORDER_WINDOW_MS`.
    pub due_at: DateTime<Utc>,
}

/// Record a claim for the allocator, and mark its message `claimed`. Re-running the
/// message stage finds the same row (one claim per message).
pub async fn insert_pending(
    conn: &mut PgConnection,
    claim: &NewClaim<'_>,
) -> Result<ClaimId, sqlx::Error> {
    insert(conn, claim, None).await
}

/// Record a claim decided at once (`needs_variant`, `unmatched`, `blocked`) and put the
/// outcome on its message.
pub async fn insert_decided(
    conn: &mut PgConnection,
    claim: &NewClaim<'_>,
    outcome: ClaimOutcome,
) -> Result<ClaimId, sqlx::Error> {
    insert(conn, claim, Some(outcome)).await
}

async fn insert(
    conn: &mut PgConnection,
    c: &NewClaim<'_>,
    outcome: Option<ClaimOutcome>,
) -> Result<ClaimId, sqlx::Error> {
    let (id,): (ClaimId,) = sqlx::query_as(
        "WITH claim AS (
             INSERT INTO claims (message_id, streamer, buyer, channel, product_id, product_code,
                                 quantity, message_time, due_at, status, outcome, decided_at,
                                 received_at)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9,
                    CASE WHEN $10::text IS NULL THEN 'pending' ELSE 'decided' END, $10,
                    CASE WHEN $10::text IS NULL THEN NULL ELSE now() END,
                    -- when its delivery arrived: what the allocator's backlog check compares
                    coalesce((SELECT i.received_at FROM messages m JOIN inbox i ON i.id = m.inbox_id
                               WHERE m.id = $1), now())
             ON CONFLICT (message_id) DO UPDATE SET message_id = EXCLUDED.message_id
             RETURNING id, message_id
         ), marked AS (
             UPDATE messages SET outcome = coalesce($10, 'claimed')
              WHERE id = (SELECT message_id FROM claim)
         )
         SELECT id FROM claim",
    )
    .bind(c.message_id)
    .bind(c.streamer)
    .bind(c.buyer)
    .bind(c.channel)
    .bind(c.product_id)
    .bind(c.product_code)
    .bind(c.quantity)
    .bind(c.message_time)
    .bind(c.due_at)
    .bind(outcome.map(ClaimOutcome::as_str))
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// The rules the allocator applies, from settings.
#[derive(Debug, Clone, Copy)]
pub struct AllocationRules<'a> {
    /// `RESERVATION_TTL_SECS`.
    pub hold: Duration,
    /// With Stripe: the checkout queue and job-key prefix of each new order's job.
    pub checkout: Option<(&'a str, &'a str)>,
    /// `WAITLIST_MAX` (0 turns waitlists off).
    pub waitlist_max: u32,
    /// `WAITLIST_TTL_SECS`.
    pub waitlist_ttl: Duration,
    /// `BUYER_MAX_OPEN_HOLDS`.
    pub max_open_holds: u32,
    /// `CLAIM_ORDER_WINDOW_MS`: with a window, a claim also waits until every buyer
    /// message that arrived before it + the window has been read (zero: no wait at all).
    pub order_window: Duration,
}

/// One claim the allocator decided (or promoted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    /// The claim.
    pub claim_id: ClaimId,
    /// What became of it.
    pub outcome: ClaimOutcome,
    /// Its order, when it got a hold.
    pub order_id: Option<i64>,
    /// `ORD-…`, when it got a hold.
    pub order_number: Option<String>,
    /// The order's checkout job (to push after commit), with Stripe.
    pub checkout_job: Option<JobId>,
    /// Its place in line, when waitlisted.
    pub waitlist_position: Option<i32>,
}

/// What one allocation did, and when the variant's next pending claim falls due.
#[derive(Debug, Clone, Default)]
pub struct Allocation {
    /// Claims decided or promoted, in allocation order.
    pub decided: Vec<Decided>,
    /// The earliest `due_at` of a claim still pending, if any.
    pub next_due: Option<DateTime<Utc>>,
    /// When claims are due but wait for earlier buyer messages to be read: they are settled
    /// once every unread buyer message arrived after this ([`earliest_unread_message`]).
    pub settled_once_unread_after: Option<DateTime<Utc>>,
    /// For claims not yet due (by the transaction's clock): the earliest due time, and when
    /// the earliest of them is settled (as above).
    pub next_wait: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// When the earliest buyer message (comment or DM) still unread arrived; `None` when every
/// one has been read. A due claim that arrived before this less `CLAIM_ORDER_WINDOW_MS` is
/// settled: nothing written before it can still turn up.
pub async fn earliest_unread_message(
    conn: impl sqlx::PgExecutor<'_>,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    // The predicate is the partial index inbox_unread_messages's: keep them the same.
    let (unread,): (Option<DateTime<Utc>>,) = sqlx::query_as(
        "SELECT min(received_at) FROM inbox
          WHERE status IN ('queued', 'processing') AND provider IN ('comments', 'tiktok')",
    )
    .fetch_one(conn)
    .await?;
    Ok(unread)
}

type DecidedRow = (
    ClaimId,
    ClaimOutcome,
    Option<i64>,
    Option<String>,
    Option<JobId>,
    Option<i32>,
);

/// Decide the variant's due claims and serve its waitlist, in one transaction; each new
/// hold gets a checkout job of its own (`CART_MODE=per_claim`).
pub async fn allocate(
    pool: &PgPool,
    product_id: i64,
    rules: &AllocationRules<'_>,
) -> Result<Allocation, sqlx::Error> {
    allocate_with_carts(pool, product_id, rules, None).await
}

/// [`allocate`], and with `cart_settle` (`CART_MODE=live`) each new hold from a live joins
/// its buyer's open cart instead ([`super::carts`]): the hold's `checkout_job` is then the
/// cart's, due `cart_settle` after this hold.
pub async fn allocate_with_carts(
    pool: &PgPool,
    product_id: i64,
    rules: &AllocationRules<'_>,
    cart_settle: Option<Duration>,
) -> Result<Allocation, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let window = chrono::Duration::from_std(rules.order_window).unwrap_or_default();
    // The earliest buyer message still unread, less the window: claims that arrived before
    // it are settled (nothing written earlier can still turn up for them).
    let settled_before = if rules.order_window.is_zero() {
        None
    } else {
        earliest_unread_message(&mut *tx)
            .await?
            .map(|at| at - window)
    };
    let rows: Vec<DecidedRow> =
        sqlx::query_as("SELECT * FROM allocate_claims($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(product_id)
            .bind(rules.hold.as_secs_f64())
            .bind(rules.checkout.map(|(queue, _)| queue))
            .bind(rules.checkout.map(|(_, key)| key))
            .bind(i32::try_from(rules.waitlist_max).unwrap_or(i32::MAX))
            .bind(rules.waitlist_ttl.as_secs_f64())
            .bind(i32::try_from(rules.max_open_holds).unwrap_or(i32::MAX))
            .bind(settled_before)
            .bind(cart_settle.map(|settle| settle.as_secs_f64()))
            .fetch_all(&mut *tx)
            .await?;
    // Claims still pending and already due (by the transaction's clock, as the function's)
    // were not settled.
    type Next = (
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    );
    let (next_due, due_arrived, later_due, later_arrived): Next = sqlx::query_as(
        "SELECT min(due_at), min(received_at) FILTER (WHERE due_at <= now()),
                min(due_at) FILTER (WHERE due_at > now()),
                min(received_at) FILTER (WHERE due_at > now())
           FROM claims WHERE product_id = $1 AND status = 'pending'",
    )
    .bind(product_id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let decided = rows
        .into_iter()
        .map(
            |(claim_id, outcome, order_id, order_number, checkout_job, waitlist_position)| {
                Decided {
                    claim_id,
                    outcome,
                    order_id,
                    order_number,
                    checkout_job,
                    waitlist_position,
                }
            },
        )
        .collect();
    Ok(Allocation {
        decided,
        next_due,
        settled_once_unread_after: due_arrived.map(|at| at + window),
        next_wait: later_due.zip(later_arrived.map(|at| at + window)),
    })
}

/// Variants the allocator should look at now even though nobody scheduled it: claims
/// overdue by `grace` (their scheduled run was lost), and waitlists that could move (stock
/// freed by an expiry, a cancel, a refund, a restock or `inventory set`; or entries that
/// have lapsed).
pub async fn needing_allocation(
    pool: &PgPool,
    grace: Duration,
    limit: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT DISTINCT c.product_id
           FROM claims c JOIN products p ON p.id = c.product_id
          WHERE (c.status = 'pending' AND c.due_at <= now() - make_interval(secs => $1))
             OR (c.status = 'waiting'
                 AND (p.stock_on_hand - p.reserved >= c.quantity OR c.waitlist_expires_at <= now()))
          LIMIT $2",
    )
    .bind(grace.as_secs_f64())
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// A claim as `claims list` prints it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ClaimRow {
    /// Claim id.
    pub id: ClaimId,
    /// Whose live.
    pub streamer: Option<String>,
    /// The buyer's platform user id.
    pub buyer: String,
    /// The variant's SKU, when one was claimed.
    pub sku: Option<String>,
    /// Units asked for.
    pub quantity: i32,
    /// The outcome, once decided (`null` while pending).
    pub outcome: Option<ClaimOutcome>,
    /// Where it stands.
    pub status: ClaimStatus,
    /// The message's time, as allocated by.
    pub message_time: DateTime<Utc>,
    /// Its order, when it got a hold.
    pub order_number: Option<String>,
    /// Its place in line, while waitlisted.
    pub waitlist_position: Option<i64>,
}

/// Which claims `list` shows.
#[derive(Debug, Clone, Default)]
pub struct ClaimFilter<'a> {
    /// Only this streamer's.
    pub streamer: Option<&'a str>,
    /// Only claims received since.
    pub since: Option<DateTime<Utc>>,
    /// Only this outcome.
    pub outcome: Option<ClaimOutcome>,
}

/// Claims, newest first, at most `limit`; and how many match in all.
pub async fn list(
    pool: &PgPool,
    filter: &ClaimFilter<'_>,
    limit: i64,
) -> Result<(Vec<ClaimRow>, i64), sqlx::Error> {
    macro_rules! matching {
        () => {
            "($1::text IS NULL OR c.streamer = $1)
             AND ($2::timestamptz IS NULL OR c.received_at >= $2)
             AND ($3::text IS NULL OR c.outcome = $3)"
        };
    }
    let rows = sqlx::query_as(concat!(
        "SELECT c.id, c.streamer, c.buyer, p.sku, c.quantity, c.outcome, c.status,
                c.message_time, o.order_number,
                CASE WHEN c.status = 'waiting' THEN
                    (SELECT count(*) FROM claims w
                      WHERE w.product_id = c.product_id AND w.status = 'waiting'
                        AND (w.message_time, w.received_at, w.id) <= (c.message_time, c.received_at, c.id))
                END AS waitlist_position
           FROM claims c
           LEFT JOIN products p ON p.id = c.product_id
           LEFT JOIN orders o ON o.id = c.order_id
          WHERE ",
        matching!(),
        " ORDER BY c.received_at DESC, c.id DESC LIMIT $4"
    ))
    .bind(filter.streamer)
    .bind(filter.since)
    .bind(filter.outcome.map(ClaimOutcome::as_str))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let (total,): (i64,) =
        sqlx::query_as(concat!("SELECT count(*) FROM claims c WHERE ", matching!()))
            .bind(filter.streamer)
            .bind(filter.since)
            .bind(filter.outcome.map(ClaimOutcome::as_str))
            .fetch_one(pool)
            .await?;
    Ok((rows, total))
}

/// One place on a variant's waitlist.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct WaitlistEntry {
    /// 1 is next.
    pub position: i64,
    /// The waiting claim.
    pub claim_id: ClaimId,
    /// Who waits.
    pub buyer: String,
    /// Units asked for.
    pub quantity: i32,
    /// Their message's time (the line's order).
    pub message_time: DateTime<Utc>,
    /// When the entry lapses.
    pub expires_at: DateTime<Utc>,
}

/// A variant's waitlist, next first.
pub async fn waitlist(pool: &PgPool, sku: &str) -> Result<Vec<WaitlistEntry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT row_number() OVER (ORDER BY c.message_time, c.received_at, c.id) AS position,
                c.id AS claim_id, c.buyer, c.quantity, c.message_time,
                c.waitlist_expires_at AS expires_at
           FROM claims c JOIN products p ON p.id = c.product_id
          WHERE p.sku = $1 AND c.status = 'waiting'
          ORDER BY position",
    )
    .bind(sku)
    .fetch_all(pool)
    .await
}

/// Every variant as the claim reader sees the catalog.
pub async fn reader_catalog(
    conn: &mut PgConnection,
) -> Result<Vec<crate::claims::CatalogItem>, sqlx::Error> {
    type Row = (
        i64,
        String,
        String,
        String,
        sqlx::types::Json<std::collections::BTreeMap<String, serde_json::Value>>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, sku, coalesce(product_code, sku), title, options FROM products ORDER BY id",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(product_id, sku, product_code, title, options)| crate::claims::CatalogItem {
                product_id,
                sku,
                product_code,
                title,
                options: options
                    .0
                    .into_iter()
                    .map(|(k, v)| {
                        let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                        (k, v)
                    })
                    .collect(),
            },
        )
        .collect())
}

/// What `streamer`'s live showed at `at`: its lineup codes and the pinned item (the
/// product a pinned variant belongs to: the jacket on screen, not one of its sizes).
pub async fn live_context(
    conn: &mut PgConnection,
    streamer: Option<&str>,
    at: DateTime<Utc>,
    lineup_only: bool,
) -> Result<crate::claims::LiveContext, sqlx::Error> {
    let Some(streamer) = streamer else {
        return Ok(crate::claims::LiveContext {
            lineup_only,
            ..Default::default()
        });
    };
    let lineup = super::lineup::codes_at(&mut *conn, streamer, at).await?;
    let pinned: Option<(String,)> = sqlx::query_as(
        "SELECT coalesce(p.product_code, p.sku) FROM live_pins l JOIN products p ON p.id = l.product_id
          WHERE l.streamer = $1 AND l.pinned_at <= $2 AND (l.unpinned_at IS NULL OR l.unpinned_at > $2)
          ORDER BY l.pinned_at DESC LIMIT 1",
    )
    .bind(streamer)
    .bind(at)
    .fetch_optional(conn)
    .await?;
    Ok(crate::claims::LiveContext {
        lineup,
        pinned: pinned.map(|(sku,)| sku),
        lineup_only,
    })
}
