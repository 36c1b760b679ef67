//! `outbox list|replay` against real Postgres and Redis (a key prefix per test).

use shopwire_core::jobs::Queue;
use sqlx::PgPool;

use crate::dlq::Env;
use crate::endpoints::{delivered_to, emit};

/// Add an endpoint through the binary; its id.
async fn add(env: &Env, url: &str, events: &str) -> i64 {
    let added = env
        .json(&["endpoints", "add", url, "--events", events])
        .await;
    added["id"].as_i64().expect("an id")
}

/// The delivery of `event` to `endpoint`.
async fn delivery(pool: &PgPool, event: i64, endpoint: i64) -> i64 {
    let (id,): (i64,) = sqlx::query_as(
        "SELECT id FROM outbound_deliveries WHERE event_id = $1 AND endpoint_id = $2",
    )
    .bind(event)
    .bind(endpoint)
    .fetch_one(pool)
    .await
    .expect("a delivery");
    id
}

/// Kill a delivery the way the sender does after its last attempt: dead, with a DLQ entry.
async fn bury(pool: &PgPool, delivery: i64) {
    sqlx::query(
        "UPDATE outbound_deliveries
            SET status = 'dead', attempts = 12, last_error = 'HTTP 500', last_status_code = 500,
                locked_by = 'worker-a', locked_until = now() - interval '1 minute'
          WHERE id = $1",
    )
    .bind(delivery)
    .execute(pool)
    .await
    .expect("dead");
    sqlx::query(
        "INSERT INTO dead_jobs (queue, attempts, last_error, outbound_delivery_id)
         VALUES ('outbound', 12, 'HTTP 500', $1)",
    )
    .bind(delivery)
    .execute(pool)
    .await
    .expect("dead job");
}

/// A delivery's status, attempts, and whether it still has a lease holder.
async fn state(pool: &PgPool, delivery: i64) -> (String, i32, bool) {
    sqlx::query_as(
        "SELECT status, attempts, locked_by IS NOT NULL OR locked_until IS NOT NULL
           FROM outbound_deliveries WHERE id = $1",
    )
    .bind(delivery)
    .fetch_one(pool)
    .await
    .expect("row")
}

async fn count(pool: &PgPool, sql: &'static str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(pool).await.expect("count");
    n
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn replaying_a_dead_delivery_requeues_it_once(pool: PgPool) {
    let env = Env::new(&pool);
    let endpoint = add(&env, "https://hooks.example.com/", "*").await;
    let event = emit(&pool, "claim.sold_out", "k1").await;
    let dead = delivery(&pool, event, endpoint).await;
    bury(&pool, dead).await;

    let report = env
        .json(&["outbox", "replay", &dead.to_string(), "--dry-run"])
        .await;
    assert_eq!(report["items"][0]["outcome"], "would_replay");
    assert_eq!(
        state(&pool, dead).await.0,
        "dead",
        "a dry run changes nothing"
    );

    let report = env.json(&["outbox", "replay", &dead.to_string()]).await;
    assert_eq!(report["replayed"], 1, "{report}");
    assert_eq!(report["not_enqueued"], 0, "{report}");
    assert_eq!(report["items"][0]["outcome"], "replayed");
    assert_eq!(report["items"][0]["status"], "dead");
    assert_eq!(state(&pool, dead).await, ("queued".to_owned(), 0, false));
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM dead_jobs WHERE replayed_at IS NOT NULL"
        )
        .await,
        1
    );
    assert_eq!(env.pending(Queue::Outbound).await, 1);
    let (due,): (bool,) =
        sqlx::query_as("SELECT next_attempt_at <= now() FROM outbound_deliveries WHERE id = $1")
            .bind(dead)
            .fetch_one(&pool)
            .await
            .expect("due");
    assert!(due);

    let again = env.run(&["outbox", "replay", &dead.to_string()]).await;
    assert_eq!(again.code, Some(0), "{again:?}");
    assert_eq!(
        again.stdout,
        format!("skipped delivery {dead}: it is queued, not dead or failed; nothing changed\n")
    );
    assert_eq!(env.pending(Queue::Outbound).await, 1, "pushed once");
    assert_eq!(
        env.run(&["outbox", "replay", "999"]).await.failure(),
        "no delivery 999"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_delivery_to_a_disabled_endpoint_is_not_replayed(pool: PgPool) {
    let env = Env::new(&pool);
    let endpoint = add(&env, "https://hooks.example.com/", "*").await;
    let event = emit(&pool, "claim.sold_out", "k1").await;
    let dead = delivery(&pool, event, endpoint).await;
    bury(&pool, dead).await;
    env.json(&["endpoints", "disable", &endpoint.to_string()])
        .await;

    let report = env.json(&["outbox", "replay", &dead.to_string()]).await;
    assert_eq!(report["skipped"], 1);
    let detail = report["items"][0]["detail"].as_str().expect("detail");
    assert!(detail.contains("is disabled"), "{detail}");
    assert_eq!(state(&pool, dead).await.0, "dead");
    assert_eq!(env.pending(Queue::Outbound).await, 0);
    let refused = env
        .run(&[
            "outbox",
            "replay",
            "--endpoint",
            &endpoint.to_string(),
            "--since",
            "1h",
        ])
        .await;
    assert_eq!(
        refused.failure(),
        format!("endpoint {endpoint} is disabled (endpoints enable {endpoint} first)")
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_replay_whose_push_fails_says_the_sweeper_will_enqueue_it(pool: PgPool) {
    let env = Env::with_redis(&pool, "redis://127.0.0.1:1".into());
    let endpoint = add(&env, "https://hooks.example.com/", "*").await;
    let event = emit(&pool, "claim.sold_out", "k1").await;
    let dead = delivery(&pool, event, endpoint).await;
    bury(&pool, dead).await;

    let report = env.json(&["outbox", "replay", &dead.to_string()]).await;
    assert_eq!(report["replayed"], 1);
    assert_eq!(report["not_enqueued"], 1);
    let detail = report["items"][0]["detail"].as_str().expect("detail");
    assert!(detail.contains("sweeper"), "{detail}");
    assert_eq!(state(&pool, dead).await.0, "queued");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn replay_since_makes_the_deliveries_a_new_endpoint_missed(pool: PgPool) {
    let env = Env::new(&pool);
    let first = emit(&pool, "claim.reserved", "claim:1:reserved").await;
    let order = emit(&pool, "order.paid", "order:1:paid").await;
    let second = emit(&pool, "claim.sold_out", "claim:2:sold_out").await;
    let old = emit(&pool, "claim.sold_out", "claim:3:sold_out").await;
    sqlx::query("UPDATE outbox_events SET occurred_at = now() - interval '3 hours' WHERE id = $1")
        .bind(old)
        .execute(&pool)
        .await
        .expect("backdate");
    let endpoint = add(&env, "https://hooks.example.com/", "claim.*").await;
    let id = endpoint.to_string();
    let args = ["outbox", "replay", "--endpoint", &id, "--since", "2h"];

    let mut dry = args.to_vec();
    dry.push("--dry-run");
    let plan = env.json(&dry).await;
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["created"], 2, "{plan}");
    assert_eq!(plan["requeued"], 0);
    let events: Vec<i64> = plan["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["event_id"].as_i64().expect("event id"))
        .collect();
    assert_eq!(events, [first, second], "claim events of the window only");
    assert!(
        plan["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["outcome"] == "would_replay" && i["action"] == "create")
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM outbound_deliveries").await,
        0,
        "a dry run changes nothing"
    );
    assert_eq!(env.pending(Queue::Outbound).await, 0);
    let human = env.run(&dry).await;
    assert!(
        human.stdout.contains("nothing changed (dry run)"),
        "{human:?}"
    );

    let done = env.json(&args).await;
    assert_eq!(
        (done["created"].as_i64(), done["left"].as_i64()),
        (Some(2), Some(0))
    );
    assert_eq!(done["not_enqueued"], 0);
    assert_eq!(delivered_to(&pool, first).await, [endpoint]);
    assert_eq!(delivered_to(&pool, second).await, [endpoint]);
    assert_eq!(delivered_to(&pool, order).await, Vec::<i64>::new());
    assert_eq!(delivered_to(&pool, old).await, Vec::<i64>::new());
    assert_eq!(env.pending(Queue::Outbound).await, 2);
    let made = delivery(&pool, first, endpoint).await;
    assert_eq!(done["items"][0]["delivery_id"], made);

    // Once made, the deliveries are on their way: a second replay leaves them, and puts
    // back only one that died since.
    bury(&pool, made).await;
    let again = env.json(&args).await;
    assert_eq!(
        (
            again["created"].as_i64(),
            again["requeued"].as_i64(),
            again["left"].as_i64()
        ),
        (Some(0), Some(1), Some(1)),
        "{again}"
    );
    assert_eq!(state(&pool, made).await, ("queued".to_owned(), 0, false));
    assert_eq!(env.pending(Queue::Outbound).await, 3);
    let human = env.run(&args).await;
    assert!(
        human.stdout.ends_with("created 0, requeued 0, left 2\n"),
        "{human:?}"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn outbox_list_filters_deliveries_and_lists_events(pool: PgPool) {
    let env = Env::new(&pool);
    let a = add(&env, "https://a.example.com/", "*").await;
    let b = add(&env, "https://b.example.com/", "order.paid").await;
    let sold_out = emit(&pool, "claim.sold_out", "k1").await;
    let paid = emit(&pool, "order.paid", "k2").await;
    bury(&pool, delivery(&pool, paid, b).await).await;

    let all = env.json(&["outbox", "list"]).await;
    assert_eq!(all.as_array().map(Vec::len), Some(3));
    let only_b = env
        .json(&["outbox", "list", "--endpoint", &b.to_string()])
        .await;
    assert_eq!(only_b.as_array().map(Vec::len), Some(1));
    assert_eq!(only_b[0]["status"], "dead");
    assert_eq!(only_b[0]["event_type"], "order.paid");
    assert_eq!(only_b[0]["last_status_code"], 500);
    let queued = env.json(&["outbox", "list", "--status", "queued"]).await;
    assert!(
        queued
            .as_array()
            .expect("rows")
            .iter()
            .all(|r| r["endpoint_id"] == a && r["status"] == "queued")
    );
    let typed = env
        .json(&["outbox", "list", "--type", "claim.sold_out"])
        .await;
    assert_eq!(typed.as_array().map(Vec::len), Some(1));
    assert_eq!(typed[0]["event_id"], sold_out);

    let limited = env.run(&["outbox", "list", "--limit", "1", "--json"]).await;
    assert_eq!(limited.json().as_array().map(Vec::len), Some(1));
    assert_eq!(limited.stderr, "1 of 3 shown; --limit\n");

    let events = env.json(&["outbox", "list", "--events"]).await;
    assert_eq!(events[0]["id"], paid, "newest first");
    assert_eq!(
        (
            events[0]["deliveries"].as_i64(),
            events[0]["delivered"].as_i64()
        ),
        (Some(2), Some(0))
    );
    let for_b = env
        .json(&["outbox", "list", "--events", "--endpoint", &b.to_string()])
        .await;
    assert_eq!(for_b.as_array().map(Vec::len), Some(1));
    let human = env.run(&["outbox", "list"]).await;
    assert!(human.stdout.starts_with("ID"), "{human:?}");
    let bad = env.run(&["outbox", "list", "--status", "gone"]).await;
    assert!(bad.failure().contains("unknown delivery status `gone`"));
}
