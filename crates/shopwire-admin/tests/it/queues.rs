//! `queues`: Redis depths, dead jobs and inbox counts in one document.

use serde_json::{Value, json};
use shopwire_core::db::inbox::InboxId;
use shopwire_core::domain::Provider;
use shopwire_core::jobs::{InboxJob, Queue};
use sqlx::PgPool;

use crate::dlq::{Env, bury, record};

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn queues_json_has_every_queue_the_inbox_by_status_and_the_oldest_pending_age(pool: PgPool) {
    let env = Env::new(&pool);
    bury(&pool, Provider::Stripe, "evt_dead").await;
    let waiting = record(&pool, Provider::Comments, "c-1").await;
    sqlx::query("UPDATE inbox SET received_at = now() - interval '10 minutes' WHERE id = $1")
        .bind(waiting)
        .execute(&pool)
        .await
        .expect("age it");
    env.queue
        .push(
            Queue::Messages,
            &[
                InboxJob { inbox_id: waiting },
                InboxJob {
                    inbox_id: InboxId::new(0),
                },
            ],
        )
        .await
        .expect("push");

    let report = env.json(&["queues"]).await;
    let mut keys: Vec<&str> = report
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["inbox", "oldest_pending_age_secs", "queues", "redis_error"]
    );
    let queues = report["queues"].as_array().expect("an array");
    let names: Vec<&str> = queues.iter().filter_map(|q| q["queue"].as_str()).collect();
    let expected: Vec<&str> = Queue::ALL.iter().map(|q| q.as_str()).collect();
    assert_eq!(names, expected, "every queue, in order");
    for line in queues {
        let expected = match line["queue"].as_str() {
            Some("messages") => {
                json!({"queue": "messages", "pending": 2, "scheduled": 0, "running": 0, "dead": 0})
            }
            Some("stripe-events") => {
                json!({"queue": "stripe-events", "pending": 0, "scheduled": 0, "running": 0, "dead": 1})
            }
            _ => {
                json!({"queue": line["queue"], "pending": 0, "scheduled": 0, "running": 0, "dead": 0})
            }
        };
        assert_eq!(*line, expected);
    }
    assert_eq!(
        report["inbox"],
        json!({"queued": 1, "processing": 0, "processed": 0, "ignored": 0,
               "rejected": 0, "failed": 0, "dead": 1})
    );
    let age = report["oldest_pending_age_secs"].as_i64().expect("an age");
    assert!((600..3600).contains(&age), "{age}");
    assert_eq!(report["redis_error"], Value::Null);

    let human = env.run(&["queues"]).await;
    assert_eq!(human.code, Some(0), "{human:?}");
    assert!(human.stdout.starts_with("QUEUE"), "{human:?}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn queues_still_reports_postgres_when_redis_is_down(pool: PgPool) {
    let env = Env::with_redis(&pool, "redis://127.0.0.1:1".into());
    bury(&pool, Provider::TiktokShop, "n-1").await;

    let report = env.json(&["queues"]).await;
    let shop = report["queues"]
        .as_array()
        .expect("an array")
        .iter()
        .find(|q| q["queue"] == "tiktok-shop")
        .expect("the tiktok-shop queue");
    assert_eq!(shop["dead"], 1);
    assert_eq!(shop["pending"], Value::Null);
    assert_eq!(shop["scheduled"], Value::Null);
    assert!(report["redis_error"].is_string(), "{report}");
    assert_eq!(report["oldest_pending_age_secs"], Value::Null);
    assert_eq!(report["inbox"]["dead"], 1);
}
