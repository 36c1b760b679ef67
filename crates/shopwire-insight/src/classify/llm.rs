//! The optional LLM classifier (`INTENT_CLASSIFIER=openai|anthropic`): one short request
//! per message through the shared [`LlmChat`] client. Anything going wrong — or an answer
//! that is not the JSON we asked for — falls back to the rules, marked `rules-fallback`.
//!
//! Message text is buyer data: it goes to the API and nowhere else, never into logs.

use std::fmt;

use secrecy::SecretString;
use serde::Deserialize;

use crate::llm::{LlmChat, json_object};
pub use crate::llm::{LlmError, LlmProvider};

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

/// An LLM-backed classifier that falls back to the rules.
#[derive(Clone)]
pub struct LlmClassifier {
    chat: LlmChat,
    rules: RuleClassifier,
}

impl LlmClassifier {
    /// Per-request timeout unless [`with_timeout`](Self::with_timeout) says otherwise.
    pub const DEFAULT_TIMEOUT: std::time::Duration = LlmChat::DEFAULT_TIMEOUT;
    /// Retries after the first attempt, on transient failures only.
    pub const RETRIES: usize = LlmChat::RETRIES;

    /// A classifier for `provider` at `base` (`LLM_API_BASE`, without `/v1`).
    pub fn new(provider: LlmProvider, base: &str, key: SecretString) -> Result<Self, LlmError> {
        Ok(Self {
            chat: LlmChat::new(provider, base, key)?,
            rules: RuleClassifier::new(),
        })
    }

    /// Use `model` instead of the provider's default.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.chat = self.chat.with_model(model);
        self
    }

    /// Give each request at most `timeout`.
    pub fn with_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.chat = self.chat.with_timeout(timeout);
        self
    }

    /// The API shape this classifier speaks.
    pub fn provider(&self) -> LlmProvider {
        self.chat.provider()
    }

    /// Classify with the LLM, or with the rules when it fails.
    pub async fn classify(&self, text: &str) -> Classification {
        match self.ask(text).await {
            Ok((intent, score)) => Classification {
                intent,
                score,
                classifier: self.provider().as_str(),
            },
            Err(e) => {
                tracing::warn!(
                    provider = %self.provider(),
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
        let content = self.chat.complete(PROMPT, text, 60).await?;
        parse_answer(&content)
    }
}

impl fmt::Debug for LlmClassifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmClassifier")
            .field("chat", &self.chat)
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
    let answer: Answer = serde_json::from_str(json_object(content)?)
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
