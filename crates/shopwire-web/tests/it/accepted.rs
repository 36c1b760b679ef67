//! A verified delivery from each provider is recorded byte-exact, keyed, and enqueued by id.

use serde_json::json;
use shopwire_core::domain::{Provider, body_hash};
use shopwire_core::jobs::Queue;
use sqlx::PgPool;

use crate::helpers::{TestApp, fixture, json, spawn_app};

/// Post `body`, expect `accepted`, and check the one inbox row and the one job.
async fn assert_accepted(
    app: &TestApp,
    provider: Provider,
    body: &[u8],
    dedupe_key: &str,
    event_type: &str,
) {
    let (status, answer) = json(app.post_signed(provider, body).await).await;
    assert_eq!(status, 200, "{answer}");

    let rows = app.inbox_rows().await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(
        answer,
        json!({"status": "accepted", "id": row.id.to_string()})
    );
    assert_eq!(row.provider, provider.as_str());
    assert_eq!(row.body, body, "the inbox holds the exact bytes received");
    assert_eq!(row.status, "queued");
    assert_eq!(row.dedupe_key, dedupe_key);
    assert_eq!(row.event_type.as_deref(), Some(event_type));
    assert_eq!(row.last_error, None);

    let queue = Queue::for_provider(provider);
    assert_eq!(
        app.queue_depth(queue).await,
        1,
        "one job on {}",
        queue.as_str()
    );
    assert_eq!(
        app.total_queue_depth().await,
        1,
        "no job on any other queue"
    );
    assert_eq!(
        app.job_args(queue).await,
        vec![json!({"inbox_id": row.id})],
        "the job carries the inbox id and nothing else"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn signed_stripe_event_is_recorded_byte_exact_and_enqueued_by_id(pool: PgPool) {
    let app = spawn_app(pool).await;
    let body = fixture("stripe/checkout.session.completed.json");
    assert_accepted(
        &app,
        Provider::Stripe,
        &body,
        "evt_1QkZr4LkdIwHu7ixcT0nWq8P",
        "checkout.session.completed",
    )
    .await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn tiktok_shop_doc_vector_is_accepted_and_keyed_by_notification_id(pool: PgPool) {
    let app = spawn_app(pool).await;
    let body = fixture("tiktok/shop.order_status_change.doc_vector.json");
    // The signature our signer produces is TikTok's published one for this body.
    let (name, value) = app.sign_at(Provider::TiktokShop, &body, 0);
    assert_eq!(name, "Authorization");
    assert_eq!(
        value,
        "5dec0f11ec2f6783b8deee53c9ffbf8d024302f7c7e7fa55a35d17629031ac05"
    );
    assert_accepted(
        &app,
        Provider::TiktokShop,
        &body,
        "7380066284010030890",
        "ORDER_STATUS_CHANGE",
    )
    .await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn tiktok_shop_notification_without_notification_id_is_keyed_by_body_hash(pool: PgPool) {
    // The webhooks overview's body table and its sample carry no `tts_notification_id`.
    let app = spawn_app(pool).await;
    let body = fixture("tiktok/shop.order_status_change.without_notification_id.json");
    assert_accepted(
        &app,
        Provider::TiktokShop,
        &body,
        &body_hash(&body),
        "ORDER_STATUS_CHANGE",
    )
    .await;
    let (status, answer) = json(app.post_signed(Provider::TiktokShop, &body).await).await;
    assert_eq!(
        (status.as_u16(), &answer["status"]),
        (200, &json!("duplicate")),
        "the same bytes again are a duplicate"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn tiktok_developer_event_is_accepted_and_keyed_by_body_hash(pool: PgPool) {
    let app = spawn_app(pool).await;
    let body = fixture("tiktok/developers.authorization_removed.json");
    assert_accepted(
        &app,
        Provider::Tiktok,
        &body,
        &body_hash(&body),
        "authorization.removed",
    )
    .await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn tiktok_dm_is_accepted_and_keyed_by_message_id(pool: PgPool) {
    let app = spawn_app(pool).await;
    let body = br#"{"client_key":"bwo2m45353a6k85","event":"im_receive_msg","create_time":1763805600,"user_openid":"act.buyer42","content":"{\"message_id\":\"msg-7f3a91\",\"conversation_id\":\"conv-1\",\"type\":\"text\",\"text\":{\"body\":\"I'll take the blue one\"}}"}"#;
    assert_accepted(&app, Provider::Tiktok, body, "msg-7f3a91", "im_receive_msg").await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn relayed_comment_is_accepted_and_keyed_by_comment_id(pool: PgPool) {
    let app = spawn_app(pool).await;
    let body = br#"{"comment_id":"c-20261122-0001","streamer":"shopwire_live","client":"buyer_42","message":"mine! blue M","timestamp":"2026-11-22T10:00:00Z"}"#;
    assert_accepted(&app, Provider::Comments, body, "c-20261122-0001", "comment").await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn relayed_comment_without_id_is_keyed_by_body_hash(pool: PgPool) {
    let app = spawn_app(pool).await;
    let body = br#"{"streamer":"shopwire_live","client":"buyer_42","message":"mine!","timestamp":"2026-11-22T10:00:01+01:00"}"#;
    assert_accepted(&app, Provider::Comments, body, &body_hash(body), "comment").await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn unknown_event_types_and_topics_are_accepted_and_stored(pool: PgPool) {
    let app = spawn_app(pool).await;
    let stripe = br#"{"id":"evt_unknown_1","object":"event","type":"some.future.event","data":{"object":{}}}"#;
    let (status, answer) = json(app.post_signed(Provider::Stripe, stripe).await).await;
    assert_eq!(
        (status.as_u16(), &answer["status"]),
        (200, &json!("accepted"))
    );
    let shop = br#"{"type":99,"tts_notification_id":"n-99","shop_id":"s","timestamp":1,"data":{}}"#;
    let (status, answer) = json(app.post_signed(Provider::TiktokShop, shop).await).await;
    assert_eq!(
        (status.as_u16(), &answer["status"]),
        (200, &json!("accepted"))
    );

    let rows = app.inbox_rows().await;
    let types: Vec<_> = rows
        .iter()
        .map(|r| (r.event_type.as_deref(), r.status.as_str()))
        .collect();
    assert_eq!(
        types,
        [
            (Some("some.future.event"), "queued"),
            (Some("TOPIC_99"), "queued")
        ]
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn whitespace_around_the_json_is_kept_byte_exact(pool: PgPool) {
    let app = spawn_app(pool).await;
    let body = b"\r\n  {\"id\": \"evt_ws\", \"type\": \"charge.refunded\"}\n\n";
    assert_accepted(&app, Provider::Stripe, body, "evt_ws", "charge.refunded").await;
}
