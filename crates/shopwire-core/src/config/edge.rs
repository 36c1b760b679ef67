//! The public edge: HTTP connection hygiene, load shedding, readiness, input limits and
//! retention (issue #11; docs/contract.md §6).

use std::time::Duration;

use super::ConfigError;
use super::reader::Reader;

/// How the HTTP servers treat connections and how much the pipeline takes in; part of
/// [`super::Settings`].
#[derive(Debug, Clone)]
pub struct EdgeSettings {
    /// `HTTP_HEADER_TIMEOUT_SECS`, default 10 (1–300): a request's headers must arrive within
    /// this long of the connection opening or of the previous response, else the server
    /// closes the connection. It bounds idle keep-alive connections too.
    pub header_timeout: Duration,
    /// `HTTP_MAX_CONNECTIONS`, default 10000: open connections per server; one more is
    /// closed as soon as it is accepted.
    pub max_connections: usize,
    /// `HTTP_ALLOW_HTTP2`, default false: the servers speak HTTP/1.1 only unless set
    /// (providers deliver webhooks over HTTP/1.1).
    pub allow_http2: bool,
    /// `WEBHOOK_MAX_IN_FLIGHT`, default 512: webhook requests handled at once by one web
    /// process; past it a delivery is answered 503 with `Retry-After` before any work.
    pub webhook_max_in_flight: usize,
    /// `READY_CACHE_MS`, default 1000: how long one `/ready` probe answers for.
    pub ready_cache: Duration,
    /// `MESSAGE_MAX_CHARS`, default 2000: characters of a buyer's message that the
    /// classifier and the claim reader look at (the inbox keeps the body byte-exact).
    pub message_max_chars: usize,
    /// `INBOX_RETENTION_DAYS`: when set, the worker purges the bodies of settled deliveries
    /// older than this many days (as `shopwire-admin inbox purge` does).
    pub inbox_retention_days: Option<u32>,
}

impl EdgeSettings {
    pub(super) fn read<F: Fn(&str) -> Option<String>>(
        r: &Reader<F>,
    ) -> Result<EdgeSettings, ConfigError> {
        let inbox_retention_days = match r.string("INBOX_RETENTION_DAYS") {
            None => None,
            Some(_) => Some(r.number("INBOX_RETENTION_DAYS", 30u32, 1..=36_500)?),
        };
        Ok(EdgeSettings {
            header_timeout: Duration::from_secs(r.number(
                "HTTP_HEADER_TIMEOUT_SECS",
                10,
                1..=300,
            )?),
            max_connections: r.number("HTTP_MAX_CONNECTIONS", 10_000, 1..=1_000_000)?,
            allow_http2: r.flag("HTTP_ALLOW_HTTP2")?,
            webhook_max_in_flight: r.number("WEBHOOK_MAX_IN_FLIGHT", 512, 1..=100_000)?,
            ready_cache: Duration::from_millis(r.number("READY_CACHE_MS", 1000, 0..=60_000)?),
            message_max_chars: r.number("MESSAGE_MAX_CHARS", 2000, 16..=1_000_000)?,
            inbox_retention_days,
        })
    }
}
