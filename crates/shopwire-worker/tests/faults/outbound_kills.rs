//! docs/contract.md §13.7 through crashes: the worker process is SIGKILLed while outbound
//! requests are in flight to a receiver that stalls each one; a new process finishes the
//! job. Every event is answered 200 at least once, every delivery ends `processed`, and an
//! event sent twice is sent under one `webhook-id` with the same bytes.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shopwire_core::config::AppEnv;
use shopwire_core::db::endpoints;
use shopwire_core::outbound::{EndpointSecret, Subscription, UrlPolicy, check_url};
use sqlx::PgPool;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::support::{PATIENCE, RedisPrefix, count, database_url, release_database, wait_until};
use super::worker_process::{WorkerProcess, worker_env};

const EVENTS: i64 = 200;

/// One request the receiver got: its `webhook-id`, body and answer.
#[derive(Debug, Clone)]
struct Got {
    webhook_id: String,
    body: Vec<u8>,
    status: u16,
    at: Instant,
}

/// Every request the receiver got, in arrival order.
#[derive(Debug, Clone, Default)]
struct Log(Arc<Mutex<Vec<Got>>>);

impl Log {
    fn all(&self) -> Vec<Got> {
        self.0.lock().expect("not poisoned").clone()
    }

    /// Requests that arrived within `window` and are still stalled (not answered yet).
    fn in_flight(&self, window: Duration) -> usize {
        self.all()
            .iter()
            .filter(|g| g.at.elapsed() < window)
            .count()
    }
}

/// Answers every request after a stall of 1–2 s, with 500 for a `failing` share of them.
struct Stalling {
    failing: f64,
    log: Log,
}

/// The shortest stall: anything that arrived less than this ago is still unanswered.
const STALL_MIN_MS: u64 = 1_000;

impl Respond for Stalling {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let status = if rand::random_bool(self.failing) {
            500
        } else {
            200
        };
        self.log.0.lock().expect("not poisoned").push(Got {
            webhook_id: request.headers["webhook-id"]
                .to_str()
                .expect("text")
                .to_owned(),
            body: request.body.clone(),
            status,
            at: Instant::now(),
        });
        let stall = rand::random_range(STALL_MIN_MS..=2_000);
        ResponseTemplate::new(status).set_delay(Duration::from_millis(stall))
    }
}

/// A stalling receiver, registered as an endpoint for every event.
async fn receiver(pool: &PgPool, failing: f64) -> (MockServer, Log) {
    let server = MockServer::start().await;
    let log = Log::default();
    Mock::given(method("POST"))
        .respond_with(Stalling {
            failing,
            log: log.clone(),
        })
        .mount(&server)
        .await;
    let policy = UrlPolicy::for_env(AppEnv::Development, true);
    let url = check_url(&format!("{}/hooks", server.uri()), policy).expect("a local URL");
    endpoints::add(
        pool,
        &url,
        Some("stalling relay"),
        &Subscription::All,
        &EndpointSecret::generate(),
    )
    .await
    .expect("endpoint added");
    (server, log)
}

/// The worker's environment: the fault tests' short sweep, private addresses allowed, and
/// enough room for many stalled requests at once. The lease is 4 s, not 2, because an
/// attempt is bounded by three quarters of it and each request stalls up to 2 s.
fn env(pool: &PgPool, redis: &RedisPrefix) -> BTreeMap<String, String> {
    let mut env = worker_env(&database_url(pool), redis);
    for (key, value) in [
        ("OUTBOUND_ALLOW_PRIVATE", "true"),
        ("ORPHAN_TIMEOUT_SECS", "4"),
        ("SWEEP_AFTER_SECS", "1"),
        ("WORKER_CONCURRENCY", "32"),
        ("DATABASE_MAX_CONNECTIONS", "12"),
        ("JOB_BACKOFF_BASE_MS", "20"),
        ("JOB_BACKOFF_MAX_MS", "200"),
    ] {
        env.insert(key.to_owned(), value.to_owned());
    }
    env
}

/// `EVENTS` events in one transaction, each about its own claim (no ordering between them).
async fn emit_events(pool: &PgPool) {
    sqlx::query(
        "SELECT emit_event('claim.sold_out', 'kill-' || n, 'claim:' || n, NULL, NULL,
                           jsonb_build_object('n', n))
           FROM generate_series(1, $1) n",
    )
    .bind(EVENTS)
    .execute(pool)
    .await
    .expect("events emitted");
}

/// Start a worker, SIGKILL it while requests are stalled in flight, start another and let
/// it finish; then check that nothing was lost. Returns deliveries left mid-flight.
async fn kill_mid_delivery_then_finish(pool: &PgPool, log: &Log) -> i64 {
    let redis = RedisPrefix::new();
    let env = env(pool, &redis);
    let mut first = WorkerProcess::spawn(&env);
    emit_events(pool).await;
    wait_until("requests are in flight", PATIENCE, || async {
        log.all().len() >= 40 && log.in_flight(Duration::from_millis(STALL_MIN_MS / 2)) >= 4
    })
    .await;
    assert!(first.is_running(), "the worker did not crash on its own");
    first.kill().await;
    let left_processing = count(
        pool,
        "SELECT count(*) FROM outbound_deliveries WHERE status = 'processing'",
    )
    .await;

    let last = WorkerProcess::spawn(&env);
    wait_until("every delivery is processed", PATIENCE, || async {
        count(
            pool,
            "SELECT count(*) FROM outbound_deliveries WHERE status <> 'processed'",
        )
        .await
            == 0
    })
    .await;
    last.kill().await;
    left_processing
}

/// Every event's `webhook-id` answered 200, and each id's requests carry one body.
async fn assert_every_event_delivered_duplicates_identical(pool: &PgPool, log: &Log) -> usize {
    let expected: HashSet<String> = sqlx::query_scalar(
        "SELECT 'msg_' || d.event_id || '_' || d.endpoint_id FROM outbound_deliveries d",
    )
    .fetch_all(pool)
    .await
    .expect("deliveries read")
    .into_iter()
    .collect();
    assert_eq!(expected.len() as i64, EVENTS, "one delivery per event");
    let all = log.all();
    let answered: HashSet<String> = all
        .iter()
        .filter(|g| g.status == 200)
        .map(|g| g.webhook_id.clone())
        .collect();
    let missing: Vec<&String> = expected.difference(&answered).collect();
    assert!(missing.is_empty(), "never answered 200: {missing:?}");
    let mut bodies: BTreeMap<&str, HashSet<&[u8]>> = BTreeMap::new();
    for got in &all {
        bodies.entry(&got.webhook_id).or_default().insert(&got.body);
    }
    let differing: Vec<&&str> = bodies
        .iter()
        .filter(|(_, b)| b.len() > 1)
        .map(|(id, _)| id)
        .collect();
    assert!(
        differing.is_empty(),
        "sent again with other bytes: {differing:?}"
    );
    all.len() - bodies.len()
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_worker_killed_mid_delivery_loses_no_event_and_resends_the_same_bytes(pool: PgPool) {
    let (_server, log) = receiver(&pool, 0.0).await;

    let left_processing = kill_mid_delivery_then_finish(&pool, &log).await;

    let resent = assert_every_event_delivered_duplicates_identical(&pool, &log).await;
    assert!(
        left_processing > 0,
        "the kill left deliveries mid-flight, to be taken over"
    );
    println!(
        "outbound kill: {EVENTS} events, {left_processing} in flight at the SIGKILL, \
         {resent} requests were repeats of a webhook-id, lost 0"
    );
    release_database(&pool).await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_worker_killed_while_one_request_in_five_fails_still_delivers_every_event(pool: PgPool) {
    let (_server, log) = receiver(&pool, 0.2).await;

    let left_processing = kill_mid_delivery_then_finish(&pool, &log).await;

    let resent = assert_every_event_delivered_duplicates_identical(&pool, &log).await;
    let failed = log.all().iter().filter(|g| g.status == 500).count();
    assert!(failed > 0, "the receiver did fail some requests");
    println!(
        "outbound kill with failures: {EVENTS} events, {failed} answered 500, \
         {left_processing} in flight at the SIGKILL, {resent} repeats, lost 0"
    );
    release_database(&pool).await;
}
