//! Stripe events move real orders through payment: fixture-shaped events naming orders
//! made by the reservation code, applied by the delivery job against a real Postgres.

use std::time::Duration;

use serde_json::Value;
use shopwire_core::db::inbox::{InboxId, Recorded};
use shopwire_core::jobs::InboxJob;
use shopwire_worker::context::JobContext;
use shopwire_worker::jobs::process_delivery;
use sqlx::PgPool;

use crate::helpers::{QUEUE, spawn_worker, test_worker_with};
use crate::stripe_support::{
    PRICE_CENTS, TestOrder, context, event, inbox_row, name_order, payment_rows, pending_order,
    record, record_new, session_event, status, stock,
};

const TTL: Duration = Duration::from_secs(3600);
const PI: &str = "pi_3QkZr2LkdIwHu7ix0aB1cD2e";

/// Record `event` and apply it with the delivery job; returns its inbox id.
async fn apply(ctx: &JobContext, event: &Value) -> InboxId {
    let id = record_new(&ctx.pool, event).await;
    process_delivery::process(ctx, id).await;
    id
}

fn completed(order: &TestOrder) -> Value {
    session_event(
        "checkout.session.completed",
        order,
        "cs_test_paid",
        Some(PI),
    )
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_paid_checkout_completion_marks_the_order_paid_and_commits_the_stock(pool: PgPool) {
    let mut worker = spawn_worker(pool.clone()).await;
    let order = pending_order(&pool, "SKU-PAID", 3, TTL).await;
    assert_eq!(stock(&pool, "SKU-PAID").await, (3, 1));

    let id = record_new(&pool, &completed(&order)).await;
    worker.enqueue(id).await;
    worker.wait_for_status(id, "processed").await;

    assert_eq!(status(&pool, &order).await, "paid");
    assert_eq!(
        stock(&pool, "SKU-PAID").await,
        (2, 0),
        "the hold became a sale"
    );
    let payments = payment_rows(&pool, &order).await;
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0].kind, "checkout.session.completed");
    assert_eq!(payments[0].amount_cents, Some(PRICE_CENTS));
    assert_eq!(payments[0].currency.as_deref(), Some("usd"));
    assert_eq!(payments[0].inbox_id, id);
    let (pi,): (Option<String>,) =
        sqlx::query_as("SELECT payment_intent_id FROM orders WHERE id = $1")
            .bind(order.id)
            .fetch_one(&pool)
            .await
            .expect("query works");
    assert_eq!(
        pi.as_deref(),
        Some(PI),
        "later charge events find the order by it"
    );
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_completion_delivered_twice_makes_one_payment_and_one_stock_change(pool: PgPool) {
    let worker = test_worker_with(pool.clone(), |_| {});
    let ctx = context(&worker);
    let order = pending_order(&pool, "SKU-TWICE", 3, TTL).await;
    let event = completed(&order);

    let Recorded::New(id) = record(&pool, &event).await else {
        panic!("first delivery is new");
    };
    assert_eq!(record(&pool, &event).await, Recorded::Duplicate(id));
    worker
        .queue
        .push(QUEUE, &[InboxJob { inbox_id: id }; 2])
        .await
        .expect("redis takes the jobs");
    process_delivery::process(&ctx, id).await;
    process_delivery::process(&ctx, id).await;
    // A replay from the CLI re-runs the row: the payment row refuses the second apply.
    sqlx::query("UPDATE inbox SET status = 'queued' WHERE id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .expect("replay");
    process_delivery::process(&ctx, id).await;

    assert_eq!(inbox_row(&pool, id).await.0, "processed");
    assert_eq!(payment_rows(&pool, &order).await.len(), 1);
    assert_eq!(
        stock(&pool, "SKU-TWICE").await,
        (2, 0),
        "stock decremented once"
    );
    assert_eq!(status(&pool, &order).await, "paid");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_expiry_after_a_completion_leaves_the_order_paid(pool: PgPool) {
    let worker = test_worker_with(pool.clone(), |_| {});
    let ctx = context(&worker);
    let order = pending_order(&pool, "SKU-LATE", 3, TTL).await;

    apply(&ctx, &completed(&order)).await;
    let late = session_event("checkout.session.expired", &order, "cs_test_paid", None);
    let id = apply(&ctx, &late).await;

    assert_eq!(inbox_row(&pool, id).await.0, "processed");
    assert_eq!(status(&pool, &order).await, "paid");
    assert_eq!(stock(&pool, "SKU-LATE").await, (2, 0), "nothing released");
    let payments = payment_rows(&pool, &order).await;
    assert_eq!(payments.len(), 2, "the late event is recorded");
    assert_eq!(
        payments[1].detail.as_deref(),
        Some("expired: order already paid")
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_expired_session_expires_the_order_and_releases_the_hold(pool: PgPool) {
    let worker = test_worker_with(pool.clone(), |_| {});
    let ctx = context(&worker);
    let order = pending_order(&pool, "SKU-EXP", 3, TTL).await;

    let id = apply(
        &ctx,
        &session_event("checkout.session.expired", &order, "cs_test_exp", None),
    )
    .await;

    assert_eq!(inbox_row(&pool, id).await.0, "processed");
    assert_eq!(status(&pool, &order).await, "expired");
    assert_eq!(stock(&pool, "SKU-EXP").await, (3, 0));
    assert_eq!(payment_rows(&pool, &order).await.len(), 1);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_unpaid_completion_waits_for_the_async_payment_to_succeed(pool: PgPool) {
    let worker = test_worker_with(pool.clone(), |_| {});
    let ctx = context(&worker);
    let order = pending_order(&pool, "SKU-ASYNC", 3, TTL).await;

    let unpaid = event("checkout.session.completed", |o| {
        name_order(o, &order);
        o["id"] = Value::from("cs_test_async");
        o["payment_status"] = Value::from("unpaid");
    });
    apply(&ctx, &unpaid).await;
    assert_eq!(status(&pool, &order).await, "pending");
    assert_eq!(stock(&pool, "SKU-ASYNC").await, (3, 1), "still held");

    let mut succeeded = session_event(
        "checkout.session.completed",
        &order,
        "cs_test_async",
        Some(PI),
    );
    succeeded["type"] = Value::from("checkout.session.async_payment_succeeded");
    apply(&ctx, &succeeded).await;

    assert_eq!(status(&pool, &order).await, "paid");
    assert_eq!(stock(&pool, "SKU-ASYNC").await, (2, 0));
    let payments = payment_rows(&pool, &order).await;
    assert_eq!(
        payments.iter().map(|p| p.kind.as_str()).collect::<Vec<_>>(),
        [
            "checkout.session.completed",
            "checkout.session.async_payment_succeeded"
        ]
    );
    assert_eq!(
        payments[0].detail.as_deref(),
        Some("completed; awaiting asynchronous payment")
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_failed_async_payment_cancels_the_order_and_releases_the_hold(pool: PgPool) {
    let worker = test_worker_with(pool.clone(), |_| {});
    let ctx = context(&worker);
    let order = pending_order(&pool, "SKU-ASYNC-FAIL", 3, TTL).await;

    let mut failed = session_event("checkout.session.completed", &order, "cs_test_af", None);
    failed["type"] = Value::from("checkout.session.async_payment_failed");
    failed["data"]["object"]["payment_status"] = Value::from("unpaid");
    apply(&ctx, &failed).await;

    assert_eq!(status(&pool, &order).await, "cancelled");
    assert_eq!(stock(&pool, "SKU-ASYNC-FAIL").await, (3, 0));
    assert_eq!(payment_rows(&pool, &order).await.len(), 1);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_failed_payment_attempt_is_recorded_and_changes_nothing(pool: PgPool) {
    let worker = test_worker_with(pool.clone(), |_| {});
    let ctx = context(&worker);
    let order = pending_order(&pool, "SKU-DECLINED", 3, TTL).await;

    let declined = event("payment_intent.payment_failed", |o| name_order(o, &order));
    let id = apply(&ctx, &declined).await;

    assert_eq!(inbox_row(&pool, id).await.0, "processed");
    assert_eq!(
        status(&pool, &order).await,
        "pending",
        "the buyer can retry in Checkout"
    );
    assert_eq!(stock(&pool, "SKU-DECLINED").await, (3, 1));
    let payments = payment_rows(&pool, &order).await;
    assert_eq!(payments.len(), 1);
    assert_eq!(
        payments[0].detail.as_deref(),
        Some("payment attempt failed: code=card_declined decline_code=insufficient_funds")
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_full_refund_found_by_payment_intent_refunds_and_restocks(pool: PgPool) {
    let worker = test_worker_with(pool.clone(), |_| {});
    let ctx = context(&worker);
    let order = pending_order(&pool, "SKU-REFUND", 3, TTL).await;
    apply(&ctx, &completed(&order)).await;
    assert_eq!(stock(&pool, "SKU-REFUND").await, (2, 0));

    // Metadata that is not ours: the PaymentIntent stored at payment finds the order.
    let refund = event("charge.refunded", |o| {
        o["amount_refunded"] = Value::from(PRICE_CENTS);
        o["refunded"] = Value::from(true);
    });
    let id = apply(&ctx, &refund).await;

    assert_eq!(inbox_row(&pool, id).await.0, "processed");
    assert_eq!(status(&pool, &order).await, "refunded");
    assert_eq!(
        stock(&pool, "SKU-REFUND").await,
        (3, 0),
        "units back on hand"
    );
    let payments = payment_rows(&pool, &order).await;
    assert_eq!(payments[1].kind, "charge.refunded");
    assert_eq!(payments[1].amount_cents, Some(PRICE_CENTS));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_partial_refund_is_recorded_and_the_order_stays_paid(pool: PgPool) {
    let worker = test_worker_with(pool.clone(), |_| {});
    let ctx = context(&worker);
    let order = pending_order(&pool, "SKU-PARTIAL", 3, TTL).await;
    apply(&ctx, &completed(&order)).await;

    let partial = event("charge.refunded", |o| name_order(o, &order));
    apply(&ctx, &partial).await;

    assert_eq!(status(&pool, &order).await, "paid");
    assert_eq!(stock(&pool, "SKU-PARTIAL").await, (2, 0));
    let payments = payment_rows(&pool, &order).await;
    assert_eq!(payments[1].amount_cents, Some(1500));
    assert_eq!(
        payments[1].detail.as_deref(),
        Some("partial refund: 1500 of 4999 refunded")
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_full_refund_that_overtakes_the_payment_is_retried_not_lost(pool: PgPool) {
    let worker = test_worker_with(pool.clone(), |_| {});
    let ctx = context(&worker);
    let order = pending_order(&pool, "SKU-EARLY", 3, TTL).await;

    let refund = event("charge.refunded", |o| {
        name_order(o, &order);
        o["amount_refunded"] = Value::from(PRICE_CENTS);
        o["refunded"] = Value::from(true);
    });
    let refund_id = apply(&ctx, &refund).await;
    let (state, error) = inbox_row(&pool, refund_id).await;
    assert_eq!(state, "failed", "parked for a retry");
    assert!(error.unwrap_or_default().contains("before its payment"));

    apply(&ctx, &completed(&order)).await;
    sqlx::query("UPDATE inbox SET next_attempt_at = now() WHERE id = $1")
        .bind(refund_id)
        .execute(&pool)
        .await
        .expect("make the retry due");
    process_delivery::process(&ctx, refund_id).await;

    assert_eq!(inbox_row(&pool, refund_id).await.0, "processed");
    assert_eq!(status(&pool, &order).await, "refunded");
    assert_eq!(stock(&pool, "SKU-EARLY").await, (3, 0));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_dispute_flags_the_order(pool: PgPool) {
    let worker = test_worker_with(pool.clone(), |_| {});
    let ctx = context(&worker);
    let order = pending_order(&pool, "SKU-DISPUTE", 3, TTL).await;
    apply(&ctx, &completed(&order)).await;

    let id = apply(&ctx, &event("charge.dispute.created", |_| {})).await;

    assert_eq!(inbox_row(&pool, id).await.0, "processed");
    let (disputed, state): (bool, String) =
        sqlx::query_as("SELECT disputed, status FROM orders WHERE id = $1")
            .bind(order.id)
            .fetch_one(&pool)
            .await
            .expect("query works");
    assert!(disputed);
    assert_eq!(
        state, "paid",
        "a dispute flags; it does not move the status"
    );
    let payments = payment_rows(&pool, &order).await;
    assert_eq!(
        payments[1].detail.as_deref(),
        Some("disputed: reason=fraudulent status=needs_response")
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_charged_amount_that_differs_is_flagged_and_the_payment_stands(pool: PgPool) {
    let worker = test_worker_with(pool.clone(), |_| {});
    let ctx = context(&worker);
    let order = pending_order(&pool, "SKU-AMOUNT", 3, TTL).await;

    let short = event("checkout.session.completed", |o| {
        name_order(o, &order);
        o["amount_total"] = Value::from(100);
    });
    apply(&ctx, &short).await;

    assert_eq!(status(&pool, &order).await, "paid");
    let payments = payment_rows(&pool, &order).await;
    assert_eq!(
        payments[0].detail.as_deref(),
        Some("paid; amount mismatch: order 4999 usd, charged 100 usd")
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn unknown_types_and_other_peoples_orders_are_ignored(pool: PgPool) {
    let worker = test_worker_with(pool.clone(), |_| {});
    let ctx = context(&worker);
    let order = pending_order(&pool, "SKU-OTHER", 3, TTL).await;

    let mut unknown = event("charge.refunded", |o| name_order(o, &order));
    unknown["type"] = Value::from("customer.created");
    let unknown_id = apply(&ctx, &unknown).await;
    // The fixture as saved: `ord_…` references that are not ours.
    let foreign_id = apply(&ctx, &event("checkout.session.completed", |_| {})).await;

    assert_eq!(inbox_row(&pool, unknown_id).await.0, "ignored");
    assert_eq!(inbox_row(&pool, foreign_id).await.0, "ignored");
    assert!(payment_rows(&pool, &order).await.is_empty());
    assert_eq!(status(&pool, &order).await, "pending");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_session_naming_an_order_we_do_not_have_is_dead(pool: PgPool) {
    let worker = test_worker_with(pool.clone(), |_| {});
    let ctx = context(&worker);
    let missing = event("checkout.session.completed", |o| {
        o["client_reference_id"] = Value::from("ORD-20991231-99999");
        o["metadata"] = serde_json::json!({ "order_id": "ORD-20991231-99999" });
    });

    let id = apply(&ctx, &missing).await;

    let (state, error) = inbox_row(&pool, id).await;
    assert_eq!(state, "dead", "permanent: no retry can create the order");
    assert!(error.unwrap_or_default().contains("ORD-20991231-99999"));
}
