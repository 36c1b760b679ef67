//! The block list: buyers whose claims are refused (`blocked`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

/// A blocked buyer, as `buyers list` prints it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct BlockedBuyer {
    /// Platform user id (comment `client`, DM sender id).
    pub buyer: String,
    /// Why, if given.
    pub reason: Option<String>,
    /// Since when.
    pub blocked_at: DateTime<Utc>,
}

/// Block `buyer` (again: the reason is updated). Returns false when already blocked.
pub async fn block(pool: &PgPool, buyer: &str, reason: Option<&str>) -> Result<bool, sqlx::Error> {
    let (new,): (bool,) = sqlx::query_as(
        "INSERT INTO buyer_blocks (buyer, reason) VALUES ($1, $2)
         ON CONFLICT (buyer) DO UPDATE SET reason = coalesce(EXCLUDED.reason, buyer_blocks.reason)
         RETURNING xmax = 0",
    )
    .bind(buyer)
    .bind(reason)
    .fetch_one(pool)
    .await?;
    Ok(new)
}

/// Unblock `buyer`; false when they were not blocked.
pub async fn unblock(pool: &PgPool, buyer: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM buyer_blocks WHERE buyer = $1")
        .bind(buyer)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// `buyer`'s block, if blocked.
pub async fn get(pool: &PgPool, buyer: &str) -> Result<Option<BlockedBuyer>, sqlx::Error> {
    sqlx::query_as("SELECT buyer, reason, blocked_at FROM buyer_blocks WHERE buyer = $1")
        .bind(buyer)
        .fetch_optional(pool)
        .await
}

/// Every blocked buyer, most recent first.
pub async fn list(pool: &PgPool) -> Result<Vec<BlockedBuyer>, sqlx::Error> {
    sqlx::query_as(
        "SELECT buyer, reason, blocked_at FROM buyer_blocks ORDER BY blocked_at DESC, buyer",
    )
    .fetch_all(pool)
    .await
}

/// True when `buyer` is blocked.
pub async fn is_blocked(conn: &mut PgConnection, buyer: &str) -> Result<bool, sqlx::Error> {
    let (blocked,): (bool,) =
        sqlx::query_as("SELECT EXISTS (SELECT 1 FROM buyer_blocks WHERE buyer = $1)")
            .bind(buyer)
            .fetch_one(conn)
            .await?;
    Ok(blocked)
}
