//! Live carts (`CART_MODE=live`, docs/contract.md §10): a buyer's holds from one live share
//! one Checkout Session, one line item per hold.
//!
//! The allocator (`allocate_claims`) opens carts and adds holds to them, each hold pushing
//! the cart's checkout job (key [`JOB_KEY_PREFIX`] + id) to `CART_SETTLE_SECS` later. That
//! job closes the cart to new holds ([`close_for_checkout`]) and stores the session on the
//! cart and every order in it ([`set_checkout`]); Stripe events about the session then
//! apply to each of its orders ([`orders_for_stripe`]).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

/// A cart's checkout job has the idempotency key `cart:<cart id>` and the cart as subject.
pub const JOB_KEY_PREFIX: &str = "cart:";

/// `CART-<id>`: how a cart's session names it to Stripe (`client_reference_id`,
/// `metadata[cart_id]`, the idempotency key), as `ORD-…` names an order.
pub const REFERENCE_PREFIX: &str = "CART-";

/// The reference Stripe knows cart `id` by.
pub fn reference(id: i64) -> String {
    format!("{REFERENCE_PREFIX}{id}")
}

/// The cart a reference names, if it is one of ours.
pub fn parse_reference(reference: &str) -> Option<i64> {
    reference.strip_prefix(REFERENCE_PREFIX)?.parse().ok()
}

/// One hold of a cart: one line item of its session.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CartLine {
    /// The order.
    pub order_id: i64,
    /// `ORD-…`.
    pub order_number: String,
    /// Units.
    pub quantity: i32,
    /// The order's total in minor units.
    pub total_cents: i64,
    /// Lowercase currency (the cart's).
    pub currency: String,
    /// Product title (the line item's name), if the order has a product.
    pub title: Option<String>,
    /// When the hold lapses.
    pub expires_at: DateTime<Utc>,
}

/// A cart as its checkout job finds it, closed to new holds.
#[derive(Debug, Clone)]
pub struct CartCheckout {
    /// `checkout` once closed for its session, `closed` if it ended without one.
    pub status: String,
    /// Set once its session exists.
    pub checkout_session_id: Option<String>,
    /// Its pending holds, oldest first: the session's line items.
    pub lines: Vec<CartLine>,
}

/// Close cart `id` to new holds (`open → checkout`; a later claim opens a new cart) and
/// return it with its pending holds. Repeating it returns the same cart unchanged; `None`
/// when there is no such cart.
pub async fn close_for_checkout(
    pool: &PgPool,
    id: i64,
) -> Result<Option<CartCheckout>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE carts SET status = 'checkout', updated_at = now() WHERE id = $1 AND status = 'open'",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let cart: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT status, checkout_session_id FROM carts WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((status, checkout_session_id)) = cart else {
        return Ok(None);
    };
    let lines: Vec<CartLine> = sqlx::query_as(
        "SELECT o.id AS order_id, o.order_number, o.quantity, o.total_cents, o.currency,
                p.title, r.expires_at
           FROM orders o
           JOIN reservations r ON r.order_id = o.id
           LEFT JOIN products p ON p.id = o.product_id
          WHERE o.cart_id = $1 AND o.status = 'pending'
          ORDER BY o.id",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(CartCheckout {
        status,
        checkout_session_id,
        lines,
    }))
}

/// A closed cart whose holds all ended before its session was made: `closed`.
pub async fn close_empty(conn: &mut PgConnection, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE carts SET status = 'closed', updated_at = now()
          WHERE id = $1 AND status = 'checkout' AND checkout_session_id IS NULL",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Store cart `id`'s Checkout Session on each of `orders` (its line items) still pending,
/// then on the cart, whose trigger reports the link once (`order.checkout_ready`). Returns
/// the orders that took it.
pub async fn set_checkout(
    conn: &mut PgConnection,
    id: i64,
    orders: &[i64],
    session_id: &str,
    url: &str,
) -> Result<Vec<i64>, sqlx::Error> {
    let updated: Vec<(i64,)> = sqlx::query_as(
        "UPDATE orders SET checkout_session_id = $3, checkout_url = $4, updated_at = now()
          WHERE cart_id = $1 AND id = ANY($2) AND status = 'pending'
            AND checkout_session_id IS NULL
          RETURNING id",
    )
    .bind(id)
    .bind(orders)
    .bind(session_id)
    .bind(url)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE carts SET checkout_session_id = $2, checkout_url = $3, updated_at = now()
          WHERE id = $1",
    )
    .bind(id)
    .bind(session_id)
    .bind(url)
    .execute(&mut *conn)
    .await?;
    let mut ids: Vec<i64> = updated.into_iter().map(|(id,)| id).collect();
    ids.sort_unstable();
    Ok(ids)
}

/// The orders a Stripe event about a cart's session applies to, by the cart reference it
/// echoes (`CART-…`), the session id or the PaymentIntent id; oldest first, empty when
/// the event is not about a cart.
pub async fn orders_for_stripe(
    conn: &mut PgConnection,
    cart: Option<i64>,
    session_id: Option<&str>,
    payment_intent: Option<&str>,
) -> Result<Vec<i64>, sqlx::Error> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT o.id FROM orders o JOIN carts c ON c.id = o.cart_id
          WHERE o.checkout_session_id = c.checkout_session_id
            AND (($1::bigint IS NOT NULL AND c.id = $1)
                 OR ($2::text IS NOT NULL AND c.checkout_session_id = $2)
                 OR ($3::text IS NOT NULL AND c.id IN (
                        SELECT cart_id FROM orders
                         WHERE payment_intent_id = $3 AND cart_id IS NOT NULL)))
          ORDER BY o.id",
    )
    .bind(cart)
    .bind(session_id)
    .bind(payment_intent)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
