//! The happy path and its duplicates: a delivery is applied once, however often its job
//! arrives.

use std::time::Duration;

use shopwire_core::jobs::InboxJob;
use shopwire_worker::jobs::process_delivery;
use sqlx::PgPool;

use crate::helpers::{QUEUE, spawn_worker, spawn_worker_with};

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_recorded_and_enqueued_delivery_is_processed_by_a_running_worker(pool: PgPool) {
    let mut worker = spawn_worker(pool).await;

    let id = worker.deliver("evt_happy").await;

    let row = worker.wait_for_status(id, "processed").await;
    assert_eq!(row.attempts, 1);
    assert!(row.processed_at.is_some());
    assert_eq!(row.last_error, None);
    worker.wait_until_drained().await;
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_same_job_pushed_five_times_is_applied_once(pool: PgPool) {
    let mut worker = spawn_worker(pool).await;
    let id = worker.record("evt_five").await;

    worker
        .queue
        .push(QUEUE, &[InboxJob { inbox_id: id }; 5])
        .await
        .expect("redis takes the jobs");

    worker.wait_for_status(id, "processed").await;
    worker.wait_until_drained().await;
    assert_eq!(
        worker.row(id).await.attempts,
        1,
        "four copies found it done or leased"
    );
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_job_for_a_delivery_already_processed_changes_nothing(pool: PgPool) {
    let mut worker = spawn_worker(pool).await;
    let id = worker.deliver("evt_replayed").await;
    let first = worker.wait_for_status(id, "processed").await;

    worker.enqueue(id).await;
    worker.wait_until_drained().await;

    let again = worker.row(id).await;
    assert_eq!((again.status.as_str(), again.attempts), ("processed", 1));
    assert_eq!(again.processed_at, first.processed_at);
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_failed_delivery_whose_retry_is_due_is_processed_on_that_attempt(pool: PgPool) {
    let mut worker = spawn_worker(pool).await;
    let id = worker.record("evt_retried").await;
    sqlx::query(
        "UPDATE inbox SET status = 'failed', attempts = 1, last_error = 'stripe answered 503',
                          next_attempt_at = now() - interval '1 second'
          WHERE id = $1",
    )
    .bind(id)
    .execute(&worker.pool)
    .await
    .expect("update works");

    process_delivery::process(&worker.context(), id).await;

    let row = worker.row(id).await;
    assert_eq!((row.status.as_str(), row.attempts), ("processed", 2));
    assert_eq!(row.last_error, None, "success clears the last error");
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_retry_that_arrives_early_waits_for_its_scheduled_push(pool: PgPool) {
    let mut worker = spawn_worker(pool).await;
    let id = worker.record("evt_backoff").await;
    sqlx::query(
        "UPDATE inbox SET status = 'failed', attempts = 1, last_error = 'timeout',
                          next_attempt_at = now() + interval '1 second'
          WHERE id = $1",
    )
    .bind(id)
    .execute(&worker.pool)
    .await
    .expect("update works");

    // A stray copy now finds it not yet due and ends; the scheduled one runs it.
    worker.enqueue(id).await;
    worker
        .queue
        .push_after(QUEUE, InboxJob { inbox_id: id }, Duration::from_secs(2))
        .await
        .expect("redis takes the job");

    let row = worker.wait_for_status(id, "processed").await;
    assert_eq!(
        row.attempts, 2,
        "the early copy did not count as an attempt"
    );
    worker.wait_until_drained().await;
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_idle_worker_picks_up_a_push_at_once_not_at_its_next_poll(pool: PgPool) {
    // Polling alone would leave the job waiting up to 30 s.
    let mut worker = spawn_worker_with(pool, |env| {
        env.insert("QUEUE_POLL_INTERVAL_MS".into(), "30000".into());
    })
    .await;
    // Let the worker make its first, empty fetch and go idle.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let started = std::time::Instant::now();
    let id = worker.deliver("evt_wake").await;
    worker.wait_for_status(id, "processed").await;

    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(5),
        "picked up after {waited:?}"
    );
    worker.stop().await.expect("clean shutdown");
}
