//! Inventory out (SPEC §12): a linked SKU's available stock reaches the fake TikTok Shop
//! within TIKTOK_SHOP_INVENTORY_PUSH_SECS of any change, a burst becomes one push per
//! interval of the newest value, a failed push is retried, and with two workers pushing an
//! older value never lands after a newer one.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use shopwire_core::db::tiktok_inventory::{self, NewLink};
use shopwire_testkit::fake_tiktok_shop::{FakeShop, FakeTiktokShop, InventoryUpdate};
use shopwire_worker::tiktok_shop::TiktokShop;
use sqlx::PgPool;

use crate::helpers::{TestWorker, spawn_worker_with, wait_until};
use crate::tiktok_shop::add_product;

const APP_KEY: &str = "inventory_app_key";
const APP_SECRET: &str = "inventory_app_secret";
const SHOP: &str = "7495540735365777507";
const SKU: &str = "MUG-1";
const TIKTOK_PRODUCT: &str = "1729592969712207008";
const TIKTOK_SKU: &str = "1729592969712207012";

async fn fake() -> FakeTiktokShop {
    let fake = FakeTiktokShop::start(APP_KEY, APP_SECRET).await;
    fake.add_seller(
        "code",
        "seller",
        "Mug Maker",
        vec![FakeShop {
            id: SHOP.into(),
            name: "Mugs".into(),
            region: "US".into(),
            cipher: "ROW_inventory".into(),
            code: "US1".into(),
        }],
    );
    fake
}

fn with_app(
    fake: &FakeTiktokShop,
    push_secs: u64,
) -> impl FnOnce(&mut HashMap<String, String>) + use<> {
    let uri = fake.uri();
    move |env| {
        for (k, v) in [
            ("TIKTOK_SHOP_APP_KEY", APP_KEY.to_owned()),
            ("TIKTOK_SHOP_APP_SECRETS", APP_SECRET.to_owned()),
            ("TIKTOK_SHOP_API_BASE", uri.clone()),
            ("TIKTOK_SHOP_AUTH_BASE", uri.clone()),
            ("TIKTOK_SHOP_INVENTORY_PUSH_SECS", push_secs.to_string()),
        ] {
            env.insert(k.into(), v);
        }
    }
}

/// Connect the seller and link [`SKU`] (with `stock` units) to its TikTok SKU.
async fn connect_and_link(worker: &TestWorker, stock: i32) {
    add_product(&worker.pool, SKU, stock).await;
    TiktokShop::from_settings(&worker.settings, worker.pool.clone())
        .expect("configured")
        .connect("code")
        .await
        .expect("connected");
    let mut conn = worker.pool.acquire().await.expect("conn");
    tiktok_inventory::link(
        &mut conn,
        &NewLink {
            sku: SKU,
            shop_id: SHOP,
            tiktok_product_id: TIKTOK_PRODUCT,
            tiktok_sku_id: TIKTOK_SKU,
        },
    )
    .await
    .expect("linked");
}

/// Take `units` off the shelf in a transaction of its own, as any stock move does.
async fn sell(pool: &PgPool, units: i32) {
    sqlx::query("UPDATE products SET stock_on_hand = stock_on_hand - $2 WHERE sku = $1")
        .bind(SKU)
        .bind(units)
        .execute(pool)
        .await
        .expect("stock moves");
}

fn quantities(updates: &[InventoryUpdate]) -> Vec<i64> {
    updates.iter().map(|u| u.quantity).collect()
}

async fn wait_for_quantity(fake: &FakeTiktokShop, quantity: i64, within: Duration) {
    wait_until(&format!("TikTok Shop is told {quantity}"), within, || {
        let fake = fake.clone();
        async move { fake.inventory_updates().last().map(|u| u.quantity) == Some(quantity) }
    })
    .await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_linked_skus_stock_reaches_tiktok_shop_within_the_push_interval(pool: PgPool) {
    let fake = fake().await;
    let mut worker = spawn_worker_with(pool, with_app(&fake, 1)).await;
    connect_and_link(&worker, 10).await;
    wait_for_quantity(&fake, 10, Duration::from_secs(5)).await;

    let changed = Instant::now();
    // A hold takes two units: reserved rises, available falls.
    sqlx::query("UPDATE products SET reserved = reserved + 2 WHERE sku = $1")
        .bind(SKU)
        .execute(&worker.pool)
        .await
        .expect("a hold");
    wait_for_quantity(&fake, 8, Duration::from_secs(5)).await;

    let update = fake.inventory_updates().last().cloned().expect("an update");
    assert!(
        update.at.duration_since(changed) <= Duration::from_millis(1_500),
        "pushed {:?} after the change",
        update.at.duration_since(changed)
    );
    assert_eq!(
        (
            update.shop_id.as_str(),
            update.product_id.as_str(),
            update.sku_id.as_str()
        ),
        (SHOP, TIKTOK_PRODUCT, TIKTOK_SKU)
    );
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_burst_of_changes_is_one_push_per_interval_and_the_newest_value_wins(pool: PgPool) {
    let fake = fake().await;
    let mut worker = spawn_worker_with(pool, with_app(&fake, 2)).await;
    connect_and_link(&worker, 100).await;
    wait_for_quantity(&fake, 100, Duration::from_secs(5)).await;

    let started = Instant::now();
    for _ in 0..60 {
        sell(&worker.pool, 1).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let burst = started.elapsed();
    wait_for_quantity(&fake, 40, Duration::from_secs(6)).await;

    let updates = fake.inventory_updates();
    let told = quantities(&updates);
    assert!(
        told.windows(2).all(|w| w[1] < w[0]),
        "always newer: {told:?}"
    );
    for pair in updates.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(
            gap >= Duration::from_millis(1_900),
            "two pushes {gap:?} apart: {told:?}"
        );
    }
    let most = 2 + burst.as_secs() / 2 + 1;
    assert!(
        told.len() as u64 <= most,
        "{} pushes for a {burst:?} burst: {told:?}",
        told.len()
    );
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_failed_push_is_retried_until_tiktok_shop_has_the_value(pool: PgPool) {
    let fake = fake().await;
    fake.fail_next_inventory_updates(2);
    let mut worker = spawn_worker_with(pool, with_app(&fake, 1)).await;
    connect_and_link(&worker, 5).await;

    wait_for_quantity(&fake, 5, Duration::from_secs(10)).await;

    let mut conn = worker.pool.acquire().await.expect("conn");
    let link = tiktok_inventory::show(&mut conn, SKU)
        .await
        .expect("read")
        .expect("linked");
    assert_eq!(
        (link.pushed_quantity, link.pending, link.push_failures),
        (Some(5), false, 0)
    );
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn two_workers_pushing_one_sku_never_send_an_older_value_after_a_newer(pool: PgPool) {
    let fake = fake().await;
    fake.set_inventory_delay(Duration::from_millis(300));
    let mut first = spawn_worker_with(pool.clone(), with_app(&fake, 1)).await;
    let mut second = spawn_worker_with(pool, with_app(&fake, 1)).await;
    connect_and_link(&first, 50).await;

    for _ in 0..20 {
        sell(&first.pool, 1).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for_quantity(&fake, 30, Duration::from_secs(10)).await;

    let told = quantities(&fake.inventory_updates());
    assert!(
        told.windows(2).all(|w| w[1] < w[0]),
        "always newer: {told:?}"
    );
    first.stop().await.expect("clean shutdown");
    second.stop().await.expect("clean shutdown");
}
