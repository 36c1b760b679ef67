//! Delivery bodies the tests send, the pinned product buyers order, and recording a
//! delivery the way the web does (for tests that bypass HTTP).

use serde_json::{Value, json};
use shopwire_core::db::inbox::{self, InboxId, Recorded};
use shopwire_core::db::live_pins;
use shopwire_core::db::products::{self, NewProduct};
use shopwire_core::domain::{Delivery, Provider};
use shopwire_core::jobs::{InboxJob, Queue};
use sqlx::PgPool;

use super::support::RedisPrefix;

/// The streamer whose live session every comment belongs to.
pub const STREAMER: &str = "faults_live";
/// Texts the rule classifier reads as a confident buy.
pub const BUYS: [&str; 3] = ["mine", "I'll take it", "lo quiero"];
/// Texts it reads as questions (processed, no order).
pub const QUESTIONS: [&str; 3] = [
    "how much?",
    "do you have it in M?",
    "do you ship to Canada?",
];

/// A product with `stock` units, pinned in [`STREAMER`]'s live session from now on.
pub async fn pinned_product(pool: &PgPool, sku: &str, stock: i32) {
    products::upsert(
        pool,
        &NewProduct {
            sku: sku.to_owned(),
            title: "Vintage corduroy overshirt".to_owned(),
            price_cents: 4999,
            currency: "usd".to_owned(),
            stock_on_hand: stock,
            ..Default::default()
        },
    )
    .await
    .expect("product upserts");
    live_pins::pin(pool, STREAMER, sku).await.expect("pinned");
}

/// A live comment from the relay, sent now.
pub fn comment(id: &str, buyer: &str, text: &str) -> Vec<u8> {
    json!({
        "comment_id": id,
        "streamer": STREAMER,
        "client": buyer,
        "message": text,
        "timestamp": chrono::Utc::now().to_rfc3339(),
    })
    .to_string()
    .into_bytes()
}

/// A Stripe event envelope around `object`.
pub fn stripe_event(id: &str, kind: &str, object: Value) -> Vec<u8> {
    json!({
        "id": id,
        "object": "event",
        "type": kind,
        "created": chrono::Utc::now().timestamp(),
        "data": { "object": object },
    })
    .to_string()
    .into_bytes()
}

/// A paid Checkout Session naming `reference` (an `ORD-…` number or someone else's id).
pub fn session_completed(event_id: &str, reference: &str) -> Vec<u8> {
    stripe_event(
        event_id,
        "checkout.session.completed",
        json!({
            "id": format!("cs_{event_id}"),
            "object": "checkout.session",
            "client_reference_id": reference,
            "payment_status": "paid",
            "currency": "usd",
        }),
    )
}

/// Record `body` as the web does and return its inbox id (panics on a duplicate).
pub async fn record(pool: &PgPool, provider: Provider, body: &[u8]) -> InboxId {
    let delivery = Delivery::parse(provider, body).expect("a well-formed delivery");
    match inbox::record(pool, provider, &delivery, body)
        .await
        .expect("recorded")
    {
        Recorded::New(id) => id,
        Recorded::Duplicate(id) => panic!("{} was already recorded as {id}", delivery.dedupe_key),
    }
}

/// Record and enqueue, as the web does for an accepted delivery.
pub async fn deliver(
    pool: &PgPool,
    redis: &RedisPrefix,
    provider: Provider,
    body: &[u8],
) -> InboxId {
    let id = record(pool, provider, body).await;
    redis
        .queue
        .push(Queue::for_provider(provider), &[InboxJob { inbox_id: id }])
        .await
        .expect("redis takes the job");
    id
}
