//! The Stripe API client: form-encoded POSTs carrying the secret key as a bearer token and
//! an idempotency key, with every failure classified as worth retrying or not.

mod checkout_sessions;
pub mod event;
mod form;
mod payments;

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use shopwire_core::config::Settings;

use crate::jobs::JobError;

pub use checkout_sessions::{
    CartLineItem, CheckoutSession, NewCartSession, NewCheckoutSession, SessionState,
};
pub use payments::Refund;

/// The API version requests are rendered at (the one the webhook fixtures use).
pub const API_VERSION: &str = "2025-06-30.basil";

/// A configured Stripe client; cheap to clone.
#[derive(Clone)]
pub struct StripeClient {
    http: reqwest::Client,
    base: String,
    key: SecretString,
    success_url: Option<String>,
    cancel_url: Option<String>,
}

impl std::fmt::Debug for StripeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// Why a Stripe call failed.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    /// Stripe answered with an error status.
    #[error("stripe answered {status}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Stripe's error `code` (`rate_limit`, `resource_missing`, …), if sent.
        code: Option<String>,
        /// Stripe's error type, code and message (never our secret or personal data).
        message: String,
        /// Stripe's `Retry-After`, if sent.
        retry_after: Option<Duration>,
        /// Stripe's `Stripe-Should-Retry`, if sent: it overrides the status.
        should_retry: Option<bool>,
    },
    /// No answer: connection failure or timeout.
    #[error("stripe unreachable: {0}")]
    Transport(String),
    /// A 2xx answer we cannot read.
    #[error("unexpected stripe response: {0}")]
    Decode(String),
}

impl StripeError {
    /// True when the same request may succeed later: no answer, 409 (a concurrent request
    /// with the same idempotency key), 429, a 400 with code `rate_limit` (how Stripe's
    /// older API versions answered rate limiting) or 5xx — unless Stripe said otherwise in
    /// `Stripe-Should-Retry`, as its own SDKs honour. Other 4xx fail the same way again.
    pub fn is_transient(&self) -> bool {
        match self {
            StripeError::Transport(_) => true,
            StripeError::Api {
                should_retry: Some(retry),
                ..
            } => *retry,
            StripeError::Api {
                status: 400,
                code: Some(code),
                ..
            } => code == "rate_limit",
            StripeError::Api { status, .. } => matches!(status, 409 | 429 | 500..=599),
            StripeError::Decode(_) => false,
        }
    }

    /// How long Stripe asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            StripeError::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl From<StripeError> for JobError {
    fn from(e: StripeError) -> Self {
        let error = if e.is_transient() {
            JobError::transient_after(e.to_string(), e.retry_after())
        } else {
            JobError::permanent(e.to_string())
        };
        error.caused_by(e)
    }
}

impl StripeClient {
    /// The client for `STRIPE_SECRET_KEY` and `STRIPE_API_BASE`, or `None` when no key is
    /// set (checkout is then off).
    pub fn from_settings(settings: &Settings) -> Option<StripeClient> {
        let key = settings.stripe_secret_key.clone()?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            .expect("the HTTP client's TLS backend initialises");
        Some(StripeClient {
            http,
            base: settings.stripe_api_base.trim_end_matches('/').to_owned(),
            key,
            success_url: settings.checkout_success_url.clone(),
            cancel_url: settings.checkout_cancel_url.clone(),
        })
    }

    /// POST the form `body` to `path` with `idempotency_key`, and decode the answer.
    async fn post<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        body: String,
        idempotency_key: &str,
    ) -> Result<T, StripeError> {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Idempotency-Key", idempotency_key)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body);
        self.send(request).await
    }

    /// GET `path` (reading an object back: a session, a charge) and decode the answer.
    async fn get<T: for<'de> Deserialize<'de>>(&self, path: &str) -> Result<T, StripeError> {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// Authenticate, pin the API version, send, and classify the answer.
    async fn send<T: for<'de> Deserialize<'de>>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, StripeError> {
        let response = request
            .bearer_auth(self.key.expose_secret())
            .header("Stripe-Version", API_VERSION)
            .send()
            .await
            .map_err(|e| StripeError::Transport(e.without_url().to_string()))?;
        let status = response.status();
        let retry_after = crate::http::retry_after(response.headers());
        let should_retry = match response
            .headers()
            .get("stripe-should-retry")
            .and_then(|v| v.to_str().ok())
        {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        };
        let body = response
            .bytes()
            .await
            .map_err(|e| StripeError::Transport(e.without_url().to_string()))?;
        if !status.is_success() {
            let (code, message) = error_message(&body);
            return Err(StripeError::Api {
                status: status.as_u16(),
                code,
                message,
                retry_after,
                should_retry,
            });
        }
        serde_json::from_slice(&body).map_err(|e| StripeError::Decode(e.to_string()))
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Stripe's `{"error": {type, code, message}}`: its code, and all three as one line,
/// bounded in length.
fn error_message(body: &[u8]) -> (Option<String>, String) {
    let (code, text) = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody { error }) => {
            let kind = [error.kind, error.code.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("/");
            (
                error.code,
                format!("{kind}: {}", error.message.unwrap_or_default()),
            )
        }
        Err(_) => (None, "no Stripe error body".to_owned()),
    };
    (code, text.chars().take(500).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_failures_are_worth_retrying() {
        let api = |status| StripeError::Api {
            status,
            code: None,
            message: String::new(),
            retry_after: None,
            should_retry: None,
        };
        for status in [409, 429, 500, 502, 503] {
            assert!(api(status).is_transient(), "{status}");
        }
        for status in [400, 401, 402, 403, 404] {
            assert!(!api(status).is_transient(), "{status}");
        }
        let told = |status, retry| StripeError::Api {
            status,
            code: None,
            message: String::new(),
            retry_after: None,
            should_retry: Some(retry),
        };
        assert!(
            !told(500, false).is_transient(),
            "Stripe replays a saved 500"
        );
        assert!(told(400, true).is_transient());
        assert!(StripeError::Transport("timed out".into()).is_transient());
        let coded = |code: &str| StripeError::Api {
            status: 400,
            code: Some(code.to_owned()),
            message: String::new(),
            retry_after: None,
            should_retry: None,
        };
        assert!(
            coded("rate_limit").is_transient(),
            "legacy API versions answer rate limiting with 400 rate_limit"
        );
        assert!(!coded("parameter_missing").is_transient());
        assert!(!StripeError::Decode("no id".into()).is_transient());
    }

    #[test]
    fn error_bodies_become_one_bounded_line() {
        let body = br#"{"error":{"type":"invalid_request_error","code":"parameter_missing","message":"Missing required param: line_items."}}"#;
        assert_eq!(
            error_message(body),
            (
                Some("parameter_missing".to_owned()),
                "invalid_request_error/parameter_missing: Missing required param: line_items."
                    .to_owned()
            )
        );
        assert_eq!(
            error_message(b"<html>"),
            (None, "no Stripe error body".to_owned())
        );
    }
}
