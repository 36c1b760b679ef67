//! TikTok Shop orders for one SKU, applied by concurrent transactions, wait for each other
//! instead of deadlocking: the first notification of an order both stores its lines and
//! takes its stock, and inserting a line (a foreign key to its product) must not leave a
//! share lock that another order's stock commit then waits on while holding its own.

use std::time::Duration;

use shopwire_core::db::tiktok_orders::{self, Details, NewLine, OrderStatus};
use sqlx::PgPool;

use crate::helpers::product;

const SKU: &str = "TEE-1";

fn one_tee() -> Details {
    Details {
        buyer: None,
        total_cents: Some(2500),
        currency: Some("usd".into()),
        lines: vec![NewLine {
            seller_sku: Some(SKU.into()),
            tiktok_sku_id: Some("17".into()),
            title: Some("Denim jacket".into()),
            quantity: 1,
            unit_price_cents: Some(2500),
        }],
    }
}

/// Create `tiktok_order_id` with its lines inside `tx`, leaving it uncommitted.
async fn store_lines(tx: &mut sqlx::PgConnection, tiktok_order_id: &str) -> i64 {
    let (order, created) = tiktok_orders::lock_or_create(tx, tiktok_order_id, "tiktok:buyer")
        .await
        .expect("locked");
    assert!(created, "a new order");
    let stored = tiktok_orders::set_details(tx, order.id, &one_tee())
        .await
        .expect("lines stored");
    assert_eq!(stored.inserted, 1);
    order.id
}

/// Walk `tiktok_order_id` (locked again in `tx`) to `paid`, taking its stock.
async fn pay(tx: &mut sqlx::PgConnection, tiktok_order_id: &str) -> Result<i32, sqlx::Error> {
    let order = tiktok_orders::lock(tx, tiktok_order_id)
        .await?
        .expect("the order exists");
    let moved = tiktok_orders::move_to(tx, &order, OrderStatus::Paid)
        .await?
        .expect("pending can be paid");
    Ok(moved.committed.iter().map(|m| m.moved).sum())
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn two_new_orders_of_one_sku_paid_at_once_both_commit_their_stock(pool: PgPool) {
    product(&pool, SKU, 5).await;

    // The first order stores its line and holds its transaction open.
    let mut first = pool.begin().await.expect("begin");
    store_lines(&mut first, "A-1").await;

    // The second does the same and goes on to pay, while the first has not paid yet.
    let second = tokio::spawn({
        let pool = pool.clone();
        async move {
            let mut tx = pool.begin().await?;
            store_lines(&mut tx, "A-2").await;
            let taken = pay(&mut tx, "A-2").await?;
            tx.commit().await?;
            Ok::<i32, sqlx::Error>(taken)
        }
    });
    // Let the second reach whatever it waits on.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let first_taken = tokio::time::timeout(Duration::from_secs(10), async {
        let taken = pay(&mut first, "A-1").await?;
        first.commit().await?;
        Ok::<i32, sqlx::Error>(taken)
    })
    .await
    .expect("the first order is not stuck")
    .expect("the first order pays without a deadlock");
    let second_taken = tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .expect("the second order is not stuck")
        .expect("joined")
        .expect("the second order pays without a deadlock");

    assert_eq!((first_taken, second_taken), (1, 1));
    let (on_hand,): (i32,) = sqlx::query_as("SELECT stock_on_hand FROM products WHERE sku = $1")
        .bind(SKU)
        .fetch_one(&pool)
        .await
        .expect("stock");
    assert_eq!(on_hand, 3, "each order took its one unit");
}
