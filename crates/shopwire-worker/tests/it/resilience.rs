//! Bad input and a bad Redis do not stop the worker (docs/contract.md §8.1, §8.4).

use apalis_core::task::builder::TaskBuilder;
use shopwire_core::jobs::{InboxJob, Queue};
use sqlx::PgPool;

use crate::helpers::{PATIENCE, QUEUE, TestWorker, spawn_worker, spawn_worker_with, wait_until};
use crate::private_redis::{PrivateRedis, ping};

/// Push raw task payloads onto `queue` in one call, bypassing `QueueClient`'s typed push.
async fn push_raw(worker: &TestWorker, queue: Queue, payloads: &[Vec<u8>]) {
    let mut conn = worker.redis().await;
    let config = worker.queue.config(queue, 1);
    let tasks: Vec<_> = payloads
        .iter()
        .map(|bytes| TaskBuilder::new(bytes.clone()).build())
        .collect();
    apalis_redis::queries::push_tasks(&mut conn, &config, &tasks)
        .await
        .expect("redis takes the tasks");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_job_without_an_inbox_id_does_not_stop_the_worker(pool: PgPool) {
    let mut worker = spawn_worker(pool).await;

    push_raw(
        &worker,
        QUEUE,
        &[
            br#"{"order_id":"not an inbox job"}"#.to_vec(),
            br#"{"inbox_id":"seven"}"#.to_vec(),
        ],
    )
    .await;
    worker.wait_until_drained().await;
    let dead_key = worker.queue.config(QUEUE, 1).dead_jobs_set();
    let dead: u64 = redis::cmd("SCARD")
        .arg(dead_key)
        .query_async(&mut worker.redis().await)
        .await
        .expect("SCARD works");
    assert_eq!(
        dead, 2,
        "both were aborted, not left to apalis's own retries"
    );
    let id = worker.deliver("evt_after_bad_json").await;

    worker.wait_for_status(id, "processed").await;
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn bytes_that_are_not_json_do_not_stop_the_worker(pool: PgPool) {
    let mut worker = spawn_worker(pool).await;

    // apalis-redis cannot decode these and ends the queue worker; the supervisor starts
    // a fresh one.
    push_raw(&worker, QUEUE, &[b"garbage".to_vec()]).await;
    wait_until("the garbage task is fetched", PATIENCE, || async {
        worker
            .queue
            .depth(QUEUE)
            .await
            .expect("redis answers")
            .pending
            == 0
    })
    .await;
    let id = worker.deliver("evt_after_garbage").await;

    // SWEEP_AFTER_SECS is 60 here: only the restarted queue worker can have run it.
    let row = worker.wait_for_status(id, "processed").await;
    assert_eq!(row.enqueued_at, None, "not the sweeper's doing");
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_delivery_fetched_in_the_same_batch_as_garbage_is_still_processed(pool: PgPool) {
    let mut worker = spawn_worker_with(pool, |env| {
        env.insert("SWEEP_AFTER_SECS".into(), "1".into());
    })
    .await;
    let id = worker.record("evt_batched_with_garbage").await;
    let job = serde_json::to_vec(&InboxJob { inbox_id: id }).expect("serializes");

    // One push, so one fetch takes both: the garbage kills the queue worker before the
    // job behind it runs. Depending on timing apalis hands that job back to the queue as
    // the worker closes, or leaves it in the dead worker's in-flight set.
    push_raw(&worker, QUEUE, &[b"garbage".to_vec(), job]).await;

    // Either way the inbox still has it, and the sweeper enqueues what Redis stranded.
    let row = worker.wait_for_status(id, "processed").await;
    assert_eq!(row.attempts, 1);
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_running_worker_survives_a_flush_of_its_redis_keys(pool: PgPool) {
    let mut worker = spawn_worker(pool).await;
    let before = worker.deliver("evt_before_flush").await;
    worker.wait_for_status(before, "processed").await;

    // This also wipes the worker's own registration in Redis.
    assert!(worker.delete_redis_keys().await > 0);
    let after = worker.deliver("evt_after_flush").await;

    // SWEEP_AFTER_SECS is 60 here: only the queue can have brought it.
    worker.wait_for_status(after, "processed").await;
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_worker_survives_a_redis_restart(pool: PgPool) {
    let mut redis = PrivateRedis::start().await;
    let url = redis.url();
    let mut worker = spawn_worker_with(pool, |env| {
        env.insert("REDIS_URL".into(), url.clone());
    })
    .await;
    let before = worker.deliver("evt_before_restart").await;
    worker.wait_for_status(before, "processed").await;

    redis.kill();
    assert!(!ping(&url).await, "the first redis-server is gone");
    redis.launch().await;

    let after = worker.record("evt_after_restart").await;
    // The test's own connection reconnects too; keep pushing until Redis takes the job.
    wait_until(
        "redis takes the job after its restart",
        PATIENCE,
        || async {
            worker
                .queue
                .push(QUEUE, &[InboxJob { inbox_id: after }])
                .await
                .is_ok()
        },
    )
    .await;
    let row = worker.wait_for_status(after, "processed").await;
    assert_eq!(row.attempts, 1);
    let (status, _) = ready(&worker).await;
    assert_eq!(status, 200, "ready again once redis is back");
    worker.stop().await.expect("clean shutdown");
}

async fn ready(worker: &TestWorker) -> (u16, serde_json::Value) {
    let response = worker
        .get("/ready")
        .await
        .expect("the health server answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("ready answers JSON"))
}
