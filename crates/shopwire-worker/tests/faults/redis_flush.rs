//! docs/contract.md §8.1 through a Redis flush: deliveries recorded and enqueued, then every key of
//! the queue wiped before any worker ran; the sweeper brings each one back from Postgres.

use shopwire_core::domain::Provider;
use sqlx::PgPool;

use super::bodies::{self, BUYS, QUESTIONS};
use super::support::{
    PATIENCE, RedisPrefix, by_status, count, database_url, release_database, unfinished, wait_until,
};
use super::worker_process::{WorkerProcess, worker_env};

const WAITING: usize = 300;
const BUYERS: usize = 60;

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn deliveries_waiting_in_a_flushed_redis_are_all_processed_after_the_sweep(pool: PgPool) {
    bodies::pinned_product(&pool, "FLUSH-1", 1_000).await;
    let redis = RedisPrefix::new();
    for n in 0..WAITING {
        let body = if n < BUYERS {
            bodies::comment(&format!("flush-{n}"), &format!("buyer-{n}"), BUYS[n % 3])
        } else {
            bodies::comment(
                &format!("flush-{n}"),
                &format!("viewer-{n}"),
                QUESTIONS[n % 3],
            )
        };
        bodies::deliver(&pool, &redis, Provider::Comments, &body).await;
    }
    assert_eq!(
        redis.depth().await,
        WAITING as u64,
        "all {WAITING} wait in Redis"
    );

    let deleted = redis.delete_keys().await;
    assert!(deleted > 0, "the flush removed the queue");
    assert_eq!(redis.depth().await, 0, "Redis has forgotten every job");

    let worker = WorkerProcess::spawn(&worker_env(&database_url(&pool), &redis));
    wait_until("every flushed delivery is finished", PATIENCE, || async {
        unfinished(&pool).await == 0
    })
    .await;
    worker.kill().await;

    assert_eq!(
        by_status(&pool).await,
        vec![("processed".to_owned(), WAITING as i64)]
    );
    let swept = count(
        &pool,
        "SELECT count(*) FROM inbox WHERE enqueued_at IS NOT NULL",
    )
    .await;
    assert_eq!(swept, WAITING as i64, "each came back through the sweeper");
    let orders = count(&pool, "SELECT count(*) FROM orders").await;
    assert_eq!(orders, BUYERS as i64);
    println!(
        "redis flush: {WAITING} deliveries waiting, {deleted} keys deleted, {swept} recovered by the sweeper, {orders} orders, lost 0"
    );
    release_database(&pool).await;
}
