//! Stripe as it really behaves, against a Stripe stand-in (wiremock): a retry sends the
//! bytes the first attempt sent, holds shorter than a session are enforced by expiring the
//! session before the stock goes back, delayed payments keep their hold, a payment that
//! lands after its hold lapsed is honoured or refunded, disputes find their order through
//! the charge, and a legacy `400 rate_limit` is retried.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};
use shopwire_core::db::jobs::{self, JobId};
use shopwire_core::db::orders;
use shopwire_core::db::products::{self, NewProduct};
use shopwire_core::jobs::Queue;
use shopwire_worker::context::JobContext;
use shopwire_worker::jobs::{process_delivery, run_job};
use shopwire_worker::sweeper;
use sqlx::PgPool;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TestWorker, test_worker_with};
use crate::stripe_support::{
    TestOrder, context, event, form_fields, pending_order, pending_order_with_checkout, record_new,
    session_event, status, stock,
};

const KEY: &str = "sk_test_shopwire_51H";
const SESSIONS: &str = "/v1/checkout/sessions";
const HOUR: Duration = Duration::from_secs(3600);

fn stripe_env(
    stripe: &MockServer,
    success_url: &str,
) -> impl FnOnce(&mut HashMap<String, String>) + use<> {
    let (base, success_url) = (stripe.uri(), success_url.to_owned());
    move |env| {
        env.insert("STRIPE_SECRET_KEY".into(), KEY.into());
        env.insert("STRIPE_API_BASE".into(), base);
        env.insert("CHECKOUT_SUCCESS_URL".into(), success_url);
    }
}

fn worker(pool: &PgPool, stripe: &MockServer) -> TestWorker {
    test_worker_with(
        pool.clone(),
        stripe_env(stripe, "https://shop.example.com/thanks"),
    )
}

fn session(id: &str, status: &str, payment_status: &str, pi: Option<&str>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": id, "object": "checkout.session", "status": status,
        "payment_status": payment_status, "payment_intent": pi,
        "url": format!("https://checkout.stripe.com/c/pay/{id}"),
    }))
}

async fn job_row(pool: &PgPool, id: JobId) -> jobs::JobRow {
    jobs::get(pool, id)
        .await
        .expect("query works")
        .expect("job exists")
}

async fn make_due(pool: &PgPool, id: JobId) {
    sqlx::query("UPDATE jobs SET next_attempt_at = now() WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .expect("update works");
}

/// Give `order` the Checkout Session `session_id`, as the checkout job would have.
async fn with_session(pool: &PgPool, order: &TestOrder, session_id: &str) {
    let mut conn = pool.acquire().await.expect("connection");
    orders::set_checkout(
        &mut conn,
        order.id,
        session_id,
        "https://checkout.stripe.com/x",
    )
    .await
    .expect("session stored");
}

/// Make `order`'s hold lapse now.
async fn lapse(pool: &PgPool, order: &TestOrder) {
    sqlx::query(
        "UPDATE reservations SET expires_at = now() - interval '1 second' WHERE order_id = $1",
    )
    .bind(order.id)
    .execute(pool)
    .await
    .expect("backdate");
}

/// The job that expires `order`'s session, if the sweeper made one.
async fn session_job(pool: &PgPool, order: &TestOrder) -> Option<JobId> {
    sqlx::query_scalar("SELECT id FROM jobs WHERE idempotency_key = $1")
        .bind(format!("expire-session:{}", order.number))
        .fetch_optional(pool)
        .await
        .expect("query works")
}

async fn awaiting(pool: &PgPool, order: &TestOrder) -> (bool, Option<String>) {
    sqlx::query_as("SELECT awaiting_payment, payment_intent_id FROM orders WHERE id = $1")
        .bind(order.id)
        .fetch_one(pool)
        .await
        .expect("order exists")
}

async fn apply_event(ctx: &JobContext, event: &Value) {
    let id = record_new(&ctx.pool, event).await;
    process_delivery::process(ctx, id).await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn every_retry_sends_the_first_attempts_bytes_even_after_edits(pool: PgPool) {
    let stripe = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&stripe)
        .await;
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .respond_with(session("cs_test_fixed", "open", "unpaid", None))
        .mount(&stripe)
        .await;
    let first = worker(&pool, &stripe);
    let (_order, job) = pending_order_with_checkout(&pool, "SKU-FIXED", 3, HOUR).await;
    run_job::process(&context(&first), job).await;
    assert_eq!(job_row(&pool, job).await.status, "failed");

    // Meanwhile the seller renames the product and the deployment's redirect changes.
    sqlx::query("UPDATE products SET title = 'Renamed jacket' WHERE sku = 'SKU-FIXED'")
        .execute(&pool)
        .await
        .expect("rename");
    let redeployed = test_worker_with(
        pool.clone(),
        stripe_env(&stripe, "https://shop.example.com/new-thanks"),
    );
    make_due(&pool, job).await;
    run_job::process(&context(&redeployed), job).await;

    assert_eq!(job_row(&pool, job).await.status, "processed");
    let requests = stripe.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].body, requests[1].body,
        "one idempotency key, one request"
    );
    let form = form_fields(&requests[1].body);
    assert_eq!(
        form["line_items[0][price_data][product_data][name]"],
        "Vintage Windbreaker SKU-FIXED"
    );
    assert_eq!(form["success_url"], "https://shop.example.com/thanks");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_hold_shorter_than_a_session_still_gets_a_session_of_stripes_minimum(pool: PgPool) {
    let stripe = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .respond_with(session("cs_test_short", "open", "unpaid", None))
        .expect(1)
        .mount(&stripe)
        .await;
    let w = worker(&pool, &stripe);
    let (order, job) =
        pending_order_with_checkout(&pool, "SKU-SHORT", 3, Duration::from_secs(120)).await;
    let before = Utc::now().timestamp();

    run_job::process(&context(&w), job).await;

    assert_eq!(job_row(&pool, job).await.status, "processed");
    let requests = stripe.received_requests().await.expect("recording is on");
    let expires_at: i64 = form_fields(&requests[0].body)["expires_at"]
        .parse()
        .expect("a unix time");
    assert!(
        expires_at >= before + 30 * 60 && expires_at > order.expires_at.timestamp(),
        "Stripe refuses sessions under 30 minutes: expires_at {expires_at}, sent at {before}"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_lapsed_hold_is_released_only_after_stripe_expires_its_session(pool: PgPool) {
    let stripe = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions/cs_test_lapse/expire"))
        .respond_with(session("cs_test_lapse", "expired", "unpaid", None))
        .expect(1)
        .mount(&stripe)
        .await;
    let w = worker(&pool, &stripe);
    let ctx = context(&w);
    let order = pending_order(&pool, "SKU-LAPSE", 1, HOUR).await;
    with_session(&pool, &order, "cs_test_lapse").await;
    lapse(&pool, &order).await;

    sweeper::lapse_holds(&ctx).await;
    assert_eq!(status(&pool, &order).await, "pending");
    assert_eq!(
        stock(&pool, "SKU-LAPSE").await,
        (1, 1),
        "the unit stays held while the session may still be paid"
    );
    let job = session_job(&pool, &order).await.expect("an expiry job");
    sweeper::lapse_holds(&ctx).await;
    assert_eq!(
        session_job(&pool, &order).await,
        Some(job),
        "one job per order, however often the sweeper runs"
    );

    run_job::process(&ctx, job).await;

    assert_eq!(job_row(&pool, job).await.status, "processed");
    assert_eq!(status(&pool, &order).await, "expired");
    assert_eq!(stock(&pool, "SKU-LAPSE").await, (1, 0));
    let requests = stripe.received_requests().await.expect("recording is on");
    assert_eq!(
        requests[0]
            .headers
            .get("idempotency-key")
            .map(|v| v.to_str().expect("ascii")),
        Some(format!("expire-session:{}", order.number).as_str())
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_session_paid_in_the_last_second_makes_the_lapsed_order_paid(pool: PgPool) {
    let stripe = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions/cs_test_late/expire"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "type": "invalid_request_error",
            "message": "Only Checkout Sessions with a status in [\"open\"] can be expired."}})))
        .mount(&stripe)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/checkout/sessions/cs_test_late"))
        .respond_with(session("cs_test_late", "complete", "paid", Some("pi_late")))
        .mount(&stripe)
        .await;
    let w = worker(&pool, &stripe);
    let ctx = context(&w);
    let order = pending_order(&pool, "SKU-LASTSEC", 1, HOUR).await;
    with_session(&pool, &order, "cs_test_late").await;
    lapse(&pool, &order).await;
    sweeper::lapse_holds(&ctx).await;
    let job = session_job(&pool, &order).await.expect("an expiry job");

    run_job::process(&ctx, job).await;

    assert_eq!(status(&pool, &order).await, "paid");
    assert_eq!(
        stock(&pool, "SKU-LASTSEC").await,
        (0, 0),
        "the unit is sold"
    );
    assert_eq!(awaiting(&pool, &order).await.1.as_deref(), Some("pi_late"));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_delayed_payment_keeps_its_hold_past_expiry_until_it_succeeds(pool: PgPool) {
    let stripe = MockServer::start().await;
    let w = worker(&pool, &stripe);
    let ctx = context(&w);
    let order = pending_order(&pool, "SKU-ACH", 1, HOUR).await;
    with_session(&pool, &order, "cs_test_ach").await;
    let mut completed = session_event(
        "checkout.session.completed",
        &order,
        "cs_test_ach",
        Some("pi_ach"),
    );
    completed["data"]["object"]["payment_status"] = Value::from("unpaid");
    apply_event(&ctx, &completed).await;
    assert_eq!(
        awaiting(&pool, &order).await,
        (true, Some("pi_ach".to_owned()))
    );

    lapse(&pool, &order).await;
    sweeper::lapse_holds(&ctx).await;
    assert_eq!(status(&pool, &order).await, "pending");
    assert_eq!(stock(&pool, "SKU-ACH").await, (1, 1), "still held");
    assert_eq!(
        session_job(&pool, &order).await,
        None,
        "no expiry while paying"
    );
    assert!(
        stripe
            .received_requests()
            .await
            .expect("recording")
            .is_empty()
    );

    let mut succeeded = event("checkout.session.completed", |_| {});
    succeeded["type"] = Value::from("checkout.session.async_payment_succeeded");
    succeeded["data"]["object"] = completed["data"]["object"].clone();
    succeeded["data"]["object"]["payment_status"] = Value::from("paid");
    apply_event(&ctx, &succeeded).await;
    assert_eq!(status(&pool, &order).await, "paid");
    assert_eq!(stock(&pool, "SKU-ACH").await, (0, 0));
    assert!(
        !awaiting(&pool, &order).await.0,
        "no longer awaiting payment"
    );
}

/// An order whose hold lapsed without Stripe (released by the sweeper), session `cs`.
async fn expired_order(ctx: &JobContext, sku: &str, cs: &str) -> TestOrder {
    let order = pending_order(&ctx.pool, sku, 1, HOUR).await;
    with_session(&ctx.pool, &order, cs).await;
    lapse(&ctx.pool, &order).await;
    let released = orders::expire_reservations(&ctx.pool, 10, None)
        .await
        .expect("expiry runs");
    assert_eq!(released.released, 1);
    order
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_payment_after_the_hold_lapsed_is_honoured_while_stock_remains(pool: PgPool) {
    let stripe = MockServer::start().await;
    let w = worker(&pool, &stripe);
    let ctx = context(&w);
    let order = expired_order(&ctx, "SKU-HONOUR", "cs_test_honour").await;
    assert_eq!(stock(&pool, "SKU-HONOUR").await, (1, 0));

    let paid = session_event(
        "checkout.session.completed",
        &order,
        "cs_test_honour",
        Some("pi_honour"),
    );
    apply_event(&ctx, &paid).await;

    assert_eq!(status(&pool, &order).await, "paid");
    assert_eq!(stock(&pool, "SKU-HONOUR").await, (0, 0));
    assert!(
        stripe
            .received_requests()
            .await
            .expect("recording")
            .is_empty(),
        "nothing to refund"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_payment_after_the_hold_lapsed_and_the_unit_sold_is_refunded_once(pool: PgPool) {
    let stripe = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(body_string_contains("payment_intent=pi_gone"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "re_test_1", "object": "refund", "status": "succeeded"})))
        .expect(1)
        .mount(&stripe)
        .await;
    let w = worker(&pool, &stripe);
    let ctx = context(&w);
    let order = expired_order(&ctx, "SKU-GONE", "cs_test_gone").await;
    // The unit went to someone else meanwhile.
    products::upsert(
        &pool,
        &NewProduct {
            sku: "SKU-GONE".into(),
            title: "Vintage Windbreaker SKU-GONE".into(),
            price_cents: 4999,
            currency: "usd".into(),
            stock_on_hand: 0,
            ..Default::default()
        },
    )
    .await
    .expect("sold elsewhere");

    let paid = session_event(
        "checkout.session.completed",
        &order,
        "cs_test_gone",
        Some("pi_gone"),
    );
    apply_event(&ctx, &paid).await;
    assert_eq!(status(&pool, &order).await, "expired", "not oversold");
    let refund: JobId = sqlx::query_scalar("SELECT id FROM jobs WHERE idempotency_key = $1")
        .bind(format!("refund:{}", order.number))
        .fetch_one(&pool)
        .await
        .expect("a refund job in the event's transaction");
    let depth = w.queue.depth(Queue::Checkout).await.expect("redis answers");
    assert_eq!(depth.pending, 1, "pushed after commit");

    run_job::process(&ctx, refund).await;
    run_job::process(&ctx, refund).await;

    assert_eq!(job_row(&pool, refund).await.status, "processed");
    let requests = stripe.received_requests().await.expect("recording");
    assert_eq!(requests.len(), 1, "refunded once");
    assert_eq!(
        requests[0]
            .headers
            .get("idempotency-key")
            .map(|v| v.to_str().expect("ascii")),
        Some(format!("refund:{}", order.number).as_str())
    );
    assert_eq!(
        form_fields(&requests[0].body)["metadata[order_id]"],
        order.number
    );
    let (total,): (i64,) = sqlx::query_as("SELECT total_cents FROM orders WHERE id = $1")
        .bind(order.id)
        .fetch_one(&pool)
        .await
        .expect("reads");
    assert_eq!(
        form_fields(&requests[0].body)["amount"],
        total.to_string(),
        "the order's own total, never more"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_dispute_naming_only_its_charge_finds_the_order_through_stripe(pool: PgPool) {
    let stripe = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/charges/ch_test_disputed"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "ch_test_disputed", "object": "charge", "payment_intent": "pi_disputed"})))
        .expect(1)
        .mount(&stripe)
        .await;
    let w = worker(&pool, &stripe);
    let ctx = context(&w);
    let order = pending_order(&pool, "SKU-DISPUTE", 1, HOUR).await;
    let paid = session_event(
        "checkout.session.completed",
        &order,
        "cs_test_dispute",
        Some("pi_disputed"),
    );
    apply_event(&ctx, &paid).await;
    assert_eq!(status(&pool, &order).await, "paid");

    let dispute = event("charge.dispute.created", |o| {
        o["payment_intent"] = Value::Null;
        o["charge"] = Value::from("ch_test_disputed");
        o["metadata"] = json!({});
    });
    apply_event(&ctx, &dispute).await;

    let disputed: bool = sqlx::query_scalar("SELECT disputed FROM orders WHERE id = $1")
        .bind(order.id)
        .fetch_one(&pool)
        .await
        .expect("order exists");
    assert!(disputed, "the dispute reached its order");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_legacy_400_rate_limit_is_retried_not_dead_lettered(pool: PgPool) {
    let stripe = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "type": "invalid_request_error", "code": "rate_limit",
            "message": "Too many requests hit the API too quickly."}})))
        .mount(&stripe)
        .await;
    let w = worker(&pool, &stripe);
    let (_order, job) = pending_order_with_checkout(&pool, "SKU-RATE", 3, HOUR).await;

    run_job::process(&context(&w), job).await;

    let row = job_row(&pool, job).await;
    assert_eq!((row.status.as_str(), row.attempts), ("failed", 1));
    assert!(
        row.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("rate_limit")
    );
}
