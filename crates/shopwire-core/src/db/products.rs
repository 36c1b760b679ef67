//! The product catalog: upsert, look up and list products with their stock.
//!
//! `reserved <= stock_on_hand` is a CHECK in Postgres (`products_reserved_within_stock`);
//! writes that would break it come back as [`UpsertError::StockBelowReserved`].

use serde::Serialize;
use sqlx::PgPool;

/// The constraint that keeps reservations within the stock on hand.
const RESERVED_WITHIN_STOCK: &str = "products_reserved_within_stock";

/// A product as the admin CLI and the worker see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Product {
    /// Stock keeping unit, unique.
    pub sku: String,
    /// What buyers see.
    pub title: String,
    /// Price in minor units of `currency`.
    pub price_cents: i64,
    /// Lowercase ISO 4217 code, e.g. `usd`.
    pub currency: String,
    /// Units on hand, reserved or not.
    pub stock_on_hand: i32,
    /// Units held by pending orders.
    pub reserved: i32,
    /// `stock_on_hand - reserved`: what can still be sold.
    pub available: i32,
}

/// The fields of a product that `upsert` and `insert_if_absent` write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    /// Stock keeping unit (1 to 128 characters).
    pub sku: String,
    /// Title (1 to 512 characters).
    pub title: String,
    /// Price in minor units, not negative.
    pub price_cents: i64,
    /// Lowercase three-letter currency code.
    pub currency: String,
    /// Units on hand, not negative.
    pub stock_on_hand: i32,
}

/// Why an upsert was refused.
#[derive(Debug, thiserror::Error)]
pub enum UpsertError {
    /// The new stock is below what pending orders already hold.
    #[error("stock {stock} for `{sku}` is below the {reserved} units reserved by pending orders")]
    StockBelowReserved {
        /// The product.
        sku: String,
        /// The stock asked for.
        stock: i32,
        /// What is reserved now.
        reserved: i32,
    },
    /// Any other database failure.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Create the product, or update its title, price, currency and stock. `reserved` is
/// never touched here; the CHECK refuses a stock below it.
pub async fn upsert(pool: &PgPool, product: &NewProduct) -> Result<Product, UpsertError> {
    let result = sqlx::query_as(
        "INSERT INTO products (sku, title, price_cents, currency, stock_on_hand)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (sku) DO UPDATE
            SET title = excluded.title, price_cents = excluded.price_cents,
                currency = excluded.currency, stock_on_hand = excluded.stock_on_hand,
                updated_at = now()
         RETURNING sku, title, price_cents, currency, stock_on_hand, reserved,
                   stock_on_hand - reserved AS available",
    )
    .bind(&product.sku)
    .bind(&product.title)
    .bind(product.price_cents)
    .bind(&product.currency)
    .bind(product.stock_on_hand)
    .fetch_one(pool)
    .await;
    match result {
        Ok(row) => Ok(row),
        Err(sqlx::Error::Database(e)) if e.constraint() == Some(RESERVED_WITHIN_STOCK) => {
            // Read the reservation count only to explain the refusal.
            let reserved = get(pool, &product.sku).await?.map_or(0, |p| p.reserved);
            Err(UpsertError::StockBelowReserved {
                sku: product.sku.clone(),
                stock: product.stock_on_hand,
                reserved,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Create the product unless its SKU exists; returns true when it was created.
/// Existing products (and their stock) are left alone, so loading a catalog twice is harmless.
pub async fn insert_if_absent(pool: &PgPool, product: &NewProduct) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO products (sku, title, price_cents, currency, stock_on_hand)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (sku) DO NOTHING",
    )
    .bind(&product.sku)
    .bind(&product.title)
    .bind(product.price_cents)
    .bind(&product.currency)
    .bind(product.stock_on_hand)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One product by SKU.
pub async fn get(pool: &PgPool, sku: &str) -> Result<Option<Product>, sqlx::Error> {
    sqlx::query_as(
        "SELECT sku, title, price_cents, currency, stock_on_hand, reserved,
                stock_on_hand - reserved AS available
           FROM products WHERE sku = $1",
    )
    .bind(sku)
    .fetch_optional(pool)
    .await
}

/// Every product, by SKU.
pub async fn list(pool: &PgPool) -> Result<Vec<Product>, sqlx::Error> {
    sqlx::query_as(
        "SELECT sku, title, price_cents, currency, stock_on_hand, reserved,
                stock_on_hand - reserved AS available
           FROM products ORDER BY sku",
    )
    .fetch_all(pool)
    .await
}
