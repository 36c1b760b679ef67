//! `spawn_app`: the real app, built by `App::build`, on port 0 against this test's own
//! Postgres database (from `#[sqlx::test]`) and its own Redis key prefix.

use std::collections::HashMap;
use std::future::pending;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use serde_json::Value;
use shopwire_core::config::Settings;
use shopwire_core::domain::Provider;
use shopwire_core::jobs::Queue;
use shopwire_core::signature::Verifier;
use shopwire_queue::QueueClient;
use shopwire_web::startup::App;
use sqlx::PgPool;
use tokio::task::JoinHandle;

/// Stripe's known-answer secret from `fixtures/test-vectors.json`.
pub const STRIPE_SECRET: &str = "whsec_test_5f0c1d2e3a4b5c6d7e8f9a0b1c2d3e4f";
/// TikTok Shop's published example app key and secret (`test-vectors.json`).
pub const TIKTOK_SHOP_APP_KEY: &str = "abcdef";
/// See [`TIKTOK_SHOP_APP_KEY`].
pub const TIKTOK_SHOP_APP_SECRET: &str = "123";
/// TikTok for Developers' client secret from `test-vectors.json`.
pub const TIKTOK_SECRET: &str = "test_client_secret_9f8e7d6c";
/// The comment relay's secret (no published vector: ours).
pub const COMMENTS_SECRET: &str = "comments_test_secret_2f9a";

/// The exact bytes of a fixture under `fixtures/`, e.g. `stripe/charge.refunded.json`.
pub use shopwire_testkit::fixture;

/// Unix seconds now.
pub fn unix_now() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    i64::try_from(since.as_secs()).expect("seconds fit in i64")
}

/// One inbox row, as the tests inspect it.
#[derive(Debug, sqlx::FromRow)]
pub struct InboxRow {
    pub id: i64,
    pub provider: String,
    pub dedupe_key: String,
    pub event_type: Option<String>,
    pub body: Vec<u8>,
    pub status: String,
    pub last_error: Option<String>,
}

/// A running app and what a test needs to talk to it and look behind it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// This test's database (the app has its own pool on the same database).
    pub pool: PgPool,
    /// What the app was built with.
    pub settings: Settings,
    /// The real Redis under this test's prefix, even when the app was given a dead one.
    pub queue: QueueClient,
    /// A client with a deadline, so a hung server fails the test instead of stalling it.
    pub client: reqwest::Client,
    redis_url: String,
    server: JoinHandle<anyhow::Result<()>>,
}

/// The environment every test app starts from; tests override single variables.
fn base_env(pool: &PgPool) -> HashMap<String, String> {
    let prefix = format!("test-{:016x}", rand::random::<u64>());
    [
        ("DATABASE_URL", shopwire_testkit::database_url(pool)),
        ("DATABASE_MAX_CONNECTIONS", "10".into()),
        ("REDIS_URL", shopwire_testkit::redis_url()),
        ("QUEUE_PREFIX", prefix),
        ("PORT", "0".into()),
        ("STRIPE_WEBHOOK_SECRETS", STRIPE_SECRET.into()),
        ("TIKTOK_SHOP_APP_KEY", TIKTOK_SHOP_APP_KEY.into()),
        ("TIKTOK_SHOP_APP_SECRETS", TIKTOK_SHOP_APP_SECRET.into()),
        ("TIKTOK_WEBHOOK_SECRETS", TIKTOK_SECRET.into()),
        ("COMMENTS_WEBHOOK_SECRETS", COMMENTS_SECRET.into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Settings from the default test environment (used to sign for routes the app has no
/// secret for).
fn settings_from(env: &HashMap<String, String>) -> Settings {
    Settings::from_lookup(|k| env.get(k).cloned()).expect("test settings are valid")
}

/// The app with the default test environment.
pub async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, |_| {}).await
}

/// The app with `configure` applied to the environment first (remove a secret, point
/// `DATABASE_URL` or `REDIS_URL` at a closed port, shrink `WEBHOOK_MAX_BODY_BYTES`).
pub async fn spawn_app_with(
    pool: PgPool,
    configure: impl FnOnce(&mut HashMap<String, String>),
) -> TestApp {
    let mut env = base_env(&pool);
    let redis_url = shopwire_testkit::redis_url();
    let prefix = env["QUEUE_PREFIX"].clone();
    configure(&mut env);
    let settings = settings_from(&env);
    let app = App::build(settings.clone()).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let server = tokio::spawn(app.run_until(pending()));
    let queue = QueueClient::lazy(&redis_url.clone().into(), &prefix, settings.orphan_timeout)
        .expect("REDIS_URL is valid");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client builds");
    TestApp {
        address,
        pool,
        settings,
        queue,
        client,
        redis_url,
        server,
    }
}

/// The signing verifier for `provider`: the app's, or the default test secrets' when the
/// app has none configured for that route.
fn signer(settings: &Settings, provider: Provider) -> Verifier {
    settings
        .verifier(provider)
        .unwrap_or_else(|| test_secrets_verifier(provider))
}

/// `provider`'s verifier under the default test secrets, whatever an app was given.
fn test_secrets_verifier(provider: Provider) -> Verifier {
    let env: HashMap<String, String> = [
        ("DATABASE_URL", "postgres://unused@127.0.0.1/unused"),
        ("STRIPE_WEBHOOK_SECRETS", STRIPE_SECRET),
        ("TIKTOK_SHOP_APP_KEY", TIKTOK_SHOP_APP_KEY),
        ("TIKTOK_SHOP_APP_SECRETS", TIKTOK_SHOP_APP_SECRET),
        ("TIKTOK_WEBHOOK_SECRETS", TIKTOK_SECRET),
        ("COMMENTS_WEBHOOK_SECRETS", COMMENTS_SECRET),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    settings_from(&env)
        .verifier(provider)
        .expect("the test secrets configure every route")
}

/// `(header name, header value)` for `body` signed at `t` with the default test secrets.
pub fn sign_with_test_secrets(provider: Provider, body: &[u8], t: i64) -> (&'static str, String) {
    let verifier = test_secrets_verifier(provider);
    let value = verifier.sign(body, t).expect("a configured verifier signs");
    (verifier.header_name(), value)
}

/// The path of `provider`'s webhook route.
pub fn route(provider: Provider) -> String {
    format!("/webhooks/{}", provider.route_slug())
}

impl TestApp {
    /// `(header name, header value)` signing `body` at unix time `t`, through the same
    /// `Verifier::sign` that `shopwire-admin send` uses.
    pub fn sign_at(&self, provider: Provider, body: &[u8], t: i64) -> (&'static str, String) {
        let verifier = signer(&self.settings, provider);
        let value = verifier.sign(body, t).expect("a configured verifier signs");
        (verifier.header_name(), value)
    }

    /// POST `body` to `provider`'s route, freshly signed.
    pub async fn post_signed(&self, provider: Provider, body: &[u8]) -> reqwest::Response {
        self.post_signed_at(provider, body, unix_now()).await
    }

    /// POST `body` to `provider`'s route, signed at `t`.
    pub async fn post_signed_at(
        &self,
        provider: Provider,
        body: &[u8],
        t: i64,
    ) -> reqwest::Response {
        let (name, value) = self.sign_at(provider, body, t);
        self.post_raw(&route(provider), &[(name, value.as_bytes())], body.to_vec())
            .await
    }

    /// POST exactly these headers and this body to `path`.
    pub async fn post_raw(
        &self,
        path: &str,
        headers: &[(&str, &[u8])],
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}{path}", self.address))
            .body(body);
        for (name, value) in headers {
            let value =
                reqwest::header::HeaderValue::from_bytes(value).expect("a sendable header value");
            request = request.header(*name, value);
        }
        request.send().await.expect("the server answers")
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("the server answers")
    }

    /// Every inbox row, oldest first.
    pub async fn inbox_rows(&self) -> Vec<InboxRow> {
        sqlx::query_as(
            "SELECT id, provider, dedupe_key, event_type, body, status, last_error FROM inbox ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .expect("inbox is readable")
    }

    /// Jobs waiting in `queue` (due now or scheduled), under this test's prefix.
    pub async fn queue_depth(&self, queue: Queue) -> u64 {
        let depth = self.queue.depth(queue).await.expect("redis answers");
        depth.pending + depth.scheduled
    }

    /// Jobs waiting in every queue.
    pub async fn total_queue_depth(&self) -> u64 {
        let mut total = 0;
        for queue in Queue::ALL {
            total += self.queue_depth(queue).await;
        }
        total
    }

    /// The arguments of every job pushed to `queue`, as JSON (apalis-redis keeps them in
    /// the `<queue>:data` hash).
    pub async fn job_args(&self, queue: Queue) -> Vec<Value> {
        let client = redis::Client::open(self.redis_url.as_str()).expect("REDIS_URL is valid");
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("redis answers");
        let key = format!("{}:data", queue.key(self.queue.prefix()));
        let values: Vec<Vec<u8>> = redis::cmd("HVALS")
            .arg(key)
            .query_async(&mut conn)
            .await
            .expect("HVALS works");
        values
            .iter()
            .map(|v| serde_json::from_slice(v).expect("job args are JSON"))
            .collect()
    }
}

impl Drop for TestApp {
    /// Stop serving (so `#[sqlx::test]` can drop the database) and delete this test's
    /// Redis keys; both best effort.
    fn drop(&mut self) {
        self.server.abort();
        let Ok(client) = redis::Client::open(self.redis_url.as_str()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_secs(1)) else {
            return;
        };
        let pattern = format!("{}:*", self.queue.prefix());
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(pattern)
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: Result<u64, _> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
    }
}

/// The status and JSON body of a response.
pub async fn json(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let bytes = response.bytes().await.expect("the body arrives");
    let value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{status}: body is not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, value)
}
