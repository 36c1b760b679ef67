//! Guarantee §13.9: live claims and TikTok Shop orders for one SKU, racing each other
//! through the running worker, never sell more than the stock on hand — and with more
//! demand than stock, every unit is sold exactly once.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use shopwire_core::db::inbox::{self, Recorded};
use shopwire_core::db::live_pins;
use shopwire_core::domain::{Delivery, Provider};
use shopwire_core::jobs::{InboxJob, Queue};
use shopwire_testkit::fake_tiktok_shop::{FakeShop, FakeTiktokShop};
use shopwire_worker::tiktok_shop::TiktokShop;
use sqlx::PgPool;

use crate::helpers::{PATIENCE, TestWorker, spawn_worker_with};

const APP_KEY: &str = "oversell_app_key";
const APP_SECRET: &str = "oversell_app_secret";
const SHOP: &str = "7495540735365777507";
const STREAMER: &str = "race_streamer";
const SKU: &str = "TEE-1";
const STOCK: i32 = 10;
const LIVE_BUYERS: usize = 8;
const SHOP_ORDERS: usize = 6;

fn with_app(fake: &FakeTiktokShop) -> impl FnOnce(&mut HashMap<String, String>) + use<> {
    let uri = fake.uri();
    move |env| {
        for (k, v) in [
            ("TIKTOK_SHOP_APP_KEY", APP_KEY),
            ("TIKTOK_SHOP_APP_SECRETS", APP_SECRET),
            ("TIKTOK_SHOP_API_BASE", uri.as_str()),
            ("TIKTOK_SHOP_AUTH_BASE", uri.as_str()),
        ] {
            env.insert(k.into(), v.into());
        }
    }
}

/// A live comment from `buyer` claiming the pinned tee, recorded as the web records it.
async fn live_claim(worker: &TestWorker, buyer: &str) -> InboxJob {
    let body = serde_json::json!({
        "comment_id": format!("c-{buyer}"), "streamer": STREAMER, "client": buyer,
        "message": "sold! mine", "timestamp": Utc::now().to_rfc3339(),
    })
    .to_string();
    record(worker, Provider::Comments, body.into_bytes()).await
}

/// TikTok Shop telling us order `n` (one tee) awaits shipment.
async fn shop_order(worker: &TestWorker, n: usize) -> InboxJob {
    let body = serde_json::json!({
        "type": 1, "tts_notification_id": format!("race-{n}"), "shop_id": SHOP, "timestamp": 1,
        "data": {"order_id": format!("80{n:04}"), "order_status": "AWAITING_SHIPMENT", "update_time": 100},
    })
    .to_string();
    record(worker, Provider::TiktokShop, body.into_bytes()).await
}

async fn record(worker: &TestWorker, provider: Provider, body: Vec<u8>) -> InboxJob {
    let delivery = Delivery::parse(provider, &body).expect("a valid body");
    let Recorded::New(id) = inbox::record(&worker.pool, provider, &delivery, &body)
        .await
        .expect("recorded")
    else {
        panic!("a fresh delivery");
    };
    InboxJob { inbox_id: id }
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn live_claims_and_tiktok_shop_orders_racing_never_sell_more_than_stock(pool: PgPool) {
    sqlx::query(
        "INSERT INTO products (sku, title, price_cents, currency, stock_on_hand)
         VALUES ($1, 'Band tee', 2500, 'usd', $2)",
    )
    .bind(SKU)
    .bind(STOCK)
    .execute(&pool)
    .await
    .expect("product");
    live_pins::pin(&pool, STREAMER, SKU).await.expect("pinned");
    sqlx::query("UPDATE live_pins SET pinned_at = now() - interval '1 minute'")
        .execute(&pool)
        .await
        .expect("backdate the pin");
    let fake = FakeTiktokShop::start(APP_KEY, APP_SECRET).await;
    fake.add_seller(
        "code",
        "seller",
        "Tees",
        vec![FakeShop {
            id: SHOP.into(),
            name: "Tees".into(),
            region: "US".into(),
            cipher: "ROW_race".into(),
            code: "US1".into(),
        }],
    );
    for n in 0..SHOP_ORDERS {
        fake.add_order(
            SHOP,
            serde_json::json!({"id": format!("80{n:04}"), "user_id": format!("tt-buyer-{n}"),
                "payment": {"currency": "USD", "total_amount": "25.00"},
                "line_items": [{"id": "1", "sku_id": "17", "seller_sku": SKU, "product_name": "Band tee",
                                "sale_price": "25.00", "currency": "USD"}]}),
        );
    }
    let mut worker = spawn_worker_with(pool, with_app(&fake)).await;
    TiktokShop::from_settings(&worker.settings, worker.pool.clone())
        .expect("configured")
        .connect("code")
        .await
        .expect("connected");

    // Everything recorded first, then released at once on both queues.
    let mut claims = Vec::new();
    for n in 0..LIVE_BUYERS {
        claims.push(live_claim(&worker, &format!("live-buyer-{n}")).await);
    }
    let mut orders = Vec::new();
    for n in 0..SHOP_ORDERS {
        orders.push(shop_order(&worker, n).await);
    }
    let (a, b) = tokio::join!(
        worker.queue.push(Queue::Messages, &claims),
        worker.queue.push(Queue::TiktokShop, &orders),
    );
    a.expect("pushed");
    b.expect("pushed");

    // Orders of one SKU wait for each other's product lock; none deadlocks (below), so
    // everything settles within the usual patience.
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let (unsettled, undecided): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM inbox WHERE status NOT IN ('processed', 'ignored')),
                    (SELECT count(*) FROM claims WHERE outcome IS NULL)",
        )
        .fetch_one(&worker.pool)
        .await
        .expect("count");
        if unsettled == 0 && undecided == 0 {
            break;
        }
        if std::time::Instant::now() > deadline {
            let rows: Vec<(i64, String, String, i32, Option<String>)> = sqlx::query_as(
                "SELECT id, provider, status, attempts, last_error FROM inbox
                  WHERE status NOT IN ('processed', 'ignored') ORDER BY id",
            )
            .fetch_all(&worker.pool)
            .await
            .expect("rows");
            panic!("not settled: {unsettled} deliveries, {undecided} claims: {rows:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A deadlock fails one of the two transactions, whose delivery is retried: racing
    // orders of one SKU that deadlock retry several times over (10 extra attempts in a
    // run before the fix); waiting on the product lock retries none. One extra attempt is
    // allowed for a pool connection that a loaded machine was slow to hand out.
    let retried: Vec<(i64, i32)> = sqlx::query_as(
        "SELECT id, attempts FROM inbox WHERE provider = 'tiktok_shop' AND attempts > 1 ORDER BY id",
    )
    .fetch_all(&worker.pool)
    .await
    .expect("attempts");
    let extra: i32 = retried.iter().map(|(_, a)| a - 1).sum();
    assert!(
        extra <= 1,
        "TikTok Shop orders were retried (deadlocks?): {retried:?}"
    );

    let (held,): (i64,) = sqlx::query_as(
        "SELECT coalesce(sum(quantity), 0)::bigint FROM orders WHERE source <> 'tiktok_shop' AND status = 'pending'",
    )
    .fetch_one(&worker.pool)
    .await
    .expect("holds");
    let (shop_sold,): (i64,) =
        sqlx::query_as("SELECT coalesce(sum(committed), 0)::bigint FROM tiktok_order_lines")
            .fetch_one(&worker.pool)
            .await
            .expect("TikTok units");
    let (on_hand, reserved): (i32, i32) =
        sqlx::query_as("SELECT stock_on_hand, reserved FROM products WHERE sku = $1")
            .bind(SKU)
            .fetch_one(&worker.pool)
            .await
            .expect("stock");

    assert!(
        held + shop_sold <= i64::from(STOCK),
        "sold {held} live + {shop_sold} on TikTok of {STOCK}"
    );
    assert_eq!(
        held + shop_sold,
        i64::from(STOCK),
        "demand exceeded stock: every unit went"
    );
    assert_eq!(
        i64::from(reserved),
        held,
        "the live holds are what is reserved"
    );
    assert_eq!(on_hand, STOCK - i32::try_from(shop_sold).expect("small"));
    worker.stop().await.expect("clean shutdown");
}
