//! SKUs linked to TikTok Shop SKUs, and what their available stock last told TikTok Shop
//! (SPEC §12, `docs/tiktok-shop.md`).
//!
//! Each change of a linked SKU's available stock copies the new value to its link with a new
//! `version`, in the change's own transaction (`crates/shopwire-core/sql/tiktok_inventory.sql`).
//! A pusher leases a link ([`lease_due`]), sends the value it read, and records it
//! ([`pushed`]): `pushed_version` only moves forward, so an older value is never recorded
//! over a newer one, and one lease at a time per link (longer than a request's timeout)
//! keeps an older push from landing after a newer one.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;

/// A link to make: our SKU, the shop, and TikTok's product and SKU ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLink<'a> {
    /// Our SKU.
    pub sku: &'a str,
    /// The connected shop selling it on TikTok Shop.
    pub shop_id: &'a str,
    /// TikTok's product id.
    pub tiktok_product_id: &'a str,
    /// TikTok's SKU id within that product.
    pub tiktok_sku_id: &'a str,
}

/// Why a link could not be made.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// No product has that SKU.
    #[error("no product has SKU {0}")]
    UnknownSku(String),
    /// No shop has that id.
    #[error("TikTok Shop {0} is not connected (tiktok-shop shops lists the connected ones)")]
    UnknownShop(String),
    /// That TikTok SKU is linked to another of our SKUs already.
    #[error("TikTok SKU {tiktok_sku_id} of shop {shop_id} is already linked to {sku}")]
    Taken {
        /// The shop.
        shop_id: String,
        /// TikTok's SKU id.
        tiktok_sku_id: String,
        /// Our SKU holding it.
        sku: String,
    },
    /// Postgres.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A link and its push state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Link {
    /// Our SKU.
    pub sku: String,
    /// The shop.
    pub shop_id: String,
    /// TikTok's product id.
    pub tiktok_product_id: String,
    /// TikTok's SKU id.
    pub tiktok_sku_id: String,
    /// Available stock now.
    pub available: i32,
    /// What TikTok Shop was last told, if anything.
    pub pushed_quantity: Option<i32>,
    /// When.
    pub pushed_at: Option<DateTime<Utc>>,
    /// True while a newer value waits to be pushed.
    pub pending: bool,
    /// Pushes that failed in a row.
    pub push_failures: i32,
    /// The last failure.
    pub last_push_error: Option<String>,
}

/// Link `link.sku` to a TikTok Shop SKU (again: a new target replaces the old one); its
/// current available stock is due to be pushed at once.
pub async fn link(conn: &mut PgConnection, link: &NewLink<'_>) -> Result<Link, LinkError> {
    let product: Option<(i64,)> = sqlx::query_as("SELECT id FROM products WHERE sku = $1")
        .bind(link.sku)
        .fetch_optional(&mut *conn)
        .await?;
    let Some((product_id,)) = product else {
        return Err(LinkError::UnknownSku(link.sku.to_owned()));
    };
    let shop: Option<(String,)> =
        sqlx::query_as("SELECT shop_id FROM tiktok_shops WHERE shop_id = $1")
            .bind(link.shop_id)
            .fetch_optional(&mut *conn)
            .await?;
    if shop.is_none() {
        return Err(LinkError::UnknownShop(link.shop_id.to_owned()));
    }
    let taken: Option<(String,)> = sqlx::query_as(
        "SELECT p.sku FROM tiktok_inventory_links l JOIN products p ON p.id = l.product_id
         WHERE l.shop_id = $1 AND l.tiktok_sku_id = $2 AND l.product_id <> $3",
    )
    .bind(link.shop_id)
    .bind(link.tiktok_sku_id)
    .bind(product_id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((sku,)) = taken {
        return Err(LinkError::Taken {
            shop_id: link.shop_id.to_owned(),
            tiktok_sku_id: link.tiktok_sku_id.to_owned(),
            sku,
        });
    }
    sqlx::query(
        "INSERT INTO tiktok_inventory_links (product_id, shop_id, tiktok_product_id, tiktok_sku_id, available)
         SELECT id, $2, $3, $4, stock_on_hand - reserved FROM products WHERE id = $1
         ON CONFLICT (product_id) DO UPDATE SET
             shop_id = EXCLUDED.shop_id, tiktok_product_id = EXCLUDED.tiktok_product_id,
             tiktok_sku_id = EXCLUDED.tiktok_sku_id, available = EXCLUDED.available,
             version = tiktok_inventory_links.version + 1, push_failures = 0,
             last_push_error = NULL, retry_at = NULL, linked_at = now()",
    )
    .bind(product_id)
    .bind(link.shop_id)
    .bind(link.tiktok_product_id)
    .bind(link.tiktok_sku_id)
    .execute(&mut *conn)
    .await?;
    show(conn, link.sku)
        .await?
        .ok_or_else(|| LinkError::UnknownSku(link.sku.to_owned()))
}

/// The link of `sku`, if any.
pub async fn show(conn: &mut PgConnection, sku: &str) -> Result<Option<Link>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.sku, l.shop_id, l.tiktok_product_id, l.tiktok_sku_id, l.available,
                l.pushed_quantity, l.pushed_at, l.version > l.pushed_version AS pending,
                l.push_failures, l.last_push_error
         FROM tiktok_inventory_links l JOIN products p ON p.id = l.product_id
         WHERE p.sku = $1",
    )
    .bind(sku)
    .fetch_optional(conn)
    .await
}

/// One linked SKU whose newest value is to be pushed, leased to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuePush {
    /// The product's row id.
    pub product_id: i64,
    /// Our SKU.
    pub sku: String,
    /// The shop.
    pub shop_id: String,
    /// TikTok's product id.
    pub tiktok_product_id: String,
    /// TikTok's SKU id.
    pub tiktok_sku_id: String,
    /// The version of `quantity`.
    pub version: i64,
    /// The available stock to tell TikTok Shop (never negative).
    pub quantity: i32,
}

/// Lease up to `limit` links with something new to push, each for `lease`: not pushed
/// within the last `interval` (one push per SKU per interval), not leased by another
/// pusher, not waiting out a failure. The value and its version come from the link row,
/// written together by the trigger.
pub async fn lease_due(
    conn: &mut PgConnection,
    interval: Duration,
    lease: Duration,
    limit: i64,
) -> Result<Vec<DuePush>, sqlx::Error> {
    let rows: Vec<(i64, String, String, String, String, i64, i32)> = sqlx::query_as(
        "WITH due AS (
             SELECT product_id FROM tiktok_inventory_links
             WHERE version > pushed_version
               AND (pushing_until IS NULL OR pushing_until < now())
               AND (retry_at IS NULL OR retry_at <= now())
               AND (pushed_at IS NULL OR pushed_at <= now() - $1::interval)
             ORDER BY product_id
             LIMIT $3
             FOR UPDATE SKIP LOCKED
         )
         UPDATE tiktok_inventory_links l SET pushing_until = now() + $2::interval
         FROM due, products p
         WHERE l.product_id = due.product_id AND p.id = l.product_id
         RETURNING l.product_id, p.sku, l.shop_id, l.tiktok_product_id, l.tiktok_sku_id,
                   l.version, GREATEST(l.available, 0)",
    )
    .bind(interval)
    .bind(lease)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(product_id, sku, shop_id, tiktok_product_id, tiktok_sku_id, version, quantity)| {
                DuePush {
                    product_id,
                    sku,
                    shop_id,
                    tiktok_product_id,
                    tiktok_sku_id,
                    version,
                    quantity,
                }
            },
        )
        .collect())
}

/// TikTok Shop accepted `push`: record it (never moving `pushed_version` back) and end the
/// lease.
pub async fn pushed(conn: &mut PgConnection, push: &DuePush) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE tiktok_inventory_links SET
             pushed_quantity = CASE WHEN $2 > pushed_version THEN $3 ELSE pushed_quantity END,
             pushed_version = GREATEST(pushed_version, $2),
             pushed_at = now(), pushing_until = NULL,
             push_failures = 0, last_push_error = NULL, retry_at = NULL
         WHERE product_id = $1",
    )
    .bind(push.product_id)
    .bind(push.version)
    .bind(push.quantity)
    .execute(conn)
    .await?;
    Ok(())
}

/// A push failed: end the lease, record why (never a token) and try again after `retry_in`
/// when given (TikTok's `Retry-After`), else after 1 s doubling per failure in a row up to
/// `max_backoff`. Returns the failures in a row.
pub async fn push_failed(
    conn: &mut PgConnection,
    push: &DuePush,
    error: &str,
    retry_in: Option<Duration>,
    max_backoff: Duration,
) -> Result<i32, sqlx::Error> {
    let (failures,): (i32,) = sqlx::query_as(
        "UPDATE tiktok_inventory_links SET pushing_until = NULL,
             push_failures = push_failures + 1, last_push_error = $2,
             retry_at = now() + coalesce($3, LEAST($4::interval,
                                                   interval '1 second' * power(2, LEAST(push_failures, 20))))
         WHERE product_id = $1
         RETURNING push_failures",
    )
    .bind(push.product_id)
    .bind(error)
    .bind(retry_in)
    .bind(max_backoff)
    .fetch_one(conn)
    .await?;
    Ok(failures)
}
