//! The optional LLM trend scorer (`TRENDS_SCORER=openai|anthropic`): the prompt of the
//! design seed (views, growth, engagement, hashtag) through the shared [`LlmChat`]; the
//! answer's scores are clamped to 0–100 and its reasoning kept. Any failure — transport,
//! status, an answer that is not the JSON asked for — falls back to the formula.
//!
//! Growth and engagement in the prompt are the ones the formula computed from the
//! snapshots: the LLM judges the numbers, it does not make them up.

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;
use shopwire_core::trends::{ScoreInput, Scored, score};

use crate::llm::{LlmChat, LlmError, LlmProvider, json_object};

/// Instructions sent with every signal.
const SYSTEM: &str = "You score TikTok trends for a small resale shop that sells on TikTok \
live streams. trend_score (0-100): how big and healthy the trend is. urgency_score (0-100): \
how soon the shop should push linked products. Answer with JSON only.";

/// An LLM-backed trend scorer that falls back to the formula.
#[derive(Debug, Clone)]
pub struct LlmTrendScorer {
    chat: LlmChat,
}

impl LlmTrendScorer {
    /// A scorer for `provider` at `base` (`LLM_API_BASE`).
    pub fn new(provider: LlmProvider, base: &str, key: SecretString) -> Result<Self, LlmError> {
        Ok(Self {
            chat: LlmChat::new(provider, base, key)?,
        })
    }

    /// Give each request at most `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.chat = self.chat.with_timeout(timeout);
        self
    }

    /// The LLM's scores for `label`'s latest snapshot, or the formula's when it fails.
    pub async fn score(&self, label: &str, input: &ScoreInput) -> (Scored, &'static str) {
        let formula = score(input);
        let prompt = prompt(label, input.latest.views, &formula);
        match self.chat.complete(SYSTEM, &prompt, 200).await {
            Ok(content) => match parse_answer(&content) {
                Ok((trend, urgency, reasoning)) => {
                    let scored = Scored {
                        trend_score: trend,
                        urgency_score: urgency,
                        reasoning,
                        ..formula
                    };
                    return (scored, self.chat.provider().as_str());
                }
                Err(e) => self.fell_back(label, &e),
            },
            Err(e) => self.fell_back(label, &e),
        }
        (formula, "formula")
    }

    fn fell_back(&self, label: &str, e: &LlmError) {
        tracing::warn!(provider = %self.chat.provider(), signal = %label, error = %e, "LLM trend scorer failed; using the formula");
    }
}

/// The seed's prompt shape.
fn prompt(label: &str, views: u64, formula: &Scored) -> String {
    format!(
        "Analyze this TikTok trend data:\n- Views: {views}\n- Growth rate: {:.1}% per hour\n\
         - Engagement: {:.1}%\n- {label}\n\n\
         Return JSON: {{\"trend_score\": N, \"urgency_score\": N, \"reasoning\": \"...\"}}",
        formula.growth_rate * 100.0,
        formula.engagement_rate * 100.0,
    )
}

/// `{"trend_score": N, "urgency_score": N, "reasoning": "..."}`: scores clamped to 0–100
/// and rounded to one decimal, reasoning trimmed to one line of at most 500 characters.
fn parse_answer(content: &str) -> Result<(f64, f64, String), LlmError> {
    #[derive(Deserialize)]
    struct Answer {
        trend_score: f64,
        urgency_score: f64,
        reasoning: String,
    }
    let answer: Answer = serde_json::from_str(json_object(content)?).map_err(|_| {
        LlmError::Unparsable("the answer lacks trend_score, urgency_score or reasoning")
    })?;
    if !answer.trend_score.is_finite() || !answer.urgency_score.is_finite() {
        return Err(LlmError::Unparsable("a score is not a number"));
    }
    let clamp = |x: f64| (x.clamp(0.0, 100.0) * 10.0).round() / 10.0;
    let reasoning: String = answer
        .reasoning
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(500)
        .collect();
    Ok((
        clamp(answer.trend_score),
        clamp(answer.urgency_score),
        reasoning,
    ))
}

#[cfg(test)]
mod tests;
