//! Every death is in the dead-letter queue: a delivery that dies — permanently, or out of
//! attempts — gets exactly one `dead_jobs` row, written with its inbox row turning `dead`.

use serde_json::Value;
use shopwire_core::db::inbox::InboxId;
use shopwire_core::jobs::{InboxJob, Queue};
use shopwire_worker::jobs::process_delivery;
use sqlx::PgPool;

use crate::helpers::{PATIENCE, spawn_worker, test_worker_with, wait_until};
use crate::stripe_support::{
    PRICE_CENTS, context, event, inbox_row, name_order, pending_order, record_new,
};

/// A dead job's `(queue, inbox_id, job_id, attempts, last_error, replayed)`.
type DeadRow = (String, Option<i64>, Option<i64>, i32, String, bool);

async fn dead_jobs(pool: &PgPool) -> Vec<DeadRow> {
    sqlx::query_as(
        "SELECT queue, inbox_id, job_id, attempts, last_error, replayed_at IS NOT NULL
           FROM dead_jobs ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .expect("dead jobs")
}

fn unknown_order_completion() -> Value {
    event("checkout.session.completed", |o| {
        o["client_reference_id"] = Value::from("ORD-20991231-99999");
        o["metadata"] = serde_json::json!({ "order_id": "ORD-20991231-99999" });
    })
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_delivery_failing_permanently_ends_dead_with_exactly_one_dead_job(pool: PgPool) {
    let mut worker = spawn_worker(pool.clone()).await;
    let id = record_new(&pool, &unknown_order_completion()).await;
    worker
        .queue
        .push(Queue::StripeEvents, &[InboxJob { inbox_id: id }])
        .await
        .expect("redis takes the job");

    wait_until("the delivery is dead", PATIENCE, || {
        let pool = pool.clone();
        async move { inbox_row(&pool, id).await.0 == "dead" }
    })
    .await;
    worker.wait_until_drained().await;
    // A stray duplicate of the job finds the delivery dead and buries nothing more.
    process_delivery::process(&worker.context(), id).await;
    worker.stop().await.expect("the worker stops cleanly");

    let dead = dead_jobs(&pool).await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    let (queue, inbox_id, job_id, attempts, error, replayed) = &dead[0];
    assert_eq!(queue, "stripe-events");
    assert_eq!(*inbox_id, Some(id.get()));
    assert_eq!(*job_id, None);
    assert_eq!(*attempts, 1, "permanent errors skip retries");
    assert!(error.contains("ORD-20991231-99999"), "{error}");
    assert!(!replayed);
    let (_, inbox_error) = inbox_row(&pool, id).await;
    assert_eq!(inbox_error.as_deref(), Some(error.as_str()));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_delivery_out_of_attempts_is_dead_lettered_once(pool: PgPool) {
    let worker = test_worker_with(pool.clone(), |env| {
        env.insert("JOB_MAX_ATTEMPTS".into(), "2".into());
    });
    let ctx = context(&worker);
    let order = pending_order(&pool, "SKU-DLQ", 3, std::time::Duration::from_secs(3600)).await;
    // A full refund before the payment is a transient failure: retried, then dead.
    let refund = event("charge.refunded", |o| {
        name_order(o, &order);
        o["amount_refunded"] = Value::from(PRICE_CENTS);
        o["refunded"] = Value::from(true);
    });
    let id: InboxId = record_new(&pool, &refund).await;

    process_delivery::process(&ctx, id).await;
    assert_eq!(inbox_row(&pool, id).await.0, "failed");
    assert!(dead_jobs(&pool).await.is_empty(), "a retry is not a death");
    sqlx::query("UPDATE inbox SET next_attempt_at = now() WHERE id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .expect("make the retry due");
    process_delivery::process(&ctx, id).await;

    assert_eq!(inbox_row(&pool, id).await.0, "dead");
    let dead = dead_jobs(&pool).await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].0, "stripe-events");
    assert_eq!(dead[0].1, Some(id.get()));
    assert_eq!(dead[0].3, 2);
}
