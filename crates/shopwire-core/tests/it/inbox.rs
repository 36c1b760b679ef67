//! The inbox as a job record: dedupe on record, leases on claim, finish and fail only by
//! the lease holder.

use std::time::Duration;

use chrono::Utc;
use shopwire_core::db::inbox::{self, AfterFailure, Recorded};
use shopwire_core::domain::{InboxStatus, Provider};
use sqlx::PgPool;

use crate::helpers::{BODY, claim, delivery, record_new, status, swept_ids, update};

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn recording_a_delivery_twice_is_new_then_a_duplicate_with_the_same_id(pool: PgPool) {
    let first = inbox::record(&pool, Provider::Stripe, &delivery("evt_1"), BODY)
        .await
        .expect("record works");
    let second = inbox::record(&pool, Provider::Stripe, &delivery("evt_1"), BODY)
        .await
        .expect("record works");

    let Recorded::New(id) = first else {
        panic!("first copy was {first:?}")
    };
    assert_eq!(second, Recorded::Duplicate(id));
    let row = inbox::get(&pool, id)
        .await
        .expect("get works")
        .expect("the row exists");
    assert_eq!(
        (row.status.as_str(), row.attempts, row.dedupe_key.as_str()),
        ("queued", 0, "evt_1")
    );
    let body = inbox::body(&pool, id).await.expect("body works");
    assert_eq!(
        body.as_deref(),
        Some(BODY),
        "the body is kept byte for byte"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_same_key_from_another_provider_is_another_delivery(pool: PgPool) {
    let stripe = record_new(&pool, "shared-key").await;
    let comments = inbox::record(&pool, Provider::Comments, &delivery("shared-key"), BODY)
        .await
        .expect("record works");
    assert!(
        matches!(comments, Recorded::New(id) if id != stripe),
        "{comments:?}"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn twenty_concurrent_records_of_one_delivery_make_exactly_one_new_row(pool: PgPool) {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let pool = pool.clone();
        tasks.spawn(async move {
            inbox::record(&pool, Provider::Stripe, &delivery("evt_race"), BODY).await
        });
    }
    let outcomes: Vec<Recorded> = tasks
        .join_all()
        .await
        .into_iter()
        .map(|r| r.expect("every concurrent record succeeds"))
        .collect();

    let new: Vec<_> = outcomes
        .iter()
        .filter(|r| matches!(r, Recorded::New(_)))
        .collect();
    assert_eq!(new.len(), 1, "{outcomes:?}");
    let id = new[0].id();
    assert!(
        outcomes.iter().all(|r| r.id() == id),
        "everyone learns the winner's id: {outcomes:?}"
    );
    let (rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM inbox")
        .fetch_one(&pool)
        .await
        .expect("count works");
    assert_eq!(rows, 1);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_rejected_delivery_is_kept_as_rejected_and_never_claimed_or_swept(pool: PgPool) {
    let body = b"not json at all";
    let first = inbox::record_rejected(&pool, Provider::Stripe, body, "not JSON")
        .await
        .expect("record works");
    let again = inbox::record_rejected(&pool, Provider::Stripe, body, "not JSON")
        .await
        .expect("record works");

    let Recorded::New(id) = first else {
        panic!("first copy was {first:?}")
    };
    assert_eq!(again, Recorded::Duplicate(id));
    let row = inbox::get(&pool, id)
        .await
        .expect("get works")
        .expect("the row exists");
    assert_eq!(
        (row.status.as_str(), row.last_error.as_deref()),
        ("rejected", Some("not JSON"))
    );
    assert_eq!(
        inbox::body(&pool, id).await.expect("body works").as_deref(),
        Some(&body[..])
    );
    assert!(
        claim(&pool, id, "w1").await.is_none(),
        "rejected rows are never processed"
    );
    update(&pool, id, "UPDATE inbox SET received_at = now() - interval '1 hour', next_attempt_at = now() - interval '1 hour' WHERE id = $1").await;
    assert!(swept_ids(&pool, Duration::from_secs(60)).await.is_empty());
    assert_eq!(status(&pool, id).await, "rejected");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn two_workers_claiming_at_once_get_the_delivery_exactly_once(pool: PgPool) {
    for round in 0..10 {
        let id = record_new(&pool, &format!("evt_claim_{round}")).await;
        let (a, b) = tokio::join!(claim(&pool, id, "worker-a"), claim(&pool, id, "worker-b"));

        let winners: Vec<_> = [a, b].into_iter().flatten().collect();
        assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
        assert_eq!((winners[0].id, winners[0].attempts), (id, 1));
        assert_eq!(winners[0].body, BODY);
    }
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_claimed_delivery_cannot_be_claimed_again_until_its_lease_expires(pool: PgPool) {
    let id = record_new(&pool, "evt_lease").await;
    assert!(claim(&pool, id, "worker-a").await.is_some());
    assert!(
        claim(&pool, id, "worker-b").await.is_none(),
        "the lease is live"
    );
    assert!(
        claim(&pool, id, "worker-a").await.is_none(),
        "not even its holder claims it twice"
    );

    // The holder died: its lease runs out.
    update(
        &pool,
        id,
        "UPDATE inbox SET locked_until = now() - interval '1 second' WHERE id = $1",
    )
    .await;
    let taken = claim(&pool, id, "worker-b")
        .await
        .expect("an expired lease is up for grabs");

    assert_eq!(taken.attempts, 2, "the lost attempt counts");
    assert!(
        !inbox::finish(&pool, id, "worker-a", InboxStatus::Processed)
            .await
            .expect("finish works"),
        "the old holder cannot finish what it lost"
    );
    assert!(
        inbox::finish(&pool, id, "worker-b", InboxStatus::Processed)
            .await
            .expect("finish works")
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn finishing_with_the_wrong_worker_name_changes_nothing(pool: PgPool) {
    let id = record_new(&pool, "evt_finish").await;
    claim(&pool, id, "worker-a").await.expect("claimable");

    let wrong = inbox::finish(&pool, id, "worker-b", InboxStatus::Processed)
        .await
        .expect("finish works");

    assert!(!wrong);
    let row = inbox::get(&pool, id)
        .await
        .expect("get works")
        .expect("the row exists");
    assert_eq!(
        (row.status.as_str(), row.processed_at),
        ("processing", None)
    );
    assert!(
        inbox::finish(&pool, id, "worker-a", InboxStatus::Processed)
            .await
            .expect("finish works")
    );
    let row = inbox::get(&pool, id)
        .await
        .expect("get works")
        .expect("the row exists");
    assert_eq!(row.status, "processed");
    assert!(row.processed_at.is_some());
    assert!(
        claim(&pool, id, "worker-c").await.is_none(),
        "processed rows are never claimed again"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn failing_with_the_wrong_worker_name_changes_nothing(pool: PgPool) {
    let id = record_new(&pool, "evt_fail_wrong").await;
    claim(&pool, id, "worker-a").await.expect("claimable");

    let wrong = inbox::fail(&pool, id, "worker-b", "boom", AfterFailure::Dead)
        .await
        .expect("fail works");

    assert!(!wrong);
    assert_eq!(status(&pool, id).await, "processing");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_failure_with_a_retry_time_is_not_claimable_until_it_is_due(pool: PgPool) {
    let id = record_new(&pool, "evt_retry").await;
    claim(&pool, id, "worker-a").await.expect("claimable");
    let later = Utc::now() + chrono::Duration::minutes(5);

    let recorded = inbox::fail(
        &pool,
        id,
        "worker-a",
        "stripe said 503",
        AfterFailure::RetryAt(later),
    )
    .await
    .expect("fail works");

    assert!(recorded);
    let row = inbox::get(&pool, id)
        .await
        .expect("get works")
        .expect("the row exists");
    assert_eq!((row.status.as_str(), row.attempts), ("failed", 1));
    assert_eq!(row.last_error.as_deref(), Some("stripe said 503"));
    assert!(
        claim(&pool, id, "worker-b").await.is_none(),
        "not before its retry time"
    );
    assert!(
        swept_ids(&pool, Duration::from_secs(1)).await.is_empty(),
        "the sweeper waits for it too"
    );

    update(
        &pool,
        id,
        "UPDATE inbox SET next_attempt_at = now() - interval '1 second' WHERE id = $1",
    )
    .await;
    let retried = claim(&pool, id, "worker-b").await.expect("due now");
    assert_eq!(retried.attempts, 2);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_dead_delivery_is_never_claimed_again(pool: PgPool) {
    let id = record_new(&pool, "evt_dead").await;
    claim(&pool, id, "worker-a").await.expect("claimable");

    assert!(
        inbox::fail(&pool, id, "worker-a", "unknown product", AfterFailure::Dead)
            .await
            .expect("fail works")
    );

    let row = inbox::get(&pool, id)
        .await
        .expect("get works")
        .expect("the row exists");
    assert_eq!(
        (row.status.as_str(), row.last_error.as_deref()),
        ("dead", Some("unknown product"))
    );
    assert!(claim(&pool, id, "worker-b").await.is_none());
    update(&pool, id, "UPDATE inbox SET received_at = now() - interval '1 hour', next_attempt_at = now() - interval '1 hour', enqueued_at = NULL WHERE id = $1").await;
    assert!(
        claim(&pool, id, "worker-b").await.is_none(),
        "however old it is"
    );
    assert!(swept_ids(&pool, Duration::from_secs(60)).await.is_empty());
}
