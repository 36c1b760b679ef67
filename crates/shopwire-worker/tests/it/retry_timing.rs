//! Retries run when their backoff says, not when the sweeper next looks: against a
//! provider that keeps failing, attempt n+1 of a job starts within attempt n's backoff
//! ceiling plus one poll interval (and a small margin for the attempt itself), and the
//! job is dead right after its last attempt.
//!
//! apalis-redis schedules in whole seconds and hands a task over up to a second early;
//! the handler then found its row not due and dropped it, and every retry waited for the
//! sweeper (`SWEEP_AFTER_SECS`, 60 s here). These tests time real attempts through a
//! running worker to catch that.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shopwire_core::db::inbox::{self, Recorded};
use shopwire_core::db::jobs::JobId;
use shopwire_core::domain::{Delivery, Provider};
use shopwire_core::jobs::{InboxJob, Queue};
use shopwire_worker::pipeline::checkout;
use shopwire_worker::retry::RetryPolicy;
use shopwire_worker::tiktok_shop::ORDER_DETAIL_PATH;
use sqlx::PgPool;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::helpers::{TestWorker, spawn_worker_with, wait_until};
use crate::stripe_support::pending_order_with_checkout;

/// The test worker's `QUEUE_POLL_INTERVAL_MS`.
const POLL: Duration = Duration::from_millis(20);
/// Time an attempt itself may take (claim, the HTTP call, recording the failure) on a
/// loaded two-core machine.
const MARGIN: Duration = Duration::from_millis(400);
const ATTEMPTS: usize = 3;

/// Answers every request with `status` and notes when it came.
#[derive(Clone, Default)]
struct Stopwatch {
    seen: Arc<Mutex<Vec<Instant>>>,
}

impl Stopwatch {
    fn times(&self) -> Vec<Instant> {
        self.seen.lock().expect("not poisoned").clone()
    }
}

impl Respond for Stopwatch {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.seen.lock().expect("not poisoned").push(Instant::now());
        ResponseTemplate::new(500).set_body_json(serde_json::json!({
            "error": {"type": "api_error", "message": "An unknown error occurred"}
        }))
    }
}

fn env(stripe: &MockServer, base_ms: u64) -> impl FnOnce(&mut HashMap<String, String>) + use<> {
    let base = stripe.uri();
    move |env| {
        for (k, v) in [
            ("STRIPE_SECRET_KEY", "sk_test_shopwire_51H".to_owned()),
            ("STRIPE_API_BASE", base),
            (
                "CHECKOUT_SUCCESS_URL",
                "https://shop.example.com/thanks".into(),
            ),
            ("JOB_BACKOFF_BASE_MS", base_ms.to_string()),
            ("JOB_MAX_ATTEMPTS", ATTEMPTS.to_string()),
            ("QUEUE_POLL_INTERVAL_MS", POLL.as_millis().to_string()),
            ("SWEEP_AFTER_SECS", "60".into()),
        ] {
            env.insert(k.into(), v);
        }
    }
}

/// Long enough for every attempt to run on time, and then some.
fn run_budget(policy: RetryPolicy) -> Duration {
    (1..ATTEMPTS as u32)
        .map(|n| policy.ceiling(n) + POLL + MARGIN)
        .sum::<Duration>()
        + Duration::from_secs(5)
}

/// Each attempt began within its predecessor's ceiling (+ poll + margin), and the job
/// died right after the last one.
fn assert_on_time(times: &[Instant], policy: RetryPolicy, dead_at: Instant, base_ms: u64) {
    assert_eq!(times.len(), ATTEMPTS, "one request per attempt: {times:?}");
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    eprintln!("base {base_ms} ms: gaps between attempts {gaps:?}");
    for (n, gap) in (1..).zip(&gaps) {
        let bound = policy.ceiling(n) + POLL + MARGIN;
        assert!(
            *gap <= bound,
            "attempt {} started {gap:?} after attempt {n}; its backoff ceiling is {:?} (bound {bound:?})",
            n + 1,
            policy.ceiling(n),
        );
    }
    let last = *times.last().expect("attempts were made");
    assert!(
        dead_at - last <= MARGIN + POLL,
        "dead {:?} after the last attempt",
        dead_at - last
    );
}

async fn job_status(worker: &TestWorker, id: JobId) -> String {
    sqlx::query_scalar("SELECT status FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_one(&worker.pool)
        .await
        .expect("job exists")
}

/// Run a checkout job against a Stripe that always answers 500 and check each gap.
async fn failing_checkout_retries_on_time(pool: PgPool, base_ms: u64) {
    let stripe = MockServer::start().await;
    let stopwatch = Stopwatch::default();
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(stopwatch.clone())
        .expect(ATTEMPTS as u64)
        .mount(&stripe)
        .await;
    let mut worker = spawn_worker_with(pool, env(&stripe, base_ms)).await;
    let ctx = worker.context();
    let (_order, job) =
        pending_order_with_checkout(&ctx.pool, "SKU-RETRY", 3, Duration::from_secs(3600)).await;

    checkout::enqueue(&ctx, job).await;
    wait_until("the job is dead", run_budget(ctx.retry), || async {
        job_status(&worker, job).await == "dead"
    })
    .await;
    let dead_at = Instant::now();

    assert_on_time(&stopwatch.times(), ctx.retry, dead_at, base_ms);
    worker.wait_until_drained().await;
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn checkout_retries_follow_a_100_ms_backoff(pool: PgPool) {
    failing_checkout_retries_on_time(pool, 100).await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn checkout_retries_follow_the_default_one_second_backoff(pool: PgPool) {
    failing_checkout_retries_on_time(pool, 1000).await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn delivery_retries_follow_their_backoff_too(pool: PgPool) {
    // A TikTok Shop notification whose order detail the API keeps failing to give: the
    // inbox queues retry on the same schedule as `jobs` rows.
    let api = MockServer::start().await;
    let stopwatch = Stopwatch::default();
    Mock::given(method("GET"))
        .and(path(ORDER_DETAIL_PATH))
        .respond_with(stopwatch.clone())
        .expect(ATTEMPTS as u64)
        .mount(&api)
        .await;
    let stripe = MockServer::start().await;
    let tiktok = crate::tiktok_shop_api::with_api(&api);
    let mut worker = spawn_worker_with(pool, |e| {
        env(&stripe, 100)(e);
        tiktok(e);
    })
    .await;
    crate::tiktok_shop::add_product(&worker.pool, "SKU-TT", 5).await;
    let body = crate::tiktok_shop::fixture("order_status_change.awaiting_shipment");
    let delivery = Delivery::parse(Provider::TiktokShop, &body).expect("a valid body");
    let Recorded::New(id) = inbox::record(&worker.pool, Provider::TiktokShop, &delivery, &body)
        .await
        .expect("recorded")
    else {
        panic!("a fresh notification");
    };
    worker
        .queue
        .push(Queue::TiktokShop, &[InboxJob { inbox_id: id }])
        .await
        .expect("redis takes the job");

    let policy = worker.context().retry;
    wait_until("the delivery is dead", run_budget(policy), || async {
        worker.row(id).await.status == "dead"
    })
    .await;
    let dead_at = Instant::now();
    assert_on_time(&stopwatch.times(), policy, dead_at, 100);
    worker.stop().await.expect("clean shutdown");
}
