//! Connected TikTok Shop shops in the worker, against a fake TikTok Shop that checks every
//! signature and expires tokens: a notification is served with its own shop's token and
//! cipher, keeps working after that token expires with no one touching it, the sweeper
//! refreshes tokens ahead of expiry, and the seller revoking the app disconnects the shop.

use std::collections::HashMap;
use std::time::Duration;

use shopwire_core::db::tiktok_shops::{self, ShopStatus};
use shopwire_testkit::fake_tiktok_shop::{FakeShop, FakeTiktokShop};
use shopwire_worker::tiktok_shop::{ORDER_DETAIL_PATH, TiktokShop};
use sqlx::PgPool;

use crate::helpers::{spawn_worker_with, wait_until};
use crate::tiktok_shop::{ORDER_ID, add_product, deliver, notification, order_status, stock};

const APP_KEY: &str = "connected_app_key";
const APP_SECRET: &str = "connected_app_secret";
/// The shop every notification helper names.
const SHOP: &str = "7495540735365777507";
const CIPHER: &str = "ROW_connected";

/// A fake with one seller of [`SHOP`] selling two `MUG-1` in [`ORDER_ID`].
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
            cipher: CIPHER.into(),
            code: "US1".into(),
        }],
    );
    let line = serde_json::json!({"id": "1", "sku_id": "17", "seller_sku": "MUG-1", "product_name": "Mug",
                                  "sale_price": "9.99", "currency": "USD"});
    fake.add_order(
        SHOP,
        serde_json::json!({"id": ORDER_ID, "user_id": "buyer", "payment": {"currency": "USD", "total_amount": "19.98"},
                           "line_items": [line.clone(), line]}),
    );
    fake
}

/// The app pointed at `fake`, with no static token: only connected shops work.
fn with_app(fake: &FakeTiktokShop) -> impl FnOnce(&mut HashMap<String, String>) + use<> {
    let uri = fake.uri();
    move |env| {
        for (k, v) in [
            ("TIKTOK_SHOP_APP_KEY", APP_KEY),
            ("TIKTOK_SHOP_APP_SECRETS", APP_SECRET),
            ("TIKTOK_SHOP_API_BASE", uri.as_str()),
            ("TIKTOK_SHOP_AUTH_BASE", uri.as_str()),
            // A sweep every half second, so the refresh ahead of expiry is seen.
            ("SWEEP_AFTER_SECS", "2"),
        ] {
            env.insert(k.into(), v.into());
        }
    }
}

async fn connect(worker: &crate::helpers::TestWorker) {
    TiktokShop::from_settings(&worker.settings, worker.pool.clone())
        .expect("the app is configured")
        .connect("code")
        .await
        .expect("connected");
}

fn order_detail_answers(fake: &FakeTiktokShop) -> Vec<(u16, i64)> {
    fake.requests()
        .into_iter()
        .filter(|r| r.path == ORDER_DETAIL_PATH)
        .map(|r| (r.status, r.code))
        .collect()
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_order_is_read_with_its_shops_token_and_still_after_that_token_expires(pool: PgPool) {
    add_product(&pool, "MUG-1", 10).await;
    let fake = fake().await;
    let mut worker = spawn_worker_with(pool, with_app(&fake)).await;
    connect(&worker).await;

    let first = deliver(
        &worker,
        &order_status("n-1", "AWAITING_SHIPMENT".into(), 100),
    )
    .await;
    assert_eq!(worker.row(first).await.status, "processed");
    assert_eq!(
        stock(&worker.pool, "MUG-1").await,
        8,
        "the lines came from the API"
    );

    // Days later: TikTok no longer accepts the token the worker holds.
    fake.expire_access_tokens();
    let later = deliver(&worker, &order_status("n-2", "IN_TRANSIT".into(), 200)).await;

    assert_eq!(worker.row(later).await.status, "processed");
    assert_eq!(fake.refreshes(), 1);
    assert_eq!(
        order_detail_answers(&fake),
        vec![(200, 0), (401, 105002), (200, 0)]
    );
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_sweeper_refreshes_a_token_ahead_of_its_expiry(pool: PgPool) {
    let fake = fake().await;
    fake.set_token_lifetimes(Duration::from_secs(7_200), Duration::from_secs(86_400));
    let mut worker = spawn_worker_with(pool, with_app(&fake)).await;
    connect(&worker).await;

    // Issued ninety minutes ago with two hours to live: past half its life.
    sqlx::query(
        "UPDATE tiktok_shop_grants SET connected_at = now() - interval '90 minutes',
                access_token_expires_at = now() + interval '30 minutes'",
    )
    .execute(&worker.pool)
    .await
    .expect("age the grant");

    // TikTok answering the refresh comes before the worker stores what it answered.
    let stored_is_current = || {
        let fake = fake.clone();
        let pool = worker.pool.clone();
        async move {
            let (stored,): (String,) =
                sqlx::query_as("SELECT access_token FROM tiktok_shop_grants")
                    .fetch_one(&pool)
                    .await
                    .expect("the grant");
            fake.refreshes() == 1 && Some(stored) == fake.current_access_token("seller")
        }
    };
    wait_until(
        "the sweeper refreshes the token and stores the new one",
        Duration::from_secs(10),
        stored_is_current,
    )
    .await;
    assert_eq!(fake.refreshes(), 1, "refreshed once, not on every sweep");
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_seller_revoking_the_app_disconnects_the_shop(pool: PgPool) {
    let fake = fake().await;
    let mut worker = spawn_worker_with(pool, with_app(&fake)).await;
    connect(&worker).await;

    let revoked = deliver(&worker, &notification(6, "n-6", serde_json::json!({}))).await;

    assert_eq!(worker.row(revoked).await.status, "processed");
    let mut conn = worker.pool.acquire().await.expect("conn");
    let access = tiktok_shops::access(&mut conn, SHOP)
        .await
        .expect("read")
        .expect("the shop is still on record");
    assert_eq!(access.status, ShopStatus::Disconnected);
    // Its orders can no longer be read: dead-lettered with the reason, for a replay once
    // the seller connects again.
    let order = deliver(
        &worker,
        &order_status("n-7", "AWAITING_SHIPMENT".into(), 300),
    )
    .await;
    let row = worker.row(order).await;
    assert_eq!(row.status, "dead");
    assert!(
        row.last_error.unwrap_or_default().contains("disconnected"),
        "the reason is named"
    );
    assert!(
        order_detail_answers(&fake).is_empty(),
        "TikTok was not called"
    );
    worker.stop().await.expect("clean shutdown");
}
