//! TikTok Shop notifications → orders (docs/contract.md §3): topic 1 upserts the order by TikTok's
//! order id and walks its status forward, monotonic in `update_time`; topic 11's completed
//! cancellation cancels it (restocking) and topic 12's refunded return refunds it. Other
//! topics are `ignored`; topic 6 (the seller revoked the app) disconnects the envelope's
//! shop. API calls use the envelope's `shop_id`'s connected tokens (`shopwire-tiktok-shop`).
//!
//! When the TikTok Shop API is configured, the order's buyer, total and lines come from
//! Get Order Detail, fetched before the transaction opens; the lines' units leave stock
//! when the order becomes `paid` and come back on cancel, once. A refunded return gives
//! back only what its buyer sent back, as Search Returns lists it: nothing for a
//! refund-only return (`return_type` `REFUND`) or when the buyer keeps the items, once per
//! `return_id`. Every notification of topics 1, 11 and 12 leaves a row in
//! `tiktok_order_events`, committed with the order and the inbox mark.

use std::sync::Once;

use shopwire_core::db::inbox::Claimed;
use shopwire_core::db::tiktok_orders::{
    self, Details, Event, LinesStored, Moved, OrderStatus, Outcome, Return, ReturnedLine,
    TiktokOrder,
};
use shopwire_core::db::tiktok_shops;
use shopwire_core::domain::InboxStatus;
use sqlx::{Postgres, Transaction};

use crate::attempt::{JobError, commit};
use crate::context::JobContext;
use crate::tiktok_shop::notification::{
    self, CANCELLATION_STATUS_CHANGE, Notification, ORDER_STATUS_CHANGE, OrderStatusChange,
    RETURN_STATUS_CHANGE, Reported, RequestChange,
};

/// TikTok Shop notifications applied, by topic and outcome.
pub const TIKTOK_SHOP_EVENTS_TOTAL: &str = "shopwire_tiktok_shop_events_total";

/// Cancellation statuses that mean the order is cancelled.
const CANCELLED: [&str; 2] = [
    "CANCELLATION_REQUEST_COMPLETE",
    "CANCELLATION_REQUEST_SUCCESS",
];
/// Return statuses that mean the money went back: a completed return or refund, and a
/// replacement TikTok resolved with a refund instead.
const REFUNDED: [&str; 2] = [
    "RETURN_OR_REFUND_REQUEST_COMPLETE",
    "REPLACEMENT_REQUEST_REFUND_SUCCESS",
];
/// The `return_type` of a refund without a return: nothing comes back.
const REFUND_ONLY: &str = "REFUND";

static API_NOT_CONFIGURED: Once = Once::new();

/// Apply one TikTok Shop notification.
pub async fn apply(ctx: &JobContext, claimed: &Claimed) -> Result<InboxStatus, JobError> {
    let (shop, parsed) = notification::parse_for_shop(&claimed.body)
        .map_err(|e| JobError::permanent(e.to_string()))?;
    let shop = shop.as_deref();
    let (topic, done) = match parsed {
        Notification::OrderStatus(change) => (
            ORDER_STATUS_CHANGE,
            order_status(ctx, claimed, shop, &change).await?,
        ),
        Notification::Cancellation(change) => (
            CANCELLATION_STATUS_CHANGE,
            request(ctx, claimed, shop, CANCELLATION_STATUS_CHANGE, &change).await?,
        ),
        Notification::Return(change) => (
            RETURN_STATUS_CHANGE,
            request(ctx, claimed, shop, RETURN_STATUS_CHANGE, &change).await?,
        ),
        Notification::Deauthorized => {
            let mut tx = ctx.pool.begin().await?;
            let disconnected = match shop {
                Some(shop) => tiktok_shops::disconnect(&mut tx, shop).await?,
                None => false,
            };
            // Logged after the commit: the shop is disconnected only once it lands.
            let status = commit::delivery(tx, claimed, InboxStatus::Processed).await?;
            if disconnected {
                tracing::warn!(
                    shop = shop.unwrap_or_default(),
                    "TikTok Shop seller revoked the app; shop disconnected"
                );
            } else {
                tracing::info!(
                    shop = shop.unwrap_or_default(),
                    "TikTok Shop deauthorization for a shop not connected; recorded only"
                );
            }
            return Ok(status);
        }
        Notification::Other(topic) => {
            tracing::info!(topic, "TikTok Shop topic not handled; ignored");
            let tx = ctx.pool.begin().await?;
            return commit::delivery(tx, claimed, InboxStatus::Ignored).await;
        }
    };
    done.log(topic);
    metrics::counter!(
        TIKTOK_SHOP_EVENTS_TOTAL,
        "topic" => topic.to_string(),
        "outcome" => done.outcome.as_str()
    )
    .increment(1);
    Ok(InboxStatus::Processed)
}

/// What a committed notification did, logged once it is committed.
struct Done {
    outcome: Outcome,
    order: Option<TiktokOrder>,
    created: bool,
    lines: LinesStored,
    moved: Option<Moved>,
    /// TikTok's status or request status.
    status: String,
}

impl Done {
    fn new(outcome: Outcome, order: Option<TiktokOrder>, status: &str) -> Done {
        Done {
            outcome,
            order,
            created: false,
            lines: LinesStored::default(),
            moved: None,
            status: status.to_owned(),
        }
    }

    fn log(&self, topic: i64) {
        let Some(order) = &self.order else {
            tracing::info!(topic, status = %self.status, "TikTok Shop notification for an order we have not seen; recorded only");
            return;
        };
        let number = order.order_number.as_str();
        if self.created {
            tracing::info!(order = number, "TikTok Shop order created");
        }
        if self.lines.unmatched > 0 {
            tracing::info!(
                order = number,
                lines = self.lines.inserted,
                unmatched = self.lines.unmatched,
                "TikTok Shop order lines with SKUs we do not sell; kept without a product"
            );
        }
        match self.outcome {
            Outcome::Illegal => tracing::warn!(
                order = number,
                topic,
                from = order.status.as_str(),
                status = %self.status,
                "TikTok Shop status would move the order back; recorded, not applied"
            ),
            Outcome::Stale => tracing::info!(
                order = number,
                status = %self.status,
                "TikTok Shop status older than the one applied; recorded, not applied"
            ),
            Outcome::Applied | Outcome::Recorded | Outcome::UnknownOrder => {}
        }
        if let Some(moved) = &self.moved {
            log_moved(order, moved);
        }
    }
}

/// Topic 1: upsert, then apply the status if `update_time` is newer than the last applied.
async fn order_status(
    ctx: &JobContext,
    claimed: &Claimed,
    shop: Option<&str>,
    change: &OrderStatusChange,
) -> Result<Done, JobError> {
    let order_id = change.order_id.as_str();
    let Reported::Known(status) = change.status else {
        tracing::warn!(
            status = change.status.label(),
            "unknown TikTok Shop order status; recorded only"
        );
        let mut tx = ctx.pool.begin().await?;
        let order = tiktok_orders::lock(&mut tx, order_id).await?;
        let event = Event {
            inbox_id: claimed.id,
            order_id: order.as_ref().map(|o| o.id),
            tiktok_order_id: order_id,
            topic: ORDER_STATUS_CHANGE as i32,
            tiktok_status: change.status.label(),
            update_time: Some(change.update_time),
            outcome: Outcome::Recorded,
        };
        finish(tx, claimed, &event).await?;
        return Ok(Done::new(Outcome::Recorded, order, change.status.label()));
    };
    // Ask TikTok before opening the transaction (no connection held across the call), and
    // only for a notification that can still apply.
    let stored = {
        let mut conn = ctx.pool.acquire().await?;
        tiktok_orders::stored_update_time(&mut conn, order_id).await?
    };
    let details = if is_stale(stored, change.update_time) {
        None
    } else {
        fetch_details(ctx, shop, order_id).await?
    };

    let mut tx = ctx.pool.begin().await?;
    let (order, created) =
        tiktok_orders::lock_or_create(&mut tx, order_id, &format!("tiktok:{order_id}")).await?;
    let mut done = Done::new(Outcome::Stale, None, status.name());
    done.created = created;
    if !is_stale(order.update_time, change.update_time) {
        if let Some(details) = &details {
            done.lines = tiktok_orders::set_details(&mut tx, order.id, details).await?;
        }
        done.moved = tiktok_orders::move_to(&mut tx, &order, status.target()).await?;
        done.outcome = if done.moved.is_some() {
            tiktok_orders::set_tiktok_status(&mut tx, order.id, status.name(), change.update_time)
                .await?;
            Outcome::Applied
        } else {
            Outcome::Illegal
        };
    }
    let event = Event {
        inbox_id: claimed.id,
        order_id: Some(order.id),
        tiktok_order_id: order_id,
        topic: ORDER_STATUS_CHANGE as i32,
        tiktok_status: status.name(),
        update_time: Some(change.update_time),
        outcome: done.outcome,
    };
    finish(tx, claimed, &event).await?;
    done.order = Some(order);
    Ok(done)
}

/// True when a notification of `update_time` is not newer than what was applied.
fn is_stale(applied: Option<i64>, update_time: i64) -> bool {
    applied.is_some_and(|applied| update_time <= applied)
}

/// The order's details from TikTok's API (with `shop`'s token), or `None` when the API is
/// not configured.
async fn fetch_details(
    ctx: &JobContext,
    shop: Option<&str>,
    order_id: &str,
) -> Result<Option<Details>, JobError> {
    match &ctx.tiktok_shop {
        Some(api) => Ok(Some(api.order_detail(shop, order_id).await?)),
        None => {
            API_NOT_CONFIGURED.call_once(|| {
                tracing::info!(
                    "TikTok Shop API not configured (TIKTOK_SHOP_APP_KEY, TIKTOK_SHOP_APP_SECRETS): \
                     TikTok Shop orders sync without line items and move no stock"
                );
            });
            Ok(None)
        }
    }
}

/// Topics 11 and 12: a completed cancellation cancels, a refunded return refunds; any
/// other request status is recorded only.
async fn request(
    ctx: &JobContext,
    claimed: &Claimed,
    shop: Option<&str>,
    topic: i64,
    change: &RequestChange,
) -> Result<Done, JobError> {
    let status = change.status.trim();
    let is = |known: &[&str]| known.iter().any(|s| s.eq_ignore_ascii_case(status));
    let target = match topic {
        CANCELLATION_STATUS_CHANGE if is(&CANCELLED) => Some(OrderStatus::Cancelled),
        RETURN_STATUS_CHANGE if is(&REFUNDED) => Some(OrderStatus::Refunded),
        _ => None,
    };
    // What a refunded return sent back, asked before the transaction opens.
    let returned = match target {
        Some(OrderStatus::Refunded) => returned(ctx, shop, change).await?,
        _ => None,
    };
    let mut tx = ctx.pool.begin().await?;
    let order = tiktok_orders::lock(&mut tx, &change.order_id).await?;
    let mut done = Done::new(Outcome::Recorded, None, status);
    match (&order, target) {
        (None, _) => done.outcome = Outcome::UnknownOrder,
        (Some(_), None) => {}
        (Some(order), Some(target)) => {
            done.moved = tiktok_orders::move_to(&mut tx, order, target).await?;
            if let (Some(moved), Some(back)) = (&mut done.moved, &returned) {
                let ret = Return {
                    return_id: &back.return_id,
                    return_type: back.return_type.as_deref(),
                    return_status: status,
                    inbox_id: claimed.id,
                    lines: &back.lines,
                };
                if let Some(restocked) = tiktok_orders::apply_return(&mut tx, order, &ret).await? {
                    moved.restocked = restocked;
                }
            }
            done.outcome = match done.moved {
                Some(_) => Outcome::Applied,
                None => Outcome::Illegal,
            };
        }
    }
    let event = Event {
        inbox_id: claimed.id,
        order_id: order.as_ref().map(|o| o.id),
        tiktok_order_id: &change.order_id,
        topic: topic as i32,
        tiktok_status: status,
        update_time: change.time,
        outcome: done.outcome,
    };
    finish(tx, claimed, &event).await?;
    done.order = order;
    Ok(done)
}

/// A refunded return: which one, and what it sent back.
struct Returned {
    return_id: String,
    return_type: Option<String>,
    lines: Vec<ReturnedLine>,
}

/// What the refunded return of `change` sent back: nothing for a refund-only return, else
/// the lines Search Returns lists (nothing when the API is not configured: such orders
/// have no lines and took no stock). `None` when the notification names no return: the
/// order is refunded and nothing is restocked.
async fn returned(
    ctx: &JobContext,
    shop: Option<&str>,
    change: &RequestChange,
) -> Result<Option<Returned>, JobError> {
    let Some(return_id) = change.request_id.as_deref().filter(|id| !id.is_empty()) else {
        tracing::warn!(
            status = %change.status,
            "TikTok Shop refunded return without a return_id; nothing restocked"
        );
        return Ok(None);
    };
    let mut back = Returned {
        return_id: return_id.to_owned(),
        return_type: change.return_type.clone(),
        lines: Vec::new(),
    };
    if back.return_type.as_deref() == Some(REFUND_ONLY) {
        return Ok(Some(back));
    }
    let Some(api) = &ctx.tiktok_shop else {
        return Ok(Some(back));
    };
    let applied = {
        let mut conn = ctx.pool.acquire().await?;
        tiktok_orders::return_applied(&mut conn, return_id).await?
    };
    if !applied {
        let detail = api.return_detail(shop, return_id).await?;
        back.return_type = detail.return_type.or(back.return_type);
        back.lines = detail.lines;
    }
    Ok(Some(back))
}

/// Record the event and commit it with the inbox mark.
async fn finish(
    mut tx: Transaction<'static, Postgres>,
    claimed: &Claimed,
    event: &Event<'_>,
) -> Result<(), JobError> {
    tiktok_orders::record_event(&mut tx, event).await?;
    commit::delivery(tx, claimed, InboxStatus::Processed).await?;
    Ok(())
}

/// Log a status change and its stock movements; a clamped commit is a warning.
fn log_moved(order: &TiktokOrder, moved: &Moved) {
    let number = order.order_number.as_str();
    if let Some(to) = moved.steps.last() {
        tracing::info!(
            order = number,
            from = order.status.as_str(),
            to = to.as_str(),
            "TikTok Shop order moved"
        );
    }
    for m in moved.committed.iter().filter(|m| m.moved < m.wanted) {
        tracing::warn!(
            order = number,
            sku = %m.sku,
            wanted = m.wanted,
            taken = m.moved,
            "TikTok Shop sold more than the stock available; took what there was"
        );
    }
    let committed: i32 = moved.committed.iter().map(|m| m.moved).sum();
    let restocked: i32 = moved.restocked.iter().map(|m| m.moved).sum();
    if committed > 0 || restocked > 0 {
        tracing::info!(
            order = number,
            committed,
            restocked,
            "stock moved for TikTok Shop order"
        );
    }
}
