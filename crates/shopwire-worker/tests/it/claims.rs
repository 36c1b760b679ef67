//! Claims through the running worker: the earliest message wins the last unit whatever
//! order the deliveries arrive in, quantities and variants reach the order, claims that
//! cannot be filled get their outcome (needs variant, blocked, waitlisted), and a
//! waitlisted buyer is promoted when a hold lapses.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use shopwire_core::db::inbox::{self, InboxId, Recorded};
use shopwire_core::db::{buyers, lineup, live_pins};
use shopwire_core::domain::{Delivery, Provider};
use sqlx::PgPool;

use crate::helpers::{PATIENCE, TestWorker, spawn_worker_with, wait_until};

const STREAMER: &str = "thrift_queen";

/// A product of its own (no variants).
async fn product(pool: &PgPool, sku: &str, title: &str, stock: i32) {
    sqlx::query(
        "INSERT INTO products (sku, title, price_cents, currency, stock_on_hand)
         VALUES ($1, $2, 4500, 'usd', $3)",
    )
    .bind(sku)
    .bind(title)
    .bind(stock)
    .execute(pool)
    .await
    .expect("product inserts");
}

/// A denim jacket in S, M and L (`JKT-S`, `JKT-M`, `JKT-L`), `stock` of each.
async fn jacket(pool: &PgPool, stock: i32) {
    for size in ["S", "M", "L"] {
        sqlx::query(
            "INSERT INTO products (sku, title, price_cents, currency, stock_on_hand,
                                   product_code, options)
             VALUES ($1, 'Vintage denim jacket', 5500, 'usd', $2, 'JKT', jsonb_build_object('size', $3::text))",
        )
        .bind(format!("JKT-{size}"))
        .bind(stock)
        .bind(size)
        .execute(pool)
        .await
        .expect("variant inserts");
    }
}

fn settings(window_ms: u64, waitlist: u32) -> impl FnOnce(&mut HashMap<String, String>) {
    move |env| {
        env.insert("CLAIM_ORDER_WINDOW_MS".into(), window_ms.to_string());
        env.insert("WAITLIST_MAX".into(), waitlist.to_string());
        env.insert("SWEEP_AFTER_SECS".into(), "1".into());
        env.insert("ORPHAN_TIMEOUT_SECS".into(), "2".into());
    }
}

/// Record a live comment written `age` ago, as the web does.
async fn record(worker: &TestWorker, buyer: &str, text: &str, age: Duration) -> InboxId {
    record_at(
        worker,
        buyer,
        text,
        Utc::now() - chrono::Duration::from_std(age).expect("small"),
    )
    .await
}

/// Record a live comment written at `written`, as the web does.
async fn record_at(
    worker: &TestWorker,
    buyer: &str,
    text: &str,
    written: chrono::DateTime<Utc>,
) -> InboxId {
    let body = serde_json::json!({
        "comment_id": format!("c-{buyer}-{:08x}", rand::random::<u32>()),
        "streamer": STREAMER,
        "client": buyer,
        "message": text,
        "timestamp": written.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    })
    .to_string();
    let delivery = Delivery::parse(Provider::Comments, body.as_bytes()).expect("valid comment");
    let Recorded::New(id) =
        inbox::record(&worker.pool, Provider::Comments, &delivery, body.as_bytes())
            .await
            .expect("recorded")
    else {
        panic!("a fresh comment");
    };
    id
}

/// Record a live comment written `age` ago and enqueue it, as the web does.
async fn comment(worker: &TestWorker, buyer: &str, text: &str, age: Duration) -> InboxId {
    let id = record(worker, buyer, text, age).await;
    worker.enqueue(id).await;
    id
}

/// `buyer`'s latest claim's outcome, if decided.
async fn decided(pool: &PgPool, buyer: &str) -> Option<String> {
    sqlx::query_scalar::<_, Option<String>>(
        "SELECT outcome FROM claims WHERE buyer = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(buyer)
    .fetch_optional(pool)
    .await
    .expect("query works")
    .flatten()
}

/// The outcome of `buyer`'s claim once it has one.
async fn outcome_of(worker: &TestWorker, buyer: &str) -> String {
    let pool = &worker.pool;
    wait_until(
        &format!("{buyer}'s claim is decided"),
        PATIENCE,
        || async move { decided(pool, buyer).await.is_some() },
    )
    .await;
    decided(pool, buyer).await.expect("decided")
}

/// `(sku, quantity)` of `buyer`'s order.
async fn order_of(worker: &TestWorker, buyer: &str) -> Option<(String, i32)> {
    sqlx::query_as(
        "SELECT p.sku, o.quantity FROM orders o JOIN products p ON p.id = o.product_id
          WHERE o.buyer = $1",
    )
    .bind(buyer)
    .fetch_optional(&worker.pool)
    .await
    .expect("query works")
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_earlier_message_wins_the_last_unit_even_when_it_arrives_200_ms_later(pool: PgPool) {
    product(&pool, "HOODIE-1", "Grey hoodie", 1).await;
    live_pins::pin(&pool, STREAMER, "HOODIE-1")
        .await
        .expect("pinned");
    // On screen since before either comment was written.
    sqlx::query("UPDATE live_pins SET pinned_at = now() - interval '1 minute'")
        .execute(&pool)
        .await
        .expect("backdate the pin");
    // A window wide enough that a slow machine's processing time cannot decide the race.
    let mut worker = spawn_worker_with(pool, settings(1000, 0)).await;

    // Written 50 ms before it is delivered; then one written 100 ms before that arrives
    // 200 ms later.
    let start = Utc::now();
    let later = record_at(
        &worker,
        "later-writer",
        "mine!",
        start - chrono::Duration::milliseconds(50),
    )
    .await;
    worker.enqueue(later).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let earlier = record_at(
        &worker,
        "earlier-writer",
        "mine!",
        start - chrono::Duration::milliseconds(150),
    )
    .await;
    worker.enqueue(earlier).await;

    assert_eq!(outcome_of(&worker, "earlier-writer").await, "reserved");
    assert_eq!(outcome_of(&worker, "later-writer").await, "sold_out");
    assert_eq!(
        order_of(&worker, "earlier-writer").await,
        Some(("HOODIE-1".to_owned(), 1))
    );
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_claim_code_size_and_quantity_reach_the_order(pool: PgPool) {
    jacket(&pool, 3).await;
    let code = lineup::add(&pool, STREAMER, "JKT", None)
        .await
        .expect("lineup");
    assert_eq!(code, "A1");
    let mut worker = spawn_worker_with(pool, settings(0, 0)).await;

    comment(&worker, "ana", "sold A1 M x2 🙌", Duration::ZERO).await;
    comment(&worker, "ben", "I want A1!!", Duration::ZERO).await;
    // A bare code and size says nothing the classifier reads as a buy; in a live it is one.
    comment(&worker, "cara", "A1 L", Duration::ZERO).await;

    assert_eq!(outcome_of(&worker, "ana").await, "reserved");
    assert_eq!(
        order_of(&worker, "ana").await,
        Some(("JKT-M".to_owned(), 2))
    );
    assert_eq!(
        outcome_of(&worker, "ben").await,
        "needs_variant",
        "three sizes and none named"
    );
    assert_eq!(order_of(&worker, "ben").await, None);
    assert_eq!(outcome_of(&worker, "cara").await, "reserved");
    assert_eq!(
        order_of(&worker, "cara").await,
        Some(("JKT-L".to_owned(), 1))
    );
    let (reserved,): (i32,) = sqlx::query_as("SELECT reserved FROM products WHERE sku = 'JKT-M'")
        .fetch_one(&worker.pool)
        .await
        .expect("query works");
    assert_eq!(reserved, 2);
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_blocked_buyer_and_an_unmatched_claim_get_their_outcome_and_no_order(pool: PgPool) {
    product(&pool, "TEE-1", "Band tee", 5).await;
    buyers::block(&pool, "scalper", Some("resells"))
        .await
        .expect("blocks");
    let mut worker = spawn_worker_with(pool, settings(0, 0)).await;

    comment(&worker, "scalper", "TEE-1 mine", Duration::ZERO).await;
    comment(&worker, "lost", "mine!", Duration::ZERO).await;

    assert_eq!(outcome_of(&worker, "scalper").await, "blocked");
    assert_eq!(
        outcome_of(&worker, "lost").await,
        "unmatched",
        "nothing named, nothing pinned"
    );
    let (orders,): (i64,) = sqlx::query_as("SELECT count(*) FROM orders")
        .fetch_one(&worker.pool)
        .await
        .expect("count");
    assert_eq!(orders, 0);
    let on_messages: Vec<String> =
        sqlx::query_scalar("SELECT outcome FROM messages ORDER BY buyer DESC")
            .fetch_all(&worker.pool)
            .await
            .expect("query works");
    assert_eq!(
        on_messages,
        ["blocked", "unmatched"],
        "recorded on the message (scalper, then lost)"
    );
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_waitlisted_buyer_is_promoted_when_a_hold_lapses(pool: PgPool) {
    product(&pool, "BOOTS-1", "Leather boots", 1).await;
    live_pins::pin(&pool, STREAMER, "BOOTS-1")
        .await
        .expect("pinned");
    let mut worker = spawn_worker_with(pool, settings(0, 10)).await;

    comment(&worker, "first", "mine", Duration::ZERO).await;
    assert_eq!(outcome_of(&worker, "first").await, "reserved");
    comment(&worker, "second", "mine", Duration::ZERO).await;
    assert_eq!(outcome_of(&worker, "second").await, "waitlisted");

    // The first buyer never pays: their hold lapses and the sweeper frees the unit.
    sqlx::query("UPDATE reservations SET expires_at = now() - interval '1 second'")
        .execute(&worker.pool)
        .await
        .expect("backdate");

    let pool = worker.pool.clone();
    wait_until("the waitlisted buyer is promoted", PATIENCE, || async {
        let outcome: Option<String> =
            sqlx::query_scalar("SELECT outcome FROM claims WHERE buyer = 'second'")
                .fetch_one(&pool)
                .await
                .expect("query works");
        outcome.as_deref() == Some("promoted")
    })
    .await;
    assert_eq!(
        order_of(&worker, "second").await,
        Some(("BOOTS-1".to_owned(), 1))
    );
    let statuses: Vec<String> = sqlx::query_scalar("SELECT status FROM orders ORDER BY id")
        .fetch_all(&worker.pool)
        .await
        .expect("query works");
    assert_eq!(statuses, ["expired", "pending"]);
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_earlier_message_wins_even_when_the_worker_reads_it_last(pool: PgPool) {
    // A burst the worker falls behind on: both windows have long passed when the later
    // comment is read, but the earlier one, delivered first, is still unread.
    product(&pool, "CAP-1", "Trucker cap", 1).await;
    live_pins::pin(&pool, STREAMER, "CAP-1")
        .await
        .expect("pinned");
    sqlx::query("UPDATE live_pins SET pinned_at = now() - interval '1 minute'")
        .execute(&pool)
        .await
        .expect("backdate the pin");
    let worker = crate::helpers::test_worker_with(pool, settings(300, 0));
    let ctx = shopwire_worker::context::JobContext::new(
        &worker.settings,
        worker.pool.clone(),
        worker.queue.clone(),
    );
    let earlier = record(&worker, "earlier", "mine", Duration::from_secs(3)).await;
    let later = record(&worker, "later", "mine", Duration::from_secs(2)).await;

    shopwire_worker::jobs::process_delivery::process(&ctx, later).await;
    assert_eq!(
        decided(&worker.pool, "later").await,
        None,
        "waits for the unread earlier delivery"
    );
    shopwire_worker::jobs::process_delivery::process(&ctx, earlier).await;

    assert_eq!(
        decided(&worker.pool, "earlier").await.as_deref(),
        Some("reserved")
    );
    assert_eq!(
        decided(&worker.pool, "later").await.as_deref(),
        Some("sold_out")
    );
}
