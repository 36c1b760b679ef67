//! Trend signals and their snapshots (imports and the RapidAPI fetch write them), the
//! scoring job's reads and writes, product velocity, and the reports of `trends top`.

/// SQL for a LATERAL subquery: the score of the newest scored snapshot of the signal whose
/// id is the column `$signal`.
macro_rules! latest_score {
    ($signal:literal) => {
        concat!(
            "SELECT sc.trend_score, sc.urgency_score, sc.reasoning, sc.scorer,
                    sc.growth_rate, sc.engagement_rate, sn.captured_at, sn.views
               FROM trend_scores sc JOIN trend_snapshots sn ON sn.id = sc.snapshot_id
              WHERE sc.signal_id = ",
            $signal,
            " ORDER BY sn.captured_at DESC LIMIT 1"
        )
    };
}

pub mod report;
pub mod scores;
pub mod velocity;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use crate::db::jobs::JobId;
use crate::trends::{SignalKind, Snapshot};

/// The id of a `trend_signals` row.
pub type SignalId = i64;

/// Where a snapshot came from (`trend_snapshots.source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotSource {
    /// `shopwire-admin trends import`.
    Import,
    /// The periodic RapidAPI fetch.
    RapidApi,
    /// `shopwire-admin seed --demo`.
    Demo,
}

impl SnapshotSource {
    fn as_str(self) -> &'static str {
        match self {
            SnapshotSource::Import => "import",
            SnapshotSource::RapidApi => "rapidapi",
            SnapshotSource::Demo => "demo",
        }
    }
}

/// The signal `kind`/`key`, created if new; returns its id.
pub async fn upsert_signal(
    conn: &mut PgConnection,
    kind: SignalKind,
    key: &str,
) -> Result<SignalId, sqlx::Error> {
    let (id,): (SignalId,) = sqlx::query_as(
        "INSERT INTO trend_signals (kind, key) VALUES ($1, $2)
         ON CONFLICT (kind, key) DO UPDATE SET key = EXCLUDED.key
         RETURNING id",
    )
    .bind(kind.as_str())
    .bind(key)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// Link the signal to the product `sku`; false when there is no such product.
pub async fn link_product(
    conn: &mut PgConnection,
    signal: SignalId,
    sku: &str,
) -> Result<bool, sqlx::Error> {
    let product: Option<(i64,)> = sqlx::query_as("SELECT id FROM products WHERE sku = $1")
        .bind(sku)
        .fetch_optional(&mut *conn)
        .await?;
    let Some((product_id,)) = product else {
        return Ok(false);
    };
    sqlx::query(
        "INSERT INTO trend_signal_products (signal_id, product_id) VALUES ($1, $2)
         ON CONFLICT DO NOTHING",
    )
    .bind(signal)
    .bind(product_id)
    .execute(conn)
    .await?;
    Ok(true)
}

/// Record a snapshot; false when the signal already has one at that moment (a re-import).
pub async fn insert_snapshot(
    conn: &mut PgConnection,
    signal: SignalId,
    snapshot: &Snapshot,
    source: SnapshotSource,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO trend_snapshots (signal_id, captured_at, views, likes, comments, shares, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (signal_id, captured_at) DO NOTHING",
    )
    .bind(signal)
    .bind(snapshot.captured_at)
    .bind(to_i64(snapshot.views))
    .bind(to_i64(snapshot.likes))
    .bind(to_i64(snapshot.comments))
    .bind(to_i64(snapshot.shares))
    .bind(source.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// True when the signal has at least one snapshot.
pub async fn has_snapshots(conn: &mut PgConnection, signal: SignalId) -> Result<bool, sqlx::Error> {
    let (any,): (bool,) =
        sqlx::query_as("SELECT EXISTS (SELECT 1 FROM trend_snapshots WHERE signal_id = $1)")
            .bind(signal)
            .fetch_one(conn)
            .await?;
    Ok(any)
}

/// A signal the RapidAPI fetch refreshes.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct FollowedSignal {
    /// Its id.
    pub id: SignalId,
    /// `hashtag` or `video`.
    pub kind: String,
    /// The hashtag or video id.
    pub key: String,
}

/// Every signal linked to at least one product: the ones worth fetching.
pub async fn followed(pool: &PgPool) -> Result<Vec<FollowedSignal>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.id, s.kind, s.key FROM trend_signals s
          WHERE EXISTS (SELECT 1 FROM trend_signal_products p WHERE p.signal_id = s.id)
          ORDER BY s.id",
    )
    .fetch_all(pool)
    .await
}

/// Insert the scoring job `idempotency_key` unless it exists. Returns its id and whether
/// this call created it (only a new job needs pushing).
pub async fn insert_scoring_job(
    pool: &PgPool,
    idempotency_key: &str,
) -> Result<(JobId, bool), sqlx::Error> {
    sqlx::query_as(
        "INSERT INTO jobs (queue, idempotency_key) VALUES ('trends', $1)
         ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
         RETURNING id, (xmax = 0) AS inserted",
    )
    .bind(idempotency_key)
    .fetch_one(pool)
    .await
}

/// The newest snapshot's id, if any (part of an import's scoring-job key).
pub async fn latest_snapshot_id(pool: &PgPool) -> Result<Option<i64>, sqlx::Error> {
    let (id,): (Option<i64>,) = sqlx::query_as("SELECT max(id) FROM trend_snapshots")
        .fetch_one(pool)
        .await?;
    Ok(id)
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A stored snapshot, as the scorer reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredSnapshot {
    /// Snapshot id.
    pub id: i64,
    /// Its signal.
    pub signal_id: SignalId,
    /// `hashtag` or `video`.
    pub kind: String,
    /// The hashtag or video id.
    pub key: String,
    /// When it was captured.
    pub captured_at: DateTime<Utc>,
    /// Views.
    pub views: i64,
    /// Likes.
    pub likes: i64,
    /// Comments.
    pub comments: i64,
    /// Shares.
    pub shares: i64,
    /// Who scored it, if anyone has.
    pub scorer: Option<String>,
}

impl StoredSnapshot {
    /// The counters, for the formula.
    pub fn snapshot(&self) -> Snapshot {
        let u = |n: i64| u64::try_from(n).unwrap_or(0);
        Snapshot {
            captured_at: self.captured_at,
            views: u(self.views),
            likes: u(self.likes),
            comments: u(self.comments),
            shares: u(self.shares),
        }
    }
}
