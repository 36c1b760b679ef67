//! Concurrent copies of one delivery: Postgres picks one winner, everyone gets its id.

use futures::future::join_all;
use shopwire_core::domain::Provider;
use shopwire_core::jobs::Queue;
use sqlx::PgPool;

use crate::helpers::{fixture, json, spawn_app};

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn fifty_concurrent_copies_of_one_event_make_one_row_and_one_job(pool: PgPool) {
    let app = spawn_app(pool).await;
    let body = fixture("stripe/payment_intent.payment_failed.json");

    let answers = join_all(
        (0..50).map(|_| async { json(app.post_signed(Provider::Stripe, &body).await).await }),
    )
    .await;

    assert!(
        answers.iter().all(|(status, _)| *status == 200),
        "{answers:?}"
    );
    let accepted = answers
        .iter()
        .filter(|(_, a)| a["status"] == "accepted")
        .count();
    let duplicate = answers
        .iter()
        .filter(|(_, a)| a["status"] == "duplicate")
        .count();
    assert_eq!((accepted, duplicate), (1, 49));
    let rows = app.inbox_rows().await;
    assert_eq!(rows.len(), 1);
    let id = rows[0].id.to_string();
    assert!(
        answers.iter().all(|(_, a)| a["id"] == id.as_str()),
        "{answers:?}"
    );
    assert_eq!(app.queue_depth(Queue::StripeEvents).await, 1);
}
