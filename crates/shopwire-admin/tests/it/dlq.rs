//! `dlq list|show|replay|purge` against real Postgres and Redis (a key prefix per test).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use shopwire_core::db::inbox::{self, AfterFailure, InboxId};
use shopwire_core::domain::{Delivery, Provider};
use shopwire_core::jobs::Queue;
use shopwire_queue::QueueClient;
use sqlx::PgPool;

use crate::helpers::{Admin, Run};

/// The binary with Redis under this test's own prefix, and a client on that prefix.
pub struct Env {
    admin: Admin,
    redis_url: String,
    prefix: String,
    /// Reads the test's queues.
    pub queue: QueueClient,
}

impl Env {
    /// A fresh prefix for the test behind `pool`.
    pub fn new(pool: &PgPool) -> Self {
        Self::with_redis(pool, shared_redis_url())
    }

    /// As `new`, with any `REDIS_URL` (an unreachable one, say).
    pub fn with_redis(pool: &PgPool, redis_url: String) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let database = pool
            .connect_options()
            .get_database()
            .unwrap_or("db")
            .to_owned();
        let prefix = format!("admin-test-{database}-{}-{nanos}", std::process::id());
        let queue = QueueClient::lazy(&redis_url.clone().into(), &prefix, Duration::from_secs(60))
            .expect("REDIS_URL is valid");
        Self {
            admin: Admin::new(pool),
            redis_url,
            prefix,
            queue,
        }
    }

    /// Run the binary with this test's Redis settings.
    pub async fn run(&self, args: &[&str]) -> Run {
        self.admin
            .run_with_env(
                args,
                &[
                    ("REDIS_URL", &self.redis_url),
                    ("QUEUE_PREFIX", &self.prefix),
                ],
            )
            .await
    }

    /// Run with `--json`; panics unless it succeeded with one JSON document.
    pub async fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        self.run(&args).await.json()
    }

    /// Jobs ready to fetch on `queue`.
    pub async fn pending(&self, queue: Queue) -> u64 {
        self.queue
            .depth(queue)
            .await
            .expect("redis answers")
            .pending
    }
}

/// The Redis the suite runs against.
pub fn shared_redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Record a delivery.
pub async fn record(pool: &PgPool, provider: Provider, key: &str) -> InboxId {
    let delivery = Delivery {
        dedupe_key: key.to_owned(),
        event_type: "test.event".to_owned(),
    };
    inbox::record(pool, provider, &delivery, b"{}")
        .await
        .expect("record")
        .id()
}

/// Record a delivery and kill it the way a worker does (claim, then a fatal failure);
/// returns its inbox id and its dead job's id.
pub async fn bury(pool: &PgPool, provider: Provider, key: &str) -> (InboxId, i64) {
    let id = record(pool, provider, key).await;
    inbox::claim(pool, id, "worker-a", Duration::from_secs(60))
        .await
        .expect("claim")
        .expect("due");
    let failed = inbox::fail(
        pool,
        id,
        "worker-a",
        &format!("boom {key}"),
        AfterFailure::Dead,
    )
    .await
    .expect("fail");
    assert!(failed);
    let (dead,): (i64,) = sqlx::query_as("SELECT id FROM dead_jobs WHERE inbox_id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("one dead job");
    (id, dead)
}

/// An inbox row's status and attempts.
pub async fn state(pool: &PgPool, id: InboxId) -> (String, i32) {
    sqlx::query_as("SELECT status, attempts FROM inbox WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("row")
}

async fn open_dead(pool: &PgPool) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM dead_jobs WHERE replayed_at IS NULL")
        .fetch_one(pool)
        .await
        .expect("count");
    n
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_dead_delivery_is_listed_newest_first_with_the_contract_fields(pool: PgPool) {
    let env = Env::new(&pool);
    assert_eq!(env.json(&["dlq", "list"]).await, json!([]));
    let (stripe, stripe_dead) = bury(&pool, Provider::Stripe, "evt_1").await;
    let (comment, comment_dead) = bury(&pool, Provider::Comments, "c-1").await;

    let all = env.json(&["dlq", "list"]).await;
    let all = all.as_array().expect("an array");
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["id"], comment_dead);
    assert_eq!(all[0]["inbox_id"], comment.get());
    assert_eq!(all[0]["queue"], "messages");
    assert_eq!(all[1]["id"], stripe_dead);
    assert_eq!(all[1]["inbox_id"], stripe.get());
    assert_eq!(all[1]["queue"], "stripe-events");
    assert_eq!(all[1]["attempts"], 1);
    assert_eq!(all[1]["last_error"], "boom evt_1");
    let mut keys: Vec<&str> = all[1]
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "attempts",
            "died_at",
            "id",
            "inbox_id",
            "last_error",
            "outbound_delivery_id",
            "queue"
        ]
    );

    let stripe_only = env.json(&["dlq", "list", "--queue", "stripe-events"]).await;
    assert_eq!(stripe_only.as_array().map(Vec::len), Some(1));
    assert_eq!(stripe_only[0]["id"], stripe_dead);
    let limited = env.json(&["dlq", "list", "--limit", "1"]).await;
    assert_eq!(limited.as_array().map(Vec::len), Some(1));
    let bad = env.run(&["dlq", "list", "--queue", "nope"]).await;
    assert!(bad.failure().contains("unknown queue `nope`"), "{bad:?}");

    let human = env.run(&["dlq", "list"]).await;
    assert_eq!(human.code, Some(0));
    assert!(human.stdout.starts_with("ID"), "{human:?}");
    assert!(human.stdout.contains("boom c-1"), "{human:?}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn dlq_show_prints_the_dead_job_with_its_inbox_row(pool: PgPool) {
    let env = Env::new(&pool);
    let (id, dead) = bury(&pool, Provider::Stripe, "evt_show").await;

    let shown = env.json(&["dlq", "show", &dead.to_string()]).await;
    assert_eq!(shown["id"], dead);
    assert_eq!(shown["queue"], "stripe-events");
    assert_eq!(shown["job_id"], Value::Null);
    assert_eq!(shown["replayed_at"], Value::Null);
    assert_eq!(shown["inbox"]["id"], id.get());
    assert_eq!(shown["inbox"]["status"], "dead");
    assert_eq!(shown["inbox"]["dedupe_key"], "evt_show");
    assert_eq!(shown["job"], Value::Null);

    let missing = env.run(&["dlq", "show", "999999"]).await;
    assert_eq!(missing.failure(), "no dead job 999999");
}

/// A delivery of a new event to a new endpoint, killed the way the sender does after its
/// last attempt (dead, with a DLQ entry on `outbound`); its id and its dead job's id.
async fn bury_delivery(pool: &PgPool) -> (i64, i64) {
    sqlx::query(
        "INSERT INTO endpoints (url, secret)
         VALUES ('https://hooks.example.com/', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')",
    )
    .execute(pool)
    .await
    .expect("endpoint");
    let event = crate::endpoints::emit(pool, "claim.sold_out", "claim:1:sold_out").await;
    let (delivery,): (i64,) = sqlx::query_as(
        "UPDATE outbound_deliveries
            SET status = 'dead', attempts = 12, last_error = 'HTTP 500', last_status_code = 500
          WHERE event_id = $1 RETURNING id",
    )
    .bind(event)
    .fetch_one(pool)
    .await
    .expect("dead delivery");
    let (dead,): (i64,) = sqlx::query_as(
        "INSERT INTO dead_jobs (queue, attempts, last_error, outbound_delivery_id)
         VALUES ('outbound', 12, 'HTTP 500', $1) RETURNING id",
    )
    .bind(delivery)
    .fetch_one(pool)
    .await
    .expect("dead job");
    (delivery, dead)
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_dead_outbound_delivery_is_listed_with_its_delivery_id_and_replayed_once(pool: PgPool) {
    let env = Env::new(&pool);
    let (delivery, dead) = bury_delivery(&pool).await;

    let listed = env.json(&["dlq", "list", "--queue", "outbound"]).await;
    assert_eq!(listed[0]["id"], dead, "{listed}");
    assert_eq!(listed[0]["outbound_delivery_id"], delivery, "{listed}");
    assert_eq!(listed[0]["inbox_id"], Value::Null, "{listed}");
    let human = env.run(&["dlq", "list"]).await;
    assert!(human.stdout.contains("DELIVERY_ID"), "{human:?}");
    let shown = env.json(&["dlq", "show", &dead.to_string()]).await;
    assert_eq!(shown["outbound_delivery_id"], delivery, "{shown}");
    assert_eq!(shown["delivery"]["id"], delivery, "{shown}");
    assert_eq!(shown["delivery"]["status"], "dead", "{shown}");
    assert_eq!(shown["delivery"]["event_type"], "claim.sold_out", "{shown}");

    let first = env.json(&["dlq", "replay", &dead.to_string()]).await;
    assert_eq!(first["replayed"], 1, "{first}");
    assert_eq!(first["items"][0]["outcome"], "replayed", "{first}");
    assert_eq!(first["items"][0]["queue"], "outbound", "{first}");
    let (status, attempts): (String, i32) =
        sqlx::query_as("SELECT status, attempts FROM outbound_deliveries WHERE id = $1")
            .bind(delivery)
            .fetch_one(&pool)
            .await
            .expect("delivery row");
    assert_eq!((status.as_str(), attempts), ("queued", 0));
    assert_eq!(env.pending(Queue::Outbound).await, 1);
    assert_eq!(open_dead(&pool).await, 0, "its DLQ entry is closed");

    let second = env.json(&["dlq", "replay", &dead.to_string()]).await;
    assert_eq!(second["replayed"], 0, "{second}");
    assert_eq!(second["skipped"], 1, "{second}");
    assert_eq!(
        second["items"][0]["detail"], "no longer dead (now queued)",
        "{second}"
    );
    assert_eq!(env.pending(Queue::Outbound).await, 1, "pushed once");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn replay_all_resets_and_enqueues_each_job_once_and_a_second_replay_does_nothing(
    pool: PgPool,
) {
    let env = Env::new(&pool);
    let (a, _) = bury(&pool, Provider::Stripe, "evt_a").await;
    let (b, _) = bury(&pool, Provider::Stripe, "evt_b").await;
    let (c, _) = bury(&pool, Provider::Comments, "c-1").await;
    let (job,): (i64,) = sqlx::query_as(
        "INSERT INTO jobs (queue, idempotency_key, status, attempts, last_error)
         VALUES ('checkout', 'order-1', 'dead', 8, 'stripe down') RETURNING id",
    )
    .fetch_one(&pool)
    .await
    .expect("job");
    sqlx::query(
        "INSERT INTO dead_jobs (queue, job_id, attempts, last_error)
         VALUES ('checkout', $1, 8, 'stripe down')",
    )
    .bind(job)
    .execute(&pool)
    .await
    .expect("dead job");

    let report = env.json(&["dlq", "replay", "--all"]).await;
    assert_eq!(report["dry_run"], false);
    assert_eq!(report["replayed"], 4);
    assert_eq!(report["skipped"], 0);
    assert_eq!(report["not_enqueued"], 0);
    assert_eq!(report["items"].as_array().map(Vec::len), Some(4));
    assert!(
        report["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["outcome"] == "replayed")
    );
    for id in [a, b, c] {
        assert_eq!(state(&pool, id).await, ("queued".to_owned(), 0));
    }
    let (job_status, job_attempts): (String, i32) =
        sqlx::query_as("SELECT status, attempts FROM jobs WHERE id = $1")
            .bind(job)
            .fetch_one(&pool)
            .await
            .expect("job row");
    assert_eq!((job_status.as_str(), job_attempts), ("queued", 0));
    assert_eq!(env.pending(Queue::StripeEvents).await, 2);
    assert_eq!(env.pending(Queue::Messages).await, 1);
    assert_eq!(env.pending(Queue::Checkout).await, 1);
    assert_eq!(open_dead(&pool).await, 0);
    assert_eq!(env.json(&["dlq", "list"]).await, json!([]));

    let again = env.json(&["dlq", "replay", "--all"]).await;
    assert_eq!(again["replayed"], 0);
    assert_eq!(again["items"], json!([]));
    assert_eq!(env.pending(Queue::StripeEvents).await, 2);
    assert_eq!(env.pending(Queue::Checkout).await, 1);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn replay_by_id_replays_once_then_skips(pool: PgPool) {
    let env = Env::new(&pool);
    let (id, dead) = bury(&pool, Provider::TiktokShop, "n-1").await;
    let dead = dead.to_string();

    let first = env.json(&["dlq", "replay", &dead]).await;
    assert_eq!(first["replayed"], 1);
    assert_eq!(first["items"][0]["queue"], "tiktok-shop");
    assert_eq!(state(&pool, id).await, ("queued".to_owned(), 0));
    let second = env.json(&["dlq", "replay", &dead]).await;
    assert_eq!(second["replayed"], 0);
    assert_eq!(second["skipped"], 1);
    assert_eq!(second["items"][0]["detail"], "already replayed");
    assert_eq!(env.pending(Queue::TiktokShop).await, 1);

    let human = env.run(&["dlq", "replay", &dead]).await;
    assert_eq!(human.code, Some(0), "{human:?}");
    assert!(human.stdout.contains("replayed 0, skipped 1"), "{human:?}");
    let missing = env.run(&["dlq", "replay", "424242"]).await;
    assert_eq!(missing.failure(), "no dead job 424242");
    let neither = env.run(&["dlq", "replay"]).await;
    assert!(neither.failure().contains("--all"), "{neither:?}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn replay_dry_run_lists_the_jobs_and_changes_nothing(pool: PgPool) {
    let env = Env::new(&pool);
    let (id, dead) = bury(&pool, Provider::Stripe, "evt_dry").await;

    let report = env.json(&["dlq", "replay", "--all", "--dry-run"]).await;
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["replayed"], 0);
    assert_eq!(report["items"][0]["id"], dead);
    assert_eq!(report["items"][0]["outcome"], "would_replay");
    assert_eq!(state(&pool, id).await, ("dead".to_owned(), 1));
    assert_eq!(open_dead(&pool).await, 1);
    assert_eq!(env.pending(Queue::StripeEvents).await, 0);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn replay_limit_and_queue_take_the_oldest_matching_jobs(pool: PgPool) {
    let env = Env::new(&pool);
    let (first, _) = bury(&pool, Provider::Stripe, "evt_1").await;
    let (second, _) = bury(&pool, Provider::Stripe, "evt_2").await;
    let (comment, _) = bury(&pool, Provider::Comments, "c-1").await;

    let report = env
        .json(&[
            "dlq",
            "replay",
            "--all",
            "--queue",
            "stripe-events",
            "--limit",
            "1",
        ])
        .await;
    assert_eq!(report["replayed"], 1);
    assert_eq!(report["items"][0]["inbox_id"], first.get());
    assert_eq!(state(&pool, first).await.0, "queued");
    assert_eq!(state(&pool, second).await.0, "dead");
    assert_eq!(state(&pool, comment).await.0, "dead");
    assert_eq!(env.pending(Queue::StripeEvents).await, 1);
    assert_eq!(env.pending(Queue::Messages).await, 0);
    let limit_alone = env.run(&["dlq", "replay", "1", "--limit", "1"]).await;
    assert!(limit_alone.failure().contains("--limit"), "{limit_alone:?}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn two_replays_at_once_enqueue_each_job_once(pool: PgPool) {
    let env = Env::new(&pool);
    let mut ids = Vec::new();
    for n in 0..40 {
        ids.push(bury(&pool, Provider::Stripe, &format!("evt_{n}")).await.0);
    }

    let (one, two) = tokio::join!(
        env.json(&["dlq", "replay", "--all"]),
        env.json(&["dlq", "replay", "--all"])
    );
    let replayed =
        one["replayed"].as_u64().expect("count") + two["replayed"].as_u64().expect("count");
    assert_eq!(replayed, 40, "{one} {two}");
    assert_eq!(env.pending(Queue::StripeEvents).await, 40);
    for id in ids {
        assert_eq!(state(&pool, id).await, ("queued".to_owned(), 0));
    }
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_replay_whose_push_fails_leaves_the_job_queued_for_the_sweeper(pool: PgPool) {
    let env = Env::with_redis(&pool, "redis://127.0.0.1:1".into());
    let (id, _) = bury(&pool, Provider::Stripe, "evt_no_redis").await;

    let report = env.json(&["dlq", "replay", "--all"]).await;
    assert_eq!(report["replayed"], 1);
    assert_eq!(report["not_enqueued"], 1);
    assert_eq!(report["items"][0]["outcome"], "not_enqueued");
    assert!(
        report["items"][0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("sweeper")),
        "{report}"
    );
    assert_eq!(state(&pool, id).await, ("queued".to_owned(), 0));
    assert_eq!(open_dead(&pool).await, 0);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn purge_needs_yes_and_deletes_only_jobs_older_than_the_cutoff(pool: PgPool) {
    let env = Env::new(&pool);
    let (old, old_dead) = bury(&pool, Provider::Stripe, "evt_old").await;
    let (_, recent_dead) = bury(&pool, Provider::Stripe, "evt_recent").await;
    sqlx::query("UPDATE dead_jobs SET died_at = now() - interval '40 days' WHERE id = $1")
        .bind(old_dead)
        .execute(&pool)
        .await
        .expect("age it");

    let refused = env.run(&["dlq", "purge", "--older-than", "30d"]).await;
    assert!(refused.failure().contains("--yes"), "{refused:?}");
    assert_eq!(open_dead(&pool).await, 2);
    let bad_age = env
        .run(&["dlq", "purge", "--older-than", "30x", "--yes"])
        .await;
    assert!(bad_age.failure().contains("30x"), "{bad_age:?}");

    let purged = env
        .json(&["dlq", "purge", "--older-than", "30d", "--yes"])
        .await;
    assert_eq!(
        purged,
        json!({"older_than": "30d", "purged": 1, "replayed": 0, "unreplayed": 1})
    );
    let left = env.json(&["dlq", "list"]).await;
    assert_eq!(left.as_array().map(Vec::len), Some(1));
    assert_eq!(left[0]["id"], recent_dead);
    assert_eq!(
        state(&pool, old).await.0,
        "dead",
        "the delivery itself stays, replayable with `events replay`"
    );
}
