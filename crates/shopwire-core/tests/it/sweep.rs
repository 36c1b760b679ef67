//! The sweeper's view of the inbox: stranded deliveries, once each; and the listing the
//! admin CLI prints.

use std::time::Duration;

use shopwire_core::db::inbox::{self, AfterFailure, InboxId, Recorded};
use shopwire_core::domain::{InboxStatus, Provider};
use sqlx::PgPool;

use crate::helpers::{BODY, claim, delivery, record_new, status, swept_ids, update};

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn sweep_returns_stranded_queued_rows_once_and_leaves_fresh_ones(pool: PgPool) {
    let old = record_new(&pool, "evt_old").await;
    let older = record_new(&pool, "evt_older").await;
    let fresh = record_new(&pool, "evt_fresh").await;
    for (id, minutes) in [(old, 2), (older, 60)] {
        sqlx::query(
            "UPDATE inbox SET received_at = now() - make_interval(mins => $2),
                              next_attempt_at = now() - make_interval(mins => $2)
              WHERE id = $1",
        )
        .bind(id)
        .bind(minutes)
        .execute(&pool)
        .await
        .expect("update works");
    }

    let first = swept_ids(&pool, Duration::from_secs(60)).await;
    let second = swept_ids(&pool, Duration::from_secs(60)).await;

    assert_eq!(first, vec![old, older]);
    assert!(
        second.is_empty(),
        "a swept row is stamped as enqueued now: {second:?}"
    );
    assert_eq!(status(&pool, fresh).await, "queued");
    assert_eq!(
        status(&pool, old).await,
        "queued",
        "sweeping only re-enqueues"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn sweep_honours_its_limit_and_the_next_sweep_takes_the_rest(pool: PgPool) {
    for n in 0..5 {
        record_new(&pool, &format!("evt_batch_{n}")).await;
    }
    sqlx::query("UPDATE inbox SET received_at = now() - interval '1 hour', next_attempt_at = now() - interval '1 hour'")
        .execute(&pool)
        .await
        .expect("update works");

    let first = inbox::sweep(&pool, Duration::from_secs(60), 3)
        .await
        .expect("sweep works");
    let second = inbox::sweep(&pool, Duration::from_secs(60), 3)
        .await
        .expect("sweep works");

    assert_eq!((first.len(), second.len()), (3, 2));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn sweep_ignores_finished_rows_and_live_leases_but_takes_expired_ones(pool: PgPool) {
    let processed = record_new(&pool, "evt_processed").await;
    let dead = record_new(&pool, "evt_dead").await;
    let leased = record_new(&pool, "evt_leased").await;
    let expired = record_new(&pool, "evt_expired").await;
    let rejected = match inbox::record_rejected(&pool, Provider::Stripe, b"{}", "no id")
        .await
        .expect("record works")
    {
        Recorded::New(id) => id,
        other => panic!("{other:?}"),
    };
    for id in [processed, dead, leased, expired] {
        claim(&pool, id, "worker-a").await.expect("claimable");
    }
    assert!(
        inbox::finish(&pool, processed, "worker-a", InboxStatus::Processed)
            .await
            .expect("finish works")
    );
    assert!(
        inbox::fail(&pool, dead, "worker-a", "permanent", AfterFailure::Dead)
            .await
            .expect("fail works")
    );
    update(
        &pool,
        expired,
        "UPDATE inbox SET locked_until = now() - interval '1 second' WHERE id = $1",
    )
    .await;
    // Everything is old enough to sweep, had it been unfinished and unleased.
    sqlx::query(
        "UPDATE inbox SET received_at = now() - interval '1 hour', next_attempt_at = now() - interval '1 hour', enqueued_at = NULL",
    )
    .execute(&pool)
    .await
    .expect("update works");

    let swept = swept_ids(&pool, Duration::from_secs(60)).await;

    assert_eq!(
        swept,
        vec![expired],
        "processed {processed}, dead {dead}, rejected {rejected}, leased {leased}"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn list_filters_by_provider_and_status_newest_first(pool: PgPool) {
    let a = record_new(&pool, "evt_a").await;
    let b = record_new(&pool, "evt_b").await;
    inbox::record(&pool, Provider::Comments, &delivery("c1"), BODY)
        .await
        .expect("record works");
    claim(&pool, a, "w").await.expect("claimable");
    assert!(
        inbox::finish(&pool, a, "w", InboxStatus::Processed)
            .await
            .expect("finish works")
    );

    let stripe: Vec<_> = inbox::list(&pool, Some(Provider::Stripe), None, 10)
        .await
        .expect("list works");
    let queued: Vec<_> = inbox::list(&pool, Some(Provider::Stripe), Some(InboxStatus::Queued), 10)
        .await
        .expect("list works");
    let all = inbox::list(&pool, None, None, 2).await.expect("list works");

    assert_eq!(stripe.iter().map(|r| r.id).collect::<Vec<_>>(), vec![b, a]);
    assert_eq!(queued.iter().map(|r| r.id).collect::<Vec<_>>(), vec![b]);
    assert_eq!(all.len(), 2, "the limit holds");
    assert!(
        inbox::get(&pool, InboxId::new(i64::MAX))
            .await
            .expect("get works")
            .is_none()
    );
}
