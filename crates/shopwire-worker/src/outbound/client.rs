//! The HTTP client that delivers outbound events: one per process, keeping connections to
//! endpoints alive between deliveries, following no redirect, bounding every attempt by one
//! timeout, and saying of each failure whether the caller should retry, give up or disable
//! the endpoint.

use std::error::Error as _;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use reqwest::{StatusCode, Url, redirect};
use standardwebhooks::{HEADER_WEBHOOK_ID, HEADER_WEBHOOK_SIGNATURE, HEADER_WEBHOOK_TIMESTAMP};

use shopwire_core::config::Settings;

use super::resolve::{self, GuardedResolver, Refused};

/// What every delivery says it is.
pub const USER_AGENT: &str = concat!("Shopwire-Webhooks/", env!("CARGO_PKG_VERSION"));
/// How much of an answer's body is read, for the error message; the rest is never read.
pub const MAX_BODY_EXCERPT: usize = 4096;
/// The longest `Retry-After` honoured; an endpoint asking for more gets this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// How long an idle kept-alive connection stays in the pool.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Idle connections kept per endpoint host.
const POOL_MAX_IDLE_PER_HOST: usize = 64;
/// The longest a connection may take to set up (within the attempt's timeout).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// TCP keep-alive probes on pooled connections, so a dead peer is noticed.
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);

/// The client that sends deliveries; build one per process and share it (it is a handle
/// to one connection pool).
#[derive(Debug, Clone)]
pub struct OutboundClient {
    http: reqwest::Client,
    allow_private: bool,
    timeout: Duration,
}

/// An attempt the endpoint accepted with a 2xx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    /// The 2xx status.
    pub status: u16,
    /// From sending the request until the answer (and its first bytes) came back.
    pub duration: Duration,
}

/// An attempt that did not deliver, and what the caller should do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// `410 Gone`: the endpoint asks never to be called again; the caller disables it.
    #[error("the endpoint answered 410 Gone")]
    Gone,
    /// The target may not be called (a private address, or no usable URL): permanent.
    #[error("refused: {reason}")]
    Refused {
        /// Why, naming the host but never the URL's path or query.
        reason: String,
    },
    /// Any other non-2xx answer (a 3xx too: redirects are not followed), a timeout or a
    /// connection error: the caller retries, not before `retry_after`.
    #[error("{message}")]
    Failed {
        /// The answer's status, if there was one.
        status: Option<u16>,
        /// The endpoint's `Retry-After` on 429 or 503, capped at [`MAX_RETRY_AFTER`].
        retry_after: Option<Duration>,
        /// What happened, with the start of the answer's body if any.
        message: String,
    },
}

impl SendError {
    /// The HTTP status the endpoint answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            SendError::Gone => Some(StatusCode::GONE.as_u16()),
            SendError::Refused { .. } => None,
            SendError::Failed { status, .. } => *status,
        }
    }
}

impl From<Refused> for SendError {
    fn from(refused: Refused) -> Self {
        SendError::Refused {
            reason: refused.reason,
        }
    }
}

impl OutboundClient {
    /// The client `settings` ask for: `OUTBOUND_TIMEOUT_SECS`, and private addresses
    /// allowed as the endpoint URL policy of `APP_ENV` allows them.
    pub fn from_settings(settings: &Settings) -> Result<OutboundClient, reqwest::Error> {
        let policy = settings.outbound.url_policy(settings.app_env);
        OutboundClient::new(settings.outbound.timeout, policy.allow_private)
    }

    /// A client whose attempts each end within `timeout` (connecting, sending and reading
    /// the answer). Only public addresses are called, unless `allow_private`; multicast and
    /// broadcast never are (see [`resolve`]). No proxy from the environment is used: the
    /// address guard could not see what a proxy connects to.
    pub fn new(timeout: Duration, allow_private: bool) -> Result<OutboundClient, reqwest::Error> {
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(timeout)
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .pool_max_idle_per_host(POOL_MAX_IDLE_PER_HOST)
            .tcp_keepalive(TCP_KEEPALIVE)
            .redirect(redirect::Policy::none())
            .no_proxy()
            .dns_resolver(GuardedResolver { allow_private })
            .build()?;
        Ok(OutboundClient {
            http,
            allow_private,
            timeout,
        })
    }

    /// POST one signed delivery: `body` (the JSON event) with `webhook-id` (the same on
    /// every retry), `webhook-timestamp` (this attempt's, unix seconds) and
    /// `webhook-signature` ([`super::sign::signature_header`] over these three).
    pub async fn send(
        &self,
        url: &str,
        webhook_id: &str,
        timestamp: i64,
        signature: &str,
        body: Bytes,
    ) -> Result<Delivered, SendError> {
        let url = self.target(url)?;
        let mut signature = HeaderValue::from_str(signature)
            .map_err(|_| failed(None, "the signature is not a header value"))?;
        signature.set_sensitive(true);
        let started = Instant::now();
        let response = self
            .http
            .post(url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(HEADER_WEBHOOK_ID, webhook_id)
            .header(HEADER_WEBHOOK_TIMESTAMP, timestamp.to_string())
            .header(HEADER_WEBHOOK_SIGNATURE, signature)
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        let status = response.status();
        let retry_after = match status {
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                crate::http::retry_after(response.headers()).map(|d| d.min(MAX_RETRY_AFTER))
            }
            _ => None,
        };
        // Read a little even of a 2xx: an answer read to its end frees the connection for
        // the next delivery. A 2xx is delivered whatever happens to its body.
        let excerpt = excerpt(response).await;
        let duration = started.elapsed();
        if status.is_success() {
            return Ok(Delivered {
                status: status.as_u16(),
                duration,
            });
        }
        if status == StatusCode::GONE {
            return Err(SendError::Gone);
        }
        let mut message = format!("the endpoint answered {}", status.as_u16());
        match excerpt {
            Ok(text) if !text.is_empty() => message = format!("{message}: {text}"),
            Ok(_) => {}
            Err(e) => {
                message = format!("{message}; reading its body failed: {}", self.describe(e));
            }
        }
        Err(SendError::Failed {
            status: Some(status.as_u16()),
            retry_after,
            message,
        })
    }

    /// The URL to call, if it may be called.
    fn target(&self, url: &str) -> Result<Url, SendError> {
        let url = Url::parse(url).map_err(|e| SendError::Refused {
            reason: format!("not a URL: {e}"),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(SendError::Refused {
                reason: format!("{}: URLs are not called", url.scheme()),
            });
        }
        resolve::check_literal(&url, self.allow_private)?;
        Ok(url)
    }

    /// A request that got no answer: refused by the resolver, or a failure to retry.
    fn transport(&self, e: reqwest::Error) -> SendError {
        if let Some(refused) = refusal_in(&e) {
            return SendError::Refused {
                reason: refused.reason.clone(),
            };
        }
        failed(None, &self.describe(e))
    }

    /// A one-line account of a reqwest error: its causes, never the URL.
    fn describe(&self, e: reqwest::Error) -> String {
        if e.is_timeout() {
            return format!("no answer within {} ms", self.timeout.as_millis());
        }
        let e = e.without_url();
        let mut text = e.to_string();
        let mut cause = e.source();
        while let Some(c) = cause {
            text = format!("{text}: {c}");
            cause = c.source();
        }
        text
    }
}

/// The resolver's refusal, if that is why the request failed.
fn refusal_in(e: &reqwest::Error) -> Option<&Refused> {
    let mut cause = e.source();
    while let Some(c) = cause {
        if let Some(refused) = c.downcast_ref::<Refused>() {
            return Some(refused);
        }
        cause = c.source();
    }
    None
}

fn failed(status: Option<u16>, message: &str) -> SendError {
    SendError::Failed {
        status,
        retry_after: None,
        message: message.to_owned(),
    }
}

/// The start of an answer's body, at most [`MAX_BODY_EXCERPT`] bytes, as one line of text.
async fn excerpt(mut response: reqwest::Response) -> Result<String, reqwest::Error> {
    let mut read = Vec::new();
    while read.len() < MAX_BODY_EXCERPT {
        let Some(chunk) = response.chunk().await? else {
            break;
        };
        let room = MAX_BODY_EXCERPT - read.len();
        read.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    let text = String::from_utf8_lossy(&read);
    Ok(text.split_whitespace().collect::<Vec<_>>().join(" "))
}
