//! The webhook providers Shopwire accepts deliveries from.

use std::fmt;
use std::str::FromStr;

/// Who sent a delivery; decides its route, signature scheme, dedupe key and queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// Stripe events (`POST /webhooks/stripe`).
    Stripe,
    /// TikTok Shop Partner notifications (`POST /webhooks/tiktok-shop`).
    TiktokShop,
    /// TikTok Business Messaging DMs and TikTok for Developers events (`POST /webhooks/tiktok`).
    Tiktok,
    /// Live-comment relays (`POST /webhooks/comments`).
    Comments,
}

impl Provider {
    /// Every provider, in route order.
    pub const ALL: [Provider; 4] = [
        Provider::Stripe,
        Provider::TiktokShop,
        Provider::Tiktok,
        Provider::Comments,
    ];

    /// The name stored in the inbox and used in metrics and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Stripe => "stripe",
            Provider::TiktokShop => "tiktok_shop",
            Provider::Tiktok => "tiktok",
            Provider::Comments => "comments",
        }
    }

    /// The path segment of its webhook route (`/webhooks/<slug>`).
    pub fn route_slug(self) -> &'static str {
        match self {
            Provider::TiktokShop => "tiktok-shop",
            other => other.as_str(),
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A provider name that is not one of ours.
#[derive(Debug, thiserror::Error)]
#[error("unknown provider `{0}` (expected stripe, tiktok-shop, tiktok or comments)")]
pub struct UnknownProvider(String);

impl FromStr for Provider {
    type Err = UnknownProvider;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "stripe" => Ok(Provider::Stripe),
            "tiktok_shop" | "tiktok-shop" => Ok(Provider::TiktokShop),
            "tiktok" => Ok(Provider::Tiktok),
            "comments" => Ok(Provider::Comments),
            other => Err(UnknownProvider(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_round_trips_through_its_name_and_slug() {
        for p in Provider::ALL {
            assert_eq!(p.as_str().parse::<Provider>().ok(), Some(p));
            assert_eq!(p.route_slug().parse::<Provider>().ok(), Some(p));
        }
    }

    #[test]
    fn unknown_provider_names_the_bad_value() {
        let err = "paypal"
            .parse::<Provider>()
            .expect_err("paypal is not a provider");
        assert!(err.to_string().contains("paypal"));
    }
}
