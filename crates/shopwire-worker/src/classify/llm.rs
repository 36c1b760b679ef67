//! The optional LLM classifier (`INTENT_CLASSIFIER=openai|anthropic`): one short request
//! per message to an OpenAI-style chat completions API or an Anthropic-style messages API
//! at `LLM_API_BASE`, with a strict per-request timeout and up to two retries on timeouts,
//! 5xx and 429. Anything else going wrong — or an answer that is not the JSON we asked
//! for — falls back to the rules, marked `rules-fallback`.
//!
//! Message text is buyer data: it goes to the API and nowhere else, never into logs.

use std::fmt;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use super::{Classification, Intent, RuleClassifier};

/// Instructions sent with every message.
const PROMPT: &str = "You classify one buyer message from a TikTok live-shopping stream or \
DM (any language, slang and emoji) by intent. Answer with JSON only: \
{\"intent\": \"buy|question|feedback|complaint|other\", \"score\": 0.0-1.0}. \
buy: the writer claims or orders the item now (\"mine\", \"sold\", \"I'll take 2\", \
\"lo quiero\", \"me lo apartas\"). Not buy: conditionals (\"I'd buy it if it were cheaper\"), \
warnings (\"don't buy from them\"), questions about size, price, stock or shipping \
(those are question). feedback: opinions, praise, price objections. complaint: late, \
broken or wrong orders, refunds, scams. other: greetings and chatter. score is your \
confidence.";

/// Anthropic's API version header value.
const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Which API shape to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LlmProvider {
    /// `POST {base}/v1/chat/completions` with `Authorization: Bearer`.
    OpenAi,
    /// `POST {base}/v1/messages` with `x-api-key` and `anthropic-version`.
    Anthropic,
}

impl LlmProvider {
    /// The classifier name recorded with each result.
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

/// Why the LLM gave no usable answer. None of these carry the message or the answer text.
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

/// An LLM-backed classifier that falls back to the rules.
#[derive(Clone)]
pub struct LlmClassifier {
    provider: LlmProvider,
    endpoint: String,
    key: SecretString,
    model: String,
    timeout: Duration,
    retries: usize,
    http: reqwest::Client,
    rules: RuleClassifier,
}

impl LlmClassifier {
    /// Per-request timeout unless [`with_timeout`](Self::with_timeout) says otherwise.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
    /// Retries after the first attempt, on transient failures only.
    pub const RETRIES: usize = 2;

    /// A classifier for `provider` at `base` (`LLM_API_BASE`, without `/v1`).
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
            rules: RuleClassifier::new(),
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

    /// The API shape this classifier speaks.
    pub fn provider(&self) -> LlmProvider {
        self.provider
    }

    /// Classify with the LLM, or with the rules when it fails.
    pub async fn classify(&self, text: &str) -> Classification {
        match self.ask(text).await {
            Ok((intent, score)) => Classification {
                intent,
                score,
                classifier: self.provider.as_str(),
            },
            Err(e) => {
                tracing::warn!(
                    provider = %self.provider,
                    error = %e,
                    "LLM classifier failed; using the rules"
                );
                Classification {
                    classifier: "rules-fallback",
                    ..self.rules.classify(text)
                }
            }
        }
    }

    /// The LLM's answer, retrying transient failures with exponential backoff.
    pub async fn ask(&self, text: &str) -> Result<(Intent, f32), LlmError> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_secs(1))
            .with_max_times(self.retries)
            .with_jitter();
        (|| self.request(text))
            .retry(backoff)
            .when(LlmError::is_transient)
            .notify(|e, delay| {
                tracing::debug!(
                    provider = %self.provider,
                    error = %e,
                    ?delay,
                    "retrying the LLM classifier"
                );
            })
            .await
    }

    async fn request(&self, text: &str) -> Result<(Intent, f32), LlmError> {
        let request = match self.provider {
            LlmProvider::OpenAi => self
                .http
                .post(&self.endpoint)
                .bearer_auth(self.key.expose_secret())
                .json(&json!({
                    "model": self.model,
                    "temperature": 0,
                    "max_tokens": 60,
                    "response_format": { "type": "json_object" },
                    "messages": [
                        { "role": "system", "content": PROMPT },
                        { "role": "user", "content": text },
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
                    "max_tokens": 60,
                    "system": PROMPT,
                    "messages": [{ "role": "user", "content": text }],
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
        let content = content
            .and_then(serde_json::Value::as_str)
            .ok_or(LlmError::Unparsable("no text in the response"))?;
        parse_answer(content)
    }
}

impl fmt::Debug for LlmClassifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmClassifier")
            .field("provider", &self.provider)
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// `{"intent": "...", "score": 0.0-1.0}`, possibly wrapped in prose or a code fence.
fn parse_answer(content: &str) -> Result<(Intent, f32), LlmError> {
    #[derive(Deserialize)]
    struct Answer {
        intent: String,
        score: f32,
    }
    let json = match (content.find('{'), content.rfind('}')) {
        (Some(start), Some(end)) if start < end => &content[start..=end],
        _ => return Err(LlmError::Unparsable("no JSON object in the answer")),
    };
    let answer: Answer = serde_json::from_str(json)
        .map_err(|_| LlmError::Unparsable("the answer lacks intent or score"))?;
    let intent = Intent::parse(&answer.intent)
        .ok_or(LlmError::Unparsable("the intent is not one of ours"))?;
    if !answer.score.is_finite() {
        return Err(LlmError::Unparsable("the score is not a number"));
    }
    Ok((intent, answer.score.clamp(0.0, 1.0)))
}

#[cfg(test)]
mod tests;
