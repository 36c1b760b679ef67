//! One scoring run at a time, as of a fixed `now`: one alert per move into `critical`, and
//! only the scoring window's snapshots read.

use chrono::{Duration as Minutes, Utc};
use shopwire_core::config::Settings;
use shopwire_core::db::products::{self, NewProduct};
use shopwire_core::db::trends::{self as trends_db, velocity};
use shopwire_core::trends::SignalKind;
use shopwire_insight::trends::{Summary, TrendScorer, score_all};
use sqlx::PgPool;

const SKU: &str = "VNT-NIKE-WB-001";

async fn product(pool: &PgPool, stock: i32) {
    products::upsert(
        pool,
        &NewProduct {
            sku: SKU.into(),
            title: "Vintage Nike Windbreaker".into(),
            price_cents: 4999,
            currency: "usd".into(),
            stock_on_hand: stock,
            ..Default::default()
        },
    )
    .await
    .expect("product saved");
}

/// One run outside any job, with the default settings' scorer (the formula) and thresholds.
async fn run(pool: &PgPool, now: chrono::DateTime<Utc>) -> Summary {
    let database_url = shopwire_testkit::database_url(pool);
    let settings = Settings::from_lookup(|k| (k == "DATABASE_URL").then(|| database_url.clone()))
        .expect("valid settings");
    let scorer = TrendScorer::from_settings(&settings);
    score_all(pool, &scorer, &settings.stock_alerts, now, None)
        .await
        .expect("the run succeeds")
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_product_turning_critical_is_reported_once(pool: PgPool) {
    product(&pool, 3).await;
    let now = Utc::now();
    for i in 0..12 {
        velocity::record_sale(
            &pool,
            SKU,
            1,
            now - Minutes::minutes(20 * i + 1),
            &format!("C-{i}"),
        )
        .await
        .expect("sale recorded");
    }
    let first = run(&pool, now).await;
    assert_eq!(first.turned_critical, vec![SKU.to_owned()]);
    let second = run(&pool, now).await;
    assert_eq!(second.turned_critical, Vec::<String>::new());
    // Restocked, then selling out again: a new move into critical, reported again.
    product(&pool, 500).await;
    run(&pool, now).await;
    product(&pool, 1).await;
    let again = run(&pool, now).await;
    assert_eq!(again.turned_critical, vec![SKU.to_owned()]);
    // Each move into an alert level is told as a `stock.alert` event, in its transaction.
    let alerts: Vec<(String, String)> = sqlx::query_as(
        "SELECT data->>'sku', data->>'level' FROM outbox_events
          WHERE event_type = 'stock.alert' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .expect("reads");
    let critical = (SKU.to_owned(), "critical".to_owned());
    assert_eq!(alerts, vec![critical.clone(), critical]);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn snapshots_older_than_the_scoring_window_are_left_alone(pool: PgPool) {
    use shopwire_core::db::trends::SnapshotSource;
    use shopwire_core::trends::Snapshot;

    let mut conn = pool.acquire().await.expect("connection");
    let signal = trends_db::upsert_signal(&mut conn, SignalKind::Video, "42")
        .await
        .expect("signal");
    let now = Utc::now();
    for days in [40, 1] {
        let snapshot = Snapshot {
            captured_at: now - Minutes::days(days),
            views: 1000,
            likes: 10,
            comments: 1,
            shares: 1,
        };
        trends_db::insert_snapshot(&mut conn, signal, &snapshot, SnapshotSource::Import)
            .await
            .expect("snapshot");
    }
    drop(conn);
    let summary = run(&pool, now).await;
    assert_eq!(summary.scored, 1, "only the recent snapshot: {summary:?}");
    let history = trends_db::report::history(&pool, signal)
        .await
        .expect("history");
    assert_eq!(history.len(), 1);
}
