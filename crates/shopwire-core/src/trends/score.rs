//! `trend_score` and `urgency_score` (0–100) of one signal from its two latest snapshots.
//!
//! Four components, each mapped into [0, 1] by a saturating curve so no single number can
//! run away with the score:
//! - reach `R = log10(1 + views) / 8` (capped at 1: 100 M views), because views span eight
//!   orders of magnitude and the tenth million matters less than the first thousand;
//! - growth `G = g / (g + 0.10)`, where `g` is views gained per hour as a fraction of the
//!   earlier snapshot's views (half-way at 10 %/h), computed here, never taken from input;
//! - engagement `E = e / (e + 0.10)`, where `e = (likes + 2·comments + 3·shares) / views`
//!   (shares and comments say more about buying than a like);
//! - recency: the snapshot's age halves the trend score every 24 h and the urgency every 6 h.
//!
//! `trend = 100 · 0.5^(age/24h) · (0.40 R + 0.35 G + 0.25 E)` — how big the trend is;
//! `urgency = 100 · 0.5^(age/6h) · (0.60 G + 0.25 E + 0.15 R)` — how soon to act on it.

use chrono::{DateTime, Utc};

use super::round1;

/// Views at which reach saturates: 10^8.
const REACH_DECADES: f64 = 8.0;
/// Growth (fraction per hour) at which the growth component is one half.
const GROWTH_HALF: f64 = 0.10;
/// Weighted engagement rate at which the engagement component is one half.
const ENGAGEMENT_HALF: f64 = 0.10;
/// Half-life of the trend score, in hours.
pub const TREND_HALF_LIFE_HOURS: f64 = 24.0;
/// Half-life of the urgency score, in hours.
pub const URGENCY_HALF_LIFE_HOURS: f64 = 6.0;

/// A signal's counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// When the counters were read.
    pub captured_at: DateTime<Utc>,
    /// Views.
    pub views: u64,
    /// Likes.
    pub likes: u64,
    /// Comments.
    pub comments: u64,
    /// Shares.
    pub shares: u64,
}

/// What [`score`] needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreInput {
    /// The latest snapshot: the one scored.
    pub latest: Snapshot,
    /// The snapshot before it, if any (growth is 0 without one).
    pub previous: Option<Snapshot>,
    /// The moment of scoring (recency is measured against it).
    pub now: DateTime<Utc>,
}

/// The engagement of one snapshot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Engagement {
    /// `(likes + 2·comments + 3·shares) / views` (0 without views).
    pub rate: f64,
}

impl Engagement {
    /// The weighted engagement rate of `s`.
    pub fn of(s: &Snapshot) -> Engagement {
        let weighted = s.likes as f64 + 2.0 * s.comments as f64 + 3.0 * s.shares as f64;
        let rate = if s.views == 0 {
            0.0
        } else {
            weighted / s.views as f64
        };
        Engagement { rate }
    }
}

/// A signal's scores and the numbers behind them.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// 0–100, one decimal.
    pub trend_score: f64,
    /// 0–100, one decimal.
    pub urgency_score: f64,
    /// Views gained per hour as a fraction of the earlier views (may be negative).
    pub growth_rate: f64,
    /// Weighted engagement rate.
    pub engagement_rate: f64,
    /// One sentence on what drove the scores.
    pub reasoning: String,
}

/// Views gained per hour between two snapshots, as a fraction of the earlier views. Zero
/// when there is no earlier snapshot or no time between them.
pub fn growth_rate(latest: &Snapshot, previous: Option<&Snapshot>) -> f64 {
    let Some(prev) = previous else {
        return 0.0;
    };
    let hours = (latest.captured_at - prev.captured_at).num_milliseconds() as f64 / 3.6e6;
    if hours <= 0.0 {
        return 0.0;
    }
    let gained = latest.views as f64 - prev.views as f64;
    gained / (prev.views.max(1) as f64) / hours
}

/// Score a signal. Deterministic: the same input always gives the same output.
pub fn score(input: &ScoreInput) -> Scored {
    let latest = &input.latest;
    let growth = growth_rate(latest, input.previous.as_ref());
    let engagement = Engagement::of(latest).rate;
    let reach = ((1.0 + latest.views as f64).log10() / REACH_DECADES).clamp(0.0, 1.0);
    let g = saturate(growth, GROWTH_HALF);
    let e = saturate(engagement, ENGAGEMENT_HALF);
    let age_hours = ((input.now - latest.captured_at).num_milliseconds() as f64 / 3.6e6).max(0.0);
    let trend_decay = 0.5f64.powf(age_hours / TREND_HALF_LIFE_HOURS);
    let urgency_decay = 0.5f64.powf(age_hours / URGENCY_HALF_LIFE_HOURS);
    let trend_score = clamp100(100.0 * trend_decay * (0.40 * reach + 0.35 * g + 0.25 * e));
    let urgency_score = clamp100(100.0 * urgency_decay * (0.60 * g + 0.25 * e + 0.15 * reach));
    let reasoning = format!(
        "{} views, growth {:.1}%/h{}, engagement {:.1}%, {:.0} h old",
        latest.views,
        growth * 100.0,
        if input.previous.is_none() {
            " (first snapshot)"
        } else {
            ""
        },
        engagement * 100.0,
        age_hours,
    );
    Scored {
        trend_score,
        urgency_score,
        growth_rate: growth,
        engagement_rate: engagement,
        reasoning,
    }
}

/// `x / (x + half)` for `x > 0`, else 0: rises from 0 towards 1, one half at `half`.
fn saturate(x: f64, half: f64) -> f64 {
    if x.is_finite() && x > 0.0 {
        x / (x + half)
    } else if x == f64::INFINITY {
        1.0
    } else {
        0.0
    }
}

fn clamp100(x: f64) -> f64 {
    if x.is_nan() {
        return 0.0;
    }
    round1(x.clamp(0.0, 100.0))
}

#[cfg(test)]
mod tests;
