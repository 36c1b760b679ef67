//! Trend scoring (docs/contract.md §3 "Trends"): who scores a signal ([`TrendScorer`]), one
//! scoring run over every signal and product ([`score_all`]), and asking the worker for one
//! ([`enqueue_scoring`]). The formulas are in `shopwire_core::trends`; the worker runs
//! [`score_all`] as its `trends` job, `shopwire-admin trends score` in its own process.
//! And drawing what was scored: [`chart`] (inline SVG) and [`report`] (the stock and score
//! charts of `trends top --html` and the console's trends page).

pub mod chart;
mod enqueue;
pub mod llm_scorer;
pub mod report;
mod scoring;

use shopwire_core::config::{Settings, TrendScorerKind};
use shopwire_core::trends::{ScoreInput, Scored};

use crate::llm::LlmProvider;
pub use enqueue::{EnqueueError, enqueue_scoring};
pub use llm_scorer::LlmTrendScorer;
pub use scoring::{STOCK_ALERTS, ScoringError, Summary, score_all};

/// Who scores the latest snapshot of each signal.
#[derive(Debug, Clone)]
pub enum TrendScorer {
    /// The formula only.
    Formula,
    /// An LLM, falling back to the formula.
    Llm(LlmTrendScorer),
}

impl TrendScorer {
    /// From `TRENDS_SCORER`, `LLM_API_KEY` and `LLM_API_BASE`; the formula when the LLM
    /// client cannot be built (logged once here).
    pub fn from_settings(settings: &Settings) -> TrendScorer {
        let provider = match settings.trends_scorer {
            TrendScorerKind::Formula => return TrendScorer::Formula,
            TrendScorerKind::OpenAi => LlmProvider::OpenAi,
            TrendScorerKind::Anthropic => LlmProvider::Anthropic,
        };
        let (Some(base), Some(key)) = (&settings.llm_api_base, &settings.llm_api_key) else {
            return TrendScorer::Formula;
        };
        match LlmTrendScorer::new(provider, base, key.clone()) {
            Ok(scorer) => TrendScorer::Llm(scorer),
            Err(e) => {
                tracing::error!(error = %e, "cannot build the LLM trend scorer; using the formula");
                TrendScorer::Formula
            }
        }
    }

    /// Score the latest snapshot of `label` (e.g. `#y2kfashion`): the scores and the name of
    /// who produced them (`formula`, `openai` or `anthropic`).
    pub async fn score(&self, label: &str, input: &ScoreInput) -> (Scored, &'static str) {
        match self {
            TrendScorer::Formula => (shopwire_core::trends::score(input), "formula"),
            TrendScorer::Llm(llm) => llm.score(label, input).await,
        }
    }

    /// True when scoring makes network calls.
    pub fn is_llm(&self) -> bool {
        matches!(self, TrendScorer::Llm(_))
    }
}
