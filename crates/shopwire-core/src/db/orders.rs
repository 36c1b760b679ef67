//! Orders, their reservations and stock: every state change moves the order, its
//! reservation and the product's counts in the caller's one transaction.
//!
//! Status only moves forward (a trigger in Postgres refuses anything else); each function
//! here updates conditionally, so a late or repeated event is a no-op, not an error.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

/// An order as `orders list` / `orders show` print it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OrderRow {
    /// Internal id.
    pub id: i64,
    /// `ORD-YYYYMMDD-NNNNN`: the id buyers, Stripe and the CLI see.
    pub order_number: String,
    /// `message` or `tiktok_shop`.
    pub source: String,
    /// Product SKU, if known.
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
}

macro_rules! order_select {
    () => {
        "SELECT o.id, o.order_number, o.source, p.sku, o.buyer, o.quantity, o.total_cents,
                o.currency, o.status, o.checkout_url, o.created_at
           FROM orders o LEFT JOIN products p ON p.id = o.product_id"
    };
}

/// Newest orders first, optionally by status.
pub async fn list(
    pool: &PgPool,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<OrderRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        order_select!(),
        " WHERE ($1::text IS NULL OR o.status = $1) ORDER BY o.id DESC LIMIT $2"
    ))
    .bind(status)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// One order by its number (`ORD-…`) or internal id.
pub async fn get(pool: &PgPool, id_or_number: &str) -> Result<Option<OrderRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        order_select!(),
        " WHERE o.order_number = $1 OR o.id::text = $1"
    ))
    .bind(id_or_number)
    .fetch_optional(pool)
    .await
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
    },
    /// Not enough available stock; nothing reserved.
    SoldOut,
    /// This buyer already holds a pending order for this product.
    AlreadyPending {
        /// The existing order.
        order_id: i64,
    },
}

/// Reserve `quantity` of a product for a buyer's message and create its pending order.
/// Locks the product row (`SELECT … FOR UPDATE`) so concurrent buyers queue on it and
/// available stock can never go negative.
pub async fn reserve_for_message(
    conn: &mut PgConnection,
    message_id: i64,
    product_id: i64,
    buyer: &str,
    quantity: i32,
    ttl: Duration,
) -> Result<Reservation, sqlx::Error> {
    let (available, price_cents, currency): (i32, i64, String) = sqlx::query_as(
        "SELECT stock_on_hand - reserved, price_cents, currency FROM products WHERE id = $1 FOR UPDATE",
    )
    .bind(product_id)
    .fetch_one(&mut *conn)
    .await?;
    let pending: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM orders
          WHERE buyer = $1 AND product_id = $2 AND status = 'pending' AND source = 'message'",
    )
    .bind(buyer)
    .bind(product_id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((order_id,)) = pending {
        return Ok(Reservation::AlreadyPending { order_id });
    }
    if available < quantity {
        return Ok(Reservation::SoldOut);
    }
    sqlx::query("UPDATE products SET reserved = reserved + $2, updated_at = now() WHERE id = $1")
        .bind(product_id)
        .bind(quantity)
        .execute(&mut *conn)
        .await?;
    let total_cents = price_cents * i64::from(quantity);
    let (order_id, order_number): (i64, String) = sqlx::query_as(
        "INSERT INTO orders (order_number, source, message_id, product_id, buyer, quantity, total_cents, currency)
         VALUES ('ORD-' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD') || '-'
                        || lpad((nextval('order_number_seq') % 100000)::text, 5, '0'),
                 'message', $1, $2, $3, $4, $5, $6)
         RETURNING id, order_number",
    )
    .bind(message_id)
    .bind(product_id)
    .bind(buyer)
    .bind(quantity)
    .bind(total_cents)
    .bind(&currency)
    .fetch_one(&mut *conn)
    .await?;
    let (expires_at,): (DateTime<Utc>,) = sqlx::query_as(
        "INSERT INTO reservations (order_id, product_id, quantity, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))
         RETURNING expires_at",
    )
    .bind(order_id)
    .bind(product_id)
    .bind(quantity)
    .bind(ttl.as_secs_f64())
    .fetch_one(&mut *conn)
    .await?;
    Ok(Reservation::Ordered {
        order_id,
        order_number,
        total_cents,
        currency,
        expires_at,
    })
}

/// `pending → paid`: the reservation turns into a stock decrement. Returns false when the
/// order was not pending (already paid, expired, …): a late or repeated event.
pub async fn mark_paid(
    conn: &mut PgConnection,
    order_id: i64,
    payment_intent: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query(
        "UPDATE orders SET status = 'paid', stock_committed = true,
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
    let moved = sqlx::query("UPDATE orders SET status = $2 WHERE id = $1 AND status = 'pending'")
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

/// Release every hold past its expiry, marking its order `expired`; returns how many.
/// `SKIP LOCKED` lets several workers run it at once.
pub async fn expire_reservations(pool: &PgPool, limit: i64) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let due: Vec<(i64,)> = sqlx::query_as(
        "SELECT order_id FROM reservations
          WHERE status = 'held' AND expires_at <= now()
          ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    let mut released = 0;
    for (order_id,) in due {
        if release(&mut tx, order_id, ReleasedAs::Expired).await? {
            released += 1;
        }
    }
    tx.commit().await?;
    Ok(released)
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
    let (checkout_session_id, payment_intent_id, disputed): (Option<String>, Option<String>, bool) =
        sqlx::query_as(
            "SELECT checkout_session_id, payment_intent_id, disputed FROM orders WHERE id = $1",
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
    Ok(Some(OrderTrace {
        order,
        origin,
        reservation,
        checkout_session_id,
        payment_intent_id,
        disputed,
        payments,
    }))
}
