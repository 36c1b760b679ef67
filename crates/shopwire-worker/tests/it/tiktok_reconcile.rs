//! Reconciliation (SPEC §12) against a fake TikTok Shop: an order whose webhook never came
//! appears after one run, through the same path webhooks take; a change already applied is
//! not recorded again; a newer change is found by a later run; every page is read.

use std::collections::HashMap;
use std::time::Duration;

use shopwire_testkit::fake_tiktok_shop::{FakeShop, FakeTiktokShop};
use shopwire_worker::tiktok_shop::TiktokShop;
use sqlx::PgPool;

use crate::helpers::{TestWorker, spawn_worker_with, test_worker_with, wait_until};
use crate::tiktok_shop::{ORDER_ID, add_product, deliver, order_status, stock};

const APP_KEY: &str = "reconcile_app_key";
const APP_SECRET: &str = "reconcile_app_secret";
const SHOP: &str = "7495540735365777507";

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
            cipher: "ROW_reconcile".into(),
            code: "US1".into(),
        }],
    );
    fake
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// [`ORDER_ID`] as the order API lists it: two `MUG-1` at `status`, changed at `update_time`.
fn order(id: &str, status: &str, update_time: i64) -> serde_json::Value {
    let line = serde_json::json!({"id": "1", "sku_id": "17", "seller_sku": "MUG-1", "product_name": "Mug",
                                  "sale_price": "9.99", "currency": "USD"});
    serde_json::json!({"id": id, "status": status, "update_time": update_time, "user_id": "buyer",
                       "payment": {"currency": "USD", "total_amount": "19.98"}, "line_items": [line.clone(), line]})
}

fn with_app(fake: &FakeTiktokShop) -> impl FnOnce(&mut HashMap<String, String>) + use<> {
    let uri = fake.uri();
    move |env| {
        for (k, v) in [
            ("TIKTOK_SHOP_APP_KEY", APP_KEY),
            ("TIKTOK_SHOP_APP_SECRETS", APP_SECRET),
            ("TIKTOK_SHOP_API_BASE", uri.as_str()),
            ("TIKTOK_SHOP_AUTH_BASE", uri.as_str()),
            ("TIKTOK_SHOP_RECONCILE_SECS", "1"),
        ] {
            env.insert(k.into(), v.into());
        }
    }
}

async fn connect(worker: &TestWorker) {
    TiktokShop::from_settings(&worker.settings, worker.pool.clone())
        .expect("configured")
        .connect("code")
        .await
        .expect("connected");
}

async fn order_state(pool: &PgPool, id: &str) -> Option<(String, Option<i64>)> {
    sqlx::query_as("SELECT status, tiktok_update_time FROM orders WHERE tiktok_order_id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .expect("query")
}

async fn reconciled_deliveries(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM inbox WHERE provider = 'tiktok_shop' AND dedupe_key LIKE 'reconcile:%'",
    )
    .fetch_one(pool)
    .await
    .expect("count")
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_order_whose_webhook_never_came_appears_after_one_run(pool: PgPool) {
    add_product(&pool, "MUG-1", 10).await;
    let fake = fake().await;
    let t = now() - 60;
    fake.add_order(SHOP, order(ORDER_ID, "AWAITING_SHIPMENT", t));
    let mut worker = spawn_worker_with(pool, with_app(&fake)).await;

    connect(&worker).await;

    wait_until("the order is synced", Duration::from_secs(10), || {
        let pool = worker.pool.clone();
        async move {
            order_state(&pool, ORDER_ID)
                .await
                .is_some_and(|(_, at)| at == Some(t))
        }
    })
    .await;
    assert_eq!(
        order_state(&worker.pool, ORDER_ID)
            .await
            .map(|s| s.0)
            .as_deref(),
        Some("paid")
    );
    assert_eq!(
        stock(&worker.pool, "MUG-1").await,
        8,
        "its lines moved stock, as a webhook's do"
    );
    assert_eq!(reconciled_deliveries(&worker.pool).await, 1);
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_change_already_applied_is_not_recorded_again_and_a_newer_one_is_found(pool: PgPool) {
    add_product(&pool, "MUG-1", 10).await;
    let fake = fake().await;
    let t = now() - 60;
    fake.add_order(SHOP, order(ORDER_ID, "AWAITING_SHIPMENT", t));
    let mut worker = test_worker_with(pool, with_app(&fake));
    connect(&worker).await;
    // The first run is three seconds off, so the webhook below lands first.
    sqlx::query(
        "UPDATE tiktok_shops SET reconciled_to = extract(epoch FROM now())::bigint,
                reconciled_at = now() + interval '2 seconds'",
    )
    .execute(&worker.pool)
    .await
    .expect("schedule the first run");
    worker.start().await;
    // The webhook did arrive for this change.
    let webhook = deliver(
        &worker,
        &order_status("webhook-1", "AWAITING_SHIPMENT".into(), t),
    )
    .await;
    assert_eq!(worker.row(webhook).await.status, "processed");
    let searches = fake.order_searches();
    wait_until("two more runs", Duration::from_secs(10), || {
        let fake = fake.clone();
        async move { fake.order_searches() >= searches + 2 }
    })
    .await;
    assert_eq!(
        reconciled_deliveries(&worker.pool).await,
        0,
        "nothing new to record"
    );

    // Later the order ships and that webhook is lost.
    fake.add_order(SHOP, order(ORDER_ID, "IN_TRANSIT", now()));
    wait_until(
        "the newer change is applied",
        Duration::from_secs(10),
        || {
            let pool = worker.pool.clone();
            async move {
                order_state(&pool, ORDER_ID)
                    .await
                    .is_some_and(|(status, _)| status == "fulfilled")
            }
        },
    )
    .await;
    assert_eq!(reconciled_deliveries(&worker.pool).await, 1);
    assert_eq!(stock(&worker.pool, "MUG-1").await, 8, "stock moved once");
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn every_page_of_a_large_search_is_read(pool: PgPool) {
    let fake = fake().await;
    let t = now() - 3_600;
    for n in 0..250 {
        fake.add_order(
            SHOP,
            serde_json::json!({"id": format!("9{n:05}"), "status": "UNPAID", "update_time": t + n, "line_items": []}),
        );
    }
    let mut worker = spawn_worker_with(pool, with_app(&fake)).await;

    connect(&worker).await;

    wait_until("all 250 are recorded", Duration::from_secs(15), || {
        let pool = worker.pool.clone();
        async move { reconciled_deliveries(&pool).await == 250 }
    })
    .await;
    assert!(fake.order_searches() >= 3, "three pages of 100");
    worker.stop().await.expect("clean shutdown");
}
