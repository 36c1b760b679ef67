//! From a buyer's comment to a pending order: intent, product, reservation — and no
//! oversell when buyers race for the last units.

use std::sync::Arc;

use shopwire_core::db::inbox::{self, InboxId, Recorded};
use shopwire_core::db::live_pins;
use shopwire_core::db::products::{self, NewProduct};
use shopwire_core::domain::{Delivery, Provider};
use shopwire_worker::jobs::process_delivery;
use sqlx::PgPool;

use crate::helpers::{spawn_worker, test_worker_with};

async fn product(pool: &PgPool, sku: &str, stock: i32) {
    products::upsert(
        pool,
        &NewProduct {
            sku: sku.to_owned(),
            title: format!("Product {sku}"),
            price_cents: 4999,
            currency: "usd".to_owned(),
            stock_on_hand: stock,
            ..Default::default()
        },
    )
    .await
    .expect("product upserts");
}

/// Record a live comment as the web would, returning its inbox id.
async fn comment(pool: &PgPool, id: &str, buyer: &str, text: &str) -> InboxId {
    let body = serde_json::json!({
        "comment_id": id,
        "streamer": "live_host",
        "client": buyer,
        "message": text,
        "timestamp": chrono::Utc::now().to_rfc3339(),
    })
    .to_string();
    let delivery = Delivery::parse(Provider::Comments, body.as_bytes()).expect("valid comment");
    match inbox::record(pool, Provider::Comments, &delivery, body.as_bytes())
        .await
        .expect("recorded")
    {
        Recorded::New(id) => id,
        Recorded::Duplicate(id) => id,
    }
}

async fn count(pool: &PgPool, sql: &'static str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(pool)
        .await
        .expect("count query");
    n
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn two_hundred_buyers_racing_for_twenty_units_make_exactly_twenty_orders(pool: PgPool) {
    product(&pool, "HOT-1", 20).await;
    live_pins::pin(&pool, "live_host", "HOT-1")
        .await
        .expect("pinned");
    let worker = spawn_worker(pool.clone()).await;
    let ctx = worker.context();
    let mut ids = Vec::new();
    for n in 0..200 {
        ids.push(comment(&pool, &format!("race-{n}"), &format!("buyer-{n}"), "mine!!").await);
    }

    let tasks: Vec<_> = ids
        .iter()
        .map(|id| {
            let (ctx, id) = (Arc::clone(&ctx), *id);
            tokio::spawn(async move { process_delivery::process(&ctx, id).await })
        })
        .collect();
    for task in tasks {
        task.await.expect("job task completes");
    }

    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM orders WHERE status = 'pending'"
        )
        .await,
        20
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM messages WHERE outcome = 'sold_out'"
        )
        .await,
        180
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM inbox WHERE status = 'processed'"
        )
        .await,
        200
    );
    let p = products::get(&pool, "HOT-1")
        .await
        .expect("query")
        .expect("exists");
    assert_eq!((p.stock_on_hand, p.reserved, p.available), (20, 20, 0));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn one_message_delivered_many_times_makes_one_order(pool: PgPool) {
    product(&pool, "ONE-1", 5).await;
    live_pins::pin(&pool, "live_host", "ONE-1")
        .await
        .expect("pinned");
    let worker = spawn_worker(pool.clone()).await;
    let id = comment(&pool, "same-comment", "buyer-1", "I'll take it!").await;
    for _ in 0..5 {
        worker.enqueue(id).await;
    }
    worker.wait_for_status(id, "processed").await;
    process_delivery::process(&worker.context(), id).await;

    assert_eq!(count(&pool, "SELECT count(*) FROM orders").await, 1);
    assert_eq!(count(&pool, "SELECT count(*) FROM reservations").await, 1);
    let p = products::get(&pool, "ONE-1")
        .await
        .expect("query")
        .expect("exists");
    assert_eq!(p.reserved, 1);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_buyer_holds_at_most_one_pending_order_per_product(pool: PgPool) {
    product(&pool, "DUP-1", 5).await;
    live_pins::pin(&pool, "live_host", "DUP-1")
        .await
        .expect("pinned");
    let worker = spawn_worker(pool.clone()).await;
    let ctx = worker.context();
    for n in 0..3 {
        let id = comment(&pool, &format!("again-{n}"), "eager-buyer", "mine").await;
        process_delivery::process(&ctx, id).await;
    }
    assert_eq!(count(&pool, "SELECT count(*) FROM orders").await, 1);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM messages WHERE outcome = 'already_held'"
        )
        .await,
        2
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn questions_and_unmatched_buys_make_no_order(pool: PgPool) {
    product(&pool, "Q-1", 5).await;
    let worker = spawn_worker(pool.clone()).await;
    let ctx = worker.context();
    // Nothing pinned and no product named: a buy that matches nothing.
    let unmatched = comment(&pool, "u-1", "b1", "mine!!").await;
    let question = comment(&pool, "q-1", "b2", "do you have it in size M?").await;
    process_delivery::process(&ctx, unmatched).await;
    process_delivery::process(&ctx, question).await;

    assert_eq!(count(&pool, "SELECT count(*) FROM orders").await, 0);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM messages WHERE outcome = 'unmatched'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM messages WHERE intent = 'question' AND outcome = 'not_buy'"
        )
        .await,
        1
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_sku_named_in_the_comment_wins_over_the_pinned_product(pool: PgPool) {
    product(&pool, "PIN-1", 5).await;
    product(&pool, "NAMED-22", 5).await;
    live_pins::pin(&pool, "live_host", "PIN-1")
        .await
        .expect("pinned");
    let worker = spawn_worker(pool.clone()).await;
    let id = comment(&pool, "n-1", "b1", "I'll take NAMED-22 please").await;
    process_delivery::process(&worker.context(), id).await;

    let named = products::get(&pool, "NAMED-22")
        .await
        .expect("query")
        .expect("exists");
    let pinned = products::get(&pool, "PIN-1")
        .await
        .expect("query")
        .expect("exists");
    assert_eq!((named.reserved, pinned.reserved), (1, 0));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn expired_reservations_are_released_and_their_orders_expire(pool: PgPool) {
    product(&pool, "EXP-1", 2).await;
    live_pins::pin(&pool, "live_host", "EXP-1")
        .await
        .expect("pinned");
    // No running worker: its sweeper would race this test to the release.
    let worker = test_worker_with(pool.clone(), |_| {});
    let ctx = crate::stripe_support::context(&worker);
    let id = comment(&pool, "e-1", "b1", "mine").await;
    process_delivery::process(&ctx, id).await;
    sqlx::query("UPDATE reservations SET expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .expect("backdate");

    let released = shopwire_core::db::orders::expire_reservations(&pool, 100, None)
        .await
        .expect("expiry runs")
        .released;

    assert_eq!(released, 1);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM orders WHERE status = 'expired'"
        )
        .await,
        1
    );
    let p = products::get(&pool, "EXP-1")
        .await
        .expect("query")
        .expect("exists");
    assert_eq!((p.stock_on_hand, p.reserved), (2, 0));
    assert_eq!(
        shopwire_core::db::orders::expire_reservations(&pool, 100, None)
            .await
            .expect("runs")
            .released,
        0
    );
}
