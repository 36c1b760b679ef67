//! The periodic trend fetch from a RapidAPI TikTok scraper (`RAPIDAPI_KEY`, `RAPIDAPI_BASE`,
//! `RAPIDAPI_HOST`): one GET per followed signal — `/hashtag/info?hashtag=KEY` or
//! `/video/info?video_id=KEY` — with `X-RapidAPI-Key` and `X-RapidAPI-Host`, spaced to
//! `RAPIDAPI_REQUESTS_PER_MINUTE`. A 429 waits for its `Retry-After` (or a minute) and tries
//! again, at most twice. Counters are read from the first object in the answer that has a
//! view count, under the names scrapers commonly use (`views`, `view_count`, `playCount`, …).

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use shopwire_core::config::Settings;
use shopwire_core::trends::{SignalKind, Snapshot};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Retries of one request after a 429.
const RATE_LIMITED_RETRIES: usize = 2;
/// The wait after a 429 without a usable `Retry-After`.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);
/// The longest `Retry-After` honoured; longer ones end this round.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// Why a fetch failed. Carries no key.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// No answer.
    #[error("rapidapi unreachable: {0}")]
    Transport(String),
    /// A non-2xx status (after the 429 retries).
    #[error("rapidapi answered {0}")]
    Status(StatusCode),
    /// A 2xx answer without a view count.
    #[error("rapidapi answer has no view count")]
    NoCounters,
}

/// A configured client; one per worker process (its rate limit is per process).
#[derive(Debug)]
pub struct RapidApiClient {
    http: reqwest::Client,
    base: String,
    host: String,
    key: SecretString,
    spacing: Duration,
    next_request: Mutex<Instant>,
}

impl RapidApiClient {
    /// From settings; `None` without `RAPIDAPI_KEY`.
    pub fn from_settings(settings: &Settings) -> Option<RapidApiClient> {
        let key = settings.rapidapi_key.clone()?;
        let base = settings
            .rapidapi_base
            .clone()
            .unwrap_or_else(|| format!("https://{}", settings.rapidapi_host));
        Some(RapidApiClient::new(
            &base,
            &settings.rapidapi_host,
            key,
            settings.rapidapi_requests_per_minute,
        ))
    }

    /// A client for `base`, sending `host` and `key`, at most `per_minute` requests a minute.
    pub fn new(base: &str, host: &str, key: SecretString, per_minute: u32) -> RapidApiClient {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        RapidApiClient {
            http,
            base: base.trim_end_matches('/').to_owned(),
            host: host.to_owned(),
            key,
            spacing: Duration::from_secs(60) / per_minute.max(1),
            next_request: Mutex::new(Instant::now()),
        }
    }

    /// The counters of one signal now.
    pub async fn fetch(
        &self,
        kind: SignalKind,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Snapshot, FetchError> {
        let (path, param) = match kind {
            SignalKind::Hashtag => ("hashtag/info", "hashtag"),
            SignalKind::Video => ("video/info", "video_id"),
        };
        let url = reqwest::Url::parse_with_params(&format!("{}/{path}", self.base), [(param, key)])
            .map_err(|e| FetchError::Transport(format!("bad RAPIDAPI_BASE: {e}")))?;
        for attempt in 0..=RATE_LIMITED_RETRIES {
            self.wait_turn().await;
            let response = self
                .http
                .get(url.clone())
                .header("X-RapidAPI-Key", self.key.expose_secret())
                .header("X-RapidAPI-Host", &self.host)
                .send()
                .await
                .map_err(|e| FetchError::Transport(e.without_url().to_string()))?;
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS {
                let wait =
                    crate::http::retry_after(response.headers()).unwrap_or(DEFAULT_RETRY_AFTER);
                if attempt == RATE_LIMITED_RETRIES || wait > MAX_RETRY_AFTER {
                    return Err(FetchError::Status(status));
                }
                tracing::info!(
                    retry_in_secs = wait.as_secs(),
                    "rapidapi rate-limited us; waiting"
                );
                self.hold_off(wait).await;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status(status));
            }
            let body: serde_json::Value =
                response.json().await.map_err(|_| FetchError::NoCounters)?;
            return counters(&body, now).ok_or(FetchError::NoCounters);
        }
        Err(FetchError::Status(StatusCode::TOO_MANY_REQUESTS))
    }

    /// Sleep until this process may send its next request, and book the one after.
    async fn wait_turn(&self) {
        let mut next = self.next_request.lock().await;
        tokio::time::sleep_until(*next).await;
        *next = Instant::now() + self.spacing;
    }

    /// Send nothing for `wait`.
    async fn hold_off(&self, wait: Duration) {
        let mut next = self.next_request.lock().await;
        *next = (*next).max(Instant::now() + wait);
    }
}

const VIEWS: [&str; 5] = [
    "views",
    "view_count",
    "viewCount",
    "play_count",
    "playCount",
];
const LIKES: [&str; 5] = [
    "likes",
    "like_count",
    "likeCount",
    "digg_count",
    "diggCount",
];
const COMMENTS: [&str; 3] = ["comments", "comment_count", "commentCount"];
const SHARES: [&str; 3] = ["shares", "share_count", "shareCount"];

/// The first object (depth first) with a view count, read as a snapshot at `now`.
fn counters(value: &serde_json::Value, now: DateTime<Utc>) -> Option<Snapshot> {
    match value {
        serde_json::Value::Object(map) => {
            let number = |names: &[&str]| names.iter().find_map(|n| map.get(*n).and_then(as_count));
            if let Some(views) = number(&VIEWS) {
                return Some(Snapshot {
                    captured_at: now,
                    views,
                    likes: number(&LIKES).unwrap_or(0),
                    comments: number(&COMMENTS).unwrap_or(0),
                    shares: number(&SHARES).unwrap_or(0),
                });
            }
            map.values().find_map(|v| counters(v, now))
        }
        serde_json::Value::Array(items) => items.iter().find_map(|v| counters(v, now)),
        _ => None,
    }
}

/// A count as a number or a numeric string.
fn as_count(value: &serde_json::Value) -> Option<u64> {
    match value {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
