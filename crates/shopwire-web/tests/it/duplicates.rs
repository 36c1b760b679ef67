//! A delivery already in the inbox is answered `duplicate` with the same id and enqueues nothing.

use serde_json::json;
use shopwire_core::domain::Provider;
use shopwire_core::jobs::Queue;
use sqlx::PgPool;

use crate::helpers::{fixture, json, spawn_app, unix_now};

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn second_delivery_of_an_event_is_a_duplicate_with_the_same_id(pool: PgPool) {
    let app = spawn_app(pool).await;
    let body = fixture("stripe/charge.refunded.json");

    let (first_status, first) = json(app.post_signed(Provider::Stripe, &body).await).await;
    // Providers re-sign a retry with a new timestamp; the event id decides, not the header.
    let (second_status, second) = json(
        app.post_signed_at(Provider::Stripe, &body, unix_now() - 60)
            .await,
    )
    .await;

    assert_eq!(first_status, 200);
    assert_eq!(second_status, 200);
    assert_eq!(first["status"], "accepted");
    let rows = app.inbox_rows().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        second,
        json!({"status": "duplicate", "id": rows[0].id.to_string()})
    );
    assert_eq!(first["id"], second["id"]);
    assert_eq!(
        app.queue_depth(Queue::StripeEvents).await,
        1,
        "the duplicate enqueued nothing"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn same_dedupe_key_from_two_providers_is_two_deliveries(pool: PgPool) {
    let app = spawn_app(pool).await;
    let stripe = br#"{"id":"shared-key","type":"x"}"#;
    let comment = br#"{"comment_id":"shared-key","streamer":"s","client":"c","message":"m","timestamp":"2026-11-22T10:00:00Z"}"#;

    let (_, a) = json(app.post_signed(Provider::Stripe, stripe).await).await;
    let (_, b) = json(app.post_signed(Provider::Comments, comment).await).await;

    assert_eq!(a["status"], "accepted");
    assert_eq!(b["status"], "accepted");
    assert_ne!(a["id"], b["id"]);
    assert_eq!(app.inbox_rows().await.len(), 2);
}
