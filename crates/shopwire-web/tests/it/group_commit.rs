//! Concurrent deliveries share commits (group commit), yet each one is answered with its
//! own id, recorded once and enqueued once.

use futures::future::join_all;
use serde_json::json;
use shopwire_core::domain::Provider;
use shopwire_core::jobs::Queue;
use sqlx::PgPool;

use crate::helpers::{json, spawn_app};

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_burst_of_deliveries_shares_commits_and_each_gets_its_own_row_and_job(pool: PgPool) {
    let app = spawn_app(pool).await;
    let bodies: Vec<Vec<u8>> = (0..150)
        .map(|i| {
            serde_json::to_vec(&json!({
                "id": format!("evt_burst_{i}"),
                "type": "payment_intent.payment_failed",
                "data": {"object": {}}
            }))
            .expect("serializes")
        })
        .collect();

    let answers = join_all(
        bodies
            .iter()
            .map(|body| async { json(app.post_signed(Provider::Stripe, body).await).await }),
    )
    .await;

    assert!(
        answers
            .iter()
            .all(|(status, a)| *status == 200 && a["status"] == "accepted"),
        "{answers:?}"
    );
    let mut ids: Vec<&str> = answers
        .iter()
        .filter_map(|(_, a)| a["id"].as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 150, "every delivery has its own id");
    assert_eq!(app.inbox_rows().await.len(), 150);
    assert_eq!(app.queue_depth(Queue::StripeEvents).await, 150);
    // Rows written by one transaction share its xmin: fewer transactions than rows means
    // deliveries were committed together.
    let transactions: i64 = sqlx::query_scalar("SELECT count(DISTINCT xmin::text) FROM inbox")
        .fetch_one(&app.pool)
        .await
        .expect("count works");
    assert!(
        transactions < 150,
        "150 concurrent deliveries took {transactions} commits"
    );
}
