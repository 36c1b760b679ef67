//! What the Stripe event and checkout tests share: real orders made the way the pipeline
//! makes them, fixture-shaped Stripe events that name them, and views into the results.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use serde_json::Value;
use shopwire_core::db::inbox::{self, InboxId, Recorded};
use shopwire_core::db::jobs::JobId;
use shopwire_core::db::messages::{self, NewMessage};
use shopwire_core::db::orders::{self, Reservation};
use shopwire_core::db::payments::{self, PaymentRow};
use shopwire_core::db::products::{self, NewProduct};
use shopwire_core::domain::{Delivery, Provider};
use shopwire_core::jobs::Queue;
use shopwire_worker::context::JobContext;
use shopwire_worker::pipeline::checkout;
use sqlx::PgPool;

use crate::helpers::TestWorker;

/// The price of the fixtures' order: `amount_total` 4999 usd.
pub const PRICE_CENTS: i64 = 4999;

/// A pending order with its reservation.
#[derive(Debug, Clone)]
pub struct TestOrder {
    /// Internal id.
    pub id: i64,
    /// `ORD-…`.
    pub number: String,
    /// When its reservation lapses.
    pub expires_at: chrono::DateTime<Utc>,
}

/// A job context on the test's database and Redis prefix, without a running worker, so
/// a test drives each job itself.
pub fn context(worker: &TestWorker) -> JobContext {
    JobContext::new(&worker.settings, worker.pool.clone(), worker.queue.clone())
}

/// Put `sku` in the catalog with `stock` units and reserve one for a buyer's comment,
/// as the message pipeline does; returns the pending order.
pub async fn pending_order(pool: &PgPool, sku: &str, stock: i32, ttl: Duration) -> TestOrder {
    reserved_order(pool, sku, stock, ttl, None).await.0
}

/// [`pending_order`] with its checkout job created in the same call, as the message
/// pipeline does when Stripe is configured; returns the order and the job (not pushed).
pub async fn pending_order_with_checkout(
    pool: &PgPool,
    sku: &str,
    stock: i32,
    ttl: Duration,
) -> (TestOrder, JobId) {
    let checkout = (Queue::Checkout.as_str(), checkout::JOB_KEY_PREFIX);
    let (order, job) = reserved_order(pool, sku, stock, ttl, Some(checkout)).await;
    (order, job.expect("a checkout job was asked for"))
}

async fn reserved_order(
    pool: &PgPool,
    sku: &str,
    stock: i32,
    ttl: Duration,
    checkout: Option<(&str, &str)>,
) -> (TestOrder, Option<JobId>) {
    products::upsert(
        pool,
        &NewProduct {
            sku: sku.to_owned(),
            title: format!("Vintage Windbreaker {sku}"),
            price_cents: PRICE_CENTS,
            currency: "usd".to_owned(),
            stock_on_hand: stock,
            ..Default::default()
        },
    )
    .await
    .expect("product upserts");
    let (product_id,): (i64,) = sqlx::query_as("SELECT id FROM products WHERE sku = $1")
        .bind(sku)
        .fetch_one(pool)
        .await
        .expect("product exists");
    let delivery = Delivery {
        dedupe_key: format!("comment-{sku}-{:08x}", rand::random::<u32>()),
        event_type: "comment".to_owned(),
    };
    let Recorded::New(inbox_id) = inbox::record(pool, Provider::Comments, &delivery, b"{}")
        .await
        .expect("inbox records")
    else {
        panic!("fresh dedupe key");
    };
    sqlx::query("UPDATE inbox SET status = 'processed', processed_at = now() WHERE id = $1")
        .bind(inbox_id)
        .execute(pool)
        .await
        .expect("inbox updates");
    let mut tx = pool.begin().await.expect("tx begins");
    let message_id = messages::insert(
        &mut tx,
        &NewMessage {
            inbox_id,
            channel: "comment",
            streamer: Some("thrift_queen"),
            buyer: &format!("buyer-{sku}"),
            conversation: None,
            text: "mine!",
            sent_at: Utc::now(),
        },
    )
    .await
    .expect("message inserts");
    let buyer = format!("buyer-{sku}");
    let request = orders::OrderRequest {
        message_id,
        product_id,
        buyer: &buyer,
        quantity: 1,
        ttl,
        checkout,
        decision: &messages::Decision {
            intent: "buy",
            intent_score: 0.95,
            classifier: "rules",
            product_id: Some(product_id),
            match_score: Some(1.0),
            outcome: "ordered",
        },
    };
    let reservation = orders::reserve_for_message(&mut tx, &request)
        .await
        .expect("reservation works");
    tx.commit().await.expect("tx commits");
    match reservation {
        Reservation::Ordered {
            order_id,
            order_number,
            expires_at,
            checkout_job,
            ..
        } => (
            TestOrder {
                id: order_id,
                number: order_number,
                expires_at,
            },
            checkout_job,
        ),
        other => panic!("expected an order, got {other:?}"),
    }
}

/// A Stripe fixture (`fixtures/stripe/<name>.json`) under a fresh event id, with `edit`
/// applied to its `data.object`.
pub fn event(name: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let mut event = shopwire_testkit::fixture_json(&format!("stripe/{name}.json"));
    event["id"] = Value::from(format!("evt_test_{:016x}", rand::random::<u64>()));
    edit(&mut event["data"]["object"]);
    event
}

/// Point an object's order references (`client_reference_id`, `metadata.order_id`) at
/// `order`.
pub fn name_order(object: &mut Value, order: &TestOrder) {
    if object.get("client_reference_id").is_some() {
        object["client_reference_id"] = Value::from(order.number.clone());
    }
    object["metadata"] = serde_json::json!({ "order_id": order.number });
}

/// A Checkout Session event (`name`) for `order`, session `session`, PaymentIntent `pi`.
pub fn session_event(name: &str, order: &TestOrder, session: &str, pi: Option<&str>) -> Value {
    event(name, |o| {
        name_order(o, order);
        o["id"] = Value::from(session);
        o["payment_intent"] = pi.map_or(Value::Null, Value::from);
    })
}

/// Record a Stripe event as the web does (pretty-printed, like Stripe sends it), without
/// enqueueing it. Returns the inbox id and whether it was new.
pub async fn record(pool: &PgPool, event: &Value) -> Recorded {
    let delivery = Delivery {
        dedupe_key: event["id"].as_str().expect("event id").to_owned(),
        event_type: event["type"].as_str().expect("event type").to_owned(),
    };
    let body = serde_json::to_vec_pretty(event).expect("serializes");
    inbox::record(pool, Provider::Stripe, &delivery, &body)
        .await
        .expect("inbox records")
}

/// Record a new event and return its inbox id.
pub async fn record_new(pool: &PgPool, event: &Value) -> InboxId {
    match record(pool, event).await {
        Recorded::New(id) => id,
        Recorded::Duplicate(id) => panic!("event already recorded as {id}"),
    }
}

/// `(stock_on_hand, reserved)` of a product.
pub async fn stock(pool: &PgPool, sku: &str) -> (i32, i32) {
    let p = products::get(pool, sku)
        .await
        .expect("query works")
        .expect("product exists");
    (p.stock_on_hand, p.reserved)
}

/// An order's status.
pub async fn status(pool: &PgPool, order: &TestOrder) -> String {
    orders::get(pool, &order.number)
        .await
        .expect("query works")
        .expect("order exists")
        .status
}

/// An order's payment rows, oldest first.
pub async fn payment_rows(pool: &PgPool, order: &TestOrder) -> Vec<PaymentRow> {
    let mut conn = pool.acquire().await.expect("connection");
    payments::for_order(&mut conn, order.id)
        .await
        .expect("query works")
}

/// An inbox row's status and last error.
pub async fn inbox_row(pool: &PgPool, id: InboxId) -> (String, Option<String>) {
    sqlx::query_as("SELECT status, last_error FROM inbox WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("row exists")
}

/// Decode an `application/x-www-form-urlencoded` body.
pub fn form_fields(body: &[u8]) -> HashMap<String, String> {
    fn decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
                    out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).expect("utf-8")
    }
    std::str::from_utf8(body)
        .expect("form bodies are ascii")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}
