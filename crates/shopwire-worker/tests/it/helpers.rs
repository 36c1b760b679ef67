//! A real worker, built by `Worker::build`, against this test's own Postgres database
//! (from `#[sqlx::test]`), its own Redis key prefix and health port 0; plus the tools to
//! feed it deliveries, look behind it, and wait for conditions instead of sleeping.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use shopwire_core::config::Settings;
use shopwire_core::db::inbox::{self, InboxId, Recorded};
use shopwire_core::domain::{Delivery, Provider};
use shopwire_core::jobs::{InboxJob, Queue};
use shopwire_queue::QueueClient;
use shopwire_worker::context::JobContext;
use shopwire_worker::startup::Worker;
use sqlx::PgPool;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long a test waits for something that normally takes milliseconds. A bound that
/// fails a hung test, not a measure of speed.
pub const PATIENCE: Duration = Duration::from_secs(15);
/// Every test delivery is a live comment that is not a buy (processed, no order): it
/// travels on this queue. (A Stripe event naming no order of ours would be `ignored`.)
pub const QUEUE: Queue = Queue::Messages;

const BODY: &[u8] = br#"{"streamer":"worker_test","client":"viewer","message":"love this stream","timestamp":"2026-11-22T10:00:00Z"}"#;

/// One inbox row, as the tests inspect it.
#[derive(Debug, sqlx::FromRow)]
pub struct Row {
    pub status: String,
    pub attempts: i32,
    pub processed_at: Option<DateTime<Utc>>,
    pub enqueued_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// A worker that is started and stopped by the test, and what a test needs around it.
pub struct TestWorker {
    /// This test's database (the worker has its own pool on it).
    pub pool: PgPool,
    /// What the worker is built with.
    pub settings: Settings,
    /// A client of the worker's Redis, under this test's prefix.
    pub queue: QueueClient,
    /// Deadline-bound HTTP client, so a hung server fails the test.
    pub client: reqwest::Client,
    running: Option<Running>,
}

struct Running {
    port: u16,
    ctx: Arc<JobContext>,
    stop: oneshot::Sender<()>,
    handle: JoinHandle<anyhow::Result<()>>,
}

/// A worker with the default test environment, running.
pub async fn spawn_worker(pool: PgPool) -> TestWorker {
    spawn_worker_with(pool, |_| {}).await
}

/// A worker with `configure` applied to the environment first, running.
pub async fn spawn_worker_with(
    pool: PgPool,
    configure: impl FnOnce(&mut HashMap<String, String>),
) -> TestWorker {
    let mut worker = test_worker_with(pool, configure);
    worker.start().await;
    worker
}

/// A worker with `configure` applied to the environment, not yet started.
pub fn test_worker_with(
    pool: PgPool,
    configure: impl FnOnce(&mut HashMap<String, String>),
) -> TestWorker {
    let mut env = base_env(&pool);
    configure(&mut env);
    let settings = Settings::from_lookup(|k| env.get(k).cloned()).expect("test settings are valid");
    if std::env::var_os("TEST_LOG").is_some() {
        shopwire_core::telemetry::init(&settings);
    }
    let queue = QueueClient::lazy(
        &settings.redis_url,
        &settings.queue_prefix,
        settings.orphan_timeout,
    )
    .expect("REDIS_URL is valid");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client builds");
    TestWorker {
        pool,
        settings,
        queue,
        client,
        running: None,
    }
}

/// The environment every test worker starts from; tests override single variables.
fn base_env(pool: &PgPool) -> HashMap<String, String> {
    [
        ("DATABASE_URL", shopwire_testkit::database_url(pool)),
        ("DATABASE_MAX_CONNECTIONS", "5".into()),
        ("REDIS_URL", shared_redis_url()),
        (
            "QUEUE_PREFIX",
            format!("test-{:016x}", rand::random::<u64>()),
        ),
        ("WORKER_PORT", "0".into()),
        ("QUEUE_POLL_INTERVAL_MS", "20".into()),
        ("WORKER_CONCURRENCY", "4".into()),
        ("SHUTDOWN_GRACE_SECS", "2".into()),
        ("SWEEP_AFTER_SECS", "60".into()),
        ("ORPHAN_TIMEOUT_SECS", "60".into()),
        // Claims are decided as each message is applied, and a sold-out buyer is told so
        // at once; the fairness window and waitlists have tests of their own.
        ("CLAIM_ORDER_WINDOW_MS", "0".into()),
        ("WAITLIST_MAX", "0".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

pub use shopwire_testkit::{redis_url as shared_redis_url, wait_until};

impl TestWorker {
    /// Build the worker through `Worker::build` and run it until [`TestWorker::stop`].
    pub async fn start(&mut self) {
        assert!(self.running.is_none(), "the worker is already running");
        let worker = Worker::build(self.settings.clone())
            .await
            .expect("the worker builds");
        let (port, ctx) = (worker.port(), worker.context());
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(worker.run_until(async move {
            let _ = stopped.await;
        }));
        self.running = Some(Running {
            port,
            ctx,
            stop,
            handle,
        });
    }

    /// Trigger shutdown, as SIGTERM does, and return what `run_until` returned. Fails the
    /// test if it does not return within the grace period plus a margin.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        let running = self.running.take().expect("the worker is running");
        let _ = running.stop.send(());
        let bound = self.settings.shutdown_grace + Duration::from_secs(5);
        let result = tokio::time::timeout(bound, running.handle)
            .await
            .unwrap_or_else(|_| panic!("run_until did not return within {bound:?} of shutdown"))
            .expect("the worker task did not panic");
        // Let `#[sqlx::test]` drop the database: the worker's pool must be gone.
        running.ctx.pool.close().await;
        result
    }

    /// The worker's health port.
    pub fn port(&self) -> u16 {
        self.running.as_ref().expect("the worker is running").port
    }

    /// The worker's job context (to drive a job directly).
    pub fn context(&self) -> Arc<JobContext> {
        self.running
            .as_ref()
            .expect("the worker is running")
            .ctx
            .clone()
    }

    /// GET `path` on the worker's health server.
    pub async fn get(&self, path: &str) -> reqwest::Result<reqwest::Response> {
        self.client
            .get(format!("http://127.0.0.1:{}{path}", self.port()))
            .send()
            .await
    }

    /// Record a comment delivery under `key`, as the web does, without enqueueing it.
    pub async fn record(&self, key: &str) -> InboxId {
        let delivery = Delivery {
            dedupe_key: key.to_owned(),
            event_type: "comment".to_owned(),
        };
        match inbox::record(&self.pool, Provider::Comments, &delivery, BODY)
            .await
            .expect("record works")
        {
            Recorded::New(id) => id,
            Recorded::Duplicate(id) => panic!("{key} was already recorded as {id}"),
        }
    }

    /// Push a job for `id`, as the web does after recording.
    pub async fn enqueue(&self, id: InboxId) {
        self.queue
            .push(QUEUE, &[InboxJob { inbox_id: id }])
            .await
            .expect("redis takes the job");
    }

    /// Record and enqueue, as the web does for an accepted delivery.
    pub async fn deliver(&self, key: &str) -> InboxId {
        let id = self.record(key).await;
        self.enqueue(id).await;
        id
    }

    /// The inbox row of `id`.
    pub async fn row(&self, id: InboxId) -> Row {
        sqlx::query_as(
            "SELECT status, attempts, processed_at, enqueued_at, last_error FROM inbox WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await
        .expect("the row exists")
    }

    /// Wait until `id` has `status` and, if it made a claim, the claim is decided (a
    /// claim is allocated after its delivery's transaction commits).
    pub async fn wait_for_status(&self, id: InboxId, status: &str) -> Row {
        wait_until(
            &format!("delivery {id} is {status}, its claim decided"),
            PATIENCE,
            || async move { self.row(id).await.status == status && !self.claim_pending(id).await },
        )
        .await;
        self.row(id).await
    }

    async fn claim_pending(&self, id: InboxId) -> bool {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM claims c JOIN messages m ON m.id = c.message_id
                             WHERE m.inbox_id = $1 AND c.status = 'pending')",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await
        .expect("query works")
    }

    /// Wait until no queue holds a task, pending, scheduled or running.
    pub async fn wait_until_drained(&self) {
        wait_until("every queue is empty", PATIENCE, || async move {
            let mut total = 0;
            for queue in Queue::ALL {
                let depth = self.queue.depth(queue).await.expect("redis answers");
                total += depth.pending + depth.scheduled + depth.running;
            }
            total == 0
        })
        .await;
    }

    /// A plain connection to the worker's Redis.
    pub async fn redis(&self) -> redis::aio::MultiplexedConnection {
        use secrecy::ExposeSecret;
        redis::Client::open(self.settings.redis_url.expose_secret())
            .expect("REDIS_URL is valid")
            .get_multiplexed_async_connection()
            .await
            .expect("redis answers")
    }

    /// Delete every key under this test's prefix (a targeted FLUSH: other tests share
    /// this Redis). Returns how many keys went.
    pub async fn delete_redis_keys(&self) -> usize {
        let mut conn = self.redis().await;
        let pattern = format!("{}:*", self.settings.queue_prefix);
        let mut cursor = 0u64;
        let mut deleted = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .expect("SCAN works");
            if !keys.is_empty() {
                deleted += redis::cmd("DEL")
                    .arg(&keys)
                    .query_async::<usize>(&mut conn)
                    .await
                    .expect("DEL works");
            }
            if next == 0 {
                return deleted;
            }
            cursor = next;
        }
    }
}

impl Drop for TestWorker {
    /// Stop a worker the test left running (it failed) and delete this test's Redis keys;
    /// both best effort.
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.handle.abort();
        }
        use secrecy::ExposeSecret;
        let Ok(client) = redis::Client::open(self.settings.redis_url.expose_secret()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_secs(1)) else {
            return;
        };
        let pattern = format!("{}:*", self.settings.queue_prefix);
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(pattern)
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: Result<u64, _> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
        // apalis-redis also lists every queue's workers key in one global, unprefixed set.
        let listed: Vec<String> = Queue::ALL
            .iter()
            .map(|queue| self.queue.config(*queue, 1).workers_set())
            .collect();
        let _: Result<u64, _> = redis::cmd("ZREM")
            .arg("core:apalis:queues:list")
            .arg(listed)
            .query(&mut conn);
    }
}
