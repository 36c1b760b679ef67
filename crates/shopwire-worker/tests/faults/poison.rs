//! docs/contract.md §4: a poison delivery dies alone. A Stripe event naming an `ORD-…` order that
//! does not exist (permanent) and a refund that keeps overtaking its payment (transient,
//! retried until `JOB_MAX_ATTEMPTS`) end `dead`; the good deliveries around them, on the
//! same queues, are all processed.

use serde_json::json;
use shopwire_core::domain::Provider;
use sqlx::PgPool;

use super::bodies::{self, BUYS, QUESTIONS};
use super::support::{
    PATIENCE, RedisPrefix, by_status, count, database_url, release_database, unfinished, wait_until,
};
use super::worker_process::{WorkerProcess, worker_env};

const ORDERS: usize = 25;
const PAYMENTS: usize = 25;
const COMMENTS: usize = 25;

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_poison_delivery_dies_alone_while_the_rest_of_its_queue_flows(pool: PgPool) {
    bodies::pinned_product(&pool, "POISON-1", 1_000).await;
    let redis = RedisPrefix::new();
    let mut env = worker_env(&database_url(&pool), &redis);
    for (k, v) in [
        ("JOB_MAX_ATTEMPTS", "2"),
        ("JOB_BACKOFF_BASE_MS", "10"),
        ("JOB_BACKOFF_MAX_MS", "50"),
    ] {
        env.insert(k.to_owned(), v.to_owned());
    }
    let worker = WorkerProcess::spawn(&env);

    // Orders to pay (and one to refund too early), made by buyers' comments.
    for n in 0..=ORDERS {
        let body = bodies::comment(
            &format!("poison-buy-{n}"),
            &format!("buyer-{n}"),
            BUYS[n % 3],
        );
        bodies::deliver(&pool, &redis, Provider::Comments, &body).await;
    }
    wait_until("the buyers' orders exist", PATIENCE, || async {
        count(&pool, "SELECT count(*) FROM orders").await == (ORDERS + 1) as i64
    })
    .await;
    let numbers: Vec<(String,)> = sqlx::query_as("SELECT order_number FROM orders ORDER BY id")
        .fetch_all(&pool)
        .await
        .expect("order numbers");
    let (unpaid, to_pay) = numbers.split_first().expect("orders");

    // The poison goes first; good deliveries queue up behind and beside it.
    let missing = bodies::session_completed("evt_poison_missing", "ORD-19700101-99999");
    let missing = bodies::deliver(&pool, &redis, Provider::Stripe, &missing).await;
    let early_refund = bodies::stripe_event(
        "evt_poison_early_refund",
        "charge.refunded",
        json!({"id": "ch_early", "object": "charge", "refunded": true, "amount": 4999,
               "amount_refunded": 4999, "currency": "usd",
               "metadata": {"order_id": unpaid.0}}),
    );
    let early_refund = bodies::deliver(&pool, &redis, Provider::Stripe, &early_refund).await;
    for (n, (number,)) in to_pay.iter().take(PAYMENTS).enumerate() {
        let body = bodies::session_completed(&format!("evt_poison_pay_{n}"), number);
        bodies::deliver(&pool, &redis, Provider::Stripe, &body).await;
        let body = bodies::comment(
            &format!("poison-q-{n}"),
            &format!("viewer-{n}"),
            QUESTIONS[n % 3],
        );
        bodies::deliver(&pool, &redis, Provider::Comments, &body).await;
    }

    wait_until("every delivery is finished", PATIENCE, || async {
        unfinished(&pool).await == 0
    })
    .await;
    assert!(worker_alive(worker).await, "the worker survived its poison");

    let dead: Vec<(i64, i32, Option<String>)> = sqlx::query_as(
        "SELECT id, attempts, last_error FROM inbox WHERE status = 'dead' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .expect("dead rows");
    let ids: Vec<i64> = dead.iter().map(|(id, _, _)| *id).collect();
    assert_eq!(
        ids,
        vec![missing.get(), early_refund.get()],
        "only the poison died"
    );
    let (_, attempts, error) = &dead[0];
    assert_eq!(*attempts, 1, "a permanent error skips retries");
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("does not exist")),
        "{error:?}"
    );
    let (_, attempts, error) = &dead[1];
    assert_eq!(
        *attempts, 2,
        "a transient error is retried up to JOB_MAX_ATTEMPTS"
    );
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("before its payment")),
        "{error:?}"
    );

    let good = (ORDERS + 1 + PAYMENTS + COMMENTS) as i64;
    assert_eq!(
        by_status(&pool).await,
        vec![("dead".to_owned(), 2), ("processed".to_owned(), good)]
    );
    let paid = count(&pool, "SELECT count(*) FROM orders WHERE status = 'paid'").await;
    assert_eq!(paid, PAYMENTS as i64, "every good payment applied");
    println!("poison: 2 poison deliveries dead (1 and 2 attempts), {good} good ones processed");
    release_database(&pool).await;
}

/// True if the worker process is still running; it is SIGKILLed either way.
async fn worker_alive(mut worker: WorkerProcess) -> bool {
    let alive = worker.is_running();
    worker.kill().await;
    alive
}
