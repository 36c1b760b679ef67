//! What every job handler shares: connections, policy and this process's identity.

use std::sync::Arc;
use std::time::Duration;

use shopwire_core::config::Settings;
use shopwire_queue::QueueClient;
use sqlx::PgPool;

use crate::classify::Classifier;
use crate::retry::RetryPolicy;
use crate::stripe::StripeClient;
use crate::tiktok_messaging::MessagingClient;
use crate::tiktok_shop::TiktokShopClient;

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
    /// `RESERVATION_TTL_SECS`.
    pub reservation_ttl: Duration,
    /// The Stripe API client; `None` (no Checkout Sessions) without `STRIPE_SECRET_KEY`.
    pub stripe: Option<StripeClient>,
    /// The TikTok Shop API client; `None` (orders sync without line items) unless
    /// `TIKTOK_SHOP_APP_KEY`, `TIKTOK_SHOP_APP_SECRETS` and `TIKTOK_SHOP_ACCESS_TOKEN` are set.
    pub tiktok_shop: Option<TiktokShopClient>,
    /// TikTok Business Messaging, for DM replies (when `TIKTOK_MESSAGING_TOKEN` is set).
    pub messaging: Option<MessagingClient>,
}

impl JobContext {
    /// Build from settings and connections.
    pub fn new(settings: &Settings, pool: PgPool, queue: QueueClient) -> Self {
        let lease = settings.orphan_timeout;
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
            reservation_ttl: settings.reservation_ttl,
            stripe: StripeClient::from_settings(settings),
            tiktok_shop: TiktokShopClient::from_settings(settings),
            messaging: settings.tiktok_messaging_token.as_ref().and_then(|token| {
                MessagingClient::new(&settings.tiktok_messaging_api_base, token.clone()).ok()
            }),
        }
    }
}
