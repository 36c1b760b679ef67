//! Outbound events through the running worker (docs/contract.md §10, §13.7): a comment
//! claimer's relay hears `claim.reserved` then `order.checkout_ready` with the link, both
//! verified by the official Python library; an endpoint failing one request in five still
//! gets every event, duplicates only under the same `webhook-id`; events about one order
//! arrive in order; `Retry-After` is honoured and `410 Gone` disables the endpoint.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{Value, json};
use shopwire_core::db::endpoints;
use shopwire_core::db::inbox::{self, Recorded};
use shopwire_core::domain::{Delivery, Provider};
use shopwire_core::outbound::{EndpointSecret, Subscription, UrlPolicy, check_url};
use sqlx::PgPool;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::helpers::{PATIENCE, TestWorker, spawn_worker_with, wait_until};
use crate::outbound_sender::python_verifier::{python_accepts, received};

const STREAMER: &str = "thrift_queen";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// One request a receiver got, and what it answered.
#[derive(Debug, Clone)]
struct Got {
    webhook_id: String,
    event: Value,
    status: u16,
    at: Instant,
    request: Request,
}

impl Got {
    fn event_type(&self) -> &str {
        self.event["type"].as_str().unwrap_or_default()
    }
}

/// Every request a receiver got, in arrival order.
#[derive(Debug, Clone, Default)]
struct Log(Arc<std::sync::Mutex<Vec<Got>>>);

impl Log {
    fn all(&self) -> Vec<Got> {
        self.0.lock().expect("not poisoned").clone()
    }

    /// The requests answered with a 2xx.
    fn accepted(&self) -> Vec<Got> {
        self.all()
            .into_iter()
            .filter(|g| (200..300).contains(&g.status))
            .collect()
    }
}

/// How a receiver answers one request.
#[derive(Debug, Clone, Copy)]
struct Reply {
    status: u16,
    retry_after: Option<&'static str>,
}

fn reply(status: u16) -> Reply {
    Reply {
        status,
        retry_after: None,
    }
}

/// Answers each request with `answer(request, nth request so far)` and logs it.
struct Receiver<F> {
    answer: F,
    log: Log,
    seen: AtomicUsize,
}

impl<F: Fn(&Request, usize) -> Reply + Send + Sync> Respond for Receiver<F> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let n = self.seen.fetch_add(1, Ordering::SeqCst);
        let answer = (self.answer)(request, n);
        self.log.0.lock().expect("not poisoned").push(Got {
            webhook_id: request.headers["webhook-id"]
                .to_str()
                .expect("text")
                .to_owned(),
            event: serde_json::from_slice(&request.body).expect("a JSON event"),
            status: answer.status,
            at: Instant::now(),
            request: request.clone(),
        });
        let template = ResponseTemplate::new(answer.status);
        match answer.retry_after {
            Some(wait) => template.insert_header("retry-after", wait),
            None => template,
        }
    }
}

/// A receiver answering with `answer`, registered as an endpoint for every event.
async fn receiver(
    pool: &PgPool,
    answer: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static,
) -> (MockServer, Log) {
    let server = MockServer::start().await;
    let log = Log::default();
    Mock::given(method("POST"))
        .and(path("/hooks"))
        .respond_with(Receiver {
            answer,
            log: log.clone(),
            seen: AtomicUsize::new(0),
        })
        .mount(&server)
        .await;
    let policy = UrlPolicy::for_env(shopwire_core::config::AppEnv::Development, true);
    let url = check_url(&format!("{}/hooks", server.uri()), policy).expect("a local URL");
    let secret = EndpointSecret::parse(SECRET).expect("a whsec_ secret");
    endpoints::add(pool, &url, Some("relay"), &Subscription::All, &secret)
        .await
        .expect("endpoint added");
    (server, log)
}

fn env(stripe: Option<&MockServer>) -> impl FnOnce(&mut HashMap<String, String>) {
    let stripe = stripe.map(MockServer::uri);
    move |env| {
        env.insert("OUTBOUND_ALLOW_PRIVATE".into(), "true".into());
        env.insert("JOB_BACKOFF_BASE_MS".into(), "20".into());
        env.insert("JOB_BACKOFF_MAX_MS".into(), "200".into());
        env.insert("SWEEP_AFTER_SECS".into(), "1".into());
        if let Some(base) = stripe {
            env.insert("STRIPE_SECRET_KEY".into(), "sk_test_outbound".into());
            env.insert("STRIPE_API_BASE".into(), base);
            env.insert(
                "CHECKOUT_SUCCESS_URL".into(),
                "https://shop.example.com/thanks".into(),
            );
        }
    }
}

/// A product pinned on the streamer's live, so a bare "mine!" claims it.
async fn pinned(pool: &PgPool, sku: &str, stock: i32) {
    sqlx::query(
        "INSERT INTO products (sku, title, price_cents, currency, stock_on_hand)
         VALUES ($1, 'Vintage denim jacket', 4500, 'usd', $2)",
    )
    .bind(sku)
    .bind(stock)
    .execute(pool)
    .await
    .expect("product inserts");
    shopwire_core::db::live_pins::pin(pool, STREAMER, sku)
        .await
        .expect("pins");
}

/// Record and enqueue a live comment, as the web does; returns its comment id.
async fn comment(worker: &TestWorker, buyer: &str, text: &str) -> String {
    let comment_id = format!("c-{buyer}-{:08x}", rand::random::<u32>());
    let body = json!({
        "comment_id": comment_id,
        "streamer": STREAMER,
        "client": buyer,
        "message": text,
        "timestamp": Utc::now().to_rfc3339(),
    })
    .to_string();
    let delivery = Delivery::parse(Provider::Comments, body.as_bytes()).expect("a valid comment");
    let recorded = inbox::record(&worker.pool, Provider::Comments, &delivery, body.as_bytes())
        .await
        .expect("records");
    let Recorded::New(id) = recorded else {
        panic!("a new comment")
    };
    worker.enqueue(id).await;
    comment_id
}

/// The claimer's relay hears `claim.reserved`, then `order.checkout_ready` with the
/// Checkout link, each signed so that the official Python library verifies it.
#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_comment_claimer_hears_reserved_then_the_checkout_link_both_verifiable(pool: PgPool) {
    let stripe = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "cs_test_outbound",
            "object": "checkout.session",
            "url": "https://checkout.stripe.com/c/pay/cs_test_outbound",
        })))
        .mount(&stripe)
        .await;
    pinned(&pool, "JKT-1", 3).await;
    let (_server, log) = receiver(&pool, |_, _| reply(204)).await;
    let worker = spawn_worker_with(pool.clone(), env(Some(&stripe))).await;

    let comment_id = comment(&worker, "ana", "mine!").await;
    wait_until("two events accepted", PATIENCE, || async {
        log.accepted().len() >= 2
    })
    .await;

    let got = log.accepted();
    let types: Vec<&str> = got.iter().map(Got::event_type).collect();
    assert_eq!(types, ["claim.reserved", "order.checkout_ready"]);
    let reserved = &got[0].event["data"];
    assert_eq!(reserved["comment_id"], comment_id.as_str());
    assert_eq!(reserved["buyer"], "ana");
    assert_eq!(reserved["streamer"], STREAMER);
    assert_eq!(reserved["channel"], "comment");
    assert_eq!(reserved["sku"], "JKT-1");
    assert_eq!(reserved["quantity"], 1);
    assert_eq!(reserved["amount_cents"], 4500);
    assert_eq!(reserved["currency"], "usd");
    assert!(reserved["claim_id"].is_i64() && reserved["hold_expires_at"].is_string());
    let ready = &got[1].event["data"];
    assert_eq!(ready["order_number"], reserved["order_number"]);
    assert_eq!(
        ready["checkout_url"],
        "https://checkout.stripe.com/c/pay/cs_test_outbound"
    );
    assert!(ready["expires_at"].is_string());
    for delivery in &got {
        let signed = received(&delivery.request);
        assert!(
            python_accepts(SECRET, &signed, &signed.body),
            "the official library verifies {}",
            delivery.event_type()
        );
    }
}

/// §13.7: with one request in five failing, every claim's event still arrives, each under
/// one `webhook-id` carrying the same bytes on every retry; nothing is left undelivered.
#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_endpoint_failing_one_request_in_five_still_gets_every_event(pool: PgPool) {
    const BUYERS: usize = 30;
    pinned(&pool, "HOT-1", 20).await;
    let (_server, log) = receiver(&pool, |_, _| {
        if rand::random_range(0..5) == 0 {
            reply(500)
        } else {
            reply(200)
        }
    })
    .await;
    let worker = spawn_worker_with(pool.clone(), env(None)).await;
    for n in 0..BUYERS {
        comment(&worker, &format!("buyer-{n}"), "mine!").await;
    }
    let undelivered = || async {
        let (n,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM outbound_deliveries WHERE status <> 'processed'")
                .fetch_one(&pool)
                .await
                .expect("counts");
        n
    };
    wait_until(
        "every claim decided and its event delivered",
        PATIENCE,
        || async {
            let (claims,): (i64,) =
                sqlx::query_as("SELECT count(*) FROM claims WHERE outcome IS NOT NULL")
                    .fetch_one(&pool)
                    .await
                    .expect("counts");
            claims == BUYERS as i64 && undelivered().await == 0
        },
    )
    .await;

    let events: Vec<(String, String)> = sqlx::query_as(
        "SELECT 'msg_' || d.event_id || '_' || d.endpoint_id, e.event_type
           FROM outbound_deliveries d JOIN outbox_events e ON e.id = d.event_id",
    )
    .fetch_all(&pool)
    .await
    .expect("reads");
    let claim_events = events
        .iter()
        .filter(|(_, t)| t.starts_with("claim."))
        .count();
    assert_eq!(
        claim_events, BUYERS,
        "one claim event per claim: {events:?}"
    );
    let accepted: HashSet<String> = log.accepted().into_iter().map(|g| g.webhook_id).collect();
    let expected: HashSet<String> = events.into_iter().map(|(id, _)| id).collect();
    assert_eq!(accepted, expected, "every event delivered");
    let mut bodies: BTreeMap<String, HashSet<Vec<u8>>> = BTreeMap::new();
    for got in log.all() {
        bodies
            .entry(got.webhook_id)
            .or_default()
            .insert(got.request.body);
    }
    assert!(
        bodies.values().all(|b| b.len() == 1),
        "a retry sends the same bytes under the same webhook-id"
    );
    let failures = log.all().iter().filter(|g| g.status == 500).count();
    assert!(failures > 0, "the receiver did fail some requests");
}

/// An order's events reach the endpoint in the order they happened, even when the first
/// of them needs retries: `order.paid` is not sent before `order.checkout_ready` got in.
#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn events_about_one_order_arrive_in_the_order_they_happened(pool: PgPool) {
    let failing_first = Arc::new(AtomicUsize::new(0));
    let counter = failing_first.clone();
    let (_server, log) = receiver(&pool, move |request, _| {
        let event: Value = serde_json::from_slice(&request.body).expect("JSON");
        if event["type"] == "order.checkout_ready" && counter.fetch_add(1, Ordering::SeqCst) < 3 {
            reply(503)
        } else {
            reply(200)
        }
    })
    .await;
    let _worker = spawn_worker_with(pool.clone(), env(None)).await;
    let order =
        crate::stripe_support::pending_order(&pool, "ORD-SKU", 2, Duration::from_secs(600)).await;
    sqlx::query("UPDATE orders SET checkout_url = 'https://pay.example/x' WHERE id = $1")
        .bind(order.id)
        .execute(&pool)
        .await
        .expect("link set");
    sqlx::query("UPDATE orders SET status = 'paid' WHERE id = $1")
        .bind(order.id)
        .execute(&pool)
        .await
        .expect("paid");

    wait_until("two events accepted", PATIENCE, || async {
        log.accepted().len() >= 2
    })
    .await;
    let all = log.all();
    let first_paid = all
        .iter()
        .position(|g| g.event_type() == "order.paid")
        .expect("paid was sent");
    let ready_accepted = all
        .iter()
        .position(|g| g.event_type() == "order.checkout_ready" && g.status == 200)
        .expect("checkout_ready got in");
    assert!(
        ready_accepted < first_paid,
        "paid waited for checkout_ready: {:?}",
        all.iter()
            .map(|g| (g.event_type().to_owned(), g.status))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        failing_first.load(Ordering::SeqCst),
        4,
        "three failures, then accepted"
    );
}

/// `Retry-After` is honoured, and `410 Gone` disables the endpoint and ends the delivery
/// on the outbound DLQ.
#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn retry_after_is_waited_out_and_a_410_disables_the_endpoint(pool: PgPool) {
    let (_server, log) = receiver(&pool, |_, n| match n {
        0 => Reply {
            status: 429,
            retry_after: Some("1"),
        },
        _ => reply(410),
    })
    .await;
    let _worker = spawn_worker_with(pool.clone(), env(None)).await;
    sqlx::query("SELECT emit_event('claim.sold_out', 'k-410', 'claim:1', NULL, NULL, '{}')")
        .execute(&pool)
        .await
        .expect("emits");

    wait_until("the delivery is dead", PATIENCE, || async {
        let dead: Option<(String,)> =
            sqlx::query_as("SELECT status FROM outbound_deliveries WHERE status = 'dead'")
                .fetch_optional(&pool)
                .await
                .expect("reads");
        dead.is_some()
    })
    .await;
    let all = log.all();
    assert_eq!(all.len(), 2, "one 429, then the 410; nothing after");
    let waited = all[1].at - all[0].at;
    assert!(
        waited >= Duration::from_millis(950),
        "Retry-After: 1 waited out ({waited:?})"
    );
    let (disabled, reason): (bool, Option<String>) =
        sqlx::query_as("SELECT disabled_at IS NOT NULL, disabled_reason FROM endpoints")
            .fetch_one(&pool)
            .await
            .expect("reads");
    assert!(disabled, "the endpoint is disabled");
    assert!(reason.unwrap_or_default().contains("410"));
    let (queue,): (String,) =
        sqlx::query_as("SELECT queue FROM dead_jobs WHERE outbound_delivery_id IS NOT NULL")
            .fetch_one(&pool)
            .await
            .expect("a dead-letter row");
    assert_eq!(queue, "outbound");
}

/// `hold.expiring` is sent once, `HOLD_REMINDER_SECS` before an unpaid hold with a
/// checkout link lapses, with the link to send again.
#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_unpaid_hold_about_to_lapse_is_reminded_once(pool: PgPool) {
    let (_server, log) = receiver(&pool, |_, _| reply(200)).await;
    let order =
        crate::stripe_support::pending_order(&pool, "REMIND-1", 2, Duration::from_secs(30)).await;
    let later =
        crate::stripe_support::pending_order(&pool, "REMIND-2", 2, Duration::from_secs(3600)).await;
    for id in [order.id, later.id] {
        sqlx::query("UPDATE orders SET checkout_url = 'https://pay.example/' || id WHERE id = $1")
            .bind(id)
            .execute(&pool)
            .await
            .expect("link set");
    }
    let worker = spawn_worker_with(pool.clone(), |env| {
        env.insert("OUTBOUND_ALLOW_PRIVATE".into(), "true".into());
        env.insert("HOLD_REMINDER_SECS".into(), "60".into());
    })
    .await;

    wait_until("the reminder arrives", PATIENCE, || async {
        log.accepted()
            .iter()
            .any(|g| g.event_type() == "hold.expiring")
    })
    .await;
    // Later sweeps do not remind again.
    for _ in 0..2 {
        shopwire_worker::sweeper::remind_expiring_holds(&worker.context()).await;
    }
    let (events,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM outbox_events WHERE event_type = 'hold.expiring'")
            .fetch_one(&pool)
            .await
            .expect("counts");
    assert_eq!(events, 1, "one reminder event");
    let reminders: Vec<Got> = log
        .accepted()
        .into_iter()
        .filter(|g| g.event_type() == "hold.expiring")
        .collect();
    assert_eq!(
        reminders.len(),
        1,
        "one reminder, for the hold that lapses soon"
    );
    let data = &reminders[0].event["data"];
    assert_eq!(data["order_number"], order.number.as_str());
    assert_eq!(
        data["checkout_url"],
        format!("https://pay.example/{}", order.id)
    );
    assert!(data["expires_at"].is_string());
}
