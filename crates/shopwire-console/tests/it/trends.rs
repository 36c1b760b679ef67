//! `/trends`: the best-scored products and signals with the charts `trends top --html`
//! draws. Signals, snapshots and sales are stored through `shopwire-core` and scored by the
//! scoring run of `shopwire-insight`, as the worker's `trends` job does.

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use shopwire_core::db::products::{self, NewProduct};
use shopwire_core::db::trends::{self as trends_db, SnapshotSource, velocity};
use shopwire_core::trends::{SignalKind, Snapshot};
use shopwire_insight::trends::{TrendScorer, score_all};
use sqlx::PgPool;

use crate::helpers::{Browser, base_env, settings, spawn_console};

async fn product(pool: &PgPool, sku: &str, title: &str, stock: i32) {
    products::upsert(
        pool,
        &NewProduct {
            sku: sku.to_owned(),
            title: title.to_owned(),
            price_cents: 4999,
            currency: "usd".into(),
            stock_on_hand: stock,
            ..Default::default()
        },
    )
    .await
    .expect("product saved");
}

/// A hashtag linked to `skus`, with two snapshots three hours apart (growing by `growth`
/// times), captured up to `now`.
async fn hashtag(pool: &PgPool, key: &str, skus: &[&str], views: u64, growth: u64) {
    let now = Utc::now();
    let mut conn = pool.acquire().await.expect("connection");
    let signal = trends_db::upsert_signal(&mut conn, SignalKind::Hashtag, key)
        .await
        .expect("signal");
    for sku in skus {
        assert!(
            trends_db::link_product(&mut conn, signal, sku)
                .await
                .expect("links"),
            "{sku} exists"
        );
    }
    for (hours_ago, views) in [(3, views), (0, views * growth)] {
        let snapshot = Snapshot {
            captured_at: now - chrono::Duration::hours(hours_ago) - chrono::Duration::minutes(1),
            views,
            likes: views / 10,
            comments: views / 100,
            shares: views / 100,
        };
        trends_db::insert_snapshot(&mut conn, signal, &snapshot, SnapshotSource::Import)
            .await
            .expect("snapshot");
    }
}

/// `units` sold one at a time every 20 minutes before `now`.
async fn sales(pool: &PgPool, sku: &str, units: i64, now: DateTime<Utc>) {
    for i in 0..units {
        velocity::record_sale(
            pool,
            sku,
            1,
            now - chrono::Duration::minutes(20 * i + 1),
            &format!("{sku}-SALE-{i}"),
        )
        .await
        .expect("sale recorded");
    }
}

/// One scoring run with the default settings (the formula), as of `now`.
async fn score(pool: &PgPool, now: DateTime<Utc>) {
    let settings = settings(&base_env(pool));
    let scorer = TrendScorer::from_settings(&settings);
    score_all(pool, &scorer, &settings.stock_alerts, now, None)
        .await
        .expect("scoring runs");
}

/// The HTML of the element that starts with `open`, up to `close`.
fn section<'a>(page: &'a str, open: &str, close: &str) -> &'a str {
    let start = page
        .find(open)
        .unwrap_or_else(|| panic!("{open} in {page}"));
    let end = page[start..].find(close).expect("it ends") + start;
    &page[start..end]
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_trends_page_charts_the_top_signals(pool: PgPool) {
    product(&pool, "VNT-NIKE-WB-001", "Vintage Nike Windbreaker", 3).await;
    product(&pool, "DNM-JKT-M", "Denim jacket", 40).await;
    hashtag(&pool, "vintagenike", &["VNT-NIKE-WB-001"], 400_000, 4).await;
    hashtag(&pool, "denim", &["DNM-JKT-M"], 10_000, 1).await;
    score(&pool, Utc::now()).await;

    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;
    let page = browser.page("/trends").await;
    assert!(
        page.contains(r#"<a href="/trends" class="current">Trends</a>"#),
        "{page}"
    );

    // Both signals, best first, with the numbers `trends top` reads.
    let signals = section(&page, r#"<table id="signals">"#, "</table>");
    let nike = signals
        .find(r#"<tr data-signal="hashtag:vintagenike">"#)
        .expect("the vintagenike row");
    let denim = signals
        .find(r#"<tr data-signal="hashtag:denim">"#)
        .expect("the denim row");
    assert!(nike < denim, "the faster-growing signal first: {signals}");
    let top = trends_db::report::top_signals(&pool, 10)
        .await
        .expect("top signals");
    assert_eq!(top[0].key, "vintagenike");
    assert!(
        signals.contains(&format!(
            r#"<td class="trend">{:.1}</td>"#,
            top[0].trend_score
        )),
        "{signals}"
    );
    assert!(
        signals.contains(r#"<td class="skus">VNT-NIKE-WB-001</td>"#),
        "{signals}"
    );

    // And a score chart per signal: inline SVG with its two lines.
    let charts = section(
        &page,
        r#"<div class="charts" id="signal-charts">"#,
        "</section>",
    );
    for label in ["hashtag:vintagenike", "hashtag:denim"] {
        let figure = section(
            charts,
            &format!(r#"<figure class="chart" data-signal="{label}">"#),
            "</figure>",
        );
        assert!(figure.contains("<svg"), "{figure}");
        assert!(figure.contains("Trend and urgency score"), "{figure}");
        assert_eq!(figure.matches("<polyline").count(), 2, "{figure}");
    }
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_trends_page_shows_each_top_products_stock_and_where_it_is_heading(pool: PgPool) {
    product(&pool, "VNT-NIKE-WB-001", "Vintage Nike Windbreaker", 3).await;
    hashtag(&pool, "vintagenike", &["VNT-NIKE-WB-001"], 400_000, 4).await;
    let now = Utc::now();
    sales(&pool, "VNT-NIKE-WB-001", 12, now).await;
    score(&pool, now).await;

    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;
    let page = browser.page("/trends").await;

    let products = section(&page, r#"<table id="products">"#, "</table>");
    let nike = section(products, r#"<tr data-sku="VNT-NIKE-WB-001">"#, "</tr>");
    assert!(
        nike.contains(r#"<td class="alert" data-alert="critical"><span class="alert-critical">critical</span></td>"#),
        "{nike}"
    );
    assert!(nike.contains(r#"<td class="available">3</td>"#), "{nike}");
    assert!(
        nike.contains(r#"<td class="signals">hashtag:vintagenike</td>"#),
        "{nike}"
    );
    // Its stock chart (a projection to stockout) and its best signal's score chart.
    let figure = section(
        &page,
        r#"<figure class="chart" data-sku="VNT-NIKE-WB-001">"#,
        "</figure>",
    );
    assert_eq!(figure.matches("<svg").count(), 2, "{figure}");
    assert!(
        figure.contains("Available stock: last 24 h and projection"),
        "{figure}"
    );
    assert!(figure.contains("projected "), "{figure}");
    assert!(figure.contains("Score of hashtag:vintagenike"), "{figure}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn text_from_signals_and_products_is_escaped_in_the_tables_and_the_charts(pool: PgPool) {
    let evil = "<script>alert(1)</script>";
    product(&pool, "TEE-1", r#"Tee <img src=x onerror=alert(2)>"#, 5).await;
    hashtag(&pool, evil, &["TEE-1"], 1_000, 2).await;
    score(&pool, Utc::now()).await;

    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;
    let page = browser.page("/trends").await;
    for raw in ["<script>alert(1)", "<img src=x"] {
        assert!(!page.contains(raw), "{raw} in {page}");
    }
    assert!(
        page.contains(r#"<td class="signal">hashtag:&lt;script&gt;alert(1)&lt;/script&gt;</td>"#),
        "{page}"
    );
    // The product's chart names its best signal: escaped inside the SVG too.
    let figure = section(
        &page,
        r#"<figure class="chart" data-sku="TEE-1">"#,
        "</figure>",
    );
    assert!(
        figure.contains("<title>Score of hashtag:&lt;script&gt;alert(1)&lt;/script&gt;</title>"),
        "{figure}"
    );
    assert!(
        figure.contains("Tee &lt;img src=x onerror=alert(2)&gt;"),
        "{figure}"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_limit_picks_how_many_and_a_bad_one_is_a_400(pool: PgPool) {
    product(&pool, "A-1", "Jacket", 5).await;
    product(&pool, "B-1", "Boots", 5).await;
    hashtag(&pool, "jackets", &["A-1"], 100_000, 4).await;
    hashtag(&pool, "boots", &["B-1"], 1_000, 1).await;
    score(&pool, Utc::now()).await;

    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;
    let page = browser.page("/trends?limit=1").await;
    let signals = section(&page, r#"<table id="signals">"#, "</table>");
    assert_eq!(signals.matches("<tr data-signal=").count(), 1, "{signals}");
    assert!(signals.contains("hashtag:jackets"), "{signals}");
    let products = section(&page, r#"<table id="products">"#, "</table>");
    assert_eq!(products.matches("<tr data-sku=").count(), 1, "{products}");
    assert!(
        page.contains(r#"name="limit" min="1" max="100" value="1""#),
        "{page}"
    );

    for bad in ["ten", "0", "101"] {
        let response = browser.get(&format!("/trends?limit={bad}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        let body = response.text().await.expect("body");
        assert!(
            body.contains(&format!(
                "limit `{bad}` must be a whole number from 1 to 100"
            )),
            "{body}"
        );
    }
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn before_any_scoring_the_page_says_so_and_draws_nothing(pool: PgPool) {
    product(&pool, "A-1", "Jacket", 5).await;
    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;
    let page = browser.page("/trends").await;
    assert!(
        page.contains("No product is linked to a scored signal yet."),
        "{page}"
    );
    assert!(page.contains("No signal has been scored yet"), "{page}");
    assert!(!page.contains("<svg"), "{page}");
    assert!(!page.contains(r#"<table id="signals">"#), "{page}");
}
