//! `trends score`: run the scoring job's work now, in this process — the same code the
//! worker runs on its `trends` queue, without waiting for `TRENDS_INTERVAL_SECS`.

use anyhow::Context;
use chrono::Utc;
use shopwire_insight::trends::{self, TrendScorer};

/// `trends score` arguments (none).
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Score every signal and recompute every product's velocity.
pub async fn run(_args: Args, ctx: &crate::commands::Ctx) -> anyhow::Result<()> {
    let pool = ctx.pool().await?;
    let scorer = TrendScorer::from_settings(&ctx.settings);
    let thresholds = &ctx.settings.stock_alerts;
    let summary = trends::score_all(&pool, &scorer, thresholds, Utc::now(), None)
        .await
        .context("failed to score trends")?;
    ctx.out.either(&summary, || {
        format!(
            "scored {} snapshots, recomputed {} products{}",
            summary.scored,
            summary.products,
            if summary.turned_critical.is_empty() {
                String::new()
            } else {
                format!("; now critical: {}", summary.turned_critical.join(", "))
            }
        )
    })
}
