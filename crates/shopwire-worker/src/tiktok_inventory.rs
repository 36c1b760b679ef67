//! Inventory out (SPEC §12, `docs/tiktok-shop.md`): every linked SKU's available stock
//! reaches TikTok Shop within `TIKTOK_SHOP_INVENTORY_PUSH_SECS` of a change, with at most one
//! push per SKU per interval — a burst of holds becomes one push of the newest value.
//!
//! The value and its version come from the link row, written by a trigger in the change's
//! transaction, so nothing that moves stock can forget to report it. A push is leased for
//! [`LEASE`], longer than the longest call (a token refresh, the call, one retry), so a slow
//! push ends before another of the same SKU may start: an older value never lands after a
//! newer one. A failed push is retried with backoff and honours TikTok's `Retry-After`.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use shopwire_core::db::tiktok_inventory::{self, DuePush};
use tokio::sync::watch;

use crate::context::JobContext;
use crate::tiktok_shop::{ApiError, ShopError, TiktokShop};

/// Inventory pushes, by outcome (`pushed`, `failed`).
pub const INVENTORY_PUSHES_TOTAL: &str = "shopwire_tiktok_shop_inventory_pushes_total";
/// How long a push holds its SKU: three request timeouts and a margin.
pub const LEASE: Duration = Duration::from_secs(45);
/// Links leased per round.
const BATCH: i64 = 50;
/// Pushes in flight at once per worker.
const CONCURRENCY: usize = 8;
/// The longest wait after a failed push.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Push what is due every fraction of the interval until `stop` turns true (no-op without
/// the TikTok Shop API).
pub async fn run(ctx: Arc<JobContext>, mut stop: watch::Receiver<bool>) {
    let Some(tiktok_shop) = ctx.tiktok_shop.clone() else {
        return;
    };
    let every = (ctx.inventory_push / 5).clamp(Duration::from_millis(100), Duration::from_secs(1));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        if let Err(e) = push_due(&ctx, &tiktok_shop).await {
            tracing::warn!(error = %e, "TikTok Shop inventory push round failed; will retry");
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Pushes TikTok Shop accepted.
    pub pushed: usize,
    /// Pushes that failed (retried later).
    pub failed: usize,
}

/// Lease the links due and push each once.
pub async fn push_due(ctx: &JobContext, tiktok_shop: &TiktokShop) -> Result<Round, sqlx::Error> {
    let interval = chrono::Duration::from_std(ctx.inventory_push).unwrap_or(chrono::Duration::MAX);
    let lease = chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::MAX);
    let due = {
        let mut conn = ctx.pool.acquire().await?;
        tiktok_inventory::lease_due(&mut conn, interval, lease, BATCH).await?
    };
    let results: Vec<Result<bool, sqlx::Error>> = futures::stream::iter(due)
        .map(|push| push_one(ctx, tiktok_shop, push))
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut round = Round::default();
    for result in results {
        if result? {
            round.pushed += 1;
        } else {
            round.failed += 1;
        }
    }
    Ok(round)
}

/// Push one leased link and record the outcome; true when TikTok Shop accepted it.
async fn push_one(
    ctx: &JobContext,
    tiktok_shop: &TiktokShop,
    push: DuePush,
) -> Result<bool, sqlx::Error> {
    let sent = tiktok_shop
        .update_inventory(
            &push.shop_id,
            &push.tiktok_product_id,
            &push.tiktok_sku_id,
            push.quantity,
        )
        .await;
    let mut conn = ctx.pool.acquire().await?;
    match sent {
        Ok(()) => {
            tiktok_inventory::pushed(&mut conn, &push).await?;
            tracing::debug!(sku = %push.sku, quantity = push.quantity, "TikTok Shop inventory pushed");
            metrics::counter!(INVENTORY_PUSHES_TOTAL, "outcome" => "pushed").increment(1);
            Ok(true)
        }
        Err(e) => {
            let failures = tiktok_inventory::push_failed(
                &mut conn,
                &push,
                &e.to_string(),
                asked_wait(&e).and_then(|d| chrono::Duration::from_std(d).ok()),
                chrono::Duration::from_std(MAX_BACKOFF).unwrap_or(chrono::Duration::MAX),
            )
            .await?;
            tracing::warn!(sku = %push.sku, failures, error = %e, "TikTok Shop inventory push failed; will retry");
            metrics::counter!(INVENTORY_PUSHES_TOTAL, "outcome" => "failed").increment(1);
            Ok(false)
        }
    }
}

/// The wait a failure itself asks for: TikTok's `Retry-After`, or the longest backoff for a
/// shop that is not connected (an operator must act). `None`: back off by failures in a row.
fn asked_wait(error: &ShopError) -> Option<Duration> {
    match error {
        ShopError::Api(ApiError::Transient {
            retry_after: Some(asked),
            ..
        }) => Some((*asked).min(MAX_BACKOFF)),
        ShopError::NotConnected(_) | ShopError::Disconnected(_) => Some(MAX_BACKOFF),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_waits_what_tiktok_asked_or_backs_off() {
        let asked = ShopError::Api(ApiError::Transient {
            message: "429".into(),
            retry_after: Some(Duration::from_secs(7)),
        });
        assert_eq!(asked_wait(&asked), Some(Duration::from_secs(7)));
        assert_eq!(
            asked_wait(&ShopError::Disconnected("1".into())),
            Some(MAX_BACKOFF)
        );
        assert_eq!(
            asked_wait(&ShopError::Api(ApiError::Permanent("no".into()))),
            None
        );
    }
}
