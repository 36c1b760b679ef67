//! Stock moved by TikTok Shop orders: taken on entering `paid`, given back on cancel (all
//! that is still out, once per order) or by a refunded return (the units it sent back).

use sqlx::PgConnection;

/// Units that moved for one product while an order changed status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockMove {
    /// Our SKU.
    pub sku: String,
    /// Units the line asked for (when committing) or gave back (when restocking).
    pub wanted: i32,
    /// Units actually moved: less than `wanted` when stock ran short at commit.
    pub moved: i32,
}

/// Take each matched line's units off `stock_on_hand`, once per order. Never more than is
/// available (`stock_on_hand − reserved`): a shortfall is clamped and reported, since
/// TikTok already sold the units and refusing would lose the order.
pub(super) async fn commit_stock(
    conn: &mut PgConnection,
    order_id: i64,
) -> Result<Vec<StockMove>, sqlx::Error> {
    let committed: Option<(bool,)> =
        sqlx::query_as("UPDATE orders SET stock_committed = true WHERE id = $1 AND NOT stock_committed RETURNING true")
            .bind(order_id)
            .fetch_optional(&mut *conn)
            .await?;
    if committed.is_none() {
        return Ok(Vec::new());
    }
    // Lock products in id order so two orders sharing products cannot deadlock, and with
    // the lock an UPDATE takes (FOR NO KEY UPDATE), not FOR UPDATE: inserting this order's
    // lines left a key-share lock on each product (their foreign key), as another new order
    // of the same SKU did; FOR UPDATE conflicts with those, so each order would wait for
    // the other's.
    let lines: Vec<(i64, i64, i32)> = sqlx::query_as(
        "SELECT id, product_id, quantity FROM tiktok_order_lines
          WHERE order_id = $1 AND product_id IS NOT NULL AND committed = 0
          ORDER BY product_id, id",
    )
    .bind(order_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut moves = Vec::with_capacity(lines.len());
    for (line_id, product_id, wanted) in lines {
        let (sku, available): (String, i32) = sqlx::query_as(
            "SELECT sku, stock_on_hand - reserved FROM products WHERE id = $1 FOR NO KEY UPDATE",
        )
        .bind(product_id)
        .fetch_one(&mut *conn)
        .await?;
        let take = wanted.min(available.max(0));
        sqlx::query("UPDATE products SET stock_on_hand = stock_on_hand - $2, updated_at = now() WHERE id = $1")
            .bind(product_id)
            .bind(take)
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE tiktok_order_lines SET committed = $2 WHERE id = $1")
            .bind(line_id)
            .bind(take)
            .execute(&mut *conn)
            .await?;
        moves.push(StockMove {
            sku,
            wanted,
            moved: take,
        });
    }
    Ok(moves)
}

/// Give back exactly what [`commit_stock`] took, once.
pub(super) async fn restock(
    conn: &mut PgConnection,
    order_id: i64,
) -> Result<Vec<StockMove>, sqlx::Error> {
    let committed: Option<(bool,)> =
        sqlx::query_as("UPDATE orders SET stock_committed = false WHERE id = $1 AND stock_committed RETURNING true")
            .bind(order_id)
            .fetch_optional(&mut *conn)
            .await?;
    if committed.is_none() {
        return Ok(Vec::new());
    }
    let lines: Vec<(i64, i64, i32)> = sqlx::query_as(
        "SELECT id, product_id, committed FROM tiktok_order_lines
          WHERE order_id = $1 AND committed > 0
          ORDER BY product_id, id",
    )
    .bind(order_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut moves = Vec::with_capacity(lines.len());
    for (line_id, product_id, units) in lines {
        let (sku,): (String,) = sqlx::query_as(
            "UPDATE products SET stock_on_hand = stock_on_hand + $2, updated_at = now() WHERE id = $1 RETURNING sku",
        )
        .bind(product_id)
        .bind(units)
        .fetch_one(&mut *conn)
        .await?;
        sqlx::query("UPDATE tiktok_order_lines SET committed = 0 WHERE id = $1")
            .bind(line_id)
            .execute(&mut *conn)
            .await?;
        moves.push(StockMove {
            sku,
            wanted: units,
            moved: units,
        });
    }
    Ok(moves)
}

/// A line that still has units out: id, product, seller SKU, TikTok SKU id, `committed`.
type OutLine = (i64, i64, Option<String>, Option<String>, i32);

/// Give back the units a return sent back, line by line: never more than a line still has
/// out (`committed`), and only lines matched to one of our products. A returned SKU matches
/// a line by TikTok's SKU id when both have one, else by the seller's SKU.
pub(super) async fn restock_returned(
    conn: &mut PgConnection,
    order_id: i64,
    returned: &[super::ReturnedLine],
) -> Result<Vec<StockMove>, sqlx::Error> {
    // In product order, so two orders sharing products cannot deadlock.
    let lines: Vec<OutLine> = sqlx::query_as(
        "SELECT id, product_id, seller_sku, tiktok_sku_id, committed FROM tiktok_order_lines
          WHERE order_id = $1 AND product_id IS NOT NULL AND committed > 0
          ORDER BY product_id, id",
    )
    .bind(order_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut give = vec![0i32; lines.len()];
    for item in returned {
        let mut left = item.quantity.max(0);
        for (n, (_, _, seller_sku, sku_id, committed)) in lines.iter().enumerate() {
            let same = match (&item.tiktok_sku_id, sku_id) {
                (Some(a), Some(b)) => a == b,
                _ => item.seller_sku.is_some() && item.seller_sku == *seller_sku,
            };
            if left == 0 || !same {
                continue;
            }
            let take = left.min(committed - give[n]);
            give[n] += take;
            left -= take;
        }
    }
    let mut moves = Vec::new();
    for ((line_id, product_id, ..), units) in lines.into_iter().zip(give) {
        if units == 0 {
            continue;
        }
        let (sku,): (String,) = sqlx::query_as(
            "UPDATE products SET stock_on_hand = stock_on_hand + $2, updated_at = now() WHERE id = $1 RETURNING sku",
        )
        .bind(product_id)
        .bind(units)
        .fetch_one(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE tiktok_order_lines SET committed = committed - $2, returned = returned + $2 WHERE id = $1",
        )
        .bind(line_id)
        .bind(units)
        .execute(&mut *conn)
        .await?;
        moves.push(StockMove {
            sku,
            wanted: units,
            moved: units,
        });
    }
    Ok(moves)
}
