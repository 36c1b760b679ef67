//! The product catalog: upsert, look up and list products with their stock.
//!
//! `reserved <= stock_on_hand` is a CHECK in Postgres (`products_reserved_within_stock`);
//! writes that would break it come back as [`UpsertError::StockBelowReserved`].
//!
//! A product may have variants (docs/contract.md §9): each its own SKU (row), grouped by a
//! product code, with option values such as `{"size": "M"}`. A SKU without a product code
//! is a product of its own, and its product code reads as the SKU itself.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::PgPool;

/// The constraint that keeps reservations within the stock on hand.
const RESERVED_WITHIN_STOCK: &str = "products_reserved_within_stock";

/// The columns a [`Product`] is read from. Option values read as text whatever JSON type
/// a hand-written row gave them.
macro_rules! product_columns {
    () => {
        "sku, title, price_cents, currency, stock_on_hand, reserved,
         stock_on_hand - reserved AS available, coalesce(product_code, sku) AS product_code,
         (SELECT coalesce(jsonb_object_agg(o.key, o.value), '{}'::jsonb)
            FROM jsonb_each_text(options) AS o) AS options"
    };
}

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
    /// The product this SKU is a variant of; the SKU itself when it has no variants.
    pub product_code: String,
    /// Its option values, e.g. `{"size": "M"}`; empty without variants.
    #[sqlx(json)]
    pub options: BTreeMap<String, String>,
}

/// The fields of a product that `upsert` and `insert_if_absent` write. `variant` defaults
/// to `None`, so a plain product is `NewProduct { sku, title, …, ..Default::default() }`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    /// The product it is a variant of, and its option values. `None`: a new SKU is a
    /// product of its own, and `upsert` leaves an existing SKU's grouping as it is.
    pub variant: Option<Variant>,
}

/// Which product a SKU is a variant of, and how it differs from its siblings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variant {
    /// The product code the variants share (1 to 128 characters); may be the SKU of a
    /// product that had no variants so far.
    pub product_code: String,
    /// Option values, e.g. `size` → `M`; keys `[a-z][a-z0-9_]*`, values not empty.
    pub options: BTreeMap<String, String>,
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

/// Create the product, or update its title, price, currency and stock, and — when
/// `variant` is given — its product code and options (replaced by exactly those given).
/// `reserved` is never touched here; the CHECK refuses a stock below it.
pub async fn upsert(pool: &PgPool, product: &NewProduct) -> Result<Product, UpsertError> {
    let (product_code, options) = variant_columns(product);
    let result = sqlx::query_as(concat!(
        "INSERT INTO products (sku, title, price_cents, currency, stock_on_hand, product_code,
                               options)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (sku) DO UPDATE
            SET title = excluded.title, price_cents = excluded.price_cents,
                currency = excluded.currency, stock_on_hand = excluded.stock_on_hand,
                product_code = CASE WHEN $8 THEN excluded.product_code
                                    ELSE products.product_code END,
                options = CASE WHEN $8 THEN excluded.options ELSE products.options END,
                updated_at = now()
         RETURNING ",
        product_columns!()
    ))
    .bind(&product.sku)
    .bind(&product.title)
    .bind(product.price_cents)
    .bind(&product.currency)
    .bind(product.stock_on_hand)
    .bind(product_code)
    .bind(options)
    .bind(product.variant.is_some())
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

/// Why setting a SKU's stock was refused.
#[derive(Debug, thiserror::Error)]
pub enum SetStockError {
    /// No product has that SKU.
    #[error("no product with SKU `{0}`")]
    UnknownSku(String),
    /// Stock is a count of units: never below 0.
    #[error("stock {0} is negative")]
    Negative(i32),
    /// The new stock is below what pending orders already hold (the rule of
    /// [`UpsertError::StockBelowReserved`]).
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

/// Set the units on hand of one existing SKU and nothing else (title, price, variant and
/// `reserved` stay as they are). Like [`upsert`], a stock below what pending orders reserve
/// is refused by the CHECK, in the same statement, so a reservation racing this write
/// cannot be oversold.
pub async fn set_stock(pool: &PgPool, sku: &str, stock: i32) -> Result<Product, SetStockError> {
    if stock < 0 {
        return Err(SetStockError::Negative(stock));
    }
    let result = sqlx::query_as(concat!(
        "UPDATE products SET stock_on_hand = $2, updated_at = now() WHERE sku = $1 RETURNING ",
        product_columns!()
    ))
    .bind(sku)
    .bind(stock)
    .fetch_optional(pool)
    .await;
    match result {
        Ok(Some(product)) => Ok(product),
        Ok(None) => Err(SetStockError::UnknownSku(sku.to_owned())),
        Err(sqlx::Error::Database(e)) if e.constraint() == Some(RESERVED_WITHIN_STOCK) => {
            // Read the reservation count only to explain the refusal.
            let reserved = get(pool, sku).await?.map_or(0, |p| p.reserved);
            Err(SetStockError::StockBelowReserved {
                sku: sku.to_owned(),
                stock,
                reserved,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Why typed text is not a stock.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockInputError {
    /// Below 0.
    #[error("stock `{0}` is negative")]
    Negative(String),
    /// Beyond what a stock column holds.
    #[error("stock `{0}` is too large")]
    TooLarge(String),
    /// Not an integer at all (`3.5`, `ten`, empty).
    #[error("stock `{0}` is not a whole number")]
    NotAWholeNumber(String),
}

/// Typed text (a CLI argument, a form field) as a stock: a whole number of units, 0 or
/// more, surrounding spaces ignored.
pub fn parse_stock(input: &str) -> Result<i32, StockInputError> {
    match input.trim().parse::<i64>() {
        Ok(n) if n < 0 => Err(StockInputError::Negative(input.to_owned())),
        Ok(n) => i32::try_from(n).map_err(|_| StockInputError::TooLarge(input.to_owned())),
        Err(_) => Err(StockInputError::NotAWholeNumber(input.to_owned())),
    }
}

/// Create the product unless its SKU exists; returns true when it was created.
/// Existing products (and their stock) are left alone, so loading a catalog twice is harmless.
pub async fn insert_if_absent(pool: &PgPool, product: &NewProduct) -> Result<bool, sqlx::Error> {
    let (product_code, options) = variant_columns(product);
    let done = sqlx::query(
        "INSERT INTO products (sku, title, price_cents, currency, stock_on_hand, product_code,
                               options)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (sku) DO NOTHING",
    )
    .bind(&product.sku)
    .bind(&product.title)
    .bind(product.price_cents)
    .bind(&product.currency)
    .bind(product.stock_on_hand)
    .bind(product_code)
    .bind(options)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The `product_code` and `options` column values of `product`.
fn variant_columns(
    product: &NewProduct,
) -> (Option<&str>, sqlx::types::Json<&BTreeMap<String, String>>) {
    static NONE: BTreeMap<String, String> = BTreeMap::new();
    match &product.variant {
        Some(v) => (Some(&v.product_code), sqlx::types::Json(&v.options)),
        None => (None, sqlx::types::Json(&NONE)),
    }
}

/// One product by SKU.
pub async fn get(pool: &PgPool, sku: &str) -> Result<Option<Product>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        product_columns!(),
        " FROM products WHERE sku = $1"
    ))
    .bind(sku)
    .fetch_optional(pool)
    .await
}

/// Every product, by SKU.
pub async fn list(pool: &PgPool) -> Result<Vec<Product>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        product_columns!(),
        " FROM products ORDER BY sku"
    ))
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stock_is_a_whole_number_of_units_zero_or_more() {
        assert_eq!(parse_stock("0"), Ok(0));
        assert_eq!(parse_stock(" 12 "), Ok(12));
        assert_eq!(
            parse_stock("-1"),
            Err(StockInputError::Negative("-1".into()))
        );
        assert_eq!(
            parse_stock("3000000000"),
            Err(StockInputError::TooLarge("3000000000".into()))
        );
        for bad in ["", "3.5", "ten", "1e3"] {
            assert_eq!(
                parse_stock(bad),
                Err(StockInputError::NotAWholeNumber(bad.into()))
            );
        }
        assert_eq!(
            parse_stock("ten").unwrap_err().to_string(),
            "stock `ten` is not a whole number"
        );
    }
}
