//! The sweeper's periodic purge (`INBOX_RETENTION_DAYS`, issue #11): bodies of deliveries
//! settled longer ago are erased; recent and unsettled ones keep theirs.

use shopwire_core::db::inbox::InboxId;
use shopwire_worker::context::JobContext;
use shopwire_worker::sweeper;
use sqlx::PgPool;

use crate::helpers::{PATIENCE, TestWorker, test_worker_with, wait_until};

/// Record `key` and move it to `status`, settled (or received) `days` ago.
async fn aged(worker: &TestWorker, key: &str, status: &str, days: i32) -> InboxId {
    let id = worker.record(key).await;
    sqlx::query(
        "UPDATE inbox SET status = $2, received_at = now() - make_interval(days => $3 + 1),
                          processed_at = CASE WHEN $2 = 'processed'
                                              THEN now() - make_interval(days => $3) END
          WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(days)
    .execute(&worker.pool)
    .await
    .expect("aged");
    id
}

async fn purged(pool: &PgPool, id: InboxId) -> bool {
    let (purged, empty): (bool, bool) = sqlx::query_as(
        "SELECT body_purged_at IS NOT NULL, length(body) = 0 FROM inbox WHERE id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .expect("row");
    assert_eq!(
        purged, empty,
        "a purged body is empty, and only a purged one"
    );
    purged
}

fn context(worker: &TestWorker) -> JobContext {
    JobContext::new(&worker.settings, worker.pool.clone(), worker.queue.clone())
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn with_a_retention_the_sweeper_purges_bodies_settled_longer_ago(pool: PgPool) {
    let worker = test_worker_with(pool, |env| {
        env.insert("INBOX_RETENTION_DAYS".into(), "30".into());
    });
    let old = aged(&worker, "evt_old", "processed", 31).await;
    let recent = aged(&worker, "evt_recent", "processed", 29).await;
    let failed = aged(&worker, "evt_failed", "failed", 90).await;
    let dead = aged(&worker, "evt_dead", "dead", 90).await;

    let done = sweeper::purge_retained_bodies(&context(&worker))
        .await
        .expect("the purge ran");

    assert_eq!(done.bodies, 1);
    assert!(purged(&worker.pool, old).await);
    for id in [recent, failed, dead] {
        assert!(!purged(&worker.pool, id).await, "inbox {id} keeps its body");
    }
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn without_a_retention_the_sweeper_keeps_every_body(pool: PgPool) {
    let worker = test_worker_with(pool, |_| {});
    let old = aged(&worker, "evt_ancient", "processed", 3_000).await;

    assert_eq!(
        sweeper::purge_retained_bodies(&context(&worker)).await,
        None
    );
    assert!(!purged(&worker.pool, old).await);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_running_worker_with_a_retention_purges_on_its_first_sweep(pool: PgPool) {
    let mut worker = test_worker_with(pool, |env| {
        env.insert("INBOX_RETENTION_DAYS".into(), "7".into());
    });
    // Settled before the worker starts: its first sweep tick purges it.
    let old = aged(&worker, "evt_last_month", "processed", 30).await;
    worker.start().await;

    let pool = worker.pool.clone();
    wait_until("the sweeper purged the old body", PATIENCE, || {
        let pool = pool.clone();
        async move { purged(&pool, old).await }
    })
    .await;
    worker.stop().await.expect("clean shutdown");
}
