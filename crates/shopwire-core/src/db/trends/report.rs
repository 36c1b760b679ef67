//! What `trends top` shows: signals and products best-scored first, and score history.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::SignalId;

/// A signal with its latest score.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SignalReport {
    /// Signal id.
    pub id: SignalId,
    /// `hashtag` or `video`.
    pub kind: String,
    /// The hashtag or video id.
    pub key: String,
    /// 0–100.
    pub trend_score: f64,
    /// 0–100.
    pub urgency_score: f64,
    /// Views gained per hour as a fraction of the earlier snapshot's views.
    pub growth_rate: f64,
    /// Weighted engagement rate.
    pub engagement_rate: f64,
    /// Views at the latest snapshot.
    pub views: i64,
    /// What drove the score.
    pub reasoning: String,
    /// formula, openai or anthropic.
    pub scorer: String,
    /// When the scored snapshot was captured.
    pub captured_at: DateTime<Utc>,
    /// Linked products.
    pub skus: Vec<String>,
}

/// The `limit` best-scored signals.
pub async fn top_signals(pool: &PgPool, limit: i64) -> Result<Vec<SignalReport>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT s.id, s.kind, s.key, l.trend_score, l.urgency_score, l.growth_rate,
                l.engagement_rate, l.views, l.reasoning, l.scorer, l.captured_at,
                coalesce((SELECT array_agg(p.sku ORDER BY p.sku)
                            FROM trend_signal_products sp JOIN products p ON p.id = sp.product_id
                           WHERE sp.signal_id = s.id), '{}') AS skus
           FROM trend_signals s
           JOIN LATERAL (",
        latest_score!("s.id"),
        ") l ON true
          ORDER BY l.trend_score DESC, l.urgency_score DESC, s.id
          LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// A product with its best linked signal scores and its velocity.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ProductReport {
    /// Product id (not shown).
    #[serde(skip)]
    pub id: i64,
    /// SKU.
    pub sku: String,
    /// Title.
    pub title: String,
    /// Units that can still be sold.
    pub available: i32,
    /// Best latest trend score among its signals.
    pub trend_score: f64,
    /// Best latest urgency score among its signals.
    pub urgency_score: f64,
    /// Its signals, best first, as `kind:key`.
    pub signals: Vec<String>,
    /// Units per hour over the last 6 hours (`None` before the first scoring run).
    pub velocity_6h: Option<f64>,
    /// Units per hour over the last 24 hours.
    pub velocity_24h: Option<f64>,
    /// increasing, decreasing or stable.
    pub velocity_trend: Option<String>,
    /// Hours until stockout (`None`: not selling or not computed).
    pub hours_to_stockout: Option<f64>,
    /// critical, low, medium or high.
    pub alert: Option<String>,
    /// Units to reorder.
    pub reorder_units: Option<i32>,
    /// Confidence in the reorder suggestion, 0–1.
    pub reorder_confidence: Option<f64>,
}

/// The `limit` products whose linked signals score best.
pub async fn top_products(pool: &PgPool, limit: i64) -> Result<Vec<ProductReport>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT p.id, p.sku, p.title, p.stock_on_hand - p.reserved AS available,
                max(l.trend_score) AS trend_score, max(l.urgency_score) AS urgency_score,
                array_agg(s.kind || ':' || s.key ORDER BY l.trend_score DESC, s.id) AS signals,
                v.velocity_6h, v.velocity_24h, v.trend AS velocity_trend, v.hours_to_stockout,
                v.alert, v.reorder_units, v.reorder_confidence
           FROM products p
           JOIN trend_signal_products sp ON sp.product_id = p.id
           JOIN trend_signals s ON s.id = sp.signal_id
           JOIN LATERAL (",
        latest_score!("sp.signal_id"),
        ") l ON true
           LEFT JOIN product_velocity v ON v.product_id = p.id
          GROUP BY p.id, v.product_id
          ORDER BY trend_score DESC, urgency_score DESC, p.sku
          LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// One point of a signal's score history.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ScorePoint {
    /// When the scored snapshot was captured.
    pub at: DateTime<Utc>,
    /// 0–100.
    pub trend_score: f64,
    /// 0–100.
    pub urgency_score: f64,
}

/// A signal's scores, one per snapshot, oldest first.
pub async fn history(pool: &PgPool, signal: SignalId) -> Result<Vec<ScorePoint>, sqlx::Error> {
    sqlx::query_as(
        "SELECT sn.captured_at AS at, sc.trend_score, sc.urgency_score
           FROM trend_scores sc JOIN trend_snapshots sn ON sn.id = sc.snapshot_id
          WHERE sc.signal_id = $1
          ORDER BY sn.captured_at",
    )
    .bind(signal)
    .fetch_all(pool)
    .await
}
