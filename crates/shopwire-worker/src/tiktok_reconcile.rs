//! Reconciliation (SPEC §12, `docs/tiktok-shop.md`): every `TIKTOK_SHOP_RECONCILE_SECS` each
//! connected shop's orders updated since its watermark are searched, and each one newer than
//! what was applied is recorded as a topic-1 delivery of our own making and enqueued — so a
//! webhook TikTok never delivered is recovered through the very path webhooks take (Get
//! Order Detail, stock, the monotonic `update_time` rule, `events show`).
//!
//! A made-up delivery's dedupe key is `reconcile:<order id>:<update_time>`: a second run that
//! finds the same change records nothing, and a webhook of the same change that arrives too
//! is applied once and the other recorded as stale.

use std::sync::Arc;
use std::time::Duration;

use shopwire_core::db::inbox::{self, Recorded};
use shopwire_core::db::{tiktok_orders, tiktok_shops};
use shopwire_core::domain::{Delivery, Provider};
use shopwire_core::jobs::{InboxJob, Queue};
use tokio::sync::watch;

use crate::context::JobContext;
use crate::tiktok_shop::{ShopError, TiktokShop};

/// Orders recorded by reconciliation (no webhook brought them, or not their newest change).
pub const RECONCILED_TOTAL: &str = "shopwire_tiktok_shop_reconciled_orders_total";
/// Each run also searches this far before the watermark: an order TikTok indexes late, or a
/// clock a little off, is still found.
pub const OVERLAP_SECS: i64 = 300;
/// A newly connected shop's first run looks this far back.
pub const FIRST_LOOKBACK: Duration = Duration::from_secs(24 * 3600);
/// How long a run holds its shop.
const LEASE: Duration = Duration::from_secs(600);
/// After a failed run, try the shop again after this.
const RETRY_FAILED: Duration = Duration::from_secs(60);

/// Reconcile due shops until `stop` turns true (no-op without the TikTok Shop API).
pub async fn run(ctx: Arc<JobContext>, mut stop: watch::Receiver<bool>) {
    let Some(tiktok_shop) = ctx.tiktok_shop.clone() else {
        return;
    };
    let every =
        (ctx.reconcile_every / 10).clamp(Duration::from_millis(200), Duration::from_secs(30));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        if let Err(e) = reconcile_due(&ctx, &tiktok_shop).await {
            tracing::warn!(error = %e, "TikTok Shop reconciliation round failed; will retry");
        }
    }
}

/// What one round found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Shops searched to the end.
    pub shops: usize,
    /// Orders recorded as new deliveries.
    pub recorded: usize,
    /// Runs that failed (retried later).
    pub failed: usize,
}

/// Reconcile every shop that is due, one at a time.
pub async fn reconcile_due(
    ctx: &JobContext,
    tiktok_shop: &TiktokShop,
) -> Result<Round, sqlx::Error> {
    let every = to_chrono(ctx.reconcile_every);
    let mut round = Round::default();
    loop {
        let lease = {
            let mut conn = ctx.pool.acquire().await?;
            tiktok_shops::lease_reconcile(
                &mut conn,
                every,
                to_chrono(LEASE),
                to_chrono(FIRST_LOOKBACK),
            )
            .await?
        };
        let Some(lease) = lease else {
            return Ok(round);
        };
        let until = chrono::Utc::now().timestamp();
        let outcome = reconcile_shop(
            ctx,
            tiktok_shop,
            &lease.shop_id,
            lease.from - OVERLAP_SECS,
            until,
        )
        .await;
        let mut conn = ctx.pool.acquire().await?;
        match outcome {
            Ok(recorded) => {
                tiktok_shops::reconciled(&mut conn, &lease.shop_id, until).await?;
                round.shops += 1;
                round.recorded += recorded;
                if recorded > 0 {
                    tracing::warn!(shop = %lease.shop_id, orders = recorded,
                        "TikTok Shop reconciliation found order changes no webhook brought");
                }
            }
            Err(ShopError::Database(e)) => return Err(e),
            Err(e) => {
                tiktok_shops::reconcile_failed(
                    &mut conn,
                    &lease.shop_id,
                    &e.to_string(),
                    to_chrono(RETRY_FAILED),
                )
                .await?;
                tracing::warn!(shop = %lease.shop_id, error = %e, "TikTok Shop reconciliation failed; will retry");
                round.failed += 1;
            }
        }
    }
}

/// Search `shop_id`'s orders updated in `[from, until)` page by page, recording each change
/// newer than what was applied; returns how many were recorded.
pub async fn reconcile_shop(
    ctx: &JobContext,
    tiktok_shop: &TiktokShop,
    shop_id: &str,
    from: i64,
    until: i64,
) -> Result<usize, ShopError> {
    let mut recorded = 0;
    let mut token: Option<String> = None;
    loop {
        let page = tiktok_shop
            .search_orders(shop_id, (from, until), token.as_deref())
            .await?;
        let mut jobs = Vec::new();
        for order in &page.orders {
            let applied = {
                let mut conn = ctx.pool.acquire().await?;
                tiktok_orders::stored_update_time(&mut conn, &order.id).await?
            };
            if applied.is_some_and(|applied| applied >= order.update_time) {
                continue;
            }
            let body = made_up_notification(shop_id, &order.id, &order.status, order.update_time);
            let delivery = Delivery::parse(Provider::TiktokShop, &body).map_err(|e| {
                ShopError::Api(crate::tiktok_shop::ApiError::Permanent(e.to_string()))
            })?;
            if let Recorded::New(id) =
                inbox::record(&ctx.pool, Provider::TiktokShop, &delivery, &body).await?
            {
                jobs.push(InboxJob { inbox_id: id });
            }
        }
        if !jobs.is_empty() {
            recorded += jobs.len();
            metrics::counter!(RECONCILED_TOTAL).increment(jobs.len() as u64);
            // Recorded first: a push Redis loses is swept up like any delivery's.
            if let Err(e) = ctx.queue.push(Queue::TiktokShop, &jobs).await {
                tracing::warn!(error = %e, "could not enqueue reconciled orders; the sweeper will");
            }
        }
        match page.next {
            Some(next) => token = Some(next),
            None => return Ok(recorded),
        }
    }
}

/// A topic-1 notification for a change Search Orders listed, keyed so it is recorded once.
pub fn made_up_notification(
    shop_id: &str,
    order_id: &str,
    status: &str,
    update_time: i64,
) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "type": 1,
        "tts_notification_id": format!("reconcile:{order_id}:{update_time}"),
        "shop_id": shop_id,
        "timestamp": chrono::Utc::now().timestamp(),
        "data": {"order_id": order_id, "order_status": status, "update_time": update_time},
    }))
    .unwrap_or_default()
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}
