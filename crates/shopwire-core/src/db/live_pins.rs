//! What each streamer has on screen: pin and unpin products.
//!
//! A streamer has at most one open pin (unique partial index `live_pins_one_open`).
//! Pinning closes the previous open pin in the same transaction, under a per-streamer
//! advisory lock so two concurrent pins queue up instead of colliding on the index.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

/// One pin: a product a streamer showed, from `pinned_at` until `unpinned_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Pin {
    /// Row id.
    pub id: i64,
    /// The streamer whose screen it is.
    pub streamer: String,
    /// The product pinned.
    pub sku: String,
    /// When it went on screen.
    pub pinned_at: DateTime<Utc>,
    /// When it came off; `None` while it is on screen.
    pub unpinned_at: Option<DateTime<Utc>>,
}

/// Why a pin was refused.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    /// No product has that SKU.
    #[error("no product with SKU `{0}`")]
    UnknownSku(String),
    /// Any other database failure.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Put `sku` on `streamer`'s screen, ending whatever was pinned before.
pub async fn pin(pool: &PgPool, streamer: &str, sku: &str) -> Result<Pin, PinError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('live_pins'), hashtext($1))")
        .bind(streamer)
        .execute(&mut *tx)
        .await?;
    let product: Option<(i64,)> = sqlx::query_as("SELECT id FROM products WHERE sku = $1")
        .bind(sku)
        .fetch_optional(&mut *tx)
        .await?;
    let Some((product_id,)) = product else {
        return Err(PinError::UnknownSku(sku.to_owned()));
    };
    sqlx::query(
        "UPDATE live_pins SET unpinned_at = now() WHERE streamer = $1 AND unpinned_at IS NULL",
    )
    .bind(streamer)
    .execute(&mut *tx)
    .await?;
    let pin = sqlx::query_as(
        "WITH pinned AS (
             INSERT INTO live_pins (streamer, product_id) VALUES ($1, $2)
             RETURNING id, streamer, product_id, pinned_at, unpinned_at)
         SELECT pinned.id, pinned.streamer, products.sku, pinned.pinned_at, pinned.unpinned_at
           FROM pinned JOIN products ON products.id = pinned.product_id",
    )
    .bind(streamer)
    .bind(product_id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(pin)
}

/// End `streamer`'s open pin; returns it, or `None` when nothing was pinned.
pub async fn unpin(pool: &PgPool, streamer: &str) -> Result<Option<Pin>, sqlx::Error> {
    sqlx::query_as(
        "WITH closed AS (
             UPDATE live_pins SET unpinned_at = now()
              WHERE streamer = $1 AND unpinned_at IS NULL
             RETURNING id, streamer, product_id, pinned_at, unpinned_at)
         SELECT closed.id, closed.streamer, products.sku, closed.pinned_at, closed.unpinned_at
           FROM closed JOIN products ON products.id = closed.product_id",
    )
    .bind(streamer)
    .fetch_optional(pool)
    .await
}

/// The product on `streamer`'s screen now, if any.
pub async fn current(pool: &PgPool, streamer: &str) -> Result<Option<Pin>, sqlx::Error> {
    sqlx::query_as(
        "SELECT live_pins.id, live_pins.streamer, products.sku, live_pins.pinned_at,
                live_pins.unpinned_at
           FROM live_pins JOIN products ON products.id = live_pins.product_id
          WHERE live_pins.streamer = $1 AND live_pins.unpinned_at IS NULL",
    )
    .bind(streamer)
    .fetch_optional(pool)
    .await
}
