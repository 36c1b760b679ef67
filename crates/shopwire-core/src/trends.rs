//! Trend scoring and inventory velocity: pure, deterministic functions of their inputs
//! (docs/contract.md §3 "Trends"; the formulas and their reasoning are in `docs/trends.md`).
//!
//! Nothing here reads a clock or a database: callers pass `now`, the snapshots and the
//! sales, so the same inputs always give the same scores.

pub mod score;
pub mod velocity;

pub use score::{Engagement, ScoreInput, Scored, Snapshot, score};
pub use velocity::{AlertLevel, AlertThresholds, Sale, Velocity, VelocityTrend, velocity};

/// What a trend signal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignalKind {
    /// A hashtag, stored lowercase without `#`.
    Hashtag,
    /// A video, by its id.
    Video,
}

impl SignalKind {
    /// The name stored in `trend_signals.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::Hashtag => "hashtag",
            SignalKind::Video => "video",
        }
    }

    /// The kind stored as `name`, if it is one.
    pub fn parse(name: &str) -> Option<SignalKind> {
        match name {
            "hashtag" => Some(SignalKind::Hashtag),
            "video" => Some(SignalKind::Video),
            _ => None,
        }
    }
}

/// Round to one decimal: scores are shown and compared at that precision.
pub(crate) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
