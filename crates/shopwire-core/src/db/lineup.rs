//! A streamer's lineup: the items of their live, each under a short claim code (A1, A2, …)
//! that buyers comment ("A2 M"). An item is a SKU or a product code.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

/// Why an item could not be added.
#[derive(Debug, thiserror::Error)]
pub enum LineupError {
    /// Neither a SKU nor a product code in the catalog.
    #[error("`{0}` is neither a SKU nor a product code in the catalog")]
    UnknownItem(String),
    /// The code is taken in this streamer's open lineup.
    #[error("claim code {0} is already in use in this lineup (live remove it first)")]
    CodeTaken(String),
    /// Not one to eight letters and digits.
    #[error("claim code `{0}` must be 1-8 letters or digits, like A1")]
    BadCode(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// An item of a lineup, as `live show` prints it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct LineupItem {
    /// Claim code.
    pub code: String,
    /// The SKU or product code it points at.
    pub item: String,
    /// Variants (SKUs) the code covers.
    pub skus: Vec<String>,
    /// Units free across them.
    pub available: i64,
    /// When it was added.
    pub added_at: DateTime<Utc>,
}

/// Put `item` in `streamer`'s lineup under `code`, or the next free of A1, A2, …
/// Returns the code.
pub async fn add(
    pool: &PgPool,
    streamer: &str,
    item: &str,
    code: Option<&str>,
) -> Result<String, LineupError> {
    let (known,): (bool,) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM products WHERE sku = $1 OR product_code = $1)",
    )
    .bind(item)
    .fetch_one(pool)
    .await?;
    if !known {
        return Err(LineupError::UnknownItem(item.to_owned()));
    }
    let code = match code {
        Some(code) => {
            let upper = code.trim().to_ascii_uppercase();
            if upper.is_empty()
                || upper.len() > 8
                || !upper.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(LineupError::BadCode(code.to_owned()));
            }
            Some(upper)
        }
        None => None,
    };
    // The next free code is computed in the INSERT; a concurrent add may take it first,
    // so try a few times.
    for _ in 0..5 {
        let inserted: Result<(String,), sqlx::Error> = sqlx::query_as(
            "INSERT INTO live_lineup (streamer, code, item)
             SELECT $1, coalesce($3, (
                 SELECT 'A' || n FROM generate_series(1, 999) AS n
                  WHERE NOT EXISTS (SELECT 1 FROM live_lineup l
                                     WHERE l.streamer = $1 AND l.removed_at IS NULL
                                       AND l.code = 'A' || n)
                  ORDER BY n LIMIT 1)), $2
             RETURNING code",
        )
        .bind(streamer)
        .bind(item)
        .bind(code.as_deref())
        .fetch_one(pool)
        .await;
        match inserted {
            Ok((code,)) => return Ok(code),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                if let Some(code) = code {
                    return Err(LineupError::CodeTaken(code));
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(LineupError::CodeTaken("A…".into()))
}

/// Take the item under `code` out of `streamer`'s lineup; false when there was none.
pub async fn remove(pool: &PgPool, streamer: &str, code: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE live_lineup SET removed_at = now()
          WHERE streamer = $1 AND code = upper($2) AND removed_at IS NULL",
    )
    .bind(streamer)
    .bind(code.trim())
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// `streamer`'s open lineup, by code, with the stock behind each item.
pub async fn list(pool: &PgPool, streamer: &str) -> Result<Vec<LineupItem>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.code, l.item,
                coalesce(array_agg(p.sku ORDER BY p.sku) FILTER (WHERE p.id IS NOT NULL), '{}') AS skus,
                coalesce(sum(p.stock_on_hand - p.reserved), 0)::bigint AS available,
                l.added_at
           FROM live_lineup l
           LEFT JOIN products p ON p.sku = l.item OR p.product_code = l.item
          WHERE l.streamer = $1 AND l.removed_at IS NULL
          GROUP BY l.id, l.code, l.item, l.added_at
          ORDER BY length(l.code), l.code",
    )
    .bind(streamer)
    .fetch_all(pool)
    .await
}

/// An unpaid hold won by a claim in a streamer's live, as `live show` prints it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Hold {
    /// `ORD-…`.
    pub order_number: String,
    /// The buyer's platform user id.
    pub buyer: String,
    /// The variant held.
    pub sku: String,
    /// Units held.
    pub quantity: i32,
    /// When the hold lapses unless paid.
    pub expires_at: DateTime<Utc>,
}

/// The open holds of `streamer`'s claims (pending orders with a held reservation),
/// soonest to lapse first.
pub async fn holds(pool: &PgPool, streamer: &str) -> Result<Vec<Hold>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.order_number, c.buyer, p.sku, r.quantity, r.expires_at
           FROM claims c
           JOIN orders o ON o.id = c.order_id
           JOIN reservations r ON r.order_id = o.id
           JOIN products p ON p.id = r.product_id
          WHERE c.streamer = $1 AND o.status = 'pending' AND r.status = 'held'
          ORDER BY r.expires_at, o.id",
    )
    .bind(streamer)
    .fetch_all(pool)
    .await
}

/// `(code, item)` of `streamer`'s lineup as it stood at `at` (for reading a claim).
pub async fn codes_at(
    conn: &mut PgConnection,
    streamer: &str,
    at: DateTime<Utc>,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT code, item FROM live_lineup
          WHERE streamer = $1 AND added_at <= $2 AND (removed_at IS NULL OR removed_at > $2)
          ORDER BY code",
    )
    .bind(streamer)
    .bind(at)
    .fetch_all(conn)
    .await
}
