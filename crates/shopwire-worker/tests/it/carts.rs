//! Live carts (`CART_MODE=live`) against a Stripe stand-in (wiremock): a buyer's holds from
//! one live share one Checkout Session with a line item per hold and one
//! `order.checkout_ready`; a claim after the session starts a new cart; buyers get carts
//! of their own; the session's completion pays every order of the cart; and `per_claim`
//! keeps a session per order.

use std::collections::HashMap;

use chrono::Utc;
use serde_json::{Value, json};
use shopwire_core::db::inbox::{self, InboxId, Recorded};
use shopwire_core::db::jobs::JobId;
use shopwire_core::domain::{Delivery, Provider};
use shopwire_worker::context::JobContext;
use shopwire_worker::jobs::{process_delivery, run_job};
use sqlx::PgPool;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::helpers::{PATIENCE, spawn_worker_with, test_worker_with, wait_until};
use crate::stripe_support::{context, event, form_fields, record_new};

const SESSIONS: &str = "/v1/checkout/sessions";
const STREAMER: &str = "thrift_queen";

/// Each new session gets an id of its own (`cs_test_<idempotency key>`).
struct NewSession;

impl Respond for NewSession {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let key = request
            .headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none");
        let id = format!("cs_test_{key}");
        ResponseTemplate::new(200).set_body_json(json!({
            "id": id,
            "object": "checkout.session",
            "url": format!("https://checkout.stripe.com/c/pay/{id}"),
        }))
    }
}

async fn stripe() -> MockServer {
    let stripe = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .respond_with(NewSession)
        .mount(&stripe)
        .await;
    stripe
}

fn env(
    stripe: &MockServer,
    mode: &str,
    settle_secs: u64,
) -> impl FnOnce(&mut HashMap<String, String>) {
    let base = stripe.uri();
    let mode = mode.to_owned();
    move |env| {
        env.insert("STRIPE_SECRET_KEY".into(), "sk_test_shopwire_carts".into());
        env.insert("STRIPE_API_BASE".into(), base);
        env.insert(
            "CHECKOUT_SUCCESS_URL".into(),
            "https://shop.example.com/thanks".into(),
        );
        env.insert("CART_MODE".into(), mode);
        env.insert("CART_SETTLE_SECS".into(), settle_secs.to_string());
    }
}

async fn product(pool: &PgPool, sku: &str, price_cents: i64) {
    sqlx::query(
        "INSERT INTO products (sku, title, price_cents, currency, stock_on_hand)
         VALUES ($1, $2, $3, 'usd', 5)",
    )
    .bind(sku)
    .bind(format!("Thrift find {sku}"))
    .bind(price_cents)
    .execute(pool)
    .await
    .expect("product inserts");
}

/// A buy comment from `buyer` on the live, recorded as the web does and applied.
async fn claim(ctx: &JobContext, buyer: &str, sku: &str) -> InboxId {
    let body = json!({
        "comment_id": format!("c-{buyer}-{sku}-{:08x}", rand::random::<u32>()),
        "streamer": STREAMER,
        "client": buyer,
        "message": format!("I'll take {sku} please!"),
        "timestamp": Utc::now().to_rfc3339(),
    })
    .to_string();
    let delivery = Delivery::parse(Provider::Comments, body.as_bytes()).expect("a valid comment");
    let Recorded::New(id) =
        inbox::record(&ctx.pool, Provider::Comments, &delivery, body.as_bytes())
            .await
            .expect("recorded")
    else {
        panic!("a fresh comment");
    };
    process_delivery::process(ctx, id).await;
    id
}

/// `buyer`'s orders: `(order id, order number, cart id)`, oldest first.
async fn orders_of(pool: &PgPool, buyer: &str) -> Vec<(i64, String, Option<i64>)> {
    sqlx::query_as("SELECT id, order_number, cart_id FROM orders WHERE buyer = $1 ORDER BY id")
        .bind(buyer)
        .fetch_all(pool)
        .await
        .expect("query works")
}

/// The checkout job of cart `cart`, made due now (the settle window is long in these tests
/// so that nothing settles before the test says so).
async fn settle(ctx: &JobContext, cart: i64) {
    let (job,): (JobId,) = sqlx::query_as(
        "UPDATE jobs SET next_attempt_at = now() WHERE idempotency_key = $1 RETURNING id",
    )
    .bind(format!("cart:{cart}"))
    .fetch_one(&ctx.pool)
    .await
    .expect("the cart has its checkout job");
    run_job::process(ctx, job).await;
}

/// Every `order.checkout_ready` event's data, oldest first.
async fn checkout_ready(pool: &PgPool) -> Vec<Value> {
    sqlx::query_scalar(
        "SELECT data FROM outbox_events WHERE event_type = 'order.checkout_ready' ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .expect("query works")
}

async fn session_requests(stripe: &MockServer) -> Vec<Request> {
    stripe
        .received_requests()
        .await
        .expect("recording is on")
        .into_iter()
        .filter(|r| r.url.path() == SESSIONS)
        .collect()
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn three_claims_in_the_settle_window_share_one_session_and_one_checkout_ready(pool: PgPool) {
    let stripe = stripe().await;
    let worker = test_worker_with(pool.clone(), env(&stripe, "live", 600));
    let ctx = context(&worker);
    for (sku, price) in [("SKU-CARTA", 1500), ("SKU-CARTB", 2500), ("SKU-CARTC", 999)] {
        product(&pool, sku, price).await;
        claim(&ctx, "buyer-ana", sku).await;
    }
    let orders = orders_of(&pool, "buyer-ana").await;
    assert_eq!(orders.len(), 3, "three holds");
    let cart = orders[0].2.expect("in a cart");
    assert!(
        orders.iter().all(|o| o.2 == Some(cart)),
        "one cart: {orders:?}"
    );
    let (per_order_jobs, due_later): (i64, bool) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM jobs WHERE idempotency_key LIKE 'checkout:%'),
                (SELECT next_attempt_at > now() + interval '5 minutes' FROM jobs
                  WHERE idempotency_key = 'cart:' || $1)",
    )
    .bind(cart)
    .fetch_one(&pool)
    .await
    .expect("query works");
    assert_eq!(
        (per_order_jobs, due_later),
        (0, true),
        "the cart waits to settle"
    );
    assert!(session_requests(&stripe).await.is_empty());

    settle(&ctx, cart).await;

    let requests = session_requests(&stripe).await;
    assert_eq!(requests.len(), 1, "one session for the cart");
    let reference = format!("CART-{cart}");
    assert_eq!(
        requests[0]
            .headers
            .get("idempotency-key")
            .map(|v| v.as_bytes()),
        Some(reference.as_bytes())
    );
    let form = form_fields(&requests[0].body);
    for (i, (sku, price)) in [("SKU-CARTA", 1500), ("SKU-CARTB", 2500), ("SKU-CARTC", 999)]
        .into_iter()
        .enumerate()
    {
        let field = |f: &str| form.get(&format!("line_items[{i}]{f}")).cloned();
        assert_eq!(field("[price_data][unit_amount]"), Some(price.to_string()));
        assert_eq!(field("[price_data][currency]"), Some("usd".to_owned()));
        assert_eq!(
            field("[price_data][product_data][name]"),
            Some(format!("Thrift find {sku}"))
        );
        assert_eq!(field("[quantity]"), Some("1".to_owned()));
    }
    assert!(
        !form.contains_key("line_items[3][quantity]"),
        "three line items"
    );
    assert_eq!(form.get("client_reference_id"), Some(&reference));
    assert_eq!(form.get("metadata[cart_id]"), Some(&reference));
    assert!(!form.contains_key("metadata[order_id]"));

    let session = format!("cs_test_{reference}");
    let with_session: i64 =
        sqlx::query_scalar("SELECT count(*) FROM orders WHERE checkout_session_id = $1")
            .bind(&session)
            .fetch_one(&pool)
            .await
            .expect("query works");
    assert_eq!(with_session, 3, "every order of the cart has the session");
    let events = checkout_ready(&pool).await;
    assert_eq!(
        events.len(),
        1,
        "one checkout_ready for the cart: {events:?}"
    );
    let numbers: Vec<Value> = orders.iter().map(|o| Value::from(o.1.clone())).collect();
    let data = &events[0];
    assert_eq!(data["cart_id"], json!(cart));
    assert_eq!(data["order_numbers"], Value::from(numbers));
    assert_eq!(data["buyer"], json!("buyer-ana"));
    assert_eq!(data["streamer"], json!(STREAMER));
    assert_eq!(data["amount_cents"], json!(1500 + 2500 + 999));
    assert_eq!(data["currency"], json!("usd"));
    assert_eq!(
        data["checkout_url"],
        json!(format!("https://checkout.stripe.com/c/pay/{session}"))
    );
    assert!(data["expires_at"].is_string());
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_claim_after_the_carts_session_was_created_starts_a_new_cart(pool: PgPool) {
    let stripe = stripe().await;
    let worker = test_worker_with(pool.clone(), env(&stripe, "live", 600));
    let ctx = context(&worker);
    product(&pool, "SKU-CARTA", 1500).await;
    product(&pool, "SKU-CARTB", 2500).await;
    claim(&ctx, "buyer-ben", "SKU-CARTA").await;
    let first = orders_of(&pool, "buyer-ben").await[0].2.expect("in a cart");
    settle(&ctx, first).await;

    claim(&ctx, "buyer-ben", "SKU-CARTB").await;

    let orders = orders_of(&pool, "buyer-ben").await;
    let second = orders[1].2.expect("in a cart");
    assert_ne!(second, first, "a new cart");
    settle(&ctx, second).await;
    let requests = session_requests(&stripe).await;
    assert_eq!(requests.len(), 2, "a session per cart");
    let form = form_fields(&requests[1].body);
    assert_eq!(
        form.get("line_items[0][price_data][unit_amount]"),
        Some(&"2500".to_owned())
    );
    assert!(
        !form.contains_key("line_items[1][quantity]"),
        "only the new hold"
    );
    assert_eq!(checkout_ready(&pool).await.len(), 2);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn two_buyers_get_two_carts(pool: PgPool) {
    let stripe = stripe().await;
    let worker = test_worker_with(pool.clone(), env(&stripe, "live", 600));
    let ctx = context(&worker);
    product(&pool, "SKU-CARTA", 1500).await;
    product(&pool, "SKU-CARTB", 2500).await;
    for buyer in ["buyer-cat", "buyer-dan"] {
        claim(&ctx, buyer, "SKU-CARTA").await;
        claim(&ctx, buyer, "SKU-CARTB").await;
    }

    let cat = orders_of(&pool, "buyer-cat").await;
    let dan = orders_of(&pool, "buyer-dan").await;
    assert!(cat[0].2.is_some() && cat[0].2 == cat[1].2, "{cat:?}");
    assert!(dan[0].2.is_some() && dan[0].2 == dan[1].2, "{dan:?}");
    assert_ne!(cat[0].2, dan[0].2, "a cart each");
    for cart in [cat[0].2, dan[0].2].into_iter().flatten() {
        settle(&ctx, cart).await;
    }
    let requests = session_requests(&stripe).await;
    assert_eq!(requests.len(), 2);
    for request in &requests {
        let form = form_fields(&request.body);
        assert!(
            form.contains_key("line_items[1][quantity]")
                && !form.contains_key("line_items[2][quantity]")
        );
    }
    let events = checkout_ready(&pool).await;
    let buyers: Vec<&Value> = events.iter().map(|e| &e["buyer"]).collect();
    assert_eq!(buyers, [&json!("buyer-cat"), &json!("buyer-dan")]);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn completing_the_carts_session_pays_every_order_of_the_cart(pool: PgPool) {
    let stripe = stripe().await;
    let worker = test_worker_with(pool.clone(), env(&stripe, "live", 600));
    let ctx = context(&worker);
    product(&pool, "SKU-CARTA", 1500).await;
    product(&pool, "SKU-CARTB", 2500).await;
    claim(&ctx, "buyer-eve", "SKU-CARTA").await;
    claim(&ctx, "buyer-eve", "SKU-CARTB").await;
    let cart = orders_of(&pool, "buyer-eve").await[0].2.expect("in a cart");
    settle(&ctx, cart).await;
    let completed = event("checkout.session.completed", |o| {
        o["id"] = json!(format!("cs_test_CART-{cart}"));
        o["client_reference_id"] = json!(format!("CART-{cart}"));
        o["metadata"] = json!({ "cart_id": format!("CART-{cart}") });
        o["payment_intent"] = json!("pi_test_cart");
        o["amount_total"] = json!(4000);
        o["currency"] = json!("usd");
        o["payment_status"] = json!("paid");
    });
    let id = record_new(&pool, &completed).await;

    process_delivery::process(&ctx, id).await;

    let paid: Vec<(String, Option<String>, i64)> = sqlx::query_as(
        "SELECT o.status, o.payment_intent_id,
                (SELECT count(*) FROM payments p WHERE p.order_id = o.id)
           FROM orders o WHERE o.cart_id = $1 ORDER BY o.id",
    )
    .bind(cart)
    .fetch_all(&pool)
    .await
    .expect("query works");
    let expected = ("paid".to_owned(), Some("pi_test_cart".to_owned()), 1);
    assert_eq!(paid, vec![expected.clone(), expected]);
    let stock: Vec<(i32, i32)> =
        sqlx::query_as("SELECT stock_on_hand, reserved FROM products ORDER BY sku")
            .fetch_all(&pool)
            .await
            .expect("query works");
    assert_eq!(stock, [(4, 0), (4, 0)], "each hold became a sale");
    let details: Vec<String> = sqlx::query_scalar("SELECT detail FROM payments ORDER BY id")
        .fetch_all(&pool)
        .await
        .expect("query works");
    assert_eq!(
        details,
        ["paid", "paid"],
        "the cart's total matched what was charged"
    );

    // Applying the same event again (a replay) records and changes nothing.
    sqlx::query("UPDATE inbox SET status = 'queued', next_attempt_at = now() WHERE id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .expect("update works");
    process_delivery::process(&ctx, id).await;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM payments")
        .fetch_one(&pool)
        .await
        .expect("query works");
    assert_eq!(rows, 2);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn per_claim_mode_makes_a_session_per_order(pool: PgPool) {
    let stripe = stripe().await;
    let worker = test_worker_with(pool.clone(), env(&stripe, "per_claim", 600));
    let ctx = context(&worker);
    product(&pool, "SKU-CARTA", 1500).await;
    product(&pool, "SKU-CARTB", 2500).await;
    claim(&ctx, "buyer-fay", "SKU-CARTA").await;
    claim(&ctx, "buyer-fay", "SKU-CARTB").await;

    let orders = orders_of(&pool, "buyer-fay").await;
    assert!(orders.iter().all(|o| o.2.is_none()), "no carts: {orders:?}");
    let jobs: Vec<(JobId,)> =
        sqlx::query_as("SELECT id FROM jobs WHERE idempotency_key LIKE 'checkout:%' ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("query works");
    assert_eq!(jobs.len(), 2);
    for (job,) in jobs {
        run_job::process(&ctx, job).await;
    }
    let requests = session_requests(&stripe).await;
    assert_eq!(requests.len(), 2, "a session per order");
    for (request, order) in requests.iter().zip(&orders) {
        let form = form_fields(&request.body);
        assert_eq!(form.get("client_reference_id"), Some(&order.1));
    }
    let carts: i64 = sqlx::query_scalar("SELECT count(*) FROM carts")
        .fetch_one(&pool)
        .await
        .expect("query works");
    assert_eq!((carts, checkout_ready(&pool).await.len()), (0, 2));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_running_worker_settles_a_cart_on_its_own(pool: PgPool) {
    let stripe = stripe().await;
    let worker = spawn_worker_with(pool.clone(), env(&stripe, "live", 1)).await;
    product(&pool, "SKU-CARTA", 1500).await;
    let ctx = context(&worker);

    claim(&ctx, "buyer-gus", "SKU-CARTA").await;

    let pool_ref = &pool;
    wait_until("the cart's session is stored", PATIENCE, || async move {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM carts WHERE status = 'checkout' AND checkout_url IS NOT NULL",
        )
        .fetch_one(pool_ref)
        .await
        .expect("query works")
            == 1
    })
    .await;
    assert_eq!(session_requests(&stripe).await.len(), 1);
    assert_eq!(checkout_ready(&pool).await.len(), 1);
}
