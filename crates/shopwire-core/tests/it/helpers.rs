//! Shared test tools: a delivery to record, and the queries tests use to look at rows
//! and to move time (leases, schedules) with an UPDATE instead of sleeping.

use std::time::Duration;

use shopwire_core::db::inbox::{self, InboxId, Recorded};
use shopwire_core::domain::{Delivery, Provider};
use sqlx::PgPool;

/// The lease every test claim takes.
pub const LEASE: Duration = Duration::from_secs(60);
/// The body every test delivery carries.
pub const BODY: &[u8] = br#"{"id":"evt_test","type":"charge.refunded"}"#;

/// A parsed Stripe delivery keyed by `key`.
pub fn delivery(key: &str) -> Delivery {
    Delivery {
        dedupe_key: key.to_owned(),
        event_type: "charge.refunded".to_owned(),
    }
}

/// Record a delivery that must be new; its id.
pub async fn record_new(pool: &PgPool, key: &str) -> InboxId {
    match inbox::record(pool, Provider::Stripe, &delivery(key), BODY)
        .await
        .expect("record works")
    {
        Recorded::New(id) => id,
        Recorded::Duplicate(id) => panic!("{key} was already in the inbox as {id}"),
    }
}

/// The status column of `id`.
pub async fn status(pool: &PgPool, id: InboxId) -> String {
    inbox::get(pool, id)
        .await
        .expect("get works")
        .expect("the row exists")
        .status
}

/// Run `sql` with `$1` bound to `id`: how tests move time (leases, schedules) without sleeping.
pub async fn update(pool: &PgPool, id: InboxId, sql: &'static str) {
    let done = sqlx::query(sql)
        .bind(id)
        .execute(pool)
        .await
        .expect("update works");
    assert_eq!(done.rows_affected(), 1, "{sql}");
}

/// Claim `id` as `worker` with the test lease.
pub async fn claim(pool: &PgPool, id: InboxId, worker: &str) -> Option<inbox::Claimed> {
    inbox::claim(pool, id, worker, LEASE)
        .await
        .expect("claim works")
}

/// What one sweep re-enqueues, by id.
pub async fn swept_ids(pool: &PgPool, after: Duration) -> Vec<InboxId> {
    let mut ids: Vec<_> = inbox::sweep(pool, after, 100)
        .await
        .expect("sweep works")
        .into_iter()
        .map(|row| row.id)
        .collect();
    ids.sort();
    ids
}

/// Put `sku` in the catalog with `stock` units (a $45 jacket); its product id.
pub async fn product(pool: &PgPool, sku: &str, stock: i32) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO products (sku, title, price_cents, currency, stock_on_hand)
         VALUES ($1, 'Denim jacket ' || $1, 4500, 'usd', $2) RETURNING id",
    )
    .bind(sku)
    .bind(stock)
    .fetch_one(pool)
    .await
    .expect("product inserts")
}
