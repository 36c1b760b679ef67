//! Health, metrics, unknown routes and wrong methods.

use serde_json::json;
use shopwire_core::domain::Provider;
use sqlx::PgPool;

use crate::helpers::{fixture, json, route, spawn_app};

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn health_is_200(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (status, _) = json(app.get("/health").await).await;
    assert_eq!(status, 200);
}

/// The value of the first sample of `name` carrying every label in `labels`, 0 if none.
fn sample(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .find(|l| labels.iter().all(|label| l.contains(label)))
        .and_then(|l| l.rsplit(' ').next())
        .map_or(0.0, |v| v.parse().expect("a sample value is a number"))
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn metrics_after_a_delivery_show_deliveries_and_ingest_latency(pool: PgPool) {
    let app = spawn_app(pool).await;
    // The recorder is per process and tests run in parallel: count an outcome no other
    // test produces (a TikTok Shop duplicate) and compare before and after.
    let labels = [r#"provider="tiktok_shop""#, r#"outcome="duplicate""#];
    let before = app.get("/metrics").await.text().await.expect("text");
    let body = fixture("tiktok/shop.return_status_change.json");
    for _ in 0..2 {
        let (status, _) = json(app.post_signed(Provider::TiktokShop, &body).await).await;
        assert_eq!(status, 200);
    }

    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("text");

    assert!(text.contains("shopwire_deliveries_total"), "{text}");
    assert!(text.contains("shopwire_ingest_seconds"), "{text}");
    let counted = |text: &str| sample(text, "shopwire_deliveries_total", &labels);
    let timed = |text: &str| sample(text, "shopwire_ingest_seconds_count", &labels);
    assert!(counted(&text) >= counted(&before) + 1.0, "{text}");
    assert!(timed(&text) >= timed(&before) + 1.0, "{text}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn unknown_routes_are_404_json(pool: PgPool) {
    let app = spawn_app(pool).await;
    for path in [
        "/",
        "/nope",
        "/webhooks",
        "/webhooks/paypal",
        "/webhooks/stripe/extra",
    ] {
        let (status, answer) = json(app.get(path).await).await;
        assert_eq!(
            (status.as_u16(), answer),
            (404, json!({"error": "not_found"})),
            "GET {path}"
        );
    }
    let (status, answer) = json(app.post_raw("/webhooks/paypal", &[], b"{}".to_vec()).await).await;
    assert_eq!(
        (status.as_u16(), answer),
        (404, json!({"error": "not_found"}))
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn get_on_a_webhook_route_is_405_json(pool: PgPool) {
    let app = spawn_app(pool).await;
    for provider in Provider::ALL {
        let response = app.get(&route(provider)).await;
        let allow = response
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap_or_default().to_owned());
        let (status, answer) = json(response).await;
        assert_eq!(
            (status.as_u16(), answer),
            (405, json!({"error": "method_not_allowed"})),
            "{provider}"
        );
        assert_eq!(
            allow.as_deref(),
            Some("POST"),
            "a 405 names the allowed method"
        );
    }
}
