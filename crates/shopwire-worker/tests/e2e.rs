//! End to end: the real web and the real worker, real Postgres and Redis, Stripe mocked.
//! Signed live comments become orders with checkout links; Stripe's signed events pay and
//! expire them; a repeated event changes nothing.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use shopwire_core::config::Settings;
use shopwire_core::db::{live_pins, products};
use shopwire_core::domain::Provider;
use shopwire_web::startup::App;
use shopwire_worker::startup::Worker;
use sqlx::PgPool;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const PATIENCE: Duration = Duration::from_secs(20);

/// Stripe's Checkout Sessions endpoint: a session per order, named after it.
struct CheckoutSessions;

impl Respond for CheckoutSessions {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body = String::from_utf8_lossy(&request.body).into_owned();
        let order = body
            .split('&')
            .find_map(|pair| pair.strip_prefix("client_reference_id="))
            .unwrap_or("unknown")
            .to_owned();
        ResponseTemplate::new(200).set_body_json(json!({
            "id": format!("cs_test_{order}"),
            "object": "checkout.session",
            "url": format!("https://checkout.stripe.com/c/pay/cs_test_{order}"),
        }))
    }
}

struct System {
    pool: PgPool,
    settings: Settings,
    web: String,
    http: reqwest::Client,
}

impl System {
    async fn start(pool: PgPool, stripe: &MockServer) -> System {
        let env: HashMap<String, String> = [
            ("DATABASE_URL", shopwire_testkit::database_url(&pool)),
            ("REDIS_URL", shopwire_testkit::redis_url()),
            (
                "QUEUE_PREFIX",
                format!("e2e-{:016x}", rand::random::<u64>()),
            ),
            ("QUEUE_POLL_INTERVAL_MS", "20".into()),
            // The default fairness window; sold-out viewers are told so, not waitlisted.
            ("WAITLIST_MAX", "0".into()),
            ("PORT", "0".into()),
            ("WORKER_PORT", "0".into()),
            ("COMMENTS_WEBHOOK_SECRETS", "e2e_comments_secret".into()),
            ("STRIPE_WEBHOOK_SECRETS", "whsec_e2e".into()),
            ("STRIPE_SECRET_KEY", "sk_test_e2e".into()),
            ("STRIPE_API_BASE", stripe.uri()),
            (
                "CHECKOUT_SUCCESS_URL",
                "https://shop.example.com/thanks".into(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let settings = Settings::from_lookup(|k| env.get(k).cloned()).expect("valid settings");
        let app = App::build(settings.clone()).await.expect("web builds");
        let web = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until(std::future::pending()));
        let worker = Worker::build(settings.clone())
            .await
            .expect("worker builds");
        tokio::spawn(worker.run_until(std::future::pending()));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        System {
            pool,
            settings,
            web,
            http,
        }
    }

    /// Sign `body` the way the provider would and POST it; returns the JSON answer.
    async fn deliver(&self, provider: Provider, body: &str) -> Value {
        let verifier = self.settings.verifier(provider).expect("route configured");
        let now = chrono::Utc::now().timestamp();
        let signature = verifier.sign(body.as_bytes(), now).expect("has a secret");
        let response = self
            .http
            .post(format!("{}/webhooks/{}", self.web, provider.route_slug()))
            .header(verifier.header_name(), signature)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("web answers");
        assert_eq!(response.status(), 200, "delivery refused");
        response.json().await.expect("json answer")
    }

    async fn scalar(&self, sql: &'static str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(sql)
            .fetch_one(&self.pool)
            .await
            .expect("query");
        n
    }

    async fn wait_until(&self, what: &str, sql: &'static str, expected: i64) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let got = self.scalar(sql).await;
            if got == expected {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting until {what} (at {got})"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn stock(&self) -> (i32, i32) {
        let p = products::get(&self.pool, "E2E-JACKET")
            .await
            .expect("query")
            .expect("exists");
        (p.stock_on_hand, p.reserved)
    }
}

/// A Stripe event for one of our orders, shaped like the fixture it starts from.
fn stripe_event(fixture: &str, event_id: &str, order: &str, session: &str) -> String {
    let mut event = shopwire_testkit::fixture_json(&format!("stripe/{fixture}"));
    event["id"] = json!(event_id);
    let object = &mut event["data"]["object"];
    object["id"] = json!(session);
    object["client_reference_id"] = json!(order);
    object["metadata"]["order_id"] = json!(order);
    serde_json::to_string_pretty(&event).expect("serializes")
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn live_comments_become_orders_that_stripe_pays_and_expires(pool: PgPool) {
    let stripe = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(CheckoutSessions)
        .mount(&stripe)
        .await;
    products::upsert(
        &pool,
        &products::NewProduct {
            sku: "E2E-JACKET".into(),
            title: "Blue Denim Jacket".into(),
            price_cents: 4999,
            currency: "usd".into(),
            stock_on_hand: 3,
            ..Default::default()
        },
    )
    .await
    .expect("product");
    live_pins::pin(&pool, "jane_live", "E2E-JACKET")
        .await
        .expect("pinned");
    let system = System::start(pool, &stripe).await;

    // Five viewers want the pinned jacket; there are three.
    for n in 0..5 {
        let comment = json!({
            "comment_id": format!("e2e-comment-{n}"),
            "streamer": "jane_live",
            "client": format!("viewer_{n}"),
            "message": "I'll take it!",
            "timestamp": chrono::Utc::now().to_rfc3339(),
        });
        let answer = system
            .deliver(Provider::Comments, &comment.to_string())
            .await;
        assert_eq!(answer["status"], "accepted");
    }
    system
        .wait_until(
            "three orders have checkout links",
            "SELECT count(*) FROM orders WHERE status = 'pending' AND checkout_url IS NOT NULL",
            3,
        )
        .await;
    system
        .wait_until(
            "two viewers are told it sold out",
            "SELECT count(*) FROM messages WHERE outcome = 'sold_out'",
            2,
        )
        .await;
    assert_eq!(system.stock().await, (3, 3));

    let orders: Vec<(String, String)> =
        sqlx::query_as("SELECT order_number, checkout_session_id FROM orders ORDER BY id")
            .fetch_all(&system.pool)
            .await
            .expect("orders");
    let (paid_order, paid_session) = &orders[0];
    let (expired_order, expired_session) = &orders[1];

    // The first buyer pays.
    let completed = stripe_event(
        "checkout.session.completed.json",
        "evt_e2e_paid",
        paid_order,
        paid_session,
    );
    assert_eq!(
        system.deliver(Provider::Stripe, &completed).await["status"],
        "accepted"
    );
    system
        .wait_until(
            "the order is paid",
            "SELECT count(*) FROM orders WHERE status = 'paid'",
            1,
        )
        .await;
    assert_eq!(
        system.stock().await,
        (2, 2),
        "payment turns the hold into a stock decrement"
    );

    // The second lets the session expire.
    let expired = stripe_event(
        "checkout.session.expired.json",
        "evt_e2e_expired",
        expired_order,
        expired_session,
    );
    assert_eq!(
        system.deliver(Provider::Stripe, &expired).await["status"],
        "accepted"
    );
    system
        .wait_until(
            "the order expires",
            "SELECT count(*) FROM orders WHERE status = 'expired'",
            1,
        )
        .await;
    assert_eq!(system.stock().await, (2, 1), "expiry releases the hold");

    // Stripe retries the completion: a duplicate, and nothing moves.
    assert_eq!(
        system.deliver(Provider::Stripe, &completed).await["status"],
        "duplicate"
    );
    system
        .wait_until(
            "every delivery is finished",
            "SELECT count(*) FROM inbox WHERE status NOT IN ('processed', 'ignored')",
            0,
        )
        .await;
    assert_eq!(system.stock().await, (2, 1));
    assert_eq!(system.scalar("SELECT count(*) FROM payments").await, 2);
    assert_eq!(
        system
            .scalar("SELECT count(*) FROM orders WHERE status = 'paid'")
            .await,
        1
    );
    assert_eq!(
        stripe.received_requests().await.expect("recorded").len(),
        3,
        "one Checkout Session per order"
    );
}

/// The jacket, pinned in jane_live's live.
async fn pinned_jacket(pool: &PgPool) {
    products::upsert(
        pool,
        &products::NewProduct {
            sku: "E2E-JACKET".into(),
            title: "Blue Denim Jacket".into(),
            price_cents: 4999,
            currency: "usd".into(),
            stock_on_hand: 3,
            ..Default::default()
        },
    )
    .await
    .expect("product");
    live_pins::pin(pool, "jane_live", "E2E-JACKET")
        .await
        .expect("pinned");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_comment_with_nul_bytes_is_processed_once_not_retried(pool: PgPool) {
    let stripe = MockServer::start().await;
    pinned_jacket(&pool).await;
    let system = System::start(pool, &stripe).await;

    // Postgres TEXT refuses NUL (SQLSTATE 22021): stored as it came, the message would
    // fail its insert on every attempt.
    let comment = json!({
        "comment_id": "e2e-nul",
        "streamer": "jane_live",
        "client": "viewer\u{0}nul",
        "message": "I'll take it!\u{0} \u{0}",
        "timestamp": chrono::Utc::now().to_rfc3339(),
    });
    let body = comment.to_string();
    assert!(body.contains("\\u0000"), "{body}");
    let answer = system.deliver(Provider::Comments, &body).await;
    assert_eq!(answer["status"], "accepted");

    system
        .wait_until(
            "the delivery is processed at its first attempt",
            "SELECT count(*) FROM inbox WHERE status = 'processed' AND attempts = 1",
            1,
        )
        .await;
    let (buyer, text, intent): (String, String, String) =
        sqlx::query_as("SELECT buyer, text, intent FROM messages")
            .fetch_one(&system.pool)
            .await
            .expect("the message is stored");
    assert_eq!(buyer, "viewer\u{FFFD}nul");
    assert_eq!(text, "I'll take it!\u{FFFD} \u{FFFD}");
    assert_eq!(intent, "buy");
    system
        .wait_until(
            "the buy is claimed and reserved",
            "SELECT count(*) FROM claims WHERE buyer = 'viewer' || chr(65533) || 'nul'
                AND outcome = 'reserved'",
            1,
        )
        .await;
    let stored: Vec<u8> = sqlx::query_scalar("SELECT body FROM inbox")
        .fetch_one(&system.pool)
        .await
        .expect("the body is kept");
    assert_eq!(
        stored,
        body.as_bytes(),
        "the inbox keeps the body byte-exact"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_long_comment_is_read_and_stored_capped_while_the_inbox_keeps_it_whole(pool: PgPool) {
    let stripe = MockServer::start().await;
    pinned_jacket(&pool).await;
    let system = System::start(pool, &stripe).await;

    let message = format!("I'll take it! {}", "ñandú wxyz ".repeat(8_000));
    let comment = json!({
        "comment_id": "e2e-long",
        "streamer": "jane_live",
        "client": "viewer_long",
        "message": message,
        "timestamp": chrono::Utc::now().to_rfc3339(),
    });
    let body = comment.to_string();
    assert_eq!(
        system.deliver(Provider::Comments, &body).await["status"],
        "accepted"
    );
    system
        .wait_until(
            "the buy is claimed and reserved",
            "SELECT count(*) FROM claims WHERE outcome = 'reserved'",
            1,
        )
        .await;
    let text: String = sqlx::query_scalar("SELECT text FROM messages")
        .fetch_one(&system.pool)
        .await
        .expect("the message is stored");
    let cap = system.settings.edge.message_max_chars;
    let expected: String = message.chars().take(cap).collect();
    assert_eq!(text.chars().count(), cap);
    assert_eq!(text, expected, "the first MESSAGE_MAX_CHARS characters");
    let stored: Vec<u8> = sqlx::query_scalar("SELECT body FROM inbox")
        .fetch_one(&system.pool)
        .await
        .expect("the body is kept");
    assert_eq!(
        stored,
        body.as_bytes(),
        "the inbox keeps the body byte-exact"
    );
}
