//! Sales per product (the input of velocity) and each product's velocity and alert.
//!
//! A sale is an order that is `pending`, `paid` or `fulfilled`: a pending order holds its
//! units, so it counts as demand; expired, cancelled and refunded orders sold nothing.
//! Message orders name their product; TikTok Shop orders sell through their line items.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor, PgPool};

use crate::db::products::{self as catalog, Product};
use crate::trends::{AlertLevel, Velocity};

/// One sale of one product.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct SaleRow {
    /// The product.
    pub product_id: i64,
    /// When the order was placed.
    pub at: DateTime<Utc>,
    /// Units.
    pub units: i32,
}

/// Every sale placed after `since`.
pub async fn sales_since(
    conn: impl PgExecutor<'_>,
    since: DateTime<Utc>,
) -> Result<Vec<SaleRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT product_id, created_at AS at, quantity AS units FROM orders
          WHERE product_id IS NOT NULL AND created_at > $1
            AND status IN ('pending', 'paid', 'fulfilled')
         UNION ALL
         SELECT l.product_id, o.created_at, l.quantity FROM tiktok_order_lines l
           JOIN orders o ON o.id = l.order_id
          WHERE l.product_id IS NOT NULL AND o.product_id IS NULL AND o.created_at > $1
            AND o.status IN ('pending', 'paid', 'fulfilled')",
    )
    .bind(since)
    .fetch_all(conn)
    .await
}

/// A product as the velocity computation needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductStock {
    /// Product id.
    pub id: i64,
    /// SKU.
    pub sku: String,
    /// `stock_on_hand - reserved`.
    pub available: i32,
    /// The best latest trend score among signals linked to it (0 without any).
    pub best_trend_score: f64,
}

/// Every product, with its available stock and best linked trend score.
pub async fn products(conn: impl PgExecutor<'_>) -> Result<Vec<ProductStock>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT p.id, p.sku, p.stock_on_hand - p.reserved AS available,
                coalesce(max(latest.trend_score), 0) AS best_trend_score
           FROM products p
           LEFT JOIN trend_signal_products sp ON sp.product_id = p.id
           LEFT JOIN LATERAL (",
        latest_score!("sp.signal_id"),
        ") latest ON true
          GROUP BY p.id ORDER BY p.id"
    ))
    .fetch_all(conn)
    .await
}

/// Store a product's velocity; returns the alert level it had before (`None` the first time).
pub async fn upsert(
    conn: &mut PgConnection,
    product_id: i64,
    v: &Velocity,
) -> Result<Option<AlertLevel>, sqlx::Error> {
    // Lock first: a concurrent run then waits and sees this run's level, so a move into
    // `critical` is reported by one run only.
    let previous: Option<(String,)> =
        sqlx::query_as("SELECT alert FROM product_velocity WHERE product_id = $1 FOR UPDATE")
            .bind(product_id)
            .fetch_optional(&mut *conn)
            .await?;
    sqlx::query(
        "INSERT INTO product_velocity (product_id, velocity_1h, velocity_6h, velocity_24h, trend,
                                       hours_to_stockout, alert, reorder_units,
                                       reorder_confidence, viral_boost)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (product_id) DO UPDATE
            SET velocity_1h = EXCLUDED.velocity_1h, velocity_6h = EXCLUDED.velocity_6h,
                velocity_24h = EXCLUDED.velocity_24h, trend = EXCLUDED.trend,
                hours_to_stockout = EXCLUDED.hours_to_stockout, alert = EXCLUDED.alert,
                reorder_units = EXCLUDED.reorder_units,
                reorder_confidence = EXCLUDED.reorder_confidence,
                viral_boost = EXCLUDED.viral_boost, computed_at = now()",
    )
    .bind(product_id)
    .bind(v.velocity_1h)
    .bind(v.velocity_6h)
    .bind(v.velocity_24h)
    .bind(v.trend.as_str())
    .bind(v.hours_to_stockout)
    .bind(v.alert.as_str())
    .bind(i32::try_from(v.reorder_units).unwrap_or(i32::MAX))
    .bind(v.reorder_confidence)
    .bind(v.viral_boost)
    .execute(conn)
    .await?;
    Ok(previous.and_then(|(alert,)| AlertLevel::parse(&alert)))
}

/// A product's stored velocity, as `inventory list` and `trends top` show it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct VelocityRow {
    /// SKU.
    pub sku: String,
    /// Units per hour, last hour.
    pub velocity_1h: f64,
    /// Units per hour, last 6 hours.
    pub velocity_6h: f64,
    /// Units per hour, last 24 hours.
    pub velocity_24h: f64,
    /// increasing, decreasing or stable.
    pub trend: String,
    /// Hours until stockout (`None`: not selling).
    pub hours_to_stockout: Option<f64>,
    /// critical, low, medium or high.
    pub alert: String,
    /// Units to reorder.
    pub reorder_units: i32,
    /// Confidence in the reorder suggestion, 0–1.
    pub reorder_confidence: f64,
    /// Demand multiplier from linked trends.
    pub viral_boost: f64,
    /// When it was computed.
    pub computed_at: DateTime<Utc>,
}

/// Every product's stored velocity, by SKU.
pub async fn all(pool: &PgPool) -> Result<Vec<VelocityRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.sku, v.velocity_1h, v.velocity_6h, v.velocity_24h, v.trend, v.hours_to_stockout,
                v.alert, v.reorder_units, v.reorder_confidence, v.viral_boost, v.computed_at
           FROM product_velocity v JOIN products p ON p.id = v.product_id
          ORDER BY p.sku",
    )
    .fetch_all(pool)
    .await
}

/// A product as `inventory list` and the console's inventory page show it: the product,
/// then its velocity as of the last scoring run (`None` before the first one).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StockLine {
    /// The product and its stock.
    #[serde(flatten)]
    pub product: Product,
    /// Units per hour: the larger of the 6 h and 24 h velocities.
    pub velocity_per_hour: Option<f64>,
    /// increasing, decreasing or stable.
    pub velocity_trend: Option<String>,
    /// Hours until stockout at that rate (`None`: not selling or not computed).
    pub hours_to_stockout: Option<f64>,
    /// critical, low, medium or high.
    pub alert: Option<String>,
    /// Units to reorder.
    pub reorder_units: Option<i32>,
}

impl StockLine {
    /// `product` with its stored velocity, if any.
    pub fn new(product: Product, velocity: Option<&VelocityRow>) -> StockLine {
        StockLine {
            velocity_per_hour: velocity.map(|v| v.velocity_6h.max(v.velocity_24h)),
            velocity_trend: velocity.map(|v| v.trend.clone()),
            hours_to_stockout: velocity.and_then(|v| v.hours_to_stockout),
            alert: velocity.map(|v| v.alert.clone()),
            reorder_units: velocity.map(|v| v.reorder_units),
            product,
        }
    }
}

/// Every product, by SKU, with its velocity.
pub async fn inventory(pool: &PgPool) -> Result<Vec<StockLine>, sqlx::Error> {
    let listed = catalog::list(pool).await?;
    let velocities: HashMap<String, VelocityRow> = all(pool)
        .await?
        .into_iter()
        .map(|v| (v.sku.clone(), v))
        .collect();
    Ok(listed
        .into_iter()
        .map(|product| {
            let velocity = velocities.get(&product.sku);
            StockLine::new(product, velocity)
        })
        .collect())
}

/// Record a past sale as a paid TikTok Shop order placed at `at` (demo data and tests).
/// `reference` is its TikTok order id: recording it twice records it once.
pub async fn record_sale(
    pool: &PgPool,
    sku: &str,
    units: i32,
    at: DateTime<Utc>,
    reference: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO orders (order_number, source, tiktok_order_id, tiktok_status, product_id,
                             buyer, quantity, total_cents, currency, status, stock_committed,
                             created_at, updated_at)
         SELECT 'ORD-' || to_char($4 AT TIME ZONE 'UTC', 'YYYYMMDD') || '-'
                       || lpad((nextval('order_number_seq') % 100000)::text, 5, '0'),
                'tiktok_shop', $3, 'COMPLETED', p.id, 'demo', $2, p.price_cents * $2, p.currency,
                'paid', true, $4, $4
           FROM products p WHERE p.sku = $1
         ON CONFLICT (tiktok_order_id) DO NOTHING",
    )
    .bind(sku)
    .bind(units)
    .bind(reference)
    .bind(at)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}
