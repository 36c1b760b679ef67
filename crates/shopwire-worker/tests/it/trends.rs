//! Trend scoring through the real `trends` queue: velocity and stockout ETA from orders
//! placed at a known rate, the alert gauges, and the RapidAPI fetch. Scoring runs on their
//! own are tested in `shopwire-insight`.

use chrono::{Duration as Minutes, Utc};
use serde_json::json;
use shopwire_core::db::jobs::{self, JobId};
use shopwire_core::db::products::{self, NewProduct};
use shopwire_core::db::trends::{self as trends_db, velocity};
use shopwire_core::trends::SignalKind;
use shopwire_insight::trends::enqueue_scoring;
use sqlx::PgPool;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{PATIENCE, TestWorker, spawn_worker, spawn_worker_with, wait_until};

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

async fn score_through_the_queue(worker: &TestWorker, key: &str) {
    let job = enqueue_scoring(&worker.pool, &worker.queue, key)
        .await
        .expect("scoring job enqueued");
    wait_for_processed(&worker.pool, job).await;
}

async fn wait_for_processed(pool: &PgPool, job: JobId) {
    wait_until("the trends job is processed", PATIENCE, || async move {
        jobs::get(pool, job)
            .await
            .expect("job readable")
            .is_some_and(|j| j.status == "processed")
    })
    .await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn paid_orders_at_a_known_rate_give_velocity_and_stockout_eta(pool: PgPool) {
    product(&pool, 30).await;
    // One unit every 30 minutes for the last day: 2 units an hour in every window.
    let now = Utc::now();
    for i in 0..48 {
        let at = now - Minutes::minutes(30 * i + 1);
        velocity::record_sale(&pool, SKU, 1, at, &format!("T-{i}"))
            .await
            .expect("sale recorded");
    }
    // A refunded order sold nothing and must not count.
    velocity::record_sale(&pool, SKU, 40, now - Minutes::minutes(5), "T-refunded")
        .await
        .expect("sale recorded");
    sqlx::query("UPDATE orders SET status = 'refunded' WHERE tiktok_order_id = 'T-refunded'")
        .execute(&pool)
        .await
        .expect("refunded");

    let mut worker = spawn_worker(pool.clone()).await;
    score_through_the_queue(&worker, "test:first").await;
    let rows = velocity::all(&pool).await.expect("velocity readable");
    assert_eq!(rows.len(), 1, "{rows:?}");
    let v = &rows[0];
    assert_eq!(
        (v.velocity_1h, v.velocity_6h, v.velocity_24h),
        (2.0, 2.0, 2.0),
        "{v:?}"
    );
    assert_eq!(v.trend, "stable");
    // 30 available at 2 an hour: 15 hours, between the 6 h and 24 h thresholds.
    assert_eq!(v.hours_to_stockout, Some(15.0));
    assert_eq!(v.alert, "low");
    // 72 h of cover at 2 an hour, no linked trend: 144 − 30.
    assert_eq!(v.reorder_units, 114);
    assert_eq!(v.viral_boost, 1.0);

    // Stock drops to 10: 5 hours left is critical.
    product(&pool, 10).await;
    score_through_the_queue(&worker, "test:second").await;
    let v = &velocity::all(&pool).await.expect("velocity readable")[0];
    assert_eq!(
        (v.hours_to_stockout, v.alert.as_str()),
        (Some(5.0), "critical")
    );
    // The alert gauges count products by level.
    let metrics = worker
        .get("/metrics")
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics text");
    assert!(
        metrics.contains(r#"shopwire_stock_alerts{level="critical"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"shopwire_stock_alerts{level="low"} 0"#),
        "{metrics}"
    );
    worker.stop().await.expect("worker stops");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_worker_fetches_followed_signals_from_rapidapi_and_scores_them(pool: PgPool) {
    product(&pool, 5).await;
    let mut conn = pool.acquire().await.expect("connection");
    let signal = trends_db::upsert_signal(&mut conn, SignalKind::Hashtag, "vintagenike")
        .await
        .expect("signal");
    assert!(
        trends_db::link_product(&mut conn, signal, SKU)
            .await
            .expect("linked")
    );
    drop(conn);
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/hashtag/info"))
        .and(query_param("hashtag", "vintagenike"))
        .and(header("X-RapidAPI-Key", "rapid-test-key"))
        .and(header("X-RapidAPI-Host", "scraper.example"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": { "stats": { "viewCount": 480_000, "diggCount": 51_000,
                                 "commentCount": 900, "shareCount": 2_400 } }
        })))
        .mount(&server)
        .await;
    let base = server.uri();
    let mut worker = spawn_worker_with(pool.clone(), |env| {
        env.insert("RAPIDAPI_KEY".into(), "rapid-test-key".into());
        env.insert("RAPIDAPI_BASE".into(), base);
        env.insert("RAPIDAPI_HOST".into(), "scraper.example".into());
        env.insert("TRENDS_FETCH_INTERVAL_SECS".into(), "3600".into());
    })
    .await;
    let pool_ref = &pool;
    wait_until("the fetched snapshot is scored", PATIENCE, || async move {
        let scored: Option<(String,)> = sqlx::query_as(
            "SELECT sn.source FROM trend_scores sc
               JOIN trend_snapshots sn ON sn.id = sc.snapshot_id
              WHERE sc.signal_id = $1",
        )
        .bind(signal)
        .fetch_optional(pool_ref)
        .await
        .expect("readable");
        scored.is_some_and(|(source,)| source == "rapidapi")
    })
    .await;
    let top = trends_db::report::top_signals(&pool, 10)
        .await
        .expect("top");
    assert_eq!(top.len(), 1);
    assert_eq!(top[0].views, 480_000);
    assert_eq!(top[0].skus, vec![SKU.to_owned()]);
    assert!(top[0].trend_score > 0.0, "{:?}", top[0]);
    worker.stop().await.expect("worker stops");
}
