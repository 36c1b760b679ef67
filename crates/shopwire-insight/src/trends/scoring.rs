//! One scoring run: score every signal's new snapshots, recompute every product's velocity,
//! stockout ETA, alert and reorder suggestion, and (when run as a job) finish the job — all
//! in one transaction. After the commit: one error event (Sentry, when configured) per
//! product that has just turned critical, and the `shopwire_stock_alerts{level}` gauges.
//!
//! Which snapshots are scored: the latest of each signal on every run (its recency decays),
//! with the optional LLM when it has not scored that snapshot yet; earlier snapshots once,
//! by the formula as of their own capture time, so the history reads as it happened.
//! Only the last 30 days of snapshots are read.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use shopwire_core::db::jobs::{self, ClaimedJob};
use shopwire_core::db::outbox;
use shopwire_core::db::trends::{StoredSnapshot, scores, velocity as velocity_db};
use shopwire_core::outbound::EventType;
use shopwire_core::trends::{
    self, AlertLevel, AlertThresholds, Sale, ScoreInput, Scored, SignalKind,
};
use sqlx::PgPool;

use super::TrendScorer;

/// Products by stock alert level, after the last scoring run.
pub const STOCK_ALERTS: &str = "shopwire_stock_alerts";

/// Snapshots older than this are left as they are: a month-old score has decayed to
/// nothing, and each run then reads a bounded window instead of all history.
const SCORING_WINDOW_DAYS: i64 = 30;

/// LLM calls one run may make; the rest of the signals get the formula until the next run.
const LLM_CALLS_PER_RUN: usize = 20;

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Snapshots scored.
    pub scored: usize,
    /// Products whose velocity was recomputed.
    pub products: usize,
    /// SKUs that turned critical in this run.
    pub turned_critical: Vec<String>,
}

/// Why a run stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum ScoringError {
    /// Reading or writing Postgres failed (its message is part of this one).
    #[error("database: {0}")]
    Database(sqlx::Error),
    /// The job being run no longer holds its lease, so its work was rolled back.
    #[error("lease lost before commit")]
    LeaseLost,
}

impl From<sqlx::Error> for ScoringError {
    fn from(e: sqlx::Error) -> Self {
        ScoringError::Database(e)
    }
}

/// Score with `scorer`, recompute velocities against `thresholds`, as of `now`. With
/// `claimed` (the `trends` job this run is), the job is finished in the same transaction.
pub async fn score_all(
    pool: &PgPool,
    scorer: &TrendScorer,
    thresholds: &AlertThresholds,
    now: DateTime<Utc>,
    claimed: Option<&ClaimedJob>,
) -> Result<Summary, ScoringError> {
    let since = now - chrono::Duration::days(SCORING_WINDOW_DAYS);
    let snapshots = scores::snapshots(pool, since).await?;
    let scored = score_snapshots(scorer, &snapshots, now).await;

    let mut tx = pool.begin().await?;
    for (snapshot, score, scored_by) in &scored {
        scores::upsert(&mut tx, snapshot.signal_id, snapshot.id, score, scored_by).await?;
    }
    let products = velocity_db::products(&mut *tx).await?;
    let mut sales: HashMap<i64, Vec<Sale>> = HashMap::new();
    for row in velocity_db::sales_since(&mut *tx, now - chrono::Duration::hours(24)).await? {
        sales.entry(row.product_id).or_default().push(Sale {
            at: row.at,
            units: u32::try_from(row.units).unwrap_or(0),
        });
    }
    let mut levels: HashMap<AlertLevel, usize> = HashMap::new();
    let mut critical = Vec::new();
    for product in &products {
        let v = trends::velocity(
            sales.get(&product.id).map_or(&[][..], Vec::as_slice),
            now,
            i64::from(product.available),
            product.best_trend_score,
            thresholds,
        );
        let previous = velocity_db::upsert(&mut tx, product.id, &v).await?;
        *levels.entry(v.alert).or_default() += 1;
        if v.alert != AlertLevel::High && previous != Some(v.alert) {
            // Told in the transaction that records the move, once per move.
            let data = serde_json::json!({
                "sku": product.sku,
                "level": v.alert.as_str(),
                "previous_level": previous.map(AlertLevel::as_str),
                "hours_to_stockout": v.hours_to_stockout,
                "available": product.available,
                "velocity_per_hour": v.velocity_6h.max(v.velocity_24h),
                "reorder_units": v.reorder_units,
            });
            // One event per move: the key names this move (moves of one product are
            // serialized by its velocity row's lock, so the clock tells them apart).
            let moved_at = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let key = format!("stock:{}:{}:{moved_at}", product.id, v.alert.as_str());
            let subject = format!("product:{}", product.id);
            outbox::emit(&mut tx, EventType::StockAlert, &key, Some(&subject), &data).await?;
        }
        if v.alert == AlertLevel::Critical && previous != Some(AlertLevel::Critical) {
            critical.push((product.sku.clone(), v));
        }
    }
    if let Some(claimed) = claimed
        && !jobs::finish(&mut *tx, claimed).await?
    {
        tx.rollback().await?;
        return Err(ScoringError::LeaseLost);
    }
    tx.commit().await?;

    for (sku, v) in &critical {
        // SKUs and numbers only: nothing about buyers.
        tracing::error!(
            sku = %sku,
            hours_to_stockout = v.hours_to_stockout,
            velocity_per_hour = v.velocity_6h.max(v.velocity_24h),
            reorder_units = v.reorder_units,
            "stock alert: product turned critical"
        );
    }
    for level in AlertLevel::ALL {
        let count = levels.get(&level).copied().unwrap_or(0);
        metrics::gauge!(STOCK_ALERTS, "level" => level.as_str()).set(count as f64);
    }
    Ok(Summary {
        scored: scored.len(),
        products: products.len(),
        turned_critical: critical.into_iter().map(|(sku, _)| sku).collect(),
    })
}

/// The scores to store: each signal's latest snapshot (unless an LLM already scored it)
/// and every earlier snapshot nobody has scored. `snapshots` are ordered by signal, then
/// capture time.
async fn score_snapshots<'a>(
    scorer: &TrendScorer,
    snapshots: &'a [StoredSnapshot],
    now: DateTime<Utc>,
) -> Vec<(&'a StoredSnapshot, Scored, &'static str)> {
    let mut out = Vec::new();
    let mut llm_budget = LLM_CALLS_PER_RUN;
    for (i, snapshot) in snapshots.iter().enumerate() {
        let previous = i
            .checked_sub(1)
            .map(|p| &snapshots[p])
            .filter(|p| p.signal_id == snapshot.signal_id);
        let latest = snapshots
            .get(i + 1)
            .is_none_or(|next| next.signal_id != snapshot.signal_id);
        let scored_by_llm = matches!(snapshot.scorer.as_deref(), Some(s) if s != "formula");
        if (!latest && snapshot.scorer.is_some()) || scored_by_llm {
            continue;
        }
        let input = ScoreInput {
            latest: snapshot.snapshot(),
            previous: previous.map(StoredSnapshot::snapshot),
            now: if latest { now } else { snapshot.captured_at },
        };
        let (score, scored_by) = if latest && scorer.is_llm() && llm_budget > 0 {
            llm_budget -= 1;
            scorer.score(&label(snapshot), &input).await
        } else {
            (trends::score(&input), "formula")
        };
        out.push((snapshot, score, scored_by));
    }
    out
}

/// How the LLM prompt names a signal.
fn label(snapshot: &StoredSnapshot) -> String {
    match SignalKind::parse(&snapshot.kind) {
        Some(SignalKind::Video) => format!("Video: {}", snapshot.key),
        _ => format!("Hashtag: {}", snapshot.key),
    }
}
