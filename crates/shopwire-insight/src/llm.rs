//! One LLM chat client for the classifier and the trend scorer: one short request to an
//! OpenAI-style chat completions API or an Anthropic-style messages API at `LLM_API_BASE`,
//! with a strict per-request timeout and up to two retries on timeouts, 5xx and 429.
//! Callers parse the answer and fall back to their own rules when anything goes wrong.
//!
//! What is sent may be buyer data: it goes to the API and nowhere else, never into logs.

use std::fmt;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

/// Anthropic's API version header value.
pub(crate) const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Which API shape to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LlmProvider {
    /// `POST {base}/v1/chat/completions` with `Authorization: Bearer`.
    OpenAi,
    /// `POST {base}/v1/messages` with `x-api-key` and `anthropic-version`.
    Anthropic,
}

impl LlmProvider {
    /// The name recorded with each result.
    pub fn as_str(self) -> &'static str {
        match self {
            LlmProvider::OpenAi => "openai",
            LlmProvider::Anthropic => "anthropic",
        }
    }

    /// A small, fast model of each provider.
    pub fn default_model(self) -> &'static str {
        match self {
            LlmProvider::OpenAi => "gpt-4o-mini",
            LlmProvider::Anthropic => "claude-3-5-haiku-latest",
        }
    }
}

impl fmt::Display for LlmProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the LLM gave no usable answer. None of these carry the request or the answer text.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// No answer within the timeout (retried).
    #[error("the LLM API did not answer in time")]
    Timeout,
    /// Connecting or reading failed.
    #[error("the LLM request failed: {0}")]
    Transport(reqwest::Error),
    /// A non-2xx status (5xx and 429 retried).
    #[error("the LLM API answered {0}")]
    Status(StatusCode),
    /// The answer was not the JSON asked for.
    #[error("the LLM answer is unusable: {0}")]
    Unparsable(&'static str),
}

impl LlmError {
    /// Worth another try: timeouts, 5xx, 429.
    pub fn is_transient(&self) -> bool {
        match self {
            LlmError::Timeout => true,
            LlmError::Status(status) => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            LlmError::Transport(_) | LlmError::Unparsable(_) => false,
        }
    }

    fn from_reqwest(e: reqwest::Error) -> LlmError {
        if e.is_timeout() {
            LlmError::Timeout
        } else if e.is_decode() {
            LlmError::Unparsable("the response body is not JSON")
        } else {
            LlmError::Transport(e)
        }
    }
}

/// A configured chat client; cheap to clone.
#[derive(Clone)]
pub struct LlmChat {
    provider: LlmProvider,
    endpoint: String,
    key: SecretString,
    model: String,
    timeout: Duration,
    retries: usize,
    http: reqwest::Client,
}

impl LlmChat {
    /// Per-request timeout unless [`with_timeout`](Self::with_timeout) says otherwise.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
    /// Retries after the first attempt, on transient failures only.
    pub const RETRIES: usize = 2;

    /// A client for `provider` at `base` (`LLM_API_BASE`, without `/v1`).
    pub fn new(provider: LlmProvider, base: &str, key: SecretString) -> Result<Self, LlmError> {
        let path = match provider {
            LlmProvider::OpenAi => "v1/chat/completions",
            LlmProvider::Anthropic => "v1/messages",
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Self::DEFAULT_TIMEOUT)
            .build()
            .map_err(LlmError::Transport)?;
        Ok(Self {
            provider,
            endpoint: format!("{}/{path}", base.trim_end_matches('/')),
            key,
            model: provider.default_model().to_owned(),
            timeout: Self::DEFAULT_TIMEOUT,
            retries: Self::RETRIES,
            http,
        })
    }

    /// Use `model` instead of the provider's default.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// Give each request at most `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The API shape this client speaks.
    pub fn provider(&self) -> LlmProvider {
        self.provider
    }

    /// The answer's text to `user` under the instructions `system`, asking for JSON;
    /// transient failures are retried with exponential backoff.
    pub async fn complete(
        &self,
        system: &str,
        user: &str,
        max_tokens: u32,
    ) -> Result<String, LlmError> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_secs(1))
            .with_max_times(self.retries)
            .with_jitter();
        (|| self.request(system, user, max_tokens))
            .retry(backoff)
            .when(LlmError::is_transient)
            .notify(|e, delay| {
                tracing::debug!(provider = %self.provider, error = %e, ?delay, "retrying the LLM request");
            })
            .await
    }

    async fn request(&self, system: &str, user: &str, max_tokens: u32) -> Result<String, LlmError> {
        let request = match self.provider {
            LlmProvider::OpenAi => self
                .http
                .post(&self.endpoint)
                .bearer_auth(self.key.expose_secret())
                .json(&json!({
                    "model": self.model,
                    "temperature": 0,
                    "max_tokens": max_tokens,
                    "response_format": { "type": "json_object" },
                    "messages": [
                        { "role": "system", "content": system },
                        { "role": "user", "content": user },
                    ],
                })),
            LlmProvider::Anthropic => self
                .http
                .post(&self.endpoint)
                .header("x-api-key", self.key.expose_secret())
                .header("anthropic-version", ANTHROPIC_VERSION)
                .json(&json!({
                    "model": self.model,
                    "temperature": 0,
                    "max_tokens": max_tokens,
                    "system": system,
                    "messages": [{ "role": "user", "content": user }],
                })),
        };
        let response = request
            .timeout(self.timeout)
            .send()
            .await
            .map_err(LlmError::from_reqwest)?;
        let status = response.status();
        if !status.is_success() {
            return Err(LlmError::Status(status));
        }
        let body: serde_json::Value = response.json().await.map_err(LlmError::from_reqwest)?;
        let content = match self.provider {
            LlmProvider::OpenAi => body.pointer("/choices/0/message/content"),
            LlmProvider::Anthropic => body["content"]
                .as_array()
                .and_then(|blocks| blocks.iter().find(|b| b["type"] == "text"))
                .map(|block| &block["text"]),
        };
        content
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or(LlmError::Unparsable("no text in the response"))
    }
}

impl fmt::Debug for LlmChat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmChat")
            .field("provider", &self.provider)
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The first `{…}` object in `content` (answers may come wrapped in prose or a code fence).
pub fn json_object(content: &str) -> Result<&str, LlmError> {
    match (content.find('{'), content.rfind('}')) {
        (Some(start), Some(end)) if start < end => Ok(&content[start..=end]),
        _ => Err(LlmError::Unparsable("no JSON object in the answer")),
    }
}
