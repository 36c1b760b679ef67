//! Orders, their reservations and stock: every state change moves the order, its
//! reservation and the product's counts in the caller's one transaction.
//!
//! Status only moves forward (a trigger in Postgres refuses anything else); each function
//! here updates conditionally, so a late or repeated event is a no-op, not an error.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use super::jobs::{self, JobId};
use super::messages::Decision;

/// An order as `orders list` / `orders show` print it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OrderRow {
    /// Internal id.
    pub id: i64,
    /// `ORD-YYYYMMDD-NNNNN`: the id buyers, Stripe and the CLI see.
    pub order_number: String,
    /// `message` or `tiktok_shop`.
    pub source: String,
    /// Product SKU, if known: a TikTok Shop order of one line has its line's seller SKU.
    pub sku: Option<String>,
    /// Buyer handle.
    pub buyer: String,
    /// Units.
    pub quantity: i32,
    /// Total in minor units.
    pub total_cents: i64,
    /// Lowercase currency.
    pub currency: String,
    /// `pending`, `paid`, `fulfilled`, `expired`, `refunded` or `cancelled`.
    pub status: String,
    /// Stripe Checkout URL once created.
    pub checkout_url: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// TikTok's order id (TikTok Shop orders): the id a seller sees in TikTok's Seller Center.
    pub tiktok_order_id: Option<String>,
    /// TikTok's own status of it, as last applied.
    pub tiktok_status: Option<String>,
    /// The TikTok shop it was sold in, read from the newest delivery about it whose body
    /// is still kept (`None` once every such body was purged, or for other orders).
    #[sqlx(skip)]
    pub shop_id: Option<String>,
    /// Its TikTok Shop lines, one per SKU (empty for orders from buyer messages).
    #[sqlx(skip)]
    pub lines: Vec<OrderLine>,
}

/// A TikTok Shop order's line as Get Order Detail gave it, with the stock it moved.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OrderLine {
    /// The order it belongs to.
    #[serde(skip)]
    pub order_id: i64,
    /// 1-based position in the order.
    pub line_no: i32,
    /// The seller's SKU: what is matched against our products.
    pub seller_sku: Option<String>,
    /// TikTok's own SKU id.
    pub tiktok_sku_id: Option<String>,
    /// Product name on TikTok.
    pub title: Option<String>,
    /// Units.
    pub quantity: i32,
    /// Price of one unit in minor units of the order's currency, if TikTok gave one.
    pub unit_price_cents: Option<i64>,
    /// Our product it matched, if any.
    pub product_id: Option<i64>,
    /// Units still off that product's stock.
    pub committed: i32,
    /// Units given back by returns.
    pub returned: i32,
}

/// An [`OrderRow`] with the body its shop is read from.
#[derive(sqlx::FromRow)]
struct ListedRow {
    #[sqlx(flatten)]
    order: OrderRow,
    shop_body: Option<Vec<u8>>,
}

// `one_line` is the seller SKU of an order with exactly one line; `shop` the newest kept
// body of a delivery about the order's TikTok id (the index on tiktok_order_id finds it).
macro_rules! order_select {
    () => {
        "SELECT o.id, o.order_number, o.source, coalesce(p.sku, one_line.seller_sku) AS sku,
                o.buyer, o.quantity, o.total_cents, o.currency, o.status, o.checkout_url,
                o.created_at, o.tiktok_order_id, o.tiktok_status, shop.body AS shop_body
           FROM orders o LEFT JOIN products p ON p.id = o.product_id
           LEFT JOIN LATERAL (
                SELECT min(l.seller_sku) AS seller_sku FROM tiktok_order_lines l
                 WHERE l.order_id = o.id HAVING count(*) = 1
           ) one_line ON true
           LEFT JOIN LATERAL (
                SELECT i.body FROM tiktok_order_events e JOIN inbox i ON i.id = e.inbox_id
                 WHERE e.tiktok_order_id = o.tiktok_order_id AND length(i.body) > 0
                 ORDER BY e.id DESC LIMIT 1
           ) shop ON true"
    };
}

/// The `shop_id` of a TikTok Shop notification body (`{"type",…,"shop_id",…}`); `None` when
/// the body is empty (purged), not JSON, or has none.
pub fn shop_of_body(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        shop_id: Option<String>,
    }
    serde_json::from_slice::<Envelope>(body)
        .ok()
        .and_then(|e| e.shop_id)
        .filter(|s| !s.is_empty())
}

/// Fill each row's shop from its body and its lines from one query.
async fn complete(pool: &PgPool, rows: Vec<ListedRow>) -> Result<Vec<OrderRow>, sqlx::Error> {
    let mut orders: Vec<OrderRow> = rows
        .into_iter()
        .map(|r| {
            let mut order = r.order;
            order.shop_id = r.shop_body.as_deref().and_then(shop_of_body);
            order
        })
        .collect();
    let tiktok: Vec<i64> = orders
        .iter()
        .filter(|o| o.tiktok_order_id.is_some())
        .map(|o| o.id)
        .collect();
    if tiktok.is_empty() {
        return Ok(orders);
    }
    let lines: Vec<OrderLine> = sqlx::query_as(
        "SELECT order_id, line_no, seller_sku, tiktok_sku_id, title, quantity, unit_price_cents,
                product_id, committed, returned
           FROM tiktok_order_lines WHERE order_id = ANY ($1) ORDER BY order_id, line_no",
    )
    .bind(&tiktok)
    .fetch_all(pool)
    .await?;
    for line in lines {
        if let Some(order) = orders.iter_mut().find(|o| o.id == line.order_id) {
            order.lines.push(line);
        }
    }
    Ok(orders)
}

/// Newest orders first, optionally by status.
pub async fn list(
    pool: &PgPool,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<OrderRow>, sqlx::Error> {
    let rows = sqlx::query_as(concat!(
        order_select!(),
        " WHERE ($1::text IS NULL OR o.status = $1) ORDER BY o.id DESC LIMIT $2"
    ))
    .bind(status)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    complete(pool, rows).await
}

/// One order by its number (`ORD-…`), internal id or TikTok order id.
pub async fn get(pool: &PgPool, id_or_number: &str) -> Result<Option<OrderRow>, sqlx::Error> {
    let rows = sqlx::query_as(concat!(
        order_select!(),
        " WHERE o.order_number = $1 OR o.id::text = $1 OR o.tiktok_order_id = $1
          ORDER BY (o.order_number = $1) DESC, (o.id::text = $1) DESC LIMIT 1"
    ))
    .bind(id_or_number)
    .fetch_all(pool)
    .await?;
    Ok(complete(pool, rows).await?.pop())
}

/// What a buy attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// Stock reserved and a pending order created.
    Ordered {
        /// Internal order id.
        order_id: i64,
        /// `ORD-…`.
        order_number: String,
        /// Total in minor units.
        total_cents: i64,
        /// Currency.
        currency: String,
        /// When the hold lapses.
        expires_at: DateTime<Utc>,
        /// The checkout job created with it, to push once committed.
        checkout_job: Option<JobId>,
    },
    /// Not enough available stock; nothing reserved.
    SoldOut,
    /// This buyer already holds a pending order for this product.
    AlreadyPending {
        /// The existing order.
        order_id: i64,
    },
}

/// What a message's order needs: who buys how many of what, how long the hold lasts and,
/// when Stripe is configured, the checkout job to create with it.
#[derive(Debug, Clone, Copy)]
pub struct OrderRequest<'a> {
    /// The message asking for it (one message, at most one order).
    pub message_id: i64,
    /// The product.
    pub product_id: i64,
    /// The buyer's handle.
    pub buyer: &'a str,
    /// Units.
    pub quantity: i32,
    /// How long the reservation holds the stock.
    pub ttl: Duration,
    /// `Some((queue, key prefix))` to create the checkout job in the same transaction;
    /// its idempotency key is the prefix followed by the order number.
    pub checkout: Option<(&'a str, &'a str)>,
    /// What the pipeline made of the message; recorded on it in the same statement, with
    /// the reservation's outcome (its `outcome` field is ignored).
    pub decision: &'a Decision<'a>,
}

/// Reserve stock for a buyer's message, create its pending order (and checkout job) and
/// record the message's decision, in one round trip: `reserve_message_order` locks the product row (`SELECT … FOR UPDATE`)
/// so concurrent buyers queue on it and available stock can never go negative, and the
/// lock is held only for that call and the caller's commit.
pub async fn reserve_for_message(
    conn: &mut PgConnection,
    request: &OrderRequest<'_>,
) -> Result<Reservation, sqlx::Error> {
    let (queue, key) = request.checkout.unzip();
    // The message's decision rides along in a data-modifying CTE: one round trip fewer
    // while the product row is locked.
    let d = request.decision;
    let row: ReservedRow = sqlx::query_as(
        "WITH r AS (
             SELECT * FROM reserve_message_order($1, $2, $3, $4, $5, $6, $7)
         ), decided AS (
             UPDATE messages m
                SET intent = $8, intent_score = $9, classifier = $10, product_id = $2,
                    match_score = $11, outcome = r.outcome
               FROM r
              WHERE m.id = $1
         )
         SELECT outcome, order_id, order_number, total_cents, currency, expires_at,
                checkout_job_id
           FROM r",
    )
    .bind(request.message_id)
    .bind(request.product_id)
    .bind(request.buyer)
    .bind(request.quantity)
    .bind(request.ttl.as_secs_f64())
    .bind(queue)
    .bind(key)
    .bind(d.intent)
    .bind(d.intent_score)
    .bind(d.classifier)
    .bind(d.match_score)
    .fetch_one(conn)
    .await?;
    row.try_into()
}

#[derive(sqlx::FromRow)]
struct ReservedRow {
    outcome: String,
    order_id: Option<i64>,
    order_number: Option<String>,
    total_cents: Option<i64>,
    currency: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    checkout_job_id: Option<JobId>,
}

impl TryFrom<ReservedRow> for Reservation {
    type Error = sqlx::Error;

    fn try_from(row: ReservedRow) -> Result<Self, Self::Error> {
        let missing =
            || sqlx::Error::Decode("reserve_message_order returned an incomplete row".into());
        match (row.outcome.as_str(), row.order_id) {
            ("sold_out", _) => Ok(Reservation::SoldOut),
            ("duplicate_pending", Some(order_id)) => Ok(Reservation::AlreadyPending { order_id }),
            ("ordered", Some(order_id)) => Ok(Reservation::Ordered {
                order_id,
                order_number: row.order_number.ok_or_else(missing)?,
                total_cents: row.total_cents.ok_or_else(missing)?,
                currency: row.currency.ok_or_else(missing)?,
                expires_at: row.expires_at.ok_or_else(missing)?,
                checkout_job: row.checkout_job_id,
            }),
            _ => Err(missing()),
        }
    }
}

/// `pending → paid`: the reservation turns into a stock decrement. Returns false when the
/// order was not pending (already paid, expired, …): a late or repeated event.
pub async fn mark_paid(
    conn: &mut PgConnection,
    order_id: i64,
    payment_intent: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query(
        "UPDATE orders SET status = 'paid', stock_committed = true, awaiting_payment = false,
                payment_intent_id = coalesce($2, payment_intent_id)
          WHERE id = $1 AND status = 'pending'",
    )
    .bind(order_id)
    .bind(payment_intent)
    .execute(&mut *conn)
    .await?;
    if moved.rows_affected() == 0 {
        return Ok(false);
    }
    settle_reservation(conn, order_id, Settle::Commit).await?;
    Ok(true)
}

/// `pending → expired` (or `cancelled`): the reservation is released. Returns false when
/// the order was not pending.
pub async fn release(
    conn: &mut PgConnection,
    order_id: i64,
    to: ReleasedAs,
) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query(
        "UPDATE orders SET status = $2, awaiting_payment = false WHERE id = $1 AND status = 'pending'",
    )
        .bind(order_id)
        .bind(to.as_str())
        .execute(&mut *conn)
        .await?;
    if moved.rows_affected() == 0 {
        return Ok(false);
    }
    settle_reservation(conn, order_id, Settle::Release).await?;
    Ok(true)
}

/// Checkout completed with a delayed payment method: keep the hold past its expiry until
/// Stripe reports the payment's outcome, and remember the PaymentIntent so refunds and
/// disputes find the order. Returns false when the order was not pending.
pub async fn await_payment(
    conn: &mut PgConnection,
    order_id: i64,
    payment_intent: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query(
        "UPDATE orders SET awaiting_payment = true, updated_at = now(),
                payment_intent_id = coalesce($2, payment_intent_id)
          WHERE id = $1 AND status = 'pending'",
    )
    .bind(order_id)
    .bind(payment_intent)
    .execute(conn)
    .await?;
    Ok(moved.rows_affected() == 1)
}

/// What became of a payment that landed on an order whose hold had lapsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatePayment {
    /// The units were still on hand: taken from stock, the order is `paid`.
    Honoured,
    /// Not enough left (sold to someone else meanwhile): the payment must be refunded.
    NoStock,
    /// The order is not `expired` (or has no product): nothing to decide here.
    NotExpired,
}

/// `expired → paid` when the order's units are still available, under the product's row
/// lock like any reservation; the stock is taken at once (no hold: it is paid). The
/// PaymentIntent is recorded either way, so a refund can name it.
pub async fn honour_late_payment(
    conn: &mut PgConnection,
    order_id: i64,
    payment_intent: Option<&str>,
) -> Result<LatePayment, sqlx::Error> {
    let wanted: Option<(i64, i32)> = sqlx::query_as(
        "UPDATE orders SET payment_intent_id = coalesce($2, payment_intent_id)
          WHERE id = $1 AND status = 'expired' AND product_id IS NOT NULL
          RETURNING product_id, quantity",
    )
    .bind(order_id)
    .bind(payment_intent)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((product_id, quantity)) = wanted else {
        return Ok(LatePayment::NotExpired);
    };
    let (available,): (i64,) = sqlx::query_as(
        "SELECT (stock_on_hand - reserved)::bigint FROM products WHERE id = $1 FOR NO KEY UPDATE",
    )
    .bind(product_id)
    .fetch_one(&mut *conn)
    .await?;
    if available < i64::from(quantity) {
        return Ok(LatePayment::NoStock);
    }
    sqlx::query(
        "UPDATE products SET stock_on_hand = stock_on_hand - $2, updated_at = now() WHERE id = $1",
    )
    .bind(product_id)
    .bind(quantity)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE orders SET status = 'paid', stock_committed = true WHERE id = $1")
        .bind(order_id)
        .execute(&mut *conn)
        .await?;
    Ok(LatePayment::Honoured)
}

/// The final status of an order whose hold is released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleasedAs {
    /// The Checkout Session or the reservation ran out.
    Expired,
    /// The buyer or the platform cancelled.
    Cancelled,
}

impl ReleasedAs {
    fn as_str(self) -> &'static str {
        match self {
            ReleasedAs::Expired => "expired",
            ReleasedAs::Cancelled => "cancelled",
        }
    }
}

/// `paid|fulfilled → refunded`: the units go back on hand. Returns false when the order
/// was not paid or fulfilled.
pub async fn mark_refunded(conn: &mut PgConnection, order_id: i64) -> Result<bool, sqlx::Error> {
    let restocked: Option<(Option<i64>, i32, bool)> = sqlx::query_as(
        "UPDATE orders SET status = 'refunded'
          WHERE id = $1 AND status IN ('paid', 'fulfilled')
          RETURNING product_id, quantity, stock_committed",
    )
    .bind(order_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((product_id, quantity, committed)) = restocked else {
        return Ok(false);
    };
    if let (Some(product_id), true) = (product_id, committed) {
        sqlx::query("UPDATE products SET stock_on_hand = stock_on_hand + $2, updated_at = now() WHERE id = $1")
            .bind(product_id)
            .bind(quantity)
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE orders SET stock_committed = false WHERE id = $1")
            .bind(order_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(true)
}

enum Settle {
    Commit,
    Release,
}

/// Turn a held reservation into a stock decrement, or give it back. Locks the product
/// row like the reservation did, so counts stay consistent under concurrency.
async fn settle_reservation(
    conn: &mut PgConnection,
    order_id: i64,
    how: Settle,
) -> Result<(), sqlx::Error> {
    let held: Option<(i64, i32)> = sqlx::query_as(
        "UPDATE reservations SET status = $2, released_at = now()
          WHERE order_id = $1 AND status = 'held'
          RETURNING product_id, quantity",
    )
    .bind(order_id)
    .bind(match how {
        Settle::Commit => "committed",
        Settle::Release => "released",
    })
    .fetch_optional(&mut *conn)
    .await?;
    let Some((product_id, quantity)) = held else {
        return Ok(());
    };
    let sql = match how {
        Settle::Commit => {
            "UPDATE products SET reserved = reserved - $2, stock_on_hand = stock_on_hand - $2, updated_at = now() WHERE id = $1"
        }
        Settle::Release => {
            "UPDATE products SET reserved = reserved - $2, updated_at = now() WHERE id = $1"
        }
    };
    sqlx::query(sql)
        .bind(product_id)
        .bind(quantity)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// What one pass over lapsed holds did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LapsedHolds {
    /// Holds released, their orders now `expired`.
    pub released: u64,
    /// New jobs (on `queue`) that expire an order's Checkout Session first: the hold is
    /// released once Stripe confirms the session can no longer be paid.
    pub session_jobs: Vec<JobId>,
}

/// Idempotency-key prefix of the job that expires an order's Checkout Session.
pub const EXPIRE_SESSION_KEY_PREFIX: &str = "expire-session:";

/// Deal with every hold past its expiry (`SKIP LOCKED`: several workers may run it at
/// once). Holds awaiting a delayed payment stay. With `expire_sessions` (Stripe
/// configured), an order with a Checkout Session gets a job on `queue` that expires the
/// session first; any other hold — no session, or its expiry job is dead — is released
/// now and its order marked `expired`.
pub async fn expire_reservations(
    pool: &PgPool,
    limit: i64,
    expire_sessions: Option<&str>,
) -> Result<LapsedHolds, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let due: Vec<(i64, String, bool, Option<String>)> = sqlx::query_as(
        "SELECT r.order_id, o.order_number, o.checkout_session_id IS NOT NULL, j.status
           FROM reservations r
           JOIN orders o ON o.id = r.order_id
           LEFT JOIN jobs j ON j.idempotency_key = $2 || o.order_number
          WHERE r.status = 'held' AND r.expires_at <= now() AND NOT o.awaiting_payment
            AND (j.status IS NULL OR j.status = 'dead')
          ORDER BY r.expires_at LIMIT $1 FOR UPDATE OF r SKIP LOCKED",
    )
    .bind(limit)
    .bind(EXPIRE_SESSION_KEY_PREFIX)
    .fetch_all(&mut *tx)
    .await?;
    let mut lapsed = LapsedHolds::default();
    for (order_id, number, has_session, expiry_job) in due {
        if let (Some(queue), true, None) = (expire_sessions, has_session, &expiry_job) {
            let key = format!("{EXPIRE_SESSION_KEY_PREFIX}{number}");
            if let Some(job) = jobs::insert_once(&mut tx, queue, order_id, &key).await? {
                lapsed.session_jobs.push(job);
            }
        } else if release(&mut tx, order_id, ReleasedAs::Expired).await? {
            lapsed.released += 1;
        }
    }
    tx.commit().await?;
    Ok(lapsed)
}

/// Store the Checkout Session on its order.
pub async fn set_checkout(
    conn: &mut PgConnection,
    order_id: i64,
    session_id: &str,
    url: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE orders SET checkout_session_id = $2, checkout_url = $3, updated_at = now() WHERE id = $1")
        .bind(order_id)
        .bind(session_id)
        .bind(url)
        .execute(conn)
        .await?;
    Ok(())
}

/// Find an order by the id Stripe echoes back (`ORD-…` in metadata / client_reference_id),
/// a Checkout Session id or a PaymentIntent id.
pub async fn find_for_stripe(
    conn: &mut PgConnection,
    order_number: Option<&str>,
    session_id: Option<&str>,
    payment_intent: Option<&str>,
) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM orders
          WHERE ($1::text IS NOT NULL AND order_number = $1)
             OR ($2::text IS NOT NULL AND checkout_session_id = $2)
             OR ($3::text IS NOT NULL AND payment_intent_id = $3)
          ORDER BY id LIMIT 1",
    )
    .bind(order_number)
    .bind(session_id)
    .bind(payment_intent)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(id,)| id))
}

/// Everything an order came from and went through, for `orders show`:
/// delivery → message → intent → product → reservation → checkout → payments.
#[derive(Debug, Clone, Serialize)]
pub struct OrderTrace {
    /// The order itself.
    pub order: OrderRow,
    /// The delivery and message it came from (orders from buyer messages).
    pub origin: Option<Origin>,
    /// The stock hold.
    pub reservation: Option<ReservationRow>,
    /// Stripe Checkout Session id.
    pub checkout_session_id: Option<String>,
    /// Stripe PaymentIntent id.
    pub payment_intent_id: Option<String>,
    /// Whether a dispute was opened.
    pub disputed: bool,
    /// Stripe events applied to it, oldest first.
    pub payments: Vec<PaymentRow>,
    /// What TikTok Shop told us about it (TikTok Shop orders): the order's lines are on
    /// `order.lines`, its shop on `order.shop_id`.
    pub tiktok: Option<TiktokTrace>,
}

/// A TikTok Shop order's side of the chain: every delivery about its TikTok order id and
/// what each did, and the returns applied to it.
#[derive(Debug, Clone, Serialize)]
pub struct TiktokTrace {
    /// TikTok's order id.
    pub tiktok_order_id: String,
    /// The shop it was sold in, when a delivery's body still says.
    pub shop_id: Option<String>,
    /// TikTok's status as last applied.
    pub tiktok_status: Option<String>,
    /// The `update_time` of the newest change applied.
    pub tiktok_update_time: Option<i64>,
    /// Deliveries (webhooks and reconciliation's) about it, oldest first.
    pub deliveries: Vec<TiktokDelivery>,
    /// Refunded returns applied to it, oldest first.
    pub returns: Vec<TiktokReturn>,
}

/// One TikTok Shop delivery about an order and what it did (`tiktok_order_events`).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TiktokDelivery {
    /// Inbox id of the delivery (`events show` it).
    pub inbox_id: i64,
    /// The inbox dedupe key (`tts_notification_id`, or `reconcile:…`).
    pub dedupe_key: String,
    /// The notification's `type` (1 order status, 11 cancellation, 12 return, …).
    pub topic: i32,
    /// The status it carried.
    pub tiktok_status: String,
    /// Its `update_time`, if any.
    pub update_time: Option<i64>,
    /// `applied`, `stale`, `illegal`, `recorded` or `unknown_order`.
    pub outcome: String,
    /// When the delivery arrived.
    pub received_at: DateTime<Utc>,
}

/// A refunded TikTok Shop return applied to an order.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TiktokReturn {
    /// TikTok's return id.
    pub return_id: String,
    /// Inbox id of the delivery that applied it.
    pub inbox_id: i64,
    /// `REFUND`, `RETURN_AND_REFUND` or `REPLACEMENT`, if known.
    pub return_type: Option<String>,
    /// The return status that refunded it.
    pub return_status: String,
    /// Units it put back in stock.
    pub restocked: i32,
    /// When it was applied.
    pub created_at: DateTime<Utc>,
}

/// The delivery and message behind an order.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Origin {
    /// Inbox id of the delivery.
    pub inbox_id: i64,
    /// Provider of the delivery.
    pub provider: String,
    /// `dm` or `comment`.
    pub channel: String,
    /// Streamer, for comments.
    pub streamer: Option<String>,
    /// The buyer's words.
    pub text: String,
    /// Classified intent.
    pub intent: Option<String>,
    /// Intent confidence.
    pub intent_score: Option<f32>,
    /// Which classifier decided.
    pub classifier: Option<String>,
    /// Product match confidence.
    pub match_score: Option<f32>,
}

/// A reservation as `orders show` prints it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ReservationRow {
    /// `held`, `committed` or `released`.
    pub status: String,
    /// Units.
    pub quantity: i32,
    /// When the hold lapses.
    pub expires_at: DateTime<Utc>,
    /// When it was committed or released.
    pub released_at: Option<DateTime<Utc>>,
}

/// A Stripe event applied to an order.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PaymentRow {
    /// Stripe event type.
    pub kind: String,
    /// Stripe event id.
    pub stripe_event_id: String,
    /// Inbox id of the delivery.
    pub inbox_id: i64,
    /// Amount in minor units, if the event carried one.
    pub amount_cents: Option<i64>,
    /// When it was applied.
    pub created_at: DateTime<Utc>,
}

/// Trace one order by number or id.
pub async fn trace(pool: &PgPool, id_or_number: &str) -> Result<Option<OrderTrace>, sqlx::Error> {
    let Some(order) = get(pool, id_or_number).await? else {
        return Ok(None);
    };
    let origin: Option<Origin> = sqlx::query_as(
        "SELECT i.id AS inbox_id, i.provider, m.channel, m.streamer, m.text, m.intent,
                m.intent_score, m.classifier, m.match_score
           FROM orders o JOIN messages m ON m.id = o.message_id JOIN inbox i ON i.id = m.inbox_id
          WHERE o.id = $1",
    )
    .bind(order.id)
    .fetch_optional(pool)
    .await?;
    let reservation: Option<ReservationRow> = sqlx::query_as(
        "SELECT status, quantity, expires_at, released_at FROM reservations WHERE order_id = $1",
    )
    .bind(order.id)
    .fetch_optional(pool)
    .await?;
    let (checkout_session_id, payment_intent_id, disputed, tiktok_update_time): (
        Option<String>,
        Option<String>,
        bool,
        Option<i64>,
    ) = sqlx::query_as(
        "SELECT checkout_session_id, payment_intent_id, disputed, tiktok_update_time
           FROM orders WHERE id = $1",
    )
    .bind(order.id)
    .fetch_one(pool)
    .await?;
    let payments: Vec<PaymentRow> = sqlx::query_as(
        "SELECT kind, stripe_event_id, inbox_id, amount_cents, created_at
           FROM payments WHERE order_id = $1 ORDER BY id",
    )
    .bind(order.id)
    .fetch_all(pool)
    .await?;
    let tiktok = match &order.tiktok_order_id {
        Some(tiktok_order_id) => {
            Some(tiktok_trace(pool, &order, tiktok_order_id, tiktok_update_time).await?)
        }
        None => None,
    };
    Ok(Some(OrderTrace {
        order,
        origin,
        reservation,
        checkout_session_id,
        payment_intent_id,
        disputed,
        payments,
        tiktok,
    }))
}

/// The deliveries and returns behind a TikTok Shop order. Deliveries are found by TikTok's
/// order id, so one that came before we had the order (`unknown_order`) is listed too.
async fn tiktok_trace(
    pool: &PgPool,
    order: &OrderRow,
    tiktok_order_id: &str,
    tiktok_update_time: Option<i64>,
) -> Result<TiktokTrace, sqlx::Error> {
    let deliveries: Vec<TiktokDelivery> = sqlx::query_as(
        "SELECT e.inbox_id, i.dedupe_key, e.topic, e.tiktok_status, e.update_time, e.outcome,
                i.received_at
           FROM tiktok_order_events e JOIN inbox i ON i.id = e.inbox_id
          WHERE e.tiktok_order_id = $1 ORDER BY e.id",
    )
    .bind(tiktok_order_id)
    .fetch_all(pool)
    .await?;
    let returns: Vec<TiktokReturn> = sqlx::query_as(
        "SELECT return_id, inbox_id, return_type, return_status, restocked, created_at
           FROM tiktok_order_returns WHERE order_id = $1 ORDER BY created_at, return_id",
    )
    .bind(order.id)
    .fetch_all(pool)
    .await?;
    Ok(TiktokTrace {
        tiktok_order_id: tiktok_order_id.to_owned(),
        shop_id: order.shop_id.clone(),
        tiktok_status: order.tiktok_status.clone(),
        tiktok_update_time,
        deliveries,
        returns,
    })
}
