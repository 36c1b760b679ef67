//! The checkout job against a Stripe stand-in (wiremock): the session's form fields and
//! headers, retries under the same idempotency key, `Retry-After`, dead-lettering, and
//! the queue wiring that delivers the job to a running worker.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};
use shopwire_core::db::inbox;
use shopwire_core::db::jobs::{self, JobId, JobRow};
use shopwire_core::db::orders::{self, ReleasedAs};
use shopwire_core::domain::{Delivery, Provider};
use shopwire_core::jobs::Queue;
use shopwire_worker::context::JobContext;
use shopwire_worker::jobs::{process_delivery, run_job};
use shopwire_worker::pipeline::checkout;
use shopwire_worker::sweeper;
use sqlx::PgPool;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{PATIENCE, TestWorker, test_worker_with, wait_until};
use crate::stripe_support::{
    PRICE_CENTS, TestOrder, context, event, form_fields, pending_order,
    pending_order_with_checkout, record_new, status, stock,
};

const KEY: &str = "sk_test_shopwire_51H";
const TTL: Duration = Duration::from_secs(3600);
const SESSIONS: &str = "/v1/checkout/sessions";

fn stripe_env(stripe: &MockServer) -> impl FnOnce(&mut HashMap<String, String>) {
    let base = stripe.uri();
    move |env| {
        env.insert("STRIPE_SECRET_KEY".into(), KEY.into());
        env.insert("STRIPE_API_BASE".into(), base);
        env.insert(
            "CHECKOUT_SUCCESS_URL".into(),
            "https://shop.example.com/thanks".into(),
        );
        env.insert(
            "CHECKOUT_CANCEL_URL".into(),
            "https://shop.example.com/cart".into(),
        );
    }
}

fn session_created(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": id,
        "object": "checkout.session",
        "url": format!("https://checkout.stripe.com/c/pay/{id}"),
    }))
}

/// A pending order whose checkout job is created in the order's transaction, as the
/// message pipeline does; returns the order and the job (not pushed).
async fn order_with_job(ctx: &JobContext, sku: &str) -> (TestOrder, JobId) {
    pending_order_with_checkout(&ctx.pool, sku, 3, TTL).await
}

async fn job(pool: &PgPool, id: JobId) -> JobRow {
    jobs::get(pool, id)
        .await
        .expect("query works")
        .expect("job exists")
}

async fn checkout_columns(pool: &PgPool, order: &TestOrder) -> (Option<String>, Option<String>) {
    sqlx::query_as("SELECT checkout_session_id, checkout_url FROM orders WHERE id = $1")
        .bind(order.id)
        .fetch_one(pool)
        .await
        .expect("query works")
}

async fn make_due(pool: &PgPool, id: JobId) {
    sqlx::query("UPDATE jobs SET next_attempt_at = now() WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .expect("update works");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn without_a_stripe_key_a_buy_comment_makes_an_order_but_no_checkout_job(pool: PgPool) {
    let worker = test_worker_with(pool.clone(), |_| {});
    let ctx = context(&worker);
    pending_order(&pool, "SKU-NOSTRIPE", 3, TTL).await;
    let body = json!({
        "comment_id": "c-nostripe",
        "streamer": "live_host",
        "client": "buyer-nostripe",
        "message": "I'll take SKU-NOSTRIPE please!",
        "timestamp": Utc::now().to_rfc3339(),
    })
    .to_string();
    let delivery = Delivery::parse(Provider::Comments, body.as_bytes()).expect("a valid comment");
    let id = inbox::record(&pool, Provider::Comments, &delivery, body.as_bytes())
        .await
        .expect("recorded")
        .id();

    process_delivery::process(&ctx, id).await;

    let (orders, jobs): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM orders WHERE buyer = 'buyer-nostripe' AND status = 'pending'),
                (SELECT count(*) FROM jobs)",
    )
    .fetch_one(&pool)
    .await
    .expect("query works");
    assert_eq!((orders, jobs), (1, 0));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_checkout_job_creates_the_session_keyed_by_the_order_number(pool: PgPool) {
    let stripe = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(session_created("cs_test_created"))
        .expect(1)
        .mount(&stripe)
        .await;
    let worker = test_worker_with(pool.clone(), stripe_env(&stripe));
    let ctx = context(&worker);
    let (order, job_id) = order_with_job(&ctx, "SKU-CHECKOUT").await;
    let scheduled = job(&pool, job_id).await;
    assert_eq!(
        (scheduled.queue.as_str(), scheduled.subject_id),
        ("checkout", Some(order.id))
    );
    assert_eq!(
        scheduled.idempotency_key,
        format!("checkout:{}", order.number)
    );
    assert!(
        scheduled.inbox_id.is_some(),
        "tied to the message's delivery"
    );

    run_job::process(&ctx, job_id).await;

    let done = job(&pool, job_id).await;
    assert_eq!((done.status.as_str(), done.attempts), ("processed", 1));
    assert_eq!(
        checkout_columns(&pool, &order).await,
        (
            Some("cs_test_created".to_owned()),
            Some("https://checkout.stripe.com/c/pay/cs_test_created".to_owned())
        )
    );
    let requests = stripe.received_requests().await.expect("recording is on");
    let request = &requests[0];
    assert_eq!(
        request.headers.get("idempotency-key").map(|v| v.as_bytes()),
        Some(order.number.as_bytes())
    );
    let form = form_fields(&request.body);
    let expected: HashMap<String, String> = [
        ("mode", "payment".to_owned()),
        ("line_items[0][price_data][currency]", "usd".to_owned()),
        (
            "line_items[0][price_data][unit_amount]",
            PRICE_CENTS.to_string(),
        ),
        (
            "line_items[0][price_data][product_data][name]",
            "Vintage Windbreaker SKU-CHECKOUT".to_owned(),
        ),
        ("line_items[0][quantity]", "1".to_owned()),
        ("client_reference_id", order.number.clone()),
        ("metadata[order_id]", order.number.clone()),
        (
            "payment_intent_data[metadata][order_id]",
            order.number.clone(),
        ),
        ("expires_at", order.expires_at.timestamp().to_string()),
        ("success_url", "https://shop.example.com/thanks".to_owned()),
        ("cancel_url", "https://shop.example.com/cart".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(form, expected);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_stripe_500_is_retried_with_the_same_idempotency_key(pool: PgPool) {
    let stripe = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "error": {"type": "api_error", "message": "Something went wrong on Stripe's end."}
        })))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&stripe)
        .await;
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .respond_with(session_created("cs_test_retried"))
        .mount(&stripe)
        .await;
    let worker = test_worker_with(pool.clone(), stripe_env(&stripe));
    let ctx = context(&worker);
    let (order, job_id) = order_with_job(&ctx, "SKU-RETRY").await;

    run_job::process(&ctx, job_id).await;
    let failed = job(&pool, job_id).await;
    assert_eq!((failed.status.as_str(), failed.attempts), ("failed", 1));
    assert!(failed.last_error.unwrap_or_default().contains("500"));
    let depth = worker
        .queue
        .depth(Queue::Checkout)
        .await
        .expect("redis answers");
    assert_eq!(depth.pending + depth.scheduled, 1, "the retry is pushed");

    make_due(&pool, job_id).await;
    run_job::process(&ctx, job_id).await;

    let done = job(&pool, job_id).await;
    assert_eq!((done.status.as_str(), done.attempts), ("processed", 2));
    assert_eq!(done.last_error, None);
    assert_eq!(
        checkout_columns(&pool, &order).await.0.as_deref(),
        Some("cs_test_retried")
    );
    let requests = stripe.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(
            request.headers.get("idempotency-key").map(|v| v.as_bytes()),
            Some(order.number.as_bytes()),
            "the same key on every attempt"
        );
    }
    assert_eq!(
        requests[0].body, requests[1].body,
        "and the same parameters"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_429_schedules_the_next_attempt_no_earlier_than_retry_after(pool: PgPool) {
    let stripe = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "120")
                .set_body_json(
                    json!({"error": {"type": "rate_limit_error", "message": "Too many requests"}}),
                ),
        )
        .expect(1)
        .mount(&stripe)
        .await;
    let worker = test_worker_with(pool.clone(), stripe_env(&stripe));
    let ctx = context(&worker);
    let (_order, job_id) = order_with_job(&ctx, "SKU-429").await;
    let before = Utc::now();

    run_job::process(&ctx, job_id).await;

    let failed = job(&pool, job_id).await;
    assert_eq!(failed.status, "failed");
    assert!(
        failed.next_attempt_at >= before + chrono::Duration::seconds(120),
        "next attempt at {} is earlier than Retry-After allows (from {before})",
        failed.next_attempt_at
    );
    // A copy of the job arriving early finds it not yet due and leaves Stripe alone.
    run_job::process(&ctx, job_id).await;
    assert_eq!(job(&pool, job_id).await.attempts, 1);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_stripe_400_kills_the_job_into_the_dead_letter_queue(pool: PgPool) {
    let stripe = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": {
                "type": "invalid_request_error",
                "code": "parameter_invalid_integer",
                "message": "Invalid integer: abc",
                "param": "line_items[0][price_data][unit_amount]"
            }
        })))
        .expect(1)
        .mount(&stripe)
        .await;
    let worker = test_worker_with(pool.clone(), stripe_env(&stripe));
    let ctx = context(&worker);
    let (order, job_id) = order_with_job(&ctx, "SKU-400").await;

    run_job::process(&ctx, job_id).await;

    let dead = job(&pool, job_id).await;
    assert_eq!((dead.status.as_str(), dead.attempts), ("dead", 1));
    let (queue, dead_job, attempts, last_error): (String, Option<i64>, i32, String) =
        sqlx::query_as("SELECT queue, job_id, attempts, last_error FROM dead_jobs")
            .fetch_one(&pool)
            .await
            .expect("one dead job");
    assert_eq!(
        (queue.as_str(), dead_job, attempts),
        ("checkout", Some(job_id.get()), 1)
    );
    assert!(last_error.contains("400"), "{last_error}");
    assert!(
        last_error.contains("parameter_invalid_integer"),
        "{last_error}"
    );
    assert_eq!(checkout_columns(&pool, &order).await, (None, None));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_order_stripe_could_not_charge_dies_with_our_reason_without_calling_stripe(
    pool: PgPool,
) {
    let stripe = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .respond_with(session_created("cs_test_never"))
        .expect(0)
        .mount(&stripe)
        .await;
    let worker = test_worker_with(pool.clone(), stripe_env(&stripe));
    let ctx = context(&worker);
    // Rows from before `inventory set` checked prices: 30 cents, and 1.505 dinars (a
    // three-decimal amount whose last digit is not 0).
    let mut dead = Vec::new();
    for (sku, total, currency, reason) in [
        (
            "SKU-CHEAP",
            30,
            "usd",
            "0.30 usd is below Stripe's minimum charge of 0.50 usd",
        ),
        (
            "SKU-FILS",
            1505,
            "kwd",
            "1.505 kwd cannot be charged: Stripe charges kwd in steps of 0.010",
        ),
    ] {
        let (order, job_id) = order_with_job(&ctx, sku).await;
        sqlx::query("UPDATE orders SET total_cents = $2, currency = $3 WHERE id = $1")
            .bind(order.id)
            .bind(total)
            .bind(currency)
            .execute(&pool)
            .await
            .expect("update works");
        run_job::process(&ctx, job_id).await;
        let row = job(&pool, job_id).await;
        assert_eq!((row.status.as_str(), row.attempts), ("dead", 1), "{sku}");
        let error = row.last_error.unwrap_or_default();
        assert!(error.contains(&order.number), "{error}");
        assert!(error.contains(reason), "{error}");
        dead.push(order);
    }
    for order in &dead {
        assert_eq!(checkout_columns(&pool, order).await, (None, None));
    }
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_order_no_longer_pending_gets_no_session(pool: PgPool) {
    let stripe = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .respond_with(session_created("cs_test_never"))
        .expect(0)
        .mount(&stripe)
        .await;
    let worker = test_worker_with(pool.clone(), stripe_env(&stripe));
    let ctx = context(&worker);
    let (order, job_id) = order_with_job(&ctx, "SKU-GONE").await;
    let mut conn = pool.acquire().await.expect("connection");
    assert!(
        orders::release(&mut conn, order.id, ReleasedAs::Expired)
            .await
            .expect("release works")
    );
    drop(conn);

    run_job::process(&ctx, job_id).await;

    assert_eq!(job(&pool, job_id).await.status, "processed");
    assert_eq!(checkout_columns(&pool, &order).await, (None, None));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_running_worker_takes_a_pushed_checkout_job_and_the_session_id_finds_the_order(
    pool: PgPool,
) {
    let stripe = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .respond_with(session_created("cs_test_live"))
        .expect(1)
        .mount(&stripe)
        .await;
    let mut worker = test_worker_with(pool.clone(), stripe_env(&stripe));
    worker.start().await;
    let ctx = worker.context();
    let (order, job_id) = order_with_job(&ctx, "SKU-LIVE").await;

    checkout::enqueue(&ctx, job_id).await;
    wait_for_job(&worker, job_id, "processed").await;
    assert_eq!(
        checkout_columns(&pool, &order).await.0.as_deref(),
        Some("cs_test_live")
    );

    // A completion that names only the session (no reference of ours) finds the order.
    let completed = event("checkout.session.completed", |o| {
        o["id"] = Value::from("cs_test_live");
    });
    let id = record_new(&pool, &completed).await;
    process_delivery::process(&ctx, id).await;
    assert_eq!(status(&pool, &order).await, "paid");
    assert_eq!(stock(&pool, "SKU-LIVE").await, (2, 0));
    worker.wait_until_drained().await;
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_sweeper_pushes_checkout_jobs_redis_never_got_once_each(pool: PgPool) {
    let stripe = MockServer::start().await;
    let worker = test_worker_with(pool.clone(), stripe_env(&stripe));
    let ctx = context(&worker);
    let (_lost, lost_job) = order_with_job(&ctx, "SKU-LOST").await;
    let (_orphan, orphan_job) = order_with_job(&ctx, "SKU-ORPHAN").await;
    // One was never pushed; the other's worker died holding its lease.
    sqlx::query("UPDATE jobs SET next_attempt_at = now() - interval '2 minutes' WHERE id = $1")
        .bind(lost_job)
        .execute(&pool)
        .await
        .expect("update works");
    sqlx::query(
        "UPDATE jobs SET status = 'processing', attempts = 1,
                         next_attempt_at = now() - interval '5 minutes',
                         locked_until = now() - interval '1 second'
          WHERE id = $1",
    )
    .bind(orphan_job)
    .execute(&pool)
    .await
    .expect("update works");

    let after = Duration::from_secs(60);
    assert_eq!(sweeper::sweep_once(&ctx, after).await.expect("sweeps"), 2);
    assert_eq!(
        sweeper::sweep_once(&ctx, after).await.expect("sweeps"),
        0,
        "each is pushed once, not on every sweep"
    );
    let depth = worker
        .queue
        .depth(Queue::Checkout)
        .await
        .expect("redis answers");
    assert_eq!(depth.pending, 2);
}

async fn wait_for_job(worker: &TestWorker, id: JobId, status: &str) {
    wait_until(&format!("job {id} is {status}"), PATIENCE, || async move {
        job(&worker.pool, id).await.status == status
    })
    .await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_job_stripe_kept_failing_dies_then_a_replay_completes_it_once(pool: PgPool) {
    use shopwire_core::db::dead_letters::{self, DeadJobId, Replay};

    let stripe = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&stripe)
        .await;
    Mock::given(method("POST"))
        .and(path(SESSIONS))
        .respond_with(session_created("cs_test_after_replay"))
        .mount(&stripe)
        .await;
    let worker = test_worker_with(pool.clone(), |env| {
        stripe_env(&stripe)(env);
        env.insert("JOB_MAX_ATTEMPTS".into(), "3".into());
    });
    let ctx = context(&worker);
    let (order, job_id) = order_with_job(&ctx, "SKU-DLQ").await;

    // Stripe answers 500 three times: the job uses up its attempts and dies.
    for _ in 0..3 {
        make_due(&pool, job_id).await;
        run_job::process(&ctx, job_id).await;
    }
    assert_eq!(job(&pool, job_id).await.status, "dead");
    let (dead_id,): (i64,) = sqlx::query_as("SELECT id FROM dead_jobs WHERE job_id = $1")
        .bind(job_id)
        .fetch_one(&pool)
        .await
        .expect("a dead_jobs row");

    // Stripe is fixed; the operator replays the DLQ.
    let replayed = dead_letters::replay(&pool, DeadJobId::new(dead_id))
        .await
        .expect("replay runs");
    assert!(matches!(replayed, Replay::Replayed(_)), "{replayed:?}");
    run_job::process(&ctx, job_id).await;
    let done = job(&pool, job_id).await;
    assert_eq!((done.status.as_str(), done.attempts), ("processed", 1));
    assert_eq!(
        checkout_columns(&pool, &order).await.0.as_deref(),
        Some("cs_test_after_replay")
    );

    // A second replay does nothing.
    let again = dead_letters::replay(&pool, DeadJobId::new(dead_id))
        .await
        .expect("replay runs");
    assert_eq!(again, Replay::AlreadyReplayed);
    let requests = stripe.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 4);
    assert!(
        requests
            .iter()
            .all(|r| r.headers.get("idempotency-key").map(|v| v.as_bytes())
                == Some(order.number.as_bytes())),
        "every attempt, before and after the replay, carries the order number"
    );
}

/// Stripe refuses a hosted Checkout Session without `success_url`: the worker binary
/// refuses to start without one, in one line naming the variable, before touching
/// Postgres or Redis.
#[test]
fn the_worker_binary_refuses_to_start_with_a_stripe_key_and_no_success_url() {
    use std::process::{Command, Stdio};
    use std::time::Instant;

    let mut child = Command::new(env!("CARGO_BIN_EXE_shopwire-worker"))
        .env_clear()
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("REDIS_URL", "redis://127.0.0.1:1")
        .env("WORKER_PORT", "0")
        .env("STRIPE_SECRET_KEY", KEY)
        .env("CHECKOUT_CANCEL_URL", "https://shop.example.com/cart")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let deadline = Instant::now() + Duration::from_secs(15);
    while child.try_wait().expect("wait works").is_none() {
        if Instant::now() > deadline {
            child.kill().expect("kill works");
            let output = child.wait_with_output().expect("output");
            panic!("the worker started instead of refusing: {output:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    let line = stderr.strip_suffix('\n').unwrap_or(&stderr);
    assert!(!line.contains('\n'), "one line: {stderr}");
    assert!(
        line.starts_with("shopwire-worker: configuration error: CHECKOUT_SUCCESS_URL: "),
        "{stderr}"
    );
    assert!(!line.contains(KEY), "the key stays secret: {stderr}");
}
