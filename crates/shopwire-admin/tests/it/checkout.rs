//! A price set with `inventory set` is what Stripe charges: a buy comment for the product
//! becomes an order whose Checkout Session (against a Stripe stand-in) carries the price
//! in the currency's minor unit — ¥1,500 is `unit_amount=1500`, not 150000.

use std::collections::HashMap;

use chrono::Utc;
use serde_json::json;
use shopwire_core::config::Settings;
use shopwire_core::db::inbox;
use shopwire_core::db::jobs::JobId;
use shopwire_core::domain::{Delivery, Provider};
use shopwire_queue::QueueClient;
use shopwire_worker::context::JobContext;
use shopwire_worker::jobs::{process_delivery, run_job};
use sqlx::PgPool;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::Admin;

/// A job context like the worker's, with Stripe pointed at `stripe`.
fn worker_context(pool: &PgPool, stripe: &MockServer) -> JobContext {
    let prefix = format!(
        "admin-checkout-{}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or_default()
    );
    let env: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", shopwire_testkit::database_url(pool)),
        ("REDIS_URL", shopwire_testkit::redis_url()),
        ("QUEUE_PREFIX", prefix),
        ("STRIPE_SECRET_KEY", "sk_test_admin_checkout".to_owned()),
        ("STRIPE_API_BASE", stripe.uri()),
        (
            "CHECKOUT_SUCCESS_URL",
            "https://shop.example.com/thanks".to_owned(),
        ),
        // The claim is decided as the comment is applied, so its checkout job exists then.
        ("CLAIM_ORDER_WINDOW_MS", "0".to_owned()),
    ]);
    let settings = Settings::from_lookup(|k| env.get(k).cloned()).expect("valid settings");
    let queue = QueueClient::lazy(
        &settings.redis_url,
        &settings.queue_prefix,
        settings.orphan_timeout,
    )
    .expect("REDIS_URL is valid");
    JobContext::new(&settings, pool.clone(), queue)
}

/// A buyer's live comment naming `sku`, processed as the worker does.
async fn buy_comment(ctx: &JobContext, sku: &str) {
    let body = json!({
        "comment_id": format!("c-{sku}"),
        "streamer": "live_host",
        "client": format!("buyer-{sku}"),
        "message": format!("I'll take {sku} please!"),
        "timestamp": Utc::now().to_rfc3339(),
    })
    .to_string();
    let delivery = Delivery::parse(Provider::Comments, body.as_bytes()).expect("a valid comment");
    let id = inbox::record(&ctx.pool, Provider::Comments, &delivery, body.as_bytes())
        .await
        .expect("recorded")
        .id();
    process_delivery::process(ctx, id).await;
}

async fn checkout_job(pool: &PgPool) -> JobId {
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM jobs WHERE queue = 'checkout'")
        .fetch_one(pool)
        .await
        .expect("the order's checkout job");
    JobId::new(id)
}

/// The form fields of the one Checkout Session request Stripe received.
async fn session_form(stripe: &MockServer) -> HashMap<String, String> {
    let requests = stripe.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 1, "one session request");
    url_decoded(&requests[0].body)
}

fn url_decoded(body: &[u8]) -> HashMap<String, String> {
    let text = std::str::from_utf8(body).expect("form bodies are ascii");
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
                out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).expect("utf-8")
}

async fn mock_stripe() -> MockServer {
    let stripe = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "cs_test_money",
            "object": "checkout.session",
            "url": "https://checkout.stripe.com/c/pay/cs_test_money",
        })))
        .expect(1)
        .mount(&stripe)
        .await;
    stripe
}

async fn sell(pool: &PgPool, sku: &str, price: &str, currency: &str) -> HashMap<String, String> {
    let admin = Admin::new(pool);
    admin
        .json(&[
            "inventory",
            "set",
            sku,
            "--title",
            "Vintage Kimono",
            "--price",
            price,
            "--currency",
            currency,
            "--stock",
            "2",
        ])
        .await;
    let stripe = mock_stripe().await;
    let ctx = worker_context(pool, &stripe);
    buy_comment(&ctx, sku).await;
    run_job::process(&ctx, checkout_job(pool).await).await;
    let order = admin.json(&["orders", "list"]).await;
    assert_eq!(
        order[0]["checkout_url"], "https://checkout.stripe.com/c/pay/cs_test_money",
        "{order}"
    );
    session_form(&stripe).await
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_yen_price_set_in_the_cli_is_charged_in_whole_yen(pool: PgPool) {
    let form = sell(&pool, "KIM-JP-001", "1500", "jpy").await;
    assert_eq!(
        form.get("line_items[0][price_data][unit_amount]")
            .map(String::as_str),
        Some("1500"),
        "{form:?}"
    );
    assert_eq!(
        form.get("line_items[0][price_data][currency]")
            .map(String::as_str),
        Some("jpy")
    );
    assert_eq!(
        form.get("line_items[0][quantity]").map(String::as_str),
        Some("1")
    );
    // The order's total is ¥1,500 too, and reports show it without decimals.
    let human = Admin::new(&pool).run(&["orders", "list"]).await;
    assert_eq!(human.code, Some(0), "{human:?}");
    assert!(human.stdout.contains("1500 jpy"), "{human:?}");
    assert!(!human.stdout.contains("15.00"), "{human:?}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_dollar_price_is_charged_in_cents(pool: PgPool) {
    let form = sell(&pool, "KIM-US-001", "79.99", "usd").await;
    assert_eq!(
        (
            form["line_items[0][price_data][unit_amount]"].as_str(),
            form["line_items[0][price_data][currency]"].as_str()
        ),
        ("7999", "usd")
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_dinar_price_is_charged_in_fils_ending_in_zero(pool: PgPool) {
    let form = sell(&pool, "KIM-KW-001", "1.5", "kwd").await;
    assert_eq!(
        (
            form["line_items[0][price_data][unit_amount]"].as_str(),
            form["line_items[0][price_data][currency]"].as_str()
        ),
        ("1500", "kwd")
    );
}
