//! One `Settings`, read from the environment once at startup.
//!
//! Every variable of docs/contract.md §6 lives here with its default. A missing or invalid value
//! stops startup with one line naming the variable. Secrets are `SecretString` and
//! never appear in `Debug` output. Nothing else in the workspace reads `std::env`.

mod claims;
mod console;
mod edge;
mod outbound;
mod reader;

use std::time::Duration;

use secrecy::SecretString;

use crate::domain::Provider;
use crate::signature::{PrefixedHmac, Secrets, TimestampedHmac, Verifier};
use crate::trends::AlertThresholds;
pub use claims::ClaimSettings;
pub use console::ConsoleSettings;
pub use edge::EdgeSettings;
pub use outbound::{CartMode, OutboundSettings};
use reader::Reader;

/// Where the process runs; production refuses unsafe settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    /// Local development: pretty logs, unsigned webhooks may be allowed.
    Development,
    /// Production: JSON logs, every webhook must be signed.
    Production,
}

/// Which intent classifier the worker uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassifierKind {
    /// Built-in rules, no network.
    Rules,
    /// An OpenAI-style chat completions API, falling back to rules.
    OpenAi,
    /// An Anthropic-style messages API, falling back to rules.
    Anthropic,
}

/// Who scores trend signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrendScorerKind {
    /// The documented formula, no network.
    Formula,
    /// An OpenAI-style chat completions API, falling back to the formula.
    OpenAi,
    /// An Anthropic-style messages API, falling back to the formula.
    Anthropic,
}

/// A configuration problem, naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {reason}")]
pub struct ConfigError {
    var: &'static str,
    reason: String,
}

impl ConfigError {
    fn new(var: &'static str, reason: impl Into<String>) -> Self {
        Self {
            var,
            reason: reason.into(),
        }
    }

    /// The environment variable at fault.
    pub fn var(&self) -> &'static str {
        self.var
    }
}

/// Everything the three binaries read from the environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `APP_ENV`: development (default) or production.
    pub app_env: AppEnv,
    /// `DATABASE_URL` (required).
    pub database_url: SecretString,
    /// `DATABASE_MAX_CONNECTIONS`, default 10.
    pub database_max_connections: u32,
    /// `REDIS_URL`, default `redis://127.0.0.1:6379`.
    pub redis_url: SecretString,
    /// `QUEUE_PREFIX`: namespace of every queue key in Redis, default `shopwire`.
    pub queue_prefix: String,
    /// `QUEUE_POLL_INTERVAL_MS`: how often an idle worker looks for jobs, default 50.
    pub queue_poll_interval: Duration,
    /// `PORT`: web listen port, default 8080.
    pub port: u16,
    /// `WORKER_PORT`: worker health/metrics port, default 9091.
    pub worker_port: u16,
    /// `SENTRY_DSN`: errors, panics and dead jobs go to Sentry when set.
    pub sentry_dsn: Option<SecretString>,
    /// `WEBHOOK_MAX_BODY_BYTES`, default 1 MiB.
    pub webhook_max_body_bytes: usize,
    /// `WEBHOOK_SIGNATURE_TOLERANCE_SECS`, default 300.
    pub signature_tolerance_secs: i64,
    /// `ALLOW_UNSIGNED_WEBHOOKS`: development only.
    pub allow_unsigned_webhooks: bool,
    /// `STRIPE_WEBHOOK_SECRETS`, comma-separated for rotation.
    pub stripe_webhook_secrets: Secrets,
    /// `TIKTOK_SHOP_APP_KEY`.
    pub tiktok_shop_app_key: Option<String>,
    /// `TIKTOK_SHOP_APP_SECRETS`, comma-separated.
    pub tiktok_shop_app_secrets: Secrets,
    /// `TIKTOK_WEBHOOK_SECRETS`, comma-separated.
    pub tiktok_webhook_secrets: Secrets,
    /// `COMMENTS_WEBHOOK_SECRETS`, comma-separated.
    pub comments_webhook_secrets: Secrets,
    /// `STRIPE_SECRET_KEY`: Checkout Sessions are created when set.
    pub stripe_secret_key: Option<SecretString>,
    /// `STRIPE_API_BASE`, default `https://api.stripe.com`.
    pub stripe_api_base: String,
    /// `CHECKOUT_SUCCESS_URL`: where Stripe sends the buyer after paying; required when
    /// `STRIPE_SECRET_KEY` is set (Stripe's hosted Checkout needs a `success_url`).
    pub checkout_success_url: Option<String>,
    /// `CHECKOUT_CANCEL_URL`: optional.
    pub checkout_cancel_url: Option<String>,
    /// `TIKTOK_SHOP_API_BASE`, default `https://open-api.tiktokglobalshop.com`.
    pub tiktok_shop_api_base: String,
    /// `TIKTOK_SHOP_AUTH_BASE`, default `https://auth.tiktok-shops.com`: where authorization
    /// codes and refresh tokens are exchanged.
    pub tiktok_shop_auth_base: String,
    /// `TIKTOK_SHOP_ACCESS_TOKEN`: a static token for one shop never connected with
    /// `tiktok-shop connect` (connected shops use their own, refreshed, tokens).
    pub tiktok_shop_access_token: Option<SecretString>,
    /// `TIKTOK_SHOP_SHOP_CIPHER`: that static shop's `shop_cipher`, sent on every API call;
    /// required with `TIKTOK_SHOP_ACCESS_TOKEN`.
    pub tiktok_shop_shop_cipher: Option<String>,
    /// `TIKTOK_SHOP_INVENTORY_PUSH_SECS`, default 5: a linked SKU's available stock reaches
    /// TikTok Shop within this long of a change, at most one push per SKU per interval.
    pub tiktok_shop_inventory_push: Duration,
    /// `TIKTOK_SHOP_RECONCILE_SECS`, default 900: how often each connected shop's orders
    /// updated since the last run are searched for ones no webhook brought.
    pub tiktok_shop_reconcile: Duration,
    /// `TIKTOK_SHOP_REQUESTS_PER_MINUTE`, default 600: one budget for every TikTok Shop API
    /// call across all worker processes, shared through Redis.
    pub tiktok_shop_requests_per_minute: u32,
    /// `TIKTOK_MESSAGING_API_BASE`, default `https://business-api.tiktok.com`.
    pub tiktok_messaging_api_base: String,
    /// `TIKTOK_MESSAGING_TOKEN`: buyer DMs get replies when set.
    pub tiktok_messaging_token: Option<SecretString>,
    /// `INTENT_CLASSIFIER`: rules (default), openai or anthropic.
    pub intent_classifier: ClassifierKind,
    /// `LLM_API_KEY`.
    pub llm_api_key: Option<SecretString>,
    /// `LLM_API_BASE`.
    pub llm_api_base: Option<String>,
    /// `BUY_INTENT_THRESHOLD` in [0, 1], default 0.5.
    pub buy_intent_threshold: f32,
    /// `RESERVATION_TTL_SECS`, default 3600.
    pub reservation_ttl: Duration,
    /// Claims: quantities, the fairness window, waitlists, buyer limits, the lineup.
    pub claims: ClaimSettings,
    /// Outbound events and live carts: timeouts, attempts, private endpoints, reminders.
    pub outbound: OutboundSettings,
    /// The seller console (§11).
    pub console: ConsoleSettings,
    /// The public edge: connection hygiene, load shedding, readiness, input limits, retention.
    pub edge: EdgeSettings,
    /// `JOB_MAX_ATTEMPTS`, default 8.
    pub job_max_attempts: u32,
    /// `JOB_BACKOFF_BASE_MS`, default 1000.
    pub job_backoff_base: Duration,
    /// `JOB_BACKOFF_MAX_MS`, default 600000.
    pub job_backoff_max: Duration,
    /// `ORPHAN_TIMEOUT_SECS`: a job's lease, default 60.
    pub orphan_timeout: Duration,
    /// `SWEEP_AFTER_SECS`: re-enqueue deliveries unprocessed this long, default 60.
    pub sweep_after: Duration,
    /// `SHUTDOWN_GRACE_SECS`, default 25.
    pub shutdown_grace: Duration,
    /// `WORKER_CONCURRENCY`: jobs in flight per queue, default 8.
    pub worker_concurrency: usize,
    /// `RAPIDAPI_KEY`: periodic trend fetch when set.
    pub rapidapi_key: Option<SecretString>,
    /// `RAPIDAPI_BASE`, default `https://{RAPIDAPI_HOST}`.
    pub rapidapi_base: Option<String>,
    /// `RAPIDAPI_HOST`: the `X-RapidAPI-Host` header, default `tiktok-scraper2.p.rapidapi.com`.
    pub rapidapi_host: String,
    /// `RAPIDAPI_REQUESTS_PER_MINUTE`: the fetch's rate limit, default 30.
    pub rapidapi_requests_per_minute: u32,
    /// `TRENDS_FETCH_INTERVAL_SECS`: how often signals are fetched from RapidAPI, default 900.
    pub trends_fetch_interval: Duration,
    /// `TRENDS_INTERVAL_SECS`: how often signals and velocities are rescored, default 300.
    pub trends_interval: Duration,
    /// `TRENDS_SCORER`: formula (default), openai or anthropic.
    pub trends_scorer: TrendScorerKind,
    /// `STOCK_ALERT_CRITICAL_HOURS` / `_LOW_HOURS` / `_MEDIUM_HOURS`: hours until stockout
    /// under which a product is critical, low or medium; defaults 6, 24, 72.
    pub stock_alerts: AlertThresholds,
}

impl Settings {
    /// Read the process environment.
    pub fn from_env() -> Result<Settings, ConfigError> {
        Settings::from_lookup(|name| std::env::var(name).ok())
    }

    /// Read settings through `lookup` (tests pass a map instead of touching the environment).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let r = Reader::new(lookup);
        let app_env = match r.string("APP_ENV").as_deref() {
            None | Some("development") | Some("dev") => AppEnv::Development,
            Some("production") | Some("prod") => AppEnv::Production,
            Some(other) => {
                return Err(ConfigError::new(
                    "APP_ENV",
                    format!("`{other}` is not development or production"),
                ));
            }
        };
        let intent_classifier = match r.string("INTENT_CLASSIFIER").as_deref() {
            None | Some("rules") => ClassifierKind::Rules,
            Some("openai") => ClassifierKind::OpenAi,
            Some("anthropic") => ClassifierKind::Anthropic,
            Some(other) => {
                return Err(ConfigError::new(
                    "INTENT_CLASSIFIER",
                    format!("`{other}` is not rules, openai or anthropic"),
                ));
            }
        };
        let trends_scorer = match r.string("TRENDS_SCORER").as_deref() {
            None | Some("formula") => TrendScorerKind::Formula,
            Some("openai") => TrendScorerKind::OpenAi,
            Some("anthropic") => TrendScorerKind::Anthropic,
            Some(other) => {
                return Err(ConfigError::new(
                    "TRENDS_SCORER",
                    format!("`{other}` is not formula, openai or anthropic"),
                ));
            }
        };
        // Unsigned deliveries are a development convenience: it must be asked for by name,
        // so a production process that simply forgot APP_ENV does not accept them.
        if r.string("APP_ENV").is_none() && r.flag("ALLOW_UNSIGNED_WEBHOOKS")? {
            return Err(ConfigError::new(
                "ALLOW_UNSIGNED_WEBHOOKS",
                "needs APP_ENV=development set explicitly (APP_ENV is unset)",
            ));
        }
        let settings = Settings {
            app_env,
            database_url: r.required_secret("DATABASE_URL")?,
            database_max_connections: r.number("DATABASE_MAX_CONNECTIONS", 10, 1..=1000)?,
            redis_url: r
                .secret("REDIS_URL")
                .unwrap_or_else(|| SecretString::from("redis://127.0.0.1:6379")),
            queue_prefix: r
                .string("QUEUE_PREFIX")
                .unwrap_or_else(|| "shopwire".into()),
            queue_poll_interval: Duration::from_millis(r.number(
                "QUEUE_POLL_INTERVAL_MS",
                50,
                1..=60_000,
            )?),
            port: r.number("PORT", 8080, 0..=65535)?,
            worker_port: r.number("WORKER_PORT", 9091, 0..=65535)?,
            sentry_dsn: r.secret("SENTRY_DSN"),
            webhook_max_body_bytes: r.number("WEBHOOK_MAX_BODY_BYTES", 1 << 20, 1..=(64 << 20))?,
            signature_tolerance_secs: r.number(
                "WEBHOOK_SIGNATURE_TOLERANCE_SECS",
                300,
                1..=86_400,
            )?,
            allow_unsigned_webhooks: r.flag("ALLOW_UNSIGNED_WEBHOOKS")?,
            stripe_webhook_secrets: r.secrets("STRIPE_WEBHOOK_SECRETS"),
            tiktok_shop_app_key: r.string("TIKTOK_SHOP_APP_KEY"),
            tiktok_shop_app_secrets: r.secrets("TIKTOK_SHOP_APP_SECRETS"),
            tiktok_webhook_secrets: r.secrets("TIKTOK_WEBHOOK_SECRETS"),
            comments_webhook_secrets: r.secrets("COMMENTS_WEBHOOK_SECRETS"),
            stripe_secret_key: r.secret("STRIPE_SECRET_KEY"),
            stripe_api_base: r.url("STRIPE_API_BASE", "https://api.stripe.com")?,
            checkout_success_url: r.optional_url("CHECKOUT_SUCCESS_URL")?,
            checkout_cancel_url: r.optional_url("CHECKOUT_CANCEL_URL")?,
            tiktok_shop_api_base: r.url(
                "TIKTOK_SHOP_API_BASE",
                "https://open-api.tiktokglobalshop.com",
            )?,
            tiktok_shop_auth_base: r
                .url("TIKTOK_SHOP_AUTH_BASE", "https://auth.tiktok-shops.com")?,
            tiktok_shop_access_token: r.secret("TIKTOK_SHOP_ACCESS_TOKEN"),
            tiktok_shop_shop_cipher: r.string("TIKTOK_SHOP_SHOP_CIPHER"),
            tiktok_shop_inventory_push: Duration::from_secs(r.number(
                "TIKTOK_SHOP_INVENTORY_PUSH_SECS",
                5,
                1..=3_600,
            )?),
            tiktok_shop_reconcile: Duration::from_secs(r.number(
                "TIKTOK_SHOP_RECONCILE_SECS",
                900,
                1..=86_400,
            )?),
            tiktok_shop_requests_per_minute: r.number(
                "TIKTOK_SHOP_REQUESTS_PER_MINUTE",
                600,
                1..=1_000_000,
            )?,
            tiktok_messaging_api_base: r.url(
                "TIKTOK_MESSAGING_API_BASE",
                "https://business-api.tiktok.com",
            )?,
            tiktok_messaging_token: r.secret("TIKTOK_MESSAGING_TOKEN"),
            intent_classifier,
            llm_api_key: r.secret("LLM_API_KEY"),
            llm_api_base: r.optional_url("LLM_API_BASE")?,
            buy_intent_threshold: r.fraction("BUY_INTENT_THRESHOLD", 0.5)?,
            // A hold may be shorter than Stripe's 30-minute session minimum: when it
            // lapses the session is expired at Stripe before the stock is released.
            reservation_ttl: Duration::from_secs(r.number(
                "RESERVATION_TTL_SECS",
                3600,
                60..=86_400,
            )?),
            claims: ClaimSettings::read(&r)?,
            outbound: OutboundSettings::read(&r)?,
            console: ConsoleSettings::read(&r)?,
            edge: EdgeSettings::read(&r)?,
            job_max_attempts: r.number("JOB_MAX_ATTEMPTS", 8, 1..=100)?,
            job_backoff_base: Duration::from_millis(r.number(
                "JOB_BACKOFF_BASE_MS",
                1000,
                1..=86_400_000,
            )?),
            job_backoff_max: Duration::from_millis(r.number(
                "JOB_BACKOFF_MAX_MS",
                600_000,
                1..=7 * 86_400_000,
            )?),
            orphan_timeout: Duration::from_secs(r.number("ORPHAN_TIMEOUT_SECS", 60, 1..=86_400)?),
            sweep_after: Duration::from_secs(r.number("SWEEP_AFTER_SECS", 60, 1..=86_400)?),
            shutdown_grace: Duration::from_secs(r.number("SHUTDOWN_GRACE_SECS", 25, 0..=3600)?),
            worker_concurrency: r.number("WORKER_CONCURRENCY", 8, 1..=1024)?,
            rapidapi_key: r.secret("RAPIDAPI_KEY"),
            rapidapi_base: r.optional_url("RAPIDAPI_BASE")?,
            rapidapi_host: r
                .string("RAPIDAPI_HOST")
                .unwrap_or_else(|| "tiktok-scraper2.p.rapidapi.com".into()),
            rapidapi_requests_per_minute: r.number("RAPIDAPI_REQUESTS_PER_MINUTE", 30, 1..=6000)?,
            trends_fetch_interval: Duration::from_secs(r.number(
                "TRENDS_FETCH_INTERVAL_SECS",
                900,
                1..=7 * 86_400,
            )?),
            trends_interval: Duration::from_secs(r.number(
                "TRENDS_INTERVAL_SECS",
                300,
                1..=7 * 86_400,
            )?),
            trends_scorer,
            stock_alerts: AlertThresholds {
                critical_hours: r.number("STOCK_ALERT_CRITICAL_HOURS", 6.0, 0.0..=8760.0)?,
                low_hours: r.number("STOCK_ALERT_LOW_HOURS", 24.0, 0.0..=8760.0)?,
                medium_hours: r.number("STOCK_ALERT_MEDIUM_HOURS", 72.0, 0.0..=8760.0)?,
            },
        };
        settings.validate()?;
        Ok(settings)
    }

    /// Cross-variable rules that no single value can check.
    fn validate(&self) -> Result<(), ConfigError> {
        if self.allow_unsigned_webhooks && self.app_env == AppEnv::Production {
            return Err(ConfigError::new(
                "ALLOW_UNSIGNED_WEBHOOKS",
                "must not be true when APP_ENV=production",
            ));
        }
        if self.job_backoff_base > self.job_backoff_max {
            return Err(ConfigError::new(
                "JOB_BACKOFF_BASE_MS",
                "is larger than JOB_BACKOFF_MAX_MS",
            ));
        }
        // Stripe refuses a hosted Checkout Session without `success_url`: without one,
        // every checkout job would be dead-lettered by its 400.
        if self.stripe_secret_key.is_some() && self.checkout_success_url.is_none() {
            return Err(ConfigError::new(
                "CHECKOUT_SUCCESS_URL",
                "is required when STRIPE_SECRET_KEY is set (Stripe Checkout needs a success_url)",
            ));
        }
        if self.tiktok_shop_app_secrets.is_empty() != self.tiktok_shop_app_key.is_none() {
            return Err(ConfigError::new(
                "TIKTOK_SHOP_APP_KEY",
                "TIKTOK_SHOP_APP_KEY and TIKTOK_SHOP_APP_SECRETS must be set together",
            ));
        }
        // Get Order Detail (202309) requires `shop_cipher`: without it every call with the
        // static token is refused and every TikTok Shop order would be dead-lettered.
        if self.tiktok_shop_api_configured()
            && self.tiktok_shop_access_token.is_some()
            && self.tiktok_shop_shop_cipher.is_none()
        {
            return Err(ConfigError::new(
                "TIKTOK_SHOP_SHOP_CIPHER",
                "is required with TIKTOK_SHOP_ACCESS_TOKEN (and the app key and secret): Get Order \
                 Detail needs the shop's shop_cipher",
            ));
        }
        if self.intent_classifier != ClassifierKind::Rules
            && (self.llm_api_key.is_none() || self.llm_api_base.is_none())
        {
            return Err(ConfigError::new(
                "INTENT_CLASSIFIER",
                "openai/anthropic need LLM_API_KEY and LLM_API_BASE",
            ));
        }
        if self.trends_scorer != TrendScorerKind::Formula
            && (self.llm_api_key.is_none() || self.llm_api_base.is_none())
        {
            return Err(ConfigError::new(
                "TRENDS_SCORER",
                "openai/anthropic need LLM_API_KEY and LLM_API_BASE",
            ));
        }
        let alerts = &self.stock_alerts;
        if alerts.critical_hours >= alerts.low_hours {
            return Err(ConfigError::new(
                "STOCK_ALERT_CRITICAL_HOURS",
                "must be below STOCK_ALERT_LOW_HOURS",
            ));
        }
        if alerts.low_hours >= alerts.medium_hours {
            return Err(ConfigError::new(
                "STOCK_ALERT_LOW_HOURS",
                "must be below STOCK_ALERT_MEDIUM_HOURS",
            ));
        }
        Ok(())
    }

    /// True when the worker can call the TikTok Shop API: `TIKTOK_SHOP_APP_KEY` and
    /// `TIKTOK_SHOP_APP_SECRETS` are set. Shops connected with `tiktok-shop connect` use
    /// their own tokens; `TIKTOK_SHOP_ACCESS_TOKEN` (then with `TIKTOK_SHOP_SHOP_CIPHER`)
    /// serves one shop that never was.
    pub fn tiktok_shop_api_configured(&self) -> bool {
        self.tiktok_shop_app_key.is_some() && !self.tiktok_shop_app_secrets.is_empty()
    }

    /// True when unsigned deliveries are accepted (development only).
    pub fn accepts_unsigned(&self) -> bool {
        self.allow_unsigned_webhooks && self.app_env == AppEnv::Development
    }

    /// The verifier for `provider`'s route, or `None` when it has no secret configured
    /// (the route then refuses every delivery with 401, unless unsigned is allowed).
    pub fn verifier(&self, provider: Provider) -> Option<Verifier> {
        let tol = self.signature_tolerance_secs;
        let timestamped = |secrets: &Secrets, make: fn(Secrets, i64) -> TimestampedHmac| {
            (!secrets.is_empty()).then(|| Verifier::Timestamped(make(secrets.clone(), tol)))
        };
        let configured = match provider {
            Provider::Stripe => timestamped(&self.stripe_webhook_secrets, TimestampedHmac::stripe),
            Provider::Tiktok => timestamped(&self.tiktok_webhook_secrets, TimestampedHmac::tiktok),
            Provider::Comments => {
                timestamped(&self.comments_webhook_secrets, TimestampedHmac::comments)
            }
            Provider::TiktokShop => match &self.tiktok_shop_app_key {
                Some(key) if !self.tiktok_shop_app_secrets.is_empty() => Some(Verifier::Prefixed(
                    PrefixedHmac::tiktok_shop(key.clone(), self.tiktok_shop_app_secrets.clone()),
                )),
                _ => None,
            },
        };
        match configured {
            Some(v) => Some(v),
            None if self.accepts_unsigned() => Some(Verifier::Unsigned),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests;
