//! What the scoring job reads (snapshots, products with their linked scores) and writes
//! (scores).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::{SignalId, StoredSnapshot};
use crate::trends::Scored;

/// Every snapshot captured after `since`, by signal and oldest first within each signal,
/// with who scored it.
pub async fn snapshots(
    pool: &PgPool,
    since: DateTime<Utc>,
) -> Result<Vec<StoredSnapshot>, sqlx::Error> {
    sqlx::query_as(
        "SELECT sn.id, sn.signal_id, s.kind, s.key, sn.captured_at, sn.views, sn.likes,
                sn.comments, sn.shares, sc.scorer
           FROM trend_snapshots sn
           JOIN trend_signals s ON s.id = sn.signal_id
           LEFT JOIN trend_scores sc ON sc.snapshot_id = sn.id
          WHERE sn.captured_at > $1
          ORDER BY sn.signal_id, sn.captured_at",
    )
    .bind(since)
    .fetch_all(pool)
    .await
}

/// Store the score of `snapshot`, replacing an earlier score of it.
pub async fn upsert(
    conn: &mut PgConnection,
    signal: SignalId,
    snapshot: i64,
    scored: &Scored,
    scorer: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO trend_scores (signal_id, snapshot_id, trend_score, urgency_score, growth_rate,
                                   engagement_rate, reasoning, scorer)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (snapshot_id) DO UPDATE
            SET trend_score = EXCLUDED.trend_score, urgency_score = EXCLUDED.urgency_score,
                growth_rate = EXCLUDED.growth_rate, engagement_rate = EXCLUDED.engagement_rate,
                reasoning = EXCLUDED.reasoning, scorer = EXCLUDED.scorer, scored_at = now()",
    )
    .bind(signal)
    .bind(snapshot)
    .bind(scored.trend_score)
    .bind(scored.urgency_score)
    .bind(scored.growth_rate)
    .bind(scored.engagement_rate)
    .bind(&scored.reasoning)
    .bind(scorer)
    .execute(conn)
    .await?;
    Ok(())
}
