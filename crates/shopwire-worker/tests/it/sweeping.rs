//! The sweeper: what Redis never saw, lost, or what a dead worker held, is processed
//! anyway (docs/contract.md §8.1).

use sqlx::PgPool;

use crate::helpers::{PATIENCE, QUEUE, spawn_worker_with, test_worker_with, wait_until};

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_delivery_redis_never_saw_is_processed_after_the_sweeper_runs(pool: PgPool) {
    let mut worker = spawn_worker_with(pool, |env| {
        env.insert("SWEEP_AFTER_SECS".into(), "1".into());
    })
    .await;

    // Recorded, but Redis was down when the web tried to enqueue it.
    let id = worker.record("evt_never_enqueued").await;

    let row = worker.wait_for_status(id, "processed").await;
    assert_eq!(row.attempts, 1);
    assert!(
        row.enqueued_at.is_some(),
        "the sweeper stamped it when it re-enqueued it"
    );
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn deliveries_survive_a_flush_of_their_redis_keys(pool: PgPool) {
    let mut worker = test_worker_with(pool, |env| {
        env.insert("SWEEP_AFTER_SECS".into(), "1".into());
    });
    let mut ids = Vec::new();
    for n in 0..50 {
        ids.push(worker.deliver(&format!("evt_flushed_{n}")).await);
    }
    assert_eq!(
        worker
            .queue
            .depth(QUEUE)
            .await
            .expect("redis answers")
            .pending,
        50
    );

    assert!(worker.delete_redis_keys().await > 0);
    assert_eq!(
        worker
            .queue
            .depth(QUEUE)
            .await
            .expect("redis answers")
            .pending,
        0
    );
    worker.start().await;

    for &id in &ids {
        let row = worker.wait_for_status(id, "processed").await;
        assert_eq!(row.attempts, 1);
        assert!(
            row.enqueued_at.is_some(),
            "only the sweeper could have enqueued {id}"
        );
    }
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_delivery_whose_worker_died_is_taken_over_once_its_lease_expires(pool: PgPool) {
    let mut worker = spawn_worker_with(pool, |env| {
        env.insert("SWEEP_AFTER_SECS".into(), "1".into());
    })
    .await;
    let id = worker.record("evt_orphaned").await;
    // A worker claimed it a minute ago and was SIGKILLed; its job vanished with it.
    sqlx::query(
        "UPDATE inbox SET status = 'processing', locked_by = 'dead-worker',
                          locked_until = now() - interval '1 second', attempts = 1,
                          received_at = now() - interval '1 minute',
                          next_attempt_at = now() - interval '1 minute'
          WHERE id = $1",
    )
    .bind(id)
    .execute(&worker.pool)
    .await
    .expect("update works");

    let row = worker.wait_for_status(id, "processed").await;

    assert_eq!(row.attempts, 2, "the dead worker's attempt counts");
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_delivery_leased_by_a_live_worker_is_left_alone(pool: PgPool) {
    let mut worker = spawn_worker_with(pool, |env| {
        env.insert("SWEEP_AFTER_SECS".into(), "1".into());
    })
    .await;
    let id = worker.record("evt_leased").await;
    sqlx::query(
        "UPDATE inbox SET status = 'processing', locked_by = 'other-worker',
                          locked_until = now() + interval '1 hour', attempts = 1,
                          received_at = now() - interval '1 minute',
                          next_attempt_at = now() - interval '1 minute'
          WHERE id = $1",
    )
    .bind(id)
    .execute(&worker.pool)
    .await
    .expect("update works");

    // Its job arrives too (a duplicate push) and finds the lease live.
    worker.enqueue(id).await;
    worker.wait_until_drained().await;

    let row = worker.row(id).await;
    assert_eq!((row.status.as_str(), row.attempts), ("processing", 1));
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn finished_tasks_are_trimmed_from_redis(pool: PgPool) {
    // The sweeper trims on every pass; SWEEP_AFTER_SECS=1 makes a pass every 250 ms.
    let mut worker = spawn_worker_with(pool, |env| {
        env.insert("SWEEP_AFTER_SECS".into(), "1".into());
    })
    .await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(worker.deliver(&format!("evt_trimmed_{n}")).await);
    }
    for &id in &ids {
        worker.wait_for_status(id, "processed").await;
    }

    let config = worker.queue.config(QUEUE, 1);
    let (data, done) = (config.job_data_hash(), config.done_jobs_set());
    let mut conn = worker.redis().await;
    wait_until("no finished task is left in redis", PATIENCE, || {
        let (data, done, mut conn) = (data.clone(), done.clone(), conn.clone());
        async move {
            let (payloads, finished): (u64, u64) = redis::pipe()
                .hlen(&data)
                .scard(&done)
                .query_async(&mut conn)
                .await
                .expect("redis answers");
            (payloads, finished) == (0, 0)
        }
    })
    .await;
    let metas: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}:*", config.job_meta_hash()))
        .query_async(&mut conn)
        .await
        .expect("KEYS works");
    assert!(metas.is_empty(), "task metadata is trimmed too: {metas:?}");
    worker.stop().await.expect("clean shutdown");
}
