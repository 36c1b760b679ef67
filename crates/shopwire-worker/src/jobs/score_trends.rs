//! The trends job: one scoring run (`shopwire_insight::trends::score_all`) with this
//! process's scorer and alert thresholds, finishing the job in the run's transaction.

use chrono::Utc;
use shopwire_core::db::jobs::ClaimedJob;
use shopwire_insight::trends::{self, ScoringError};

use super::JobError;
use crate::context::JobContext;

/// One attempt; returns the outcome name on success.
pub async fn attempt(ctx: &JobContext, claimed: &ClaimedJob) -> Result<&'static str, JobError> {
    let summary = trends::score_all(
        &ctx.pool,
        &ctx.trend_scorer,
        &ctx.stock_alerts,
        Utc::now(),
        Some(claimed),
    )
    .await
    .map_err(|e| match e {
        ScoringError::Database(e) => JobError::from(e),
        lost @ ScoringError::LeaseLost => JobError::transient(lost.to_string()),
    })?;
    tracing::info!(
        scored = summary.scored,
        products = summary.products,
        "trends scored"
    );
    Ok("processed")
}
