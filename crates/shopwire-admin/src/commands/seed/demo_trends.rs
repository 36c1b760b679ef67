//! Demo trend signals and a day of demo sales, relative to the time of seeding.
//!
//! Signals that already have snapshots and sales already recorded (by reference) are left
//! alone, so seeding twice adds nothing. The mix is chosen to show every alert level: a
//! viral windbreaker about to sell out, a puffer video taking off, a steady denim hashtag,
//! and an old trend that has decayed.

use chrono::{DateTime, Duration, DurationRound, Utc};
use shopwire_core::db::trends::{self, SnapshotSource, velocity};
use shopwire_core::trends::{SignalKind, Snapshot};
use sqlx::PgPool;

/// A demo signal: kind, key, linked SKUs, and snapshots as
/// (hours ago, views, likes, comments, shares).
type DemoSignal = (
    SignalKind,
    &'static str,
    &'static [&'static str],
    &'static [(i64, u64, u64, u64, u64)],
);

const SIGNALS: [DemoSignal; 5] = [
    (
        SignalKind::Hashtag,
        "vintagenike",
        &["VNT-NIKE-WB-001"],
        &[
            (8, 420_000, 30_000, 900, 1_200),
            (4, 760_000, 61_000, 2_100, 3_900),
            (1, 1_480_000, 132_000, 5_200, 11_000),
        ],
    ),
    (
        SignalKind::Video,
        "7311982446523059488",
        &["TNF-NUP-700-009"],
        &[
            (5, 90_000, 9_000, 400, 700),
            (2, 310_000, 36_000, 1_900, 4_100),
        ],
    ),
    (
        SignalKind::Hashtag,
        "carharttdetroit",
        &["CRH-DET-BLK-002"],
        &[
            (12, 2_100_000, 88_000, 2_000, 1_500),
            (3, 2_350_000, 99_000, 2_300, 1_800),
        ],
    ),
    (
        SignalKind::Hashtag,
        "thriftflip",
        &["LEV-501-3232-003", "DNM-JKT-BLU-010"],
        &[
            (24, 38_000_000, 1_900_000, 41_000, 60_000),
            (2, 38_600_000, 1_930_000, 41_800, 61_000),
        ],
    ),
    (
        SignalKind::Hashtag,
        "grandpacore",
        &["RL-OXF-BLU-006"],
        &[
            (60, 5_200_000, 400_000, 9_000, 12_000),
            (36, 6_900_000, 520_000, 11_000, 15_000),
        ],
    ),
];

/// Demo sales: SKU and the hours ago of each one-unit order.
const SALES: [(&str, &[i64]); 6] = [
    ("VNT-NIKE-WB-001", &[0, 1, 1, 2, 3, 5, 9, 16]),
    ("TNF-NUP-700-009", &[2, 10]),
    ("CRH-DET-BLK-002", &[4, 11, 20]),
    ("LEV-501-3232-003", &[1, 7, 13, 19]),
    ("DNM-JKT-BLU-010", &[2, 6, 11, 15, 21]),
    ("RL-OXF-BLU-006", &[20]),
];

/// Load the demo signals and sales as of `now`.
pub async fn load(pool: &PgPool, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let hour = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
    for (kind, key, skus, snapshots) in SIGNALS {
        let mut tx = pool.begin().await?;
        let signal = trends::upsert_signal(&mut tx, kind, key).await?;
        if trends::has_snapshots(&mut tx, signal).await? {
            continue;
        }
        for sku in skus {
            trends::link_product(&mut tx, signal, sku).await?;
        }
        for &(hours_ago, views, likes, comments, shares) in snapshots {
            let snapshot = Snapshot {
                captured_at: hour - Duration::hours(hours_ago),
                views,
                likes,
                comments,
                shares,
            };
            trends::insert_snapshot(&mut tx, signal, &snapshot, SnapshotSource::Demo).await?;
        }
        tx.commit().await?;
    }
    for (sku, hours_ago) in SALES {
        for (n, h) in hours_ago.iter().enumerate() {
            // A few minutes into the hour, so "0 hours ago" is still in the past.
            let at = now - Duration::hours(*h) - Duration::minutes(7 + n as i64);
            velocity::record_sale(pool, sku, 1, at, &format!("DEMO-{sku}-{n}")).await?;
        }
    }
    Ok(())
}
