//! Deliveries as each provider sends them, every one with a unique event id and signed
//! individually, at send time, through the same verifiers shopwire-web checks them with.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use shopwire_core::domain::Provider;
use shopwire_core::signature::{PrefixedHmac, Secrets, TimestampedHmac, Verifier};

use crate::args::SigningArgs;
use crate::load::Source;

/// Signed-timestamp tolerance the signers are built with (only `verify` reads it).
const TOLERANCE_SECS: i64 = 300;

/// One request ready to send.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Path under the base URL, e.g. `/webhooks/comments`.
    pub path: &'static str,
    /// The signature header's name, e.g. `Stripe-Signature`.
    pub header: &'static str,
    /// The signature header's value.
    pub signature: String,
    /// The exact body that was signed.
    pub body: Vec<u8>,
}

/// A signer per provider, built from the secrets the server is configured with.
#[derive(Debug, Clone)]
pub struct Signers {
    stripe: Verifier,
    tiktok_shop: Verifier,
    tiktok: Verifier,
    comments: Verifier,
}

impl Signers {
    /// Signers for every provider (a provider without a secret cannot be signed for).
    pub fn new(args: &SigningArgs) -> Self {
        let list = |s: &str| Secrets::parse_list(s);
        Self {
            stripe: Verifier::Timestamped(TimestampedHmac::stripe(
                list(&args.stripe_secrets),
                TOLERANCE_SECS,
            )),
            tiktok_shop: Verifier::Prefixed(PrefixedHmac::tiktok_shop(
                args.tiktok_shop_app_key.clone(),
                list(&args.tiktok_shop_secrets),
            )),
            tiktok: Verifier::Timestamped(TimestampedHmac::tiktok(
                list(&args.tiktok_secrets),
                TOLERANCE_SECS,
            )),
            comments: Verifier::Timestamped(TimestampedHmac::comments(
                list(&args.comments_secrets),
                TOLERANCE_SECS,
            )),
        }
    }

    /// The verifier (and signer) for `provider`.
    pub fn verifier(&self, provider: Provider) -> &Verifier {
        match provider {
            Provider::Stripe => &self.stripe,
            Provider::TiktokShop => &self.tiktok_shop,
            Provider::Tiktok => &self.tiktok,
            Provider::Comments => &self.comments,
        }
    }

    /// Fails naming the variable when a provider in `providers` has no secret to sign with.
    pub fn require(&self, providers: &[Provider]) -> anyhow::Result<()> {
        for &provider in providers {
            if self.verifier(provider).sign(b"{}", 0).is_none() {
                bail!(
                    "{} is not set: the server would refuse every delivery",
                    env_var(provider)
                );
            }
        }
        Ok(())
    }

    /// `body` from `provider`, signed now.
    pub fn prepare(&self, provider: Provider, body: Vec<u8>) -> anyhow::Result<Prepared> {
        let verifier = self.verifier(provider);
        let signature = verifier
            .sign(&body, unix_now())
            .with_context(|| format!("{} is not set", env_var(provider)))?;
        Ok(Prepared {
            path: route(provider),
            header: verifier.header_name(),
            signature,
            body,
        })
    }
}

/// The provider of the `n`-th delivery in the ingest mix: the four in turn.
pub fn mix(n: u64) -> Provider {
    Provider::ALL[(n % Provider::ALL.len() as u64) as usize]
}

/// The `n`-th body of run `run` from `provider`; its event id is unique to `(run, n)`.
///
/// Stripe: a `charge.refunded` event (~1.3 KB, like the real one). TikTok Shop: an
/// `ORDER_STATUS_CHANGE`. TikTok: an `im_receive_msg` DM. Comments: a live comment. None of
/// them names a product, so the worker records them without creating orders.
pub fn body(provider: Provider, run: &str, n: u64) -> Vec<u8> {
    match provider {
        Provider::Stripe => format!(
            r#"{{"id":"evt_bench_{run}_{n}","object":"event","api_version":"2025-06-30.basil","created":1752670800,"data":{{"object":{{"id":"ch_bench_{run}_{n}","object":"charge","amount":4999,"amount_captured":4999,"amount_refunded":1500,"balance_transaction":"txn_bench_{run}_{n}","billing_details":{{"address":{{"city":"Portland","country":"US","line1":"1234 SE Hawthorne Blvd","line2":null,"postal_code":"97214","state":"OR"}},"email":"buyer{n}@example.com","name":"Bench Buyer","phone":null}},"captured":true,"created":1752667140,"currency":"usd","customer":null,"description":null,"disputed":false,"livemode":false,"metadata":{{}},"paid":true,"payment_intent":"pi_bench_{run}_{n}","payment_method":"pm_bench_{run}_{n}","payment_method_details":{{"card":{{"brand":"visa","country":"US","exp_month":12,"exp_year":2030,"funding":"credit","last4":"4242","network":"visa"}},"type":"card"}},"receipt_email":null,"refunded":false,"refunds":{{"object":"list","data":[],"has_more":false,"total_count":1,"url":"/v1/charges/ch_bench_{run}_{n}/refunds"}},"status":"succeeded"}},"previous_attributes":{{"amount_refunded":0}}}},"livemode":false,"pending_webhooks":1,"request":{{"id":null,"idempotency_key":null}},"type":"charge.refunded"}}"#
        ),
        Provider::TiktokShop => format!(
            r#"{{"type":1,"tts_notification_id":"bench-{run}-{n}","shop_id":"7495540735365777507","timestamp":1718309211,"data":{{"is_on_hold_order":false,"order_id":"bench-{run}-{n}","order_status":"AWAITING_SHIPMENT","update_time":1718309210}}}}"#
        ),
        Provider::Tiktok => {
            let content = format!(
                r#"{{"conversation_id":"conv-{run}-{n}","message_id":"msg-{run}-{n}","timestamp":1752670800000,"type":"text","text":{{"body":"does this come in blue?"}},"from_user":{{"id":"buyer-{run}-{n}"}}}}"#
            );
            let content = serde_json::to_string(&content).expect("a string serializes");
            format!(
                r#"{{"event":"im_receive_msg","user_openid":"bench_shop","create_time":1752670800,"content":{content}}}"#
            )
        }
        Provider::Comments => comment(
            run,
            n,
            "bench_streamer",
            &format!("viewer-{run}-{n}"),
            "love this colour, what sizes are left?",
        ),
    }
    .into_bytes()
}

/// A live comment with id `bench-<run>-<n>`, written now.
pub fn comment(run: &str, n: u64, streamer: &str, client: &str, message: &str) -> String {
    comment_at(run, n, streamer, client, message, chrono::Utc::now())
}

/// A live comment with id `bench-<run>-<n>` whose own `timestamp` is `at` (RFC 3339 UTC,
/// microseconds, so stamps a few µs apart stay distinct).
pub fn comment_at(
    run: &str,
    n: u64,
    streamer: &str,
    client: &str,
    message: &str,
    at: DateTime<Utc>,
) -> String {
    serde_json::json!({
        "comment_id": format!("bench-{run}-{n}"),
        "streamer": streamer,
        "client": client,
        "message": message,
        "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    })
    .to_string()
}

/// The buyer of request `n` of run `run` in the order scenarios (the comment's `client`).
pub fn buyer(who: &str, run: &str, n: u64) -> String {
    format!("{who}-buyer-{run}-{n}")
}

/// Signed buy comments for the order scenarios: request `n` comes from its own buyer
/// ([`buyer`]) on streamer `bench_<who>`, names `sku_for(n)` and is stamped when it is built.
pub fn buy_comments(
    signers: Arc<Signers>,
    run: String,
    who: &'static str,
    sku_for: impl Fn(u64) -> String + Send + Sync + 'static,
) -> Source {
    buy_comments_at(signers, run, who, sku_for, |_| chrono::Utc::now())
}

/// [`buy_comments`] whose request `n` carries the comment time `at_for(n)`.
pub fn buy_comments_at(
    signers: Arc<Signers>,
    run: String,
    who: &'static str,
    sku_for: impl Fn(u64) -> String + Send + Sync + 'static,
    at_for: impl Fn(u64) -> DateTime<Utc> + Send + Sync + 'static,
) -> Source {
    Arc::new(move |n: u64| {
        let body = comment_at(
            &run,
            n,
            &format!("bench_{who}"),
            &buyer(who, &run, n),
            &format!("I'll take it! {}", sku_for(n)),
            at_for(n),
        );
        signers.prepare(Provider::Comments, body.into_bytes())
    })
}

/// A run id unique on this machine: the start time in hex nanoseconds.
pub fn run_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{nanos:x}")
}

fn route(provider: Provider) -> &'static str {
    match provider {
        Provider::Stripe => "/webhooks/stripe",
        Provider::TiktokShop => "/webhooks/tiktok-shop",
        Provider::Tiktok => "/webhooks/tiktok",
        Provider::Comments => "/webhooks/comments",
    }
}

fn env_var(provider: Provider) -> &'static str {
    match provider {
        Provider::Stripe => "STRIPE_WEBHOOK_SECRETS",
        Provider::TiktokShop => "TIKTOK_SHOP_APP_KEY / TIKTOK_SHOP_APP_SECRETS",
        Provider::Tiktok => "TIKTOK_WEBHOOK_SECRETS",
        Provider::Comments => "COMMENTS_WEBHOOK_SECRETS",
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use shopwire_core::config::Settings;
    use shopwire_core::domain::Delivery;

    use super::*;

    fn signing() -> SigningArgs {
        SigningArgs {
            stripe_secrets: "whsec_bench,whsec_old".into(),
            tiktok_shop_app_key: "bench_app_key".into(),
            tiktok_shop_secrets: "bench_app_secret".into(),
            tiktok_secrets: "bench_tiktok".into(),
            comments_secrets: "bench_comments".into(),
        }
    }

    /// The verifiers exactly as shopwire-web builds them from its environment.
    fn server_settings() -> Settings {
        Settings::from_lookup(|var| {
            let value = match var {
                "DATABASE_URL" => "postgres://u@127.0.0.1/db",
                "REDIS_URL" => "redis://127.0.0.1:6379",
                "STRIPE_WEBHOOK_SECRETS" => "whsec_bench,whsec_old",
                "TIKTOK_SHOP_APP_KEY" => "bench_app_key",
                "TIKTOK_SHOP_APP_SECRETS" => "bench_app_secret",
                "TIKTOK_WEBHOOK_SECRETS" => "bench_tiktok",
                "COMMENTS_WEBHOOK_SECRETS" => "bench_comments",
                _ => return None,
            };
            Some(value.to_owned())
        })
        .expect("valid settings")
    }

    #[test]
    fn every_mixed_delivery_verifies_with_the_servers_verifier_and_parses() {
        let signers = Signers::new(&signing());
        let settings = server_settings();
        let expected_types = [
            "charge.refunded",
            "ORDER_STATUS_CHANGE",
            "im_receive_msg",
            "comment",
        ];
        for n in 0..8 {
            let provider = mix(n);
            let prepared = signers
                .prepare(provider, body(provider, "r1", n))
                .expect("signed");
            assert_eq!(
                prepared.path,
                format!("/webhooks/{}", provider.route_slug())
            );
            let server = settings.verifier(provider).expect("configured");
            assert_eq!(prepared.header, server.header_name());
            assert_eq!(
                server.verify(
                    Some(prepared.signature.as_bytes()),
                    &prepared.body,
                    unix_now()
                ),
                Ok(()),
                "{provider}"
            );
            let delivery = Delivery::parse(provider, &prepared.body).expect("parses");
            assert_eq!(delivery.event_type, expected_types[(n % 4) as usize]);
        }
    }

    #[test]
    fn a_tampered_body_does_not_verify() {
        let signers = Signers::new(&signing());
        for provider in Provider::ALL {
            let mut prepared = signers
                .prepare(provider, body(provider, "r1", 1))
                .expect("signed");
            prepared.body.push(b' ');
            let server = server_settings().verifier(provider).expect("configured");
            assert!(
                server
                    .verify(
                        Some(prepared.signature.as_bytes()),
                        &prepared.body,
                        unix_now()
                    )
                    .is_err(),
                "{provider}"
            );
        }
    }

    #[test]
    fn event_ids_are_unique_across_indices_and_runs() {
        let mut keys = HashSet::new();
        for run in ["a", "b"] {
            for n in 0..400 {
                let provider = mix(n);
                let delivery = Delivery::parse(provider, &body(provider, run, n)).expect("parses");
                assert!(keys.insert((provider, delivery.dedupe_key)), "{run} {n}");
            }
        }
        assert_eq!(keys.len(), 800);
    }

    #[test]
    fn a_provider_without_a_secret_is_named() {
        let signers = Signers::new(&SigningArgs {
            stripe_secrets: String::new(),
            ..signing()
        });
        let err = signers
            .require(&Provider::ALL)
            .expect_err("no stripe secret");
        assert!(err.to_string().contains("STRIPE_WEBHOOK_SECRETS"), "{err}");
        assert!(signers.require(&[Provider::Comments]).is_ok());
    }
}
