//! A verified body that is not JSON or lacks required fields: 400, kept as `rejected`, no job.

use serde_json::json;
use shopwire_core::domain::Provider;
use sqlx::PgPool;

use crate::helpers::{TestApp, json, spawn_app};

async fn assert_rejected(app: &TestApp, provider: Provider, body: &[u8]) {
    let before = app.inbox_rows().await.len();
    let (status, answer) = json(app.post_signed(provider, body).await).await;
    assert_eq!(
        (status.as_u16(), answer),
        (400, json!({"error": "malformed_payload"})),
        "{provider}: {}",
        String::from_utf8_lossy(body)
    );
    let rows = app.inbox_rows().await;
    assert_eq!(rows.len(), before + 1, "the malformed delivery is kept");
    let row = rows.last().expect("a row");
    assert_eq!(row.provider, provider.as_str());
    assert_eq!(row.status, "rejected");
    assert_eq!(row.body, body);
    assert!(row.last_error.is_some(), "the reason is kept for audit");
    assert_eq!(
        app.total_queue_depth().await,
        0,
        "nothing is enqueued for a rejected delivery"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn signed_body_that_is_not_json_is_400_and_kept_as_rejected(pool: PgPool) {
    let app = spawn_app(pool).await;
    assert_rejected(&app, Provider::Stripe, b"id=evt_1&type=charge.refunded").await;
    assert_rejected(&app, Provider::Tiktok, b"\xff\xfe not utf-8").await;
    assert_rejected(&app, Provider::Comments, b"").await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn signed_body_missing_required_fields_is_400_and_kept_as_rejected(pool: PgPool) {
    let app = spawn_app(pool).await;
    assert_rejected(&app, Provider::Stripe, br#"{"type":"charge.refunded"}"#).await;
    // `type` is required; `tts_notification_id` is not (the body hash keys it instead).
    assert_rejected(
        &app,
        Provider::TiktokShop,
        br#"{"tts_notification_id":"n","shop_id":"s"}"#,
    )
    .await;
    assert_rejected(&app, Provider::Tiktok, br#"{"content":"{}"}"#).await;
    assert_rejected(
        &app,
        Provider::Comments,
        br#"{"comment_id":"c1","streamer":"s","client":"c","timestamp":"2026-11-22T10:00:00Z"}"#,
    )
    .await;
    assert_rejected(
        &app,
        Provider::Comments,
        br#"{"comment_id":"c2","streamer":"s","client":"c","message":"m","timestamp":"yesterday"}"#,
    )
    .await;
    assert_rejected(&app, Provider::Stripe, br#"[{"id":"evt_1","type":"x"}]"#).await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_same_malformed_delivery_twice_is_kept_once(pool: PgPool) {
    let app = spawn_app(pool).await;
    let body = br#"{"type":"no id"}"#;
    for _ in 0..2 {
        let (status, _) = json(app.post_signed(Provider::Stripe, body).await).await;
        assert_eq!(status, 400);
    }
    assert_eq!(app.inbox_rows().await.len(), 1);
}
