//! TikTok Shop orders: upsert by TikTok's order id, walk the status forward, move stock
//! through their line items, and record what each notification did.
//!
//! Every function runs in the caller's transaction, on an order row it has locked with
//! [`lock_or_create`] or [`lock`], so two notifications for one order apply one after the
//! other. Stock is taken when the order enters `paid` and given back when it is `cancelled`,
//! at most once: `orders.stock_committed` says whether it is out, and each line's
//! `committed` says how many of its units are still out. A refunded return gives back only
//! the units its buyer sent back ([`apply_return`]), once per return.

mod status;
mod stock;

use sqlx::PgConnection;

pub use status::OrderStatus;
pub use stock::StockMove;

use super::inbox::InboxId;

/// A TikTok Shop order row, locked by the caller's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TiktokOrder {
    /// Internal id.
    pub id: i64,
    /// `ORD-…`.
    pub order_number: String,
    /// Our status.
    pub status: OrderStatus,
    /// The newest TikTok `update_time` applied, if any.
    pub update_time: Option<i64>,
    /// Whether its units are currently off `stock_on_hand`.
    pub stock_committed: bool,
}

type Row = (i64, String, String, Option<i64>, bool);

fn from_row(
    (id, order_number, status, update_time, stock_committed): Row,
) -> Result<TiktokOrder, sqlx::Error> {
    let status = OrderStatus::parse(&status)
        .ok_or_else(|| sqlx::Error::Decode(format!("unknown order status `{status}`").into()))?;
    Ok(TiktokOrder {
        id,
        order_number,
        status,
        update_time,
        stock_committed,
    })
}

/// The newest `update_time` applied to this TikTok order, without locking: a cheap
/// look before calling TikTok's API. `None` when the order is unknown or never synced.
pub async fn stored_update_time(
    conn: &mut PgConnection,
    tiktok_order_id: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(Option<i64>,)> =
        sqlx::query_as("SELECT tiktok_update_time FROM orders WHERE tiktok_order_id = $1")
            .bind(tiktok_order_id)
            .fetch_optional(conn)
            .await?;
    Ok(row.and_then(|(t,)| t))
}

/// Lock the order of `tiktok_order_id`, creating it first (pending, `buyer`, total 0, no
/// TikTok status yet) if it does not exist. Returns the row and whether it was created.
pub async fn lock_or_create(
    conn: &mut PgConnection,
    tiktok_order_id: &str,
    buyer: &str,
) -> Result<(TiktokOrder, bool), sqlx::Error> {
    if let Some(order) = lock(conn, tiktok_order_id).await? {
        return Ok((order, false));
    }
    // A concurrent first notification may insert it meanwhile: ours then waits on the
    // unique index, does nothing, and locks theirs.
    let inserted = sqlx::query(
        "INSERT INTO orders (order_number, source, tiktok_order_id, buyer, quantity, total_cents)
         VALUES ('ORD-' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD') || '-'
                        || lpad((nextval('order_number_seq') % 100000)::text, 5, '0'),
                 'tiktok_shop', $1, $2, 1, 0)
         ON CONFLICT (tiktok_order_id) DO NOTHING",
    )
    .bind(tiktok_order_id)
    .bind(buyer)
    .execute(&mut *conn)
    .await?;
    let order = lock(conn, tiktok_order_id)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    Ok((order, inserted.rows_affected() == 1))
}

/// Lock the order of `tiktok_order_id` if we have it.
pub async fn lock(
    conn: &mut PgConnection,
    tiktok_order_id: &str,
) -> Result<Option<TiktokOrder>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, order_number, status, tiktok_update_time, stock_committed
           FROM orders WHERE tiktok_order_id = $1 AND source = 'tiktok_shop' FOR UPDATE",
    )
    .bind(tiktok_order_id)
    .fetch_optional(conn)
    .await?;
    row.map(from_row).transpose()
}

/// What TikTok's API says about an order beyond its status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Details {
    /// The buyer's TikTok user id.
    pub buyer: Option<String>,
    /// Total in minor units of `currency`.
    pub total_cents: Option<i64>,
    /// Lowercase currency code.
    pub currency: Option<String>,
    /// Its lines, one per SKU.
    pub lines: Vec<NewLine>,
}

/// A line of a TikTok order as the API describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLine {
    /// The seller's SKU: what we match `products.sku` against.
    pub seller_sku: Option<String>,
    /// TikTok's own SKU id.
    pub tiktok_sku_id: Option<String>,
    /// Product name on TikTok.
    pub title: Option<String>,
    /// Units, at least 1.
    pub quantity: i32,
    /// Price of one unit in minor units, if TikTok gave one.
    pub unit_price_cents: Option<i64>,
}

/// How [`set_details`] went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinesStored {
    /// Lines inserted now (0 when the order already had its lines).
    pub inserted: usize,
    /// Of those, lines whose SKU matched none of our products.
    pub unmatched: usize,
}

/// Store buyer, total and currency (each only if known), and the lines if the order has
/// none yet: lines are taken once, so the units they committed stay what they were.
pub async fn set_details(
    conn: &mut PgConnection,
    order_id: i64,
    details: &Details,
) -> Result<LinesStored, sqlx::Error> {
    sqlx::query(
        "UPDATE orders SET buyer = coalesce($2, buyer), total_cents = coalesce($3, total_cents),
                currency = coalesce($4, currency), updated_at = now()
          WHERE id = $1",
    )
    .bind(order_id)
    .bind(details.buyer.as_deref())
    .bind(details.total_cents)
    .bind(details.currency.as_deref())
    .execute(&mut *conn)
    .await?;
    let (existing,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM tiktok_order_lines WHERE order_id = $1")
            .bind(order_id)
            .fetch_one(&mut *conn)
            .await?;
    let mut stored = LinesStored::default();
    if existing > 0 || details.lines.is_empty() {
        return Ok(stored);
    }
    for (line_no, line) in (1i32..).zip(&details.lines) {
        let (matched,): (bool,) = sqlx::query_as(
            "INSERT INTO tiktok_order_lines
                    (order_id, line_no, seller_sku, tiktok_sku_id, title, product_id, quantity, unit_price_cents)
             VALUES ($1, $2, $3, $4, $5, (SELECT id FROM products WHERE sku = $3), $6, $7)
             RETURNING product_id IS NOT NULL",
        )
        .bind(order_id)
        .bind(line_no)
        .bind(line.seller_sku.as_deref())
        .bind(line.tiktok_sku_id.as_deref())
        .bind(line.title.as_deref())
        .bind(line.quantity)
        .bind(line.unit_price_cents)
        .fetch_one(&mut *conn)
        .await?;
        stored.inserted += 1;
        if !matched {
            stored.unmatched += 1;
        }
    }
    let units: i64 = details.lines.iter().map(|l| i64::from(l.quantity)).sum();
    sqlx::query("UPDATE orders SET quantity = $2 WHERE id = $1")
        .bind(order_id)
        .bind(i32::try_from(units.max(1)).unwrap_or(i32::MAX))
        .execute(&mut *conn)
        .await?;
    Ok(stored)
}

/// Record TikTok's own status and the `update_time` it was applied at.
pub async fn set_tiktok_status(
    conn: &mut PgConnection,
    order_id: i64,
    tiktok_status: &str,
    update_time: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE orders SET tiktok_status = $2, tiktok_update_time = $3, updated_at = now() WHERE id = $1")
        .bind(order_id)
        .bind(tiktok_status)
        .bind(update_time)
        .execute(conn)
        .await?;
    Ok(())
}

/// What [`move_to`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Moved {
    /// Statuses stepped through, in order (empty: it was already there).
    pub steps: Vec<OrderStatus>,
    /// Stock taken on entering `paid`.
    pub committed: Vec<StockMove>,
    /// Stock given back on entering `cancelled`, or by a return ([`apply_return`]).
    pub restocked: Vec<StockMove>,
}

/// Walk the locked `order` forward to `to` along legal steps, committing stock on entering
/// `paid` and restocking everything still out on entering `cancelled`. Entering `refunded`
/// moves no stock: what comes back is the return's to say ([`apply_return`]). `None` (and
/// nothing changed) when `to` cannot be reached from where the order is.
pub async fn move_to(
    conn: &mut PgConnection,
    order: &TiktokOrder,
    to: OrderStatus,
) -> Result<Option<Moved>, sqlx::Error> {
    let Some(steps) = order.status.path_to(to) else {
        return Ok(None);
    };
    let mut moved = Moved::default();
    let mut from = order.status;
    for &step in &steps {
        sqlx::query("UPDATE orders SET status = $2 WHERE id = $1 AND status = $3")
            .bind(order.id)
            .bind(step.as_str())
            .bind(from.as_str())
            .execute(&mut *conn)
            .await?;
        match step {
            OrderStatus::Paid => moved.committed = stock::commit_stock(conn, order.id).await?,
            OrderStatus::Cancelled => moved.restocked = stock::restock(conn, order.id).await?,
            OrderStatus::Pending
            | OrderStatus::Fulfilled
            | OrderStatus::Expired
            | OrderStatus::Refunded => {}
        }
        from = step;
    }
    moved.steps = steps;
    Ok(Some(moved))
}

/// Units of one SKU a return sent back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnedLine {
    /// The seller's SKU.
    pub seller_sku: Option<String>,
    /// TikTok's SKU id.
    pub tiktok_sku_id: Option<String>,
    /// Units sent back, at least 1.
    pub quantity: i32,
}

/// A refunded TikTok Shop return, as [`apply_return`] records it.
#[derive(Debug, Clone)]
pub struct Return<'a> {
    /// TikTok's `return_id`.
    pub return_id: &'a str,
    /// `REFUND`, `RETURN_AND_REFUND` or `REPLACEMENT`, if known.
    pub return_type: Option<&'a str>,
    /// The return status that refunded it.
    pub return_status: &'a str,
    /// The delivery that applied it.
    pub inbox_id: InboxId,
    /// What came back: empty when nothing did (a refund-only return, or the buyer keeps it).
    pub lines: &'a [ReturnedLine],
}

/// True when the return `return_id` has already been applied (a cheap look before calling
/// TikTok's API; [`apply_return`] decides under the order lock).
pub async fn return_applied(conn: &mut PgConnection, return_id: &str) -> Result<bool, sqlx::Error> {
    let row: Option<(i32,)> =
        sqlx::query_as("SELECT 1 FROM tiktok_order_returns WHERE return_id = $1")
            .bind(return_id)
            .fetch_optional(conn)
            .await?;
    Ok(row.is_some())
}

/// Record the refunded return `ret` of the locked `order` and give back the units it sent
/// back, line by line, never more than a line still has out. `None` (nothing moved) when
/// this return was already applied.
pub async fn apply_return(
    conn: &mut PgConnection,
    order: &TiktokOrder,
    ret: &Return<'_>,
) -> Result<Option<Vec<StockMove>>, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO tiktok_order_returns (return_id, order_id, inbox_id, return_type, return_status)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (return_id) DO NOTHING",
    )
    .bind(ret.return_id)
    .bind(order.id)
    .bind(ret.inbox_id)
    .bind(ret.return_type)
    .bind(ret.return_status)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(None);
    }
    let moves = stock::restock_returned(conn, order.id, ret.lines).await?;
    let units: i32 = moves.iter().map(|m| m.moved).sum();
    sqlx::query("UPDATE tiktok_order_returns SET restocked = $2 WHERE return_id = $1")
        .bind(ret.return_id)
        .bind(units)
        .execute(&mut *conn)
        .await?;
    Ok(Some(moves))
}

/// What a notification did to its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Its status (and stock) applied.
    Applied,
    /// Its `update_time` is not newer than what was applied: nothing changed.
    Stale,
    /// It would move the order backwards: nothing changed.
    Illegal,
    /// Informational (a pending request, an unknown status): nothing to change.
    Recorded,
    /// About an order we have never seen: nothing to change.
    UnknownOrder,
}

impl Outcome {
    /// The name stored in `tiktok_order_events.outcome`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Stale => "stale",
            Outcome::Illegal => "illegal",
            Outcome::Recorded => "recorded",
            Outcome::UnknownOrder => "unknown_order",
        }
    }
}

/// One notification as recorded in `tiktok_order_events`.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// The delivery.
    pub inbox_id: InboxId,
    /// Our order, if we have it.
    pub order_id: Option<i64>,
    /// TikTok's order id.
    pub tiktok_order_id: &'a str,
    /// The notification's `type`.
    pub topic: i32,
    /// The status it carried (order, cancellation or return status).
    pub tiktok_status: &'a str,
    /// Its `update_time`, if it has one.
    pub update_time: Option<i64>,
    /// What it did.
    pub outcome: Outcome,
}

/// Record what a notification did.
pub async fn record_event(conn: &mut PgConnection, event: &Event<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO tiktok_order_events
                (inbox_id, order_id, tiktok_order_id, topic, tiktok_status, update_time, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(event.inbox_id)
    .bind(event.order_id)
    .bind(event.tiktok_order_id)
    .bind(event.topic)
    .bind(event.tiktok_status)
    .bind(event.update_time)
    .bind(event.outcome.as_str())
    .execute(conn)
    .await?;
    Ok(())
}
