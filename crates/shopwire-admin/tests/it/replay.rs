//! `events replay ID` and `events replay --provider P --since AGE`.

use serde_json::json;
use shopwire_core::db::inbox::InboxId;
use shopwire_core::domain::Provider;
use shopwire_core::jobs::Queue;
use sqlx::PgPool;

use crate::dlq::{Env, bury, record, state};

async fn set_status(pool: &PgPool, id: InboxId, status: &str) {
    sqlx::query(
        "UPDATE inbox SET status = $2, attempts = 3, processed_at = now(), last_error = 'x'
          WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .execute(pool)
    .await
    .expect("set status");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn replaying_a_processed_delivery_by_id_requeues_and_enqueues_it(pool: PgPool) {
    let env = Env::new(&pool);
    let id = record(&pool, Provider::Stripe, "evt_done").await;
    set_status(&pool, id, "processed").await;

    let report = env.json(&["events", "replay", &id.to_string()]).await;
    assert_eq!(report["replayed"], 1);
    assert_eq!(report["items"][0]["id"], id.get());
    assert_eq!(report["items"][0]["status"], "processed");
    assert_eq!(report["items"][0]["queue"], "stripe-events");
    assert_eq!(report["items"][0]["outcome"], "replayed");
    assert_eq!(state(&pool, id).await, ("queued".to_owned(), 0));
    let (processed_at,): (Option<chrono::DateTime<chrono::Utc>>,) =
        sqlx::query_as("SELECT processed_at FROM inbox WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .expect("row");
    assert_eq!(processed_at, None);
    assert_eq!(env.pending(Queue::StripeEvents).await, 1);

    let missing = env.run(&["events", "replay", "987654"]).await;
    assert_eq!(missing.failure(), "no inbox event 987654");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn replaying_since_takes_recent_deliveries_of_the_provider_except_rejected(pool: PgPool) {
    let env = Env::new(&pool);
    let processed = record(&pool, Provider::Stripe, "evt_processed").await;
    set_status(&pool, processed, "processed").await;
    let (dead, dead_job) = bury(&pool, Provider::Stripe, "evt_dead").await;
    let rejected = record(&pool, Provider::Stripe, "evt_rejected").await;
    set_status(&pool, rejected, "rejected").await;
    let old = record(&pool, Provider::Stripe, "evt_old").await;
    set_status(&pool, old, "ignored").await;
    sqlx::query("UPDATE inbox SET received_at = now() - interval '5 hours' WHERE id = $1")
        .bind(old)
        .execute(&pool)
        .await
        .expect("age it");
    let comment = record(&pool, Provider::Comments, "c-1").await;
    set_status(&pool, comment, "processed").await;

    let report = env
        .json(&["events", "replay", "--provider", "stripe", "--since", "2h"])
        .await;
    assert_eq!(report["replayed"], 2, "{report}");
    let ids: Vec<i64> = report["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(ids, [processed.get(), dead.get()]);
    assert_eq!(state(&pool, processed).await, ("queued".to_owned(), 0));
    assert_eq!(state(&pool, dead).await, ("queued".to_owned(), 0));
    assert_eq!(state(&pool, rejected).await.0, "rejected");
    assert_eq!(state(&pool, old).await.0, "ignored");
    assert_eq!(state(&pool, comment).await.0, "processed");
    assert_eq!(env.pending(Queue::StripeEvents).await, 2);
    assert_eq!(env.pending(Queue::Messages).await, 0);
    // Replaying the dead delivery closed its DLQ entry: a DLQ replay now does nothing.
    assert_eq!(env.json(&["dlq", "list"]).await, json!([]));
    let dlq = env.json(&["dlq", "replay", &dead_job.to_string()]).await;
    assert_eq!(dlq["replayed"], 0);
    assert_eq!(env.pending(Queue::StripeEvents).await, 2);

    let rejected_by_id = env.json(&["events", "replay", &rejected.to_string()]).await;
    assert_eq!(rejected_by_id["skipped"], 1);
    assert_eq!(
        rejected_by_id["items"][0]["detail"],
        "rejected deliveries are never processed"
    );
    let neither = env.run(&["events", "replay"]).await;
    assert!(neither.failure().contains("--since"), "{neither:?}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_events_replay_dry_run_changes_nothing(pool: PgPool) {
    let env = Env::new(&pool);
    let id = record(&pool, Provider::Tiktok, "m-1").await;
    set_status(&pool, id, "processed").await;

    let report = env
        .json(&["events", "replay", "--since", "1h", "--dry-run"])
        .await;
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["items"][0]["id"], id.get());
    assert_eq!(report["items"][0]["outcome"], "would_replay");
    assert_eq!(state(&pool, id).await, ("processed".to_owned(), 3));
    assert_eq!(env.pending(Queue::Messages).await, 0);

    let human = env
        .run(&["events", "replay", "--since", "1h", "--dry-run"])
        .await;
    assert_eq!(human.code, Some(0), "{human:?}");
    assert!(human.stdout.contains("would replay 1"), "{human:?}");
}
