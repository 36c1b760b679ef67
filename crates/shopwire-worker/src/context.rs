//! What every job handler shares: connections, policy and this process's identity.

use std::sync::Arc;
use std::time::Duration;

use shopwire_core::config::{CartMode, ClaimSettings, Settings};
use shopwire_queue::QueueClient;
use sqlx::PgPool;

use crate::claim_watch::ClaimWatch;
use crate::jobs::JobError;
use crate::outbound::OutboundClient;
use crate::retry::RetryPolicy;
use crate::stripe::StripeClient;
use crate::tiktok_messaging::MessagingClient;
use crate::tiktok_shop::TiktokShop;
use crate::trends::rapidapi::RapidApiClient;
use shopwire_core::trends::AlertThresholds;
use shopwire_insight::classify::Classifier;
use shopwire_insight::trends::TrendScorer;

/// Shared by all handlers of this process (wrapped in an `Arc`).
#[derive(Debug, Clone)]
pub struct JobContext {
    /// Postgres: the truth about every job.
    pub pool: PgPool,
    /// Redis: the transport.
    pub queue: QueueClient,
    /// Retry budget and backoff.
    pub retry: RetryPolicy,
    /// How long a claim holds a delivery before others may take it (`ORPHAN_TIMEOUT_SECS`).
    pub lease: Duration,
    /// Hard limit on one attempt, kept under the lease so a slow attempt records its own
    /// failure before anyone else could claim the delivery.
    pub attempt_timeout: Duration,
    /// Unique per process run; recorded as the lease holder.
    pub instance: String,
    /// Intent classifier for buyer messages.
    pub classifier: Arc<Classifier>,
    /// `BUY_INTENT_THRESHOLD`.
    pub buy_threshold: f32,
    /// `MESSAGE_MAX_CHARS`: characters of a buyer's message the pipeline reads and stores.
    pub message_max_chars: usize,
    /// `RESERVATION_TTL_SECS`.
    pub reservation_ttl: Duration,
    /// Claim quantities, fairness window, waitlists, buyer limits, lineup.
    pub claims: ClaimSettings,
    /// `CART_SETTLE_SECS` with `CART_MODE=live` (a buyer's holds from one live share one
    /// Checkout Session, made this long after the last); `None` in `per_claim` mode.
    pub cart_settle: Option<Duration>,
    /// A message's own time older than this (the signature tolerance) counts as its
    /// arrival when claims are ordered.
    pub message_time_tolerance: Duration,
    /// The Stripe API client; `None` (no Checkout Sessions) without `STRIPE_SECRET_KEY`.
    pub stripe: Option<StripeClient>,
    /// The TikTok Shop API with its connected shops; `None` (orders sync without line items)
    /// unless `TIKTOK_SHOP_APP_KEY` and `TIKTOK_SHOP_APP_SECRETS` are set.
    pub tiktok_shop: Option<TiktokShop>,
    /// `TIKTOK_SHOP_INVENTORY_PUSH_SECS`: linked SKUs' stock reaches TikTok Shop within this.
    pub inventory_push: Duration,
    /// `TIKTOK_SHOP_RECONCILE_SECS`: how often each shop's orders are reconciled.
    pub reconcile_every: Duration,
    /// TikTok Business Messaging, for DM replies (when `TIKTOK_MESSAGING_TOKEN` is set).
    pub messaging: Option<MessagingClient>,
    /// Who scores trend signals (`TRENDS_SCORER`).
    pub trend_scorer: TrendScorer,
    /// `STOCK_ALERT_*_HOURS`.
    pub stock_alerts: AlertThresholds,
    /// `TRENDS_INTERVAL_SECS`.
    pub trends_interval: Duration,
    /// `TRENDS_FETCH_INTERVAL_SECS`.
    pub trends_fetch_interval: Duration,
    /// The RapidAPI trend source, when `RAPIDAPI_KEY` is set.
    pub rapidapi: Option<Arc<RapidApiClient>>,
    /// Sends outbound events (one connection pool per process); `None` only if TLS could
    /// not be initialised, which fails every delivery transiently and loudly.
    pub outbound: Option<OutboundClient>,
    /// Outbound deliveries' retry budget (`OUTBOUND_MAX_ATTEMPTS`) with §4's backoff.
    pub outbound_retry: RetryPolicy,
    /// `HOLD_REMINDER_SECS`: how long before an unpaid hold lapses `hold.expiring` is sent.
    pub hold_reminder: Duration,
    /// The outbound deliveries' own connections, committing without waiting for the WAL
    /// flush (`shopwire_core::db::lazy_relaxed_pool`): a delivery's claim and result are
    /// safe to lose (it is sent again), and an fsync per statement was most of its time.
    pub outbound_pool: PgPool,
    /// `INBOX_RETENTION_DAYS`: the sweeper purges the bodies of deliveries settled longer
    /// ago than this (at most hourly); `None` keeps them.
    pub inbox_retention: Option<Duration>,
    /// Variants whose pending claims this process allocates once due and settled.
    pub claim_watch: Arc<ClaimWatch>,
}

impl JobContext {
    /// Build from settings and connections.
    pub fn new(settings: &Settings, pool: PgPool, queue: QueueClient) -> Self {
        let lease = settings.orphan_timeout;
        // DATABASE_URL parsed for `pool` already; should it not, share that pool.
        let outbound_pool = shopwire_core::db::lazy_relaxed_pool(
            settings,
            u32::try_from(settings.outbound.concurrency.div_ceil(2)).unwrap_or(16),
        )
        .unwrap_or_else(|_| pool.clone());
        let tiktok_shop = TiktokShop::from_settings(settings, pool.clone());
        Self {
            pool,
            queue,
            retry: RetryPolicy {
                max_attempts: settings.job_max_attempts,
                base: settings.job_backoff_base,
                cap: settings.job_backoff_max,
            },
            lease,
            attempt_timeout: (lease * 3 / 4).max(Duration::from_millis(500)),
            instance: format!("{}-{:08x}", std::process::id(), rand::random::<u32>()),
            classifier: Arc::new(Classifier::from_settings(settings)),
            buy_threshold: settings.buy_intent_threshold,
            message_max_chars: settings.edge.message_max_chars,
            reservation_ttl: settings.reservation_ttl,
            claims: settings.claims,
            cart_settle: (settings.outbound.cart_mode == CartMode::Live)
                .then_some(settings.outbound.cart_settle),
            message_time_tolerance: Duration::from_secs(
                u64::try_from(settings.signature_tolerance_secs).unwrap_or(300),
            ),
            stripe: StripeClient::from_settings(settings),
            tiktok_shop,
            inventory_push: settings.tiktok_shop_inventory_push,
            reconcile_every: settings.tiktok_shop_reconcile,
            messaging: settings.tiktok_messaging_token.as_ref().and_then(|token| {
                MessagingClient::new(&settings.tiktok_messaging_api_base, token.clone()).ok()
            }),
            trend_scorer: TrendScorer::from_settings(settings),
            stock_alerts: settings.stock_alerts,
            trends_interval: settings.trends_interval,
            trends_fetch_interval: settings.trends_fetch_interval,
            rapidapi: RapidApiClient::from_settings(settings).map(Arc::new),
            outbound: OutboundClient::from_settings(settings)
                .inspect_err(
                    |e| tracing::error!(error = %e, "could not build the outbound HTTP client"),
                )
                .ok(),
            outbound_retry: RetryPolicy {
                max_attempts: settings.outbound.max_attempts,
                base: settings.job_backoff_base,
                cap: settings.job_backoff_max,
            },
            outbound_pool,
            hold_reminder: settings.outbound.hold_reminder,
            inbox_retention: settings
                .edge
                .inbox_retention_days
                .map(|days| Duration::from_secs(u64::from(days) * 86_400)),
            claim_watch: Arc::new(ClaimWatch::new()),
        }
    }
}

impl JobContext {
    /// Run one attempt under `attempt_timeout`; running out of time is a transient failure.
    pub async fn within_attempt_timeout<T>(
        &self,
        attempt: impl std::future::Future<Output = Result<T, JobError>>,
    ) -> Result<T, JobError> {
        tokio::time::timeout(self.attempt_timeout, attempt)
            .await
            .unwrap_or_else(|_| {
                Err(JobError::transient(format!(
                    "attempt timed out after {:?}",
                    self.attempt_timeout
                )))
            })
    }
}
