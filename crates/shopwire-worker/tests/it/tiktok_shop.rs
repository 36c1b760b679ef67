//! TikTok Shop notifications sync orders: upsert by TikTok's order id, monotonic in
//! `update_time`, stock taken at `AWAITING_SHIPMENT` and given back on cancel, or by what a
//! refunded return sent back, each once. The API side (signing, errors) is in
//! `tiktok_shop_api`.

use shopwire_core::db::inbox::{self, InboxId, Recorded};
use shopwire_core::db::products::{self, NewProduct};
use shopwire_core::domain::{Delivery, Provider};
use shopwire_worker::jobs::process_delivery;
use sqlx::PgPool;
use wiremock::MockServer;

use crate::helpers::{TestWorker, spawn_worker, spawn_worker_with};
use crate::tiktok_shop_api::{mount_order, mount_return, with_api};

pub const ORDER_ID: &str = "576653688135258178";

/// A saved TikTok Shop body (`fixtures/tiktok/shop.<name>.json`), byte for byte.
pub fn fixture(name: &str) -> Vec<u8> {
    shopwire_testkit::fixture(&format!("tiktok/shop.{name}.json"))
}

/// A notification of `topic` with `data`, under its own notification id.
pub fn notification(topic: i64, notification_id: &str, data: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "type": topic,
        "tts_notification_id": notification_id,
        "shop_id": "7495540735365777507",
        "timestamp": 1_718_400_000,
        "data": data,
    }))
    .expect("serialises")
}

/// A topic 1 notification for [`ORDER_ID`].
pub fn order_status(notification_id: &str, status: serde_json::Value, update_time: i64) -> Vec<u8> {
    notification(
        1,
        notification_id,
        serde_json::json!({"order_id": ORDER_ID, "order_status": status, "update_time": update_time, "is_on_hold_order": false}),
    )
}

/// Record `body` as the web does (a duplicate finds the first row) and process it once.
pub async fn deliver(worker: &TestWorker, body: &[u8]) -> InboxId {
    let delivery = Delivery::parse(Provider::TiktokShop, body).expect("a valid TikTok Shop body");
    let id = match inbox::record(&worker.pool, Provider::TiktokShop, &delivery, body)
        .await
        .expect("recorded")
    {
        Recorded::New(id) | Recorded::Duplicate(id) => id,
    };
    process_delivery::process(&worker.context(), id).await;
    id
}

/// Our view of the synced order.
#[derive(Debug, sqlx::FromRow)]
pub struct Synced {
    pub status: String,
    pub tiktok_status: Option<String>,
    pub tiktok_update_time: Option<i64>,
    pub buyer: String,
    pub total_cents: i64,
    pub currency: String,
    pub stock_committed: bool,
}

pub async fn synced(pool: &PgPool) -> Synced {
    sqlx::query_as(
        "SELECT status, tiktok_status, tiktok_update_time, buyer, total_cents, currency, stock_committed
           FROM orders WHERE tiktok_order_id = $1 AND source = 'tiktok_shop'",
    )
    .bind(ORDER_ID)
    .fetch_one(pool)
    .await
    .expect("the order exists")
}

/// Outcomes recorded for [`ORDER_ID`], oldest first.
pub async fn outcomes(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT outcome FROM tiktok_order_events WHERE tiktok_order_id = $1 ORDER BY id",
    )
    .bind(ORDER_ID)
    .fetch_all(pool)
    .await
    .expect("query works")
}

pub async fn add_product(pool: &PgPool, sku: &str, stock: i32) {
    products::upsert(
        pool,
        &NewProduct {
            sku: sku.into(),
            title: format!("Product {sku}"),
            price_cents: 1999,
            currency: "usd".into(),
            stock_on_hand: stock,
            ..Default::default()
        },
    )
    .await
    .expect("product saved");
}

pub async fn stock(pool: &PgPool, sku: &str) -> i32 {
    products::get(pool, sku)
        .await
        .expect("query works")
        .expect("product exists")
        .stock_on_hand
}

async fn inbox_status(worker: &TestWorker, id: InboxId) -> String {
    worker.row(id).await.status
}

/// A worker with the API on a mock that lists `MUG-1` × 2 and an unknown SKU × 1.
async fn with_mug_order(pool: PgPool, mug_stock: i32) -> (TestWorker, MockServer) {
    add_product(&pool, "MUG-1", mug_stock).await;
    let server = MockServer::start().await;
    mount_order(&server, &[("MUG-1", 2), ("NOT-OURS", 1)]).await;
    let worker = spawn_worker_with(pool, with_api(&server)).await;
    (worker, server)
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_doc_vector_creates_a_pending_order(pool: PgPool) {
    let mut worker = spawn_worker(pool).await;

    let id = deliver(&worker, &fixture("order_status_change.doc_vector")).await;

    assert_eq!(inbox_status(&worker, id).await, "processed");
    let order = synced(&worker.pool).await;
    assert_eq!(order.status, "pending");
    assert_eq!(order.tiktok_status.as_deref(), Some("UNPAID"));
    assert_eq!(order.tiktok_update_time, Some(1_718_305_585));
    assert_eq!(order.buyer, format!("tiktok:{ORDER_ID}"));
    assert_eq!(order.total_cents, 0);
    assert_eq!(outcomes(&worker.pool).await, ["applied"]);
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn awaiting_shipment_pays_the_order_and_takes_stock_once(pool: PgPool) {
    let (mut worker, _server) = with_mug_order(pool, 10).await;
    deliver(&worker, &fixture("order_status_change.doc_vector")).await;
    assert_eq!(
        stock(&worker.pool, "MUG-1").await,
        10,
        "unpaid takes nothing"
    );

    let awaiting = fixture("order_status_change.awaiting_shipment");
    let id = deliver(&worker, &awaiting).await;
    assert_eq!(inbox_status(&worker, id).await, "processed");
    let order = synced(&worker.pool).await;
    assert_eq!(order.status, "paid");
    assert_eq!(order.tiktok_status.as_deref(), Some("AWAITING_SHIPMENT"));
    assert_eq!(order.tiktok_update_time, Some(1_718_309_210));
    assert_eq!(order.buyer, "7021436810468230477");
    assert_eq!((order.total_cents, order.currency.as_str()), (5997, "usd"));
    assert!(order.stock_committed);
    assert_eq!(stock(&worker.pool, "MUG-1").await, 8);

    // The same delivery again, and TikTok resending it under a new notification id.
    assert_eq!(deliver(&worker, &awaiting).await, id);
    deliver(
        &worker,
        &order_status("resent-1", "AWAITING_SHIPMENT".into(), 1_718_309_210),
    )
    .await;
    assert_eq!(stock(&worker.pool, "MUG-1").await, 8, "taken once");
    assert_eq!(
        outcomes(&worker.pool).await,
        ["applied", "applied", "stale"]
    );

    let lines: Vec<(Option<String>, Option<String>, i32, i32)> = sqlx::query_as(
        "SELECT l.seller_sku, p.sku, l.quantity, l.committed
           FROM tiktok_order_lines l LEFT JOIN products p ON p.id = l.product_id ORDER BY l.line_no",
    )
    .fetch_all(&worker.pool)
    .await
    .expect("query works");
    assert_eq!(
        lines,
        [
            (Some("MUG-1".into()), Some("MUG-1".into()), 2, 2),
            (Some("NOT-OURS".into()), None, 1, 0),
        ],
        "an unknown SKU is kept as a line without a product"
    );
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_older_update_time_after_a_newer_one_changes_nothing(pool: PgPool) {
    let mut worker = spawn_worker(pool).await;
    deliver(&worker, &fixture("order_status_change.awaiting_shipment")).await;

    let id = deliver(&worker, &fixture("order_status_change.doc_vector")).await;

    assert_eq!(inbox_status(&worker, id).await, "processed");
    let order = synced(&worker.pool).await;
    assert_eq!(order.status, "paid");
    assert_eq!(order.tiktok_status.as_deref(), Some("AWAITING_SHIPMENT"));
    assert_eq!(order.tiktok_update_time, Some(1_718_309_210));
    assert_eq!(outcomes(&worker.pool).await, ["applied", "stale"]);
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn integer_status_111_works_like_awaiting_shipment(pool: PgPool) {
    let (mut worker, _server) = with_mug_order(pool, 10).await;

    deliver(
        &worker,
        &order_status("legacy-111", 111.into(), 1_718_309_210),
    )
    .await;

    let order = synced(&worker.pool).await;
    assert_eq!(order.status, "paid");
    assert_eq!(order.tiktok_status.as_deref(), Some("AWAITING_SHIPMENT"));
    assert_eq!(stock(&worker.pool, "MUG-1").await, 8);
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_completed_cancellation_after_awaiting_shipment_restocks_exactly_once(pool: PgPool) {
    let (mut worker, _server) = with_mug_order(pool, 10).await;
    deliver(&worker, &fixture("order_status_change.awaiting_shipment")).await;
    assert_eq!(stock(&worker.pool, "MUG-1").await, 8);

    deliver(&worker, &fixture("cancellation_status_change")).await;
    assert_eq!(
        synced(&worker.pool).await.status,
        "paid",
        "a pending request changes nothing"
    );

    let cancel = |id: &str, status: &str| {
        notification(
            11,
            id,
            serde_json::json!({"order_id": ORDER_ID, "cancellations_role": "BUYER", "cancel_status": status,
                               "cancel_id": "4035389028390310187", "create_time": 1_718_312_100}),
        )
    };
    deliver(
        &worker,
        &cancel("cancel-complete", "CANCELLATION_REQUEST_COMPLETE"),
    )
    .await;
    let order = synced(&worker.pool).await;
    assert_eq!(order.status, "cancelled");
    assert!(!order.stock_committed);
    assert_eq!(stock(&worker.pool, "MUG-1").await, 10);

    deliver(
        &worker,
        &cancel("cancel-success", "CANCELLATION_REQUEST_SUCCESS"),
    )
    .await;
    deliver(
        &worker,
        &order_status("order-cancel", "CANCEL".into(), 1_718_312_200),
    )
    .await;
    assert_eq!(stock(&worker.pool, "MUG-1").await, 10, "restocked once");
    assert_eq!(synced(&worker.pool).await.status, "cancelled");
    assert_eq!(
        outcomes(&worker.pool).await,
        ["applied", "recorded", "applied", "applied", "applied"]
    );
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_completed_return_refunds_the_order_and_restocks_what_came_back(pool: PgPool) {
    let (mut worker, server) = with_mug_order(pool, 10).await;
    mount_return(
        &server,
        "4035389028390551230",
        "RETURN_AND_REFUND",
        false,
        &[("MUG-1", "170", 2), ("NOT-OURS", "171", 1)],
        1,
    )
    .await;
    deliver(&worker, &fixture("order_status_change.awaiting_shipment")).await;
    deliver(
        &worker,
        &order_status("in-transit", "IN_TRANSIT".into(), 1_718_400_000),
    )
    .await;
    assert_eq!(synced(&worker.pool).await.status, "fulfilled");

    deliver(&worker, &fixture("return_status_change")).await;
    assert_eq!(
        synced(&worker.pool).await.status,
        "fulfilled",
        "a pending return changes nothing"
    );

    deliver(
        &worker,
        &fixture("return_status_change.return_and_refund_complete"),
    )
    .await;

    assert_eq!(synced(&worker.pool).await.status, "refunded");
    assert_eq!(stock(&worker.pool, "MUG-1").await, 10);
    assert_eq!(
        returns(&worker.pool).await,
        [(
            "4035389028390551230".into(),
            Some("RETURN_AND_REFUND".into()),
            2
        )]
    );
    worker.stop().await.expect("clean shutdown");
}

/// Returns applied to [`ORDER_ID`]: id, type and units restocked.
async fn returns(pool: &PgPool) -> Vec<(String, Option<String>, i32)> {
    sqlx::query_as(
        "SELECT r.return_id, r.return_type, r.restocked FROM tiktok_order_returns r
           JOIN orders o ON o.id = r.order_id WHERE o.tiktok_order_id = $1 ORDER BY r.created_at, r.return_id",
    )
    .bind(ORDER_ID)
    .fetch_all(pool)
    .await
    .expect("query works")
}

/// A fulfilled [`ORDER_ID`] of `MUG-1` × 2 (stock 10 → 8) on a worker with the API.
async fn with_a_fulfilled_mug_order(pool: PgPool) -> (TestWorker, MockServer) {
    let (worker, server) = with_mug_order(pool, 10).await;
    deliver(&worker, &fixture("order_status_change.awaiting_shipment")).await;
    deliver(
        &worker,
        &order_status("in-transit", "IN_TRANSIT".into(), 1_718_400_000),
    )
    .await;
    assert_eq!(synced(&worker.pool).await.status, "fulfilled");
    assert_eq!(stock(&worker.pool, "MUG-1").await, 8);
    (worker, server)
}

/// A refunded return of [`ORDER_ID`] under its own notification id.
fn refunded_return(
    notification_id: &str,
    return_id: &str,
    return_type: &str,
    status: &str,
) -> Vec<u8> {
    notification(
        12,
        notification_id,
        serde_json::json!({"order_id": ORDER_ID, "return_role": "BUYER", "return_type": return_type,
                           "return_status": status, "return_id": return_id,
                           "create_time": 1_718_570_398, "update_time": 1_718_656_799}),
    )
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_refund_only_return_refunds_the_order_and_puts_nothing_back(pool: PgPool) {
    let (mut worker, server) = with_a_fulfilled_mug_order(pool).await;
    // Nothing came back, so TikTok is not even asked what did.
    mount_return(
        &server,
        "4035389028390552001",
        "REFUND",
        false,
        &[("MUG-1", "170", 2)],
        0,
    )
    .await;

    let id = deliver(
        &worker,
        &fixture("return_status_change.refund_only_complete"),
    )
    .await;

    assert_eq!(inbox_status(&worker, id).await, "processed");
    assert_eq!(synced(&worker.pool).await.status, "refunded");
    assert_eq!(
        stock(&worker.pool, "MUG-1").await,
        8,
        "refund only: nothing back on the shelf"
    );
    assert_eq!(
        returns(&worker.pool).await,
        [("4035389028390552001".into(), Some("REFUND".into()), 0)]
    );
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_partial_return_restocks_only_its_lines_and_units_once(pool: PgPool) {
    add_product(&pool, "CAP-1", 5).await;
    let server = MockServer::start().await;
    mount_order(&server, &[("MUG-1", 2), ("CAP-1", 1)]).await;
    add_product(&pool, "MUG-1", 10).await;
    let mut worker = spawn_worker_with(pool, with_api(&server)).await;
    deliver(&worker, &fixture("order_status_change.awaiting_shipment")).await;
    assert_eq!(
        (
            stock(&worker.pool, "MUG-1").await,
            stock(&worker.pool, "CAP-1").await
        ),
        (8, 4)
    );
    // One of the two mugs comes back; the cap stays with the buyer.
    mount_return(
        &server,
        "ret-mug",
        "RETURN_AND_REFUND",
        false,
        &[("MUG-1", "170", 1)],
        1,
    )
    .await;

    let first = refunded_return(
        "n-ret-mug",
        "ret-mug",
        "RETURN_AND_REFUND",
        "RETURN_OR_REFUND_REQUEST_COMPLETE",
    );
    deliver(&worker, &first).await;
    assert_eq!(synced(&worker.pool).await.status, "refunded");
    assert_eq!(
        (
            stock(&worker.pool, "MUG-1").await,
            stock(&worker.pool, "CAP-1").await
        ),
        (9, 4),
        "only the returned unit of the returned line"
    );

    // The same return again, under another notification id: nothing moves twice.
    deliver(
        &worker,
        &refunded_return(
            "n-ret-mug-again",
            "ret-mug",
            "RETURN_AND_REFUND",
            "RETURN_OR_REFUND_REQUEST_COMPLETE",
        ),
    )
    .await;
    assert_eq!(stock(&worker.pool, "MUG-1").await, 9, "restocked once");

    // A second return for the rest of the order gives back the rest, never more.
    mount_return(
        &server,
        "ret-rest",
        "RETURN_AND_REFUND",
        false,
        &[("MUG-1", "170", 2), ("CAP-1", "171", 1)],
        1,
    )
    .await;
    deliver(
        &worker,
        &refunded_return(
            "n-ret-rest",
            "ret-rest",
            "RETURN_AND_REFUND",
            "RETURN_OR_REFUND_REQUEST_COMPLETE",
        ),
    )
    .await;
    assert_eq!(
        (
            stock(&worker.pool, "MUG-1").await,
            stock(&worker.pool, "CAP-1").await
        ),
        (10, 5),
        "a mug already back is not put back again"
    );
    let lines: Vec<(Option<String>, i32, i32, i32)> = sqlx::query_as(
        "SELECT seller_sku, quantity, committed, returned FROM tiktok_order_lines ORDER BY line_no",
    )
    .fetch_all(&worker.pool)
    .await
    .expect("query works");
    assert_eq!(
        lines,
        [
            (Some("MUG-1".into()), 2, 0, 2),
            (Some("CAP-1".into()), 1, 0, 1)
        ]
    );
    assert_eq!(
        returns(&worker.pool).await,
        [
            ("ret-mug".into(), Some("RETURN_AND_REFUND".into()), 1),
            ("ret-rest".into(), Some("RETURN_AND_REFUND".into()), 2),
        ]
    );
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_replacement_resolved_by_a_refund_refunds_the_order(pool: PgPool) {
    let (mut worker, server) = with_a_fulfilled_mug_order(pool).await;
    // The buyer sent one mug back for a replacement that TikTok refunded instead.
    mount_return(
        &server,
        "4035389028390552002",
        "REPLACEMENT",
        false,
        &[("MUG-1", "170", 1)],
        1,
    )
    .await;

    deliver(
        &worker,
        &fixture("return_status_change.replacement_refund_success"),
    )
    .await;

    assert_eq!(synced(&worker.pool).await.status, "refunded");
    assert_eq!(stock(&worker.pool, "MUG-1").await, 9);
    assert_eq!(
        outcomes(&worker.pool).await.last().map(String::as_str),
        Some("applied")
    );
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_status_that_would_move_the_order_back_is_recorded_not_applied(pool: PgPool) {
    let mut worker = spawn_worker(pool).await;
    deliver(
        &worker,
        &order_status("delivered", "DELIVERED".into(), 1_718_400_000),
    )
    .await;
    assert_eq!(
        synced(&worker.pool).await.status,
        "fulfilled",
        "pending → paid → fulfilled"
    );

    deliver(
        &worker,
        &order_status("late-cancel", "CANCELLED".into(), 1_718_500_000),
    )
    .await;

    let order = synced(&worker.pool).await;
    assert_eq!(order.status, "fulfilled");
    assert_eq!(order.tiktok_update_time, Some(1_718_400_000));
    assert_eq!(outcomes(&worker.pool).await, ["applied", "illegal"]);
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_unknown_topic_is_ignored(pool: PgPool) {
    let mut worker = spawn_worker(pool).await;
    let body = notification(
        5,
        "product-1",
        serde_json::json!({"product_id": "1729592969712207008", "status": "PRODUCT_AUDIT_FAILED"}),
    );

    let id = deliver(&worker, &body).await;

    assert_eq!(inbox_status(&worker, id).await, "ignored");
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&worker.pool)
        .await
        .expect("query works");
    assert_eq!(orders, 0);
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn without_api_config_the_order_syncs_but_no_stock_moves(pool: PgPool) {
    add_product(&pool, "MUG-1", 10).await;
    let mut worker = spawn_worker(pool).await;

    deliver(&worker, &fixture("order_status_change.awaiting_shipment")).await;

    assert_eq!(synced(&worker.pool).await.status, "paid");
    assert_eq!(stock(&worker.pool, "MUG-1").await, 10);
    let lines: i64 = sqlx::query_scalar("SELECT count(*) FROM tiktok_order_lines")
        .fetch_one(&worker.pool)
        .await
        .expect("query works");
    assert_eq!(lines, 0);
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_sale_beyond_the_stock_takes_what_there_is_and_gives_back_only_that(pool: PgPool) {
    let (mut worker, _server) = with_mug_order(pool, 1).await;

    deliver(&worker, &fixture("order_status_change.awaiting_shipment")).await;
    assert_eq!(synced(&worker.pool).await.status, "paid");
    assert_eq!(
        stock(&worker.pool, "MUG-1").await,
        0,
        "clamped, never negative"
    );

    deliver(
        &worker,
        &order_status("cancelled", "CANCELLED".into(), 1_718_400_000),
    )
    .await;
    assert_eq!(stock(&worker.pool, "MUG-1").await, 1);
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn two_first_notifications_at_once_make_one_order(pool: PgPool) {
    let (mut worker, _server) = with_mug_order(pool, 10).await;

    let (unpaid, awaiting) = (
        fixture("order_status_change.doc_vector"),
        fixture("order_status_change.awaiting_shipment"),
    );
    tokio::join!(deliver(&worker, &unpaid), deliver(&worker, &awaiting));

    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders WHERE tiktok_order_id = $1")
        .bind(ORDER_ID)
        .fetch_one(&worker.pool)
        .await
        .expect("query works");
    assert_eq!(orders, 1);
    let order = synced(&worker.pool).await;
    assert_eq!(
        order.status, "paid",
        "whichever came first, the newer status wins"
    );
    assert_eq!(stock(&worker.pool, "MUG-1").await, 8);
    worker.stop().await.expect("clean shutdown");
}
