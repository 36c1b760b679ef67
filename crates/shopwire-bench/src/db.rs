//! What the scenarios read and write in shopwire's database: bench products, and which
//! deliveries the worker has finished (and whether each made an order).

use std::collections::HashMap;

use anyhow::Context;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

/// A small pool for setup and polling (kept apart from the server's connections).
pub async fn connect(url: &str) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(2)
        .connect(url)
        .await
        .context("failed to connect to DATABASE_URL")
}

/// Adds one product per SKU with `stock` units; titles are unique so buyers' words never
/// match them by title. Returns their ids, in the order of `skus`.
pub async fn add_products(pool: &PgPool, skus: &[String], stock: u64) -> anyhow::Result<Vec<i64>> {
    let stock = i32::try_from(stock).context("stock does not fit Postgres' INTEGER")?;
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "INSERT INTO products (sku, title, price_cents, stock_on_hand)
         SELECT sku, 'Bench item ' || sku, 1000, $2 FROM unnest($1::text[]) AS sku
         RETURNING sku, id",
    )
    .bind(skus)
    .bind(stock)
    .fetch_all(pool)
    .await
    .context("failed to add bench products")?;
    let ids: HashMap<String, i64> = rows.into_iter().collect();
    skus.iter()
        .map(|sku| {
            ids.get(sku)
                .copied()
                .context("a bench product was not added")
        })
        .collect()
}

/// A delivery the worker has finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// Its inbox id.
    pub inbox_id: i64,
    /// Its final inbox status.
    pub status: String,
    /// Whether it made an order.
    pub ordered: bool,
}

/// Which of `inbox_ids` are finished: their order exists, or their inbox row is terminal
/// and their message's claim, if it has one, is decided (a claim is recorded `pending` with
/// the message and decided by the allocator after `CLAIM_ORDER_WINDOW_MS`).
pub async fn finished(pool: &PgPool, inbox_ids: &[i64]) -> anyhow::Result<Vec<Finished>> {
    let rows: Vec<(i64, String, bool)> = sqlx::query_as(
        // The inbox statuses the worker leaves a delivery in when it is done with it.
        "SELECT i.id, i.status, o.id IS NOT NULL
           FROM inbox i
           LEFT JOIN messages m ON m.inbox_id = i.id
           LEFT JOIN orders o ON o.message_id = m.id
           LEFT JOIN claims c ON c.message_id = m.id
          WHERE i.id = ANY($1)
            AND (o.id IS NOT NULL
                 OR (i.status IN ('processed', 'ignored', 'rejected', 'dead')
                     AND (c.id IS NULL OR c.outcome IS NOT NULL)))",
    )
    .bind(inbox_ids)
    .fetch_all(pool)
    .await
    .context("failed to poll the inbox")?;
    Ok(rows
        .into_iter()
        .map(|(inbox_id, status, ordered)| Finished {
            inbox_id,
            status,
            ordered,
        })
        .collect())
}

/// The highest order id so far (0 when there are none).
pub async fn max_order_id(pool: &PgPool) -> anyhow::Result<i64> {
    let (id,): (i64,) = sqlx::query_as("SELECT coalesce(max(id), 0) FROM orders")
        .fetch_one(pool)
        .await
        .context("failed to read the latest order id")?;
    Ok(id)
}

/// Orders with an id above `after` that came from messages: (order id, inbox id).
/// A primary-key range scan, cheap however many deliveries are still pending.
pub async fn orders_after(pool: &PgPool, after: i64) -> anyhow::Result<Vec<(i64, i64)>> {
    sqlx::query_as(
        "SELECT o.id, m.inbox_id FROM orders o JOIN messages m ON m.id = o.message_id
          WHERE o.id > $1",
    )
    .bind(after)
    .fetch_all(pool)
    .await
    .context("failed to poll new orders")
}

/// Per product, in the order of `product_ids`: (id, orders from messages, units reserved).
pub async fn orders_per_product(
    pool: &PgPool,
    product_ids: &[i64],
) -> anyhow::Result<Vec<(i64, i64, i64)>> {
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT p.id,
                (SELECT count(*) FROM orders o WHERE o.product_id = p.id AND o.source = 'message'),
                p.reserved::bigint
           FROM products p WHERE p.id = ANY($1)",
    )
    .bind(product_ids)
    .fetch_all(pool)
    .await
    .context("failed to count orders")?;
    let by_id: HashMap<i64, (i64, i64, i64)> = rows.into_iter().map(|r| (r.0, r)).collect();
    product_ids
        .iter()
        .map(|id| {
            by_id
                .get(id)
                .copied()
                .context("a bench product disappeared")
        })
        .collect()
}

/// True while any claim for `product_ids` waits for the allocator (`pending`): a probe of
/// the partial index of open claims, cheap however many claims there are.
pub async fn any_claim_pending(pool: &PgPool, product_ids: &[i64]) -> anyhow::Result<bool> {
    let (pending,): (bool,) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM claims WHERE product_id = ANY($1) AND status = 'pending')",
    )
    .bind(product_ids)
    .fetch_one(pool)
    .await
    .context("failed to look for pending claims")?;
    Ok(pending)
}

/// Claims for `product_ids`: (all, decided — i.e. with an outcome).
pub async fn claims_decided(pool: &PgPool, product_ids: &[i64]) -> anyhow::Result<(i64, i64)> {
    sqlx::query_as("SELECT count(*), count(outcome) FROM claims WHERE product_id = ANY($1)")
        .bind(product_ids)
        .fetch_one(pool)
        .await
        .context("failed to count claims")
}

/// One claim as the allocator left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRow {
    /// Its variant.
    pub product_id: i64,
    /// Its buyer (the comment's `client`).
    pub buyer: String,
    /// `reserved`, `waitlisted`, `sold_out`, …; `None` while pending.
    pub outcome: Option<String>,
}

/// Every claim for `product_ids`.
pub async fn claims_of(pool: &PgPool, product_ids: &[i64]) -> anyhow::Result<Vec<ClaimRow>> {
    let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(
        "SELECT product_id, buyer, outcome FROM claims WHERE product_id = ANY($1) ORDER BY id",
    )
    .bind(product_ids)
    .fetch_all(pool)
    .await
    .context("failed to read claims")?;
    Ok(rows
        .into_iter()
        .map(|(product_id, buyer, outcome)| ClaimRow {
            product_id,
            buyer,
            outcome,
        })
        .collect())
}
