//! A price stored as `shopwire-admin inventory set` stores it, in the currency's minor unit,
//! is what Stripe charges: a buy comment for the product becomes an order whose Checkout
//! Session (against a Stripe stand-in) carries the price in that unit — ¥1,500 is
//! `unit_amount=1500`, not 150000. (That the CLI stores those units is tested with the CLI.)

use std::collections::HashMap;

use chrono::Utc;
use serde_json::json;
use shopwire_core::db::inbox;
use shopwire_core::db::jobs::JobId;
use shopwire_core::db::products::{self, NewProduct};
use shopwire_core::domain::{Currency, DecimalAmount, Delivery, Provider};
use shopwire_worker::context::JobContext;
use shopwire_worker::jobs::{process_delivery, run_job};
use sqlx::PgPool;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::test_worker_with;
use crate::stripe_support::{context, form_fields};

/// `price` in `currency`, parsed and checked as `inventory set --price --currency` does.
async fn product(pool: &PgPool, sku: &str, price: &str, currency: &str) {
    let currency = Currency::parse(currency).expect("a currency code");
    let price = DecimalAmount::parse(price)
        .expect("a decimal amount")
        .in_currency(currency)
        .expect("a price in the currency");
    price.check_stripe_charge().expect("a chargeable price");
    products::upsert(
        pool,
        &NewProduct {
            sku: sku.to_owned(),
            title: "Vintage Kimono".to_owned(),
            price_cents: price.minor,
            currency: price.currency.code().to_owned(),
            stock_on_hand: 2,
            ..Default::default()
        },
    )
    .await
    .expect("product saved");
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

/// The order's total and currency, and the form fields of the one Checkout Session request
/// Stripe received for it.
async fn sell(
    pool: &PgPool,
    sku: &str,
    price: &str,
    currency: &str,
) -> ((i64, String), HashMap<String, String>) {
    product(pool, sku, price, currency).await;
    let stripe = mock_stripe().await;
    let base = stripe.uri();
    let worker = test_worker_with(pool.clone(), |env| {
        env.insert("STRIPE_SECRET_KEY".into(), "sk_test_prices".into());
        env.insert("STRIPE_API_BASE".into(), base);
        env.insert(
            "CHECKOUT_SUCCESS_URL".into(),
            "https://shop.example.com/thanks".into(),
        );
    });
    let ctx = context(&worker);
    buy_comment(&ctx, sku).await;
    run_job::process(&ctx, checkout_job(pool).await).await;
    let (total, currency, url): (i64, String, Option<String>) =
        sqlx::query_as("SELECT total_cents, currency, checkout_url FROM orders")
            .fetch_one(pool)
            .await
            .expect("one order");
    assert_eq!(
        url.as_deref(),
        Some("https://checkout.stripe.com/c/pay/cs_test_money")
    );
    let requests = stripe.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 1, "one session request");
    ((total, currency), form_fields(&requests[0].body))
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_yen_price_is_charged_in_whole_yen(pool: PgPool) {
    let (total, form) = sell(&pool, "KIM-JP-001", "1500", "jpy").await;
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
    // The order's total is ¥1,500 too.
    assert_eq!(total, (1500, "jpy".to_owned()));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_dollar_price_is_charged_in_cents(pool: PgPool) {
    let (_, form) = sell(&pool, "KIM-US-001", "79.99", "usd").await;
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
    let (_, form) = sell(&pool, "KIM-KW-001", "1.5", "kwd").await;
    assert_eq!(
        (
            form["line_items[0][price_data][unit_amount]"].as_str(),
            form["line_items[0][price_data][currency]"].as_str()
        ),
        ("1500", "kwd")
    );
}
