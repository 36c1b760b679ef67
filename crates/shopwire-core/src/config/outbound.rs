//! Outbound events and live carts (docs/contract.md §10).

use std::time::Duration;

use super::reader::Reader;
use super::{AppEnv, ConfigError};
use crate::outbound::UrlPolicy;

/// How holds become Checkout Sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CartMode {
    /// One session per claim, as soon as it is reserved (default).
    PerClaim,
    /// A buyer's holds from one live share one session, `CART_SETTLE_SECS` after the last.
    Live,
}

impl CartMode {
    /// The name `CART_MODE` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            CartMode::PerClaim => "per_claim",
            CartMode::Live => "live",
        }
    }
}

/// The outbound settings, part of [`super::Settings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboundSettings {
    /// `OUTBOUND_TIMEOUT_SECS`, default 10 (1–120): one delivery attempt's deadline.
    pub timeout: Duration,
    /// `OUTBOUND_MAX_ATTEMPTS`, default 12 (1–100): attempts before a delivery is dead.
    pub max_attempts: u32,
    /// `OUTBOUND_CONCURRENCY`, default 32 (1–1024): deliveries in flight per worker
    /// process. A delivery mostly waits on the endpoint, so this is higher than
    /// `WORKER_CONCURRENCY`; database work is still bounded by the pool.
    pub concurrency: usize,
    /// `OUTBOUND_ALLOW_PRIVATE`, default false: with `APP_ENV=production`, accept
    /// endpoints on private, loopback and link-local addresses. Development always does.
    pub allow_private: bool,
    /// `HOLD_REMINDER_SECS`, default 300 (1–86400): how long before a hold lapses its
    /// `hold.expiring` event is sent.
    pub hold_reminder: Duration,
    /// `CART_MODE`: `per_claim` (default) or `live`.
    pub cart_mode: CartMode,
    /// `CART_SETTLE_SECS`, default 20 (0–3600): with `CART_MODE=live`, how long after a
    /// buyer's last hold their cart's session is created.
    pub cart_settle: Duration,
}

impl OutboundSettings {
    pub(super) fn read<F: Fn(&str) -> Option<String>>(
        r: &Reader<F>,
    ) -> Result<OutboundSettings, ConfigError> {
        let cart_mode = match r.string("CART_MODE").as_deref() {
            None | Some("per_claim") => CartMode::PerClaim,
            Some("live") => CartMode::Live,
            Some(other) => {
                return Err(ConfigError::new(
                    "CART_MODE",
                    format!("`{other}` is not per_claim or live"),
                ));
            }
        };
        Ok(OutboundSettings {
            timeout: Duration::from_secs(r.number("OUTBOUND_TIMEOUT_SECS", 10, 1..=120)?),
            max_attempts: r.number("OUTBOUND_MAX_ATTEMPTS", 12, 1..=100)?,
            concurrency: r.number("OUTBOUND_CONCURRENCY", 32, 1..=1024)?,
            allow_private: r.flag("OUTBOUND_ALLOW_PRIVATE")?,
            hold_reminder: Duration::from_secs(r.number("HOLD_REMINDER_SECS", 300, 1..=86_400)?),
            cart_mode,
            cart_settle: Duration::from_secs(r.number("CART_SETTLE_SECS", 20, 0..=3600)?),
        })
    }

    /// The endpoint URL policy under `app_env` (see [`UrlPolicy::for_env`]).
    pub fn url_policy(&self, app_env: AppEnv) -> UrlPolicy {
        UrlPolicy::for_env(app_env, self.allow_private)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::Settings;
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let mut map: HashMap<&str, &str> = HashMap::from([("DATABASE_URL", "postgres://x/db")]);
        map.extend(vars.iter().copied());
        Settings::from_lookup(|k| map.get(k).map(|v| (*v).to_owned()))
    }

    #[test]
    fn outbound_settings_default_as_documented() {
        let s = settings(&[]).expect("defaults are valid").outbound;
        assert_eq!(s.timeout, Duration::from_secs(10));
        assert_eq!(s.max_attempts, 12);
        assert_eq!(s.concurrency, 32);
        assert!(!s.allow_private);
        assert_eq!(s.hold_reminder, Duration::from_secs(300));
        assert_eq!(s.cart_mode, CartMode::PerClaim);
        assert_eq!(s.cart_settle, Duration::from_secs(20));
    }

    #[test]
    fn outbound_settings_are_read() {
        let s = settings(&[
            ("OUTBOUND_TIMEOUT_SECS", "5"),
            ("OUTBOUND_MAX_ATTEMPTS", "3"),
            ("OUTBOUND_CONCURRENCY", "64"),
            ("OUTBOUND_ALLOW_PRIVATE", "true"),
            ("HOLD_REMINDER_SECS", "60"),
            ("CART_MODE", "live"),
            ("CART_SETTLE_SECS", "0"),
        ])
        .expect("valid")
        .outbound;
        assert_eq!(
            s,
            OutboundSettings {
                timeout: Duration::from_secs(5),
                max_attempts: 3,
                concurrency: 64,
                allow_private: true,
                hold_reminder: Duration::from_secs(60),
                cart_mode: CartMode::Live,
                cart_settle: Duration::ZERO,
            }
        );
    }

    #[test]
    fn a_bad_outbound_value_names_its_variable() {
        for (var, value) in [
            ("OUTBOUND_TIMEOUT_SECS", "0"),
            ("OUTBOUND_TIMEOUT_SECS", "ten"),
            ("OUTBOUND_MAX_ATTEMPTS", "0"),
            ("OUTBOUND_MAX_ATTEMPTS", "101"),
            ("OUTBOUND_CONCURRENCY", "0"),
            ("OUTBOUND_ALLOW_PRIVATE", "sometimes"),
            ("HOLD_REMINDER_SECS", "0"),
            ("CART_MODE", "per_buyer"),
            ("CART_SETTLE_SECS", "3601"),
        ] {
            let err = settings(&[(var, value)]).expect_err(var);
            assert_eq!(err.var(), var);
            let line = err.to_string();
            assert!(line.starts_with(var) && !line.contains('\n'), "{line}");
        }
        assert_eq!(
            settings(&[("CART_MODE", "cart")])
                .expect_err("bad mode")
                .to_string(),
            "CART_MODE: `cart` is not per_claim or live"
        );
    }

    #[test]
    fn private_endpoints_are_a_production_opt_in() {
        let dev = settings(&[]).expect("valid");
        assert!(dev.outbound.url_policy(dev.app_env).allow_private);
        let prod = settings(&[("APP_ENV", "production")]).expect("valid");
        let policy = prod.outbound.url_policy(prod.app_env);
        assert!(policy.require_https && !policy.allow_private);
        let opted =
            settings(&[("APP_ENV", "production"), ("OUTBOUND_ALLOW_PRIVATE", "1")]).expect("valid");
        assert!(opted.outbound.url_policy(opted.app_env).allow_private);
    }
}
