//! Stripe payments: what an order's Checkout Session is made of, and the record of every
//! Stripe event applied to an order (`payments`, one row per event id).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

use crate::db::inbox::InboxId;

/// What a Checkout Session for an order is made of.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CheckoutOrder {
    /// `ORD-…`: the session's idempotency key and reference.
    pub order_number: String,
    /// Only `pending` orders get a session.
    pub status: String,
    /// Units.
    pub quantity: i32,
    /// Total in minor units.
    pub total_cents: i64,
    /// Lowercase currency.
    pub currency: String,
    /// Product title (the line item's name), if the order has a product.
    pub title: Option<String>,
    /// When the reservation lapses: the session's `expires_at`.
    pub expires_at: Option<DateTime<Utc>>,
    /// Set once a session exists.
    pub checkout_session_id: Option<String>,
    /// Set once Stripe named the payment.
    pub payment_intent_id: Option<String>,
}

/// The order behind a checkout job, with its product and reservation.
pub async fn checkout_order(
    conn: &mut PgConnection,
    order_id: i64,
) -> Result<Option<CheckoutOrder>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.order_number, o.status, o.quantity, o.total_cents, o.currency,
                p.title, r.expires_at, o.checkout_session_id, o.payment_intent_id
           FROM orders o
           LEFT JOIN products p ON p.id = o.product_id
           LEFT JOIN reservations r ON r.order_id = o.id
          WHERE o.id = $1",
    )
    .bind(order_id)
    .fetch_optional(conn)
    .await
}

/// An order as a Stripe event finds it, locked until the event's transaction ends.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LockedOrder {
    /// Internal id.
    pub id: i64,
    /// `ORD-…`.
    pub order_number: String,
    /// Current status.
    pub status: String,
    /// What the buyer owes, in minor units.
    pub total_cents: i64,
    /// Lowercase currency.
    pub currency: String,
}

/// Lock an order row (`FOR UPDATE`) so that a Stripe event reads the status it acts on.
pub async fn lock_order(
    conn: &mut PgConnection,
    order_id: i64,
) -> Result<Option<LockedOrder>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, order_number, status, total_cents, currency
           FROM orders WHERE id = $1 FOR UPDATE",
    )
    .bind(order_id)
    .fetch_optional(conn)
    .await
}

/// Flag an order as disputed; returns false if it already was.
pub async fn flag_disputed(conn: &mut PgConnection, order_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE orders SET disputed = true, updated_at = now() WHERE id = $1 AND NOT disputed",
    )
    .bind(order_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A Stripe event applied to an order.
#[derive(Debug, Clone)]
pub struct NewPayment<'a> {
    /// The order it touched.
    pub order_id: i64,
    /// The delivery it came in.
    pub inbox_id: InboxId,
    /// Stripe's `evt_…`.
    pub stripe_event_id: &'a str,
    /// The event type, e.g. `checkout.session.completed`.
    pub kind: &'a str,
    /// The amount the event is about (paid, refunded, disputed), in minor units.
    pub amount_cents: Option<i64>,
    /// Its currency.
    pub currency: Option<&'a str>,
    /// What was done, for humans; never personal data.
    pub detail: &'a str,
}

/// Record an applied event. Returns false when this event (or this delivery) is already
/// recorded: its effects were committed before, and must not be applied again.
pub async fn record(conn: &mut PgConnection, p: &NewPayment<'_>) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO payments (order_id, inbox_id, stripe_event_id, kind, amount_cents, currency, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT DO NOTHING",
    )
    .bind(p.order_id)
    .bind(p.inbox_id)
    .bind(p.stripe_event_id)
    .bind(p.kind)
    .bind(p.amount_cents)
    .bind(p.currency)
    .bind(p.detail)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One payment row, as `orders show` and the tests read it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PaymentRow {
    /// Row id.
    pub id: i64,
    /// The order.
    pub order_id: Option<i64>,
    /// The delivery.
    pub inbox_id: InboxId,
    /// Stripe's event id.
    pub stripe_event_id: String,
    /// Event type.
    pub kind: String,
    /// Amount in minor units.
    pub amount_cents: Option<i64>,
    /// Currency.
    pub currency: Option<String>,
    /// What was done.
    pub detail: Option<String>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

/// Every payment row of an order, oldest first.
pub async fn for_order(
    conn: &mut PgConnection,
    order_id: i64,
) -> Result<Vec<PaymentRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, order_id, inbox_id, stripe_event_id, kind, amount_cents, currency, detail, created_at
           FROM payments WHERE order_id = $1 ORDER BY id",
    )
    .bind(order_id)
    .fetch_all(conn)
    .await
}
