//! A buyer who orders by DM gets their checkout link back in the conversation, once.

use std::collections::HashMap;

use serde_json::json;
use shopwire_core::db::inbox::{self, InboxId, Recorded};
use shopwire_core::db::jobs::JobId;
use shopwire_core::db::{live_pins, products};
use shopwire_core::domain::{Delivery, Provider};
use shopwire_worker::jobs::{process_delivery, run_job};
use sqlx::PgPool;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::test_worker_with;
use crate::stripe_support::context;

const SEND: &str = "/open_api/v1.3/business/message/send/";

fn env(stripe: &MockServer, tiktok: &MockServer) -> impl FnOnce(&mut HashMap<String, String>) {
    let (stripe, tiktok) = (stripe.uri(), tiktok.uri());
    move |env| {
        env.insert("STRIPE_SECRET_KEY".into(), "sk_test_replies".into());
        env.insert("STRIPE_API_BASE".into(), stripe);
        env.insert(
            "CHECKOUT_SUCCESS_URL".into(),
            "https://shop.example.com/thanks".into(),
        );
        env.insert("TIKTOK_MESSAGING_TOKEN".into(), "tt_token_replies".into());
        env.insert("TIKTOK_MESSAGING_API_BASE".into(), tiktok);
    }
}

async fn dm(pool: &PgPool, message_id: &str, text: &str) -> InboxId {
    let content = json!({
        "conversation_id": "conv-7",
        "message_id": message_id,
        "timestamp": chrono::Utc::now().timestamp_millis(),
        "type": "text",
        "text": { "body": text },
        "from_user": { "id": "buyer-open-id" },
    });
    let body = json!({
        "event": "im_receive_msg",
        "user_openid": "shop_account",
        "create_time": chrono::Utc::now().timestamp(),
        "content": content.to_string(),
    })
    .to_string();
    let delivery = Delivery::parse(Provider::Tiktok, body.as_bytes()).expect("a dm");
    match inbox::record(pool, Provider::Tiktok, &delivery, body.as_bytes())
        .await
        .expect("recorded")
    {
        Recorded::New(id) | Recorded::Duplicate(id) => id,
    }
}

async fn job_id(pool: &PgPool, queue: &str) -> JobId {
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM jobs WHERE queue = $1")
        .bind(queue)
        .fetch_one(pool)
        .await
        .expect("the job exists");
    JobId::new(id)
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_dm_order_gets_its_checkout_link_as_a_reply_exactly_once(pool: PgPool) {
    let stripe = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "cs_test_dm",
            "url": "https://checkout.stripe.com/c/pay/cs_test_dm",
        })))
        .mount(&stripe)
        .await;
    let tiktok = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SEND))
        .and(header("access-token", "tt_token_replies"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"code": 0, "message": "OK"})))
        .expect(1)
        .mount(&tiktok)
        .await;
    products::upsert(
        &pool,
        &products::NewProduct {
            sku: "DM-1".into(),
            title: "Corduroy Jacket".into(),
            price_cents: 5500,
            currency: "usd".into(),
            stock_on_hand: 2,
            ..Default::default()
        },
    )
    .await
    .expect("product");
    live_pins::pin(&pool, "shop_account", "DM-1")
        .await
        .expect("pinned");
    let worker = test_worker_with(pool.clone(), env(&stripe, &tiktok));
    let ctx = context(&worker);

    process_delivery::process(&ctx, dm(&pool, "m-1", "me lo apartas porfa").await).await;
    run_job::process(&ctx, job_id(&pool, "checkout").await).await;
    let reply = job_id(&pool, "replies").await;
    run_job::process(&ctx, reply).await;
    run_job::process(&ctx, reply).await;

    let sent = tiktok.received_requests().await.expect("recorded");
    assert_eq!(sent.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&sent[0].body).expect("json");
    assert_eq!(body["recipient"], "conv-7");
    let text = body["text"]["body"].as_str().expect("text");
    assert!(
        text.contains("https://checkout.stripe.com/c/pay/cs_test_dm"),
        "{text}"
    );
    let (status,): (String,) = sqlx::query_as("SELECT status FROM jobs WHERE id = $1")
        .bind(reply.get())
        .fetch_one(&pool)
        .await
        .expect("job row");
    assert_eq!(status, "processed");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_messaging_outage_is_retried_not_lost(pool: PgPool) {
    let stripe = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "cs_test_dm2",
            "url": "https://checkout.stripe.com/c/pay/cs_test_dm2",
        })))
        .mount(&stripe)
        .await;
    let tiktok = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "30"))
        .mount(&tiktok)
        .await;
    products::upsert(
        &pool,
        &products::NewProduct {
            sku: "DM-2".into(),
            title: "Wool Scarf".into(),
            price_cents: 1500,
            currency: "usd".into(),
            stock_on_hand: 2,
            ..Default::default()
        },
    )
    .await
    .expect("product");
    live_pins::pin(&pool, "shop_account", "DM-2")
        .await
        .expect("pinned");
    let worker = test_worker_with(pool.clone(), env(&stripe, &tiktok));
    let ctx = context(&worker);

    process_delivery::process(&ctx, dm(&pool, "m-2", "I'll take it").await).await;
    run_job::process(&ctx, job_id(&pool, "checkout").await).await;
    let reply = job_id(&pool, "replies").await;
    run_job::process(&ctx, reply).await;

    let (status, wait): (String, f64) = sqlx::query_as(
        "SELECT status, extract(epoch FROM next_attempt_at - now())::float8 FROM jobs WHERE id = $1",
    )
    .bind(reply.get())
    .fetch_one(&pool)
    .await
    .expect("job row");
    assert_eq!(status, "failed");
    assert!(
        wait >= 29.0,
        "Retry-After is honoured: next attempt in {wait}s"
    );
}
