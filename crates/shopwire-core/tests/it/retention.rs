//! Retention: a purge erases the bodies of settled deliveries past the cutoff, batch by
//! batch, and never a delivery still in flight or dead.

use std::time::Duration;

use shopwire_core::db::inbox::InboxId;
use shopwire_core::db::retention;
use sqlx::PgPool;

use crate::helpers::record_new;

const MONTH: Duration = Duration::from_secs(30 * 86_400);

/// A delivery in `status` that settled (or, unsettled, was received) `days` ago.
async fn aged(pool: &PgPool, key: &str, status: &str, days: i32) -> InboxId {
    let id = record_new(pool, key).await;
    sqlx::query(
        "UPDATE inbox SET status = $2, received_at = now() - make_interval(days => $3 + 1),
                          processed_at = CASE WHEN $2 IN ('processed', 'ignored')
                                              THEN now() - make_interval(days => $3) END
          WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(days)
    .execute(pool)
    .await
    .expect("aged");
    id
}

async fn body_of(pool: &PgPool, id: InboxId) -> (usize, bool) {
    let (len, purged): (i32, bool) =
        sqlx::query_as("SELECT length(body), body_purged_at IS NOT NULL FROM inbox WHERE id = $1")
            .bind(id)
            .fetch_one(pool)
            .await
            .expect("row");
    (usize::try_from(len).expect("a length"), purged)
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_purge_in_small_batches_erases_every_old_settled_body_and_nothing_else(pool: PgPool) {
    let mut settled = Vec::new();
    for n in 0..5 {
        settled.push(aged(&pool, &format!("old-processed-{n}"), "processed", 40).await);
    }
    settled.push(aged(&pool, "old-ignored", "ignored", 40).await);
    // A rejected row has no processed_at: its receipt counts.
    settled.push(aged(&pool, "old-rejected", "rejected", 40).await);
    let recent = aged(&pool, "recent-processed", "processed", 10).await;
    let mut kept = vec![recent];
    for status in ["queued", "processing", "failed", "dead"] {
        kept.push(aged(&pool, &format!("old-{status}"), status, 40).await);
    }

    assert_eq!(retention::purgeable(&pool, MONTH).await.expect("counts"), 7);
    let purged = retention::purge_settled_in_batches(&pool, MONTH, 2)
        .await
        .expect("purges");
    assert_eq!(purged.bodies, 7);

    for id in settled {
        assert_eq!(body_of(&pool, id).await, (0, true), "inbox {id}");
    }
    for id in kept {
        let (len, purged) = body_of(&pool, id).await;
        assert!(len > 0 && !purged, "inbox {id} must keep its body");
    }
    assert_eq!(retention::purgeable(&pool, MONTH).await.expect("counts"), 0);
    let again = retention::purge_settled(&pool, MONTH)
        .await
        .expect("purges");
    assert_eq!(again.bodies, 0, "a second purge finds nothing");
}
