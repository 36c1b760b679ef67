//! A product's sales velocity, hours until stockout, stock alert and reorder suggestion.
//!
//! - Velocity is units per hour over the last 1, 6 and 24 hours of sales (orders that are
//!   pending, paid or fulfilled; expired, cancelled and refunded ones sold nothing).
//! - The projection rate is the larger of the 6 h and 24 h velocities: steadier than the last
//!   hour, and it does not forget a burst earlier in the day.
//! - Trend: `increasing` when the 6 h velocity exceeds the 24 h one by more than 25 %,
//!   `decreasing` when it is more than 25 % below, else `stable`.
//! - Hours until stockout: available ÷ projection rate (0 when nothing is available, none
//!   when nothing sells). The alert is `critical`, `low` or `medium` below the configured
//!   thresholds, `high` (plenty) otherwise.
//! - Reorder: enough units to cover `medium` hours at the projection rate times the viral
//!   boost `1 + best linked trend score / 100`, minus what is available; the confidence grows
//!   with the number of orders seen and drops when the trend is not stable.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One sale of a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sale {
    /// When the order was placed.
    pub at: DateTime<Utc>,
    /// Units ordered.
    pub units: u32,
}

/// Which way sales are heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VelocityTrend {
    /// The last 6 h sell more than 1.25× the 24 h rate.
    Increasing,
    /// The last 6 h sell less than 0.75× the 24 h rate.
    Decreasing,
    /// Neither.
    Stable,
}

impl VelocityTrend {
    /// The name stored in `product_velocity.trend`.
    pub fn as_str(self) -> &'static str {
        match self {
            VelocityTrend::Increasing => "increasing",
            VelocityTrend::Decreasing => "decreasing",
            VelocityTrend::Stable => "stable",
        }
    }
}

/// How soon a product runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertLevel {
    /// Out within `STOCK_ALERT_CRITICAL_HOURS` (or already out).
    Critical,
    /// Out within `STOCK_ALERT_LOW_HOURS`.
    Low,
    /// Out within `STOCK_ALERT_MEDIUM_HOURS`.
    Medium,
    /// Plenty: later than that, or not selling.
    High,
}

impl AlertLevel {
    /// Every level, most urgent first.
    pub const ALL: [AlertLevel; 4] = [
        AlertLevel::Critical,
        AlertLevel::Low,
        AlertLevel::Medium,
        AlertLevel::High,
    ];

    /// The name stored in `product_velocity.alert` and used as a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertLevel::Critical => "critical",
            AlertLevel::Low => "low",
            AlertLevel::Medium => "medium",
            AlertLevel::High => "high",
        }
    }

    /// The level stored as `name`, if it is one.
    pub fn parse(name: &str) -> Option<AlertLevel> {
        AlertLevel::ALL.into_iter().find(|l| l.as_str() == name)
    }
}

/// Hours-until-stockout thresholds (`STOCK_ALERT_*_HOURS`), increasing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertThresholds {
    /// Below this: critical.
    pub critical_hours: f64,
    /// Below this: low.
    pub low_hours: f64,
    /// Below this: medium; the reorder suggestion covers this many hours.
    pub medium_hours: f64,
}

impl AlertThresholds {
    /// The level of a product running out in `hours` (`None`: not selling).
    pub fn level(&self, hours: Option<f64>) -> AlertLevel {
        match hours {
            Some(h) if h < self.critical_hours => AlertLevel::Critical,
            Some(h) if h < self.low_hours => AlertLevel::Low,
            Some(h) if h < self.medium_hours => AlertLevel::Medium,
            _ => AlertLevel::High,
        }
    }
}

/// A product's velocity and what follows from it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Velocity {
    /// Units per hour over the last hour.
    pub velocity_1h: f64,
    /// Units per hour over the last 6 hours.
    pub velocity_6h: f64,
    /// Units per hour over the last 24 hours.
    pub velocity_24h: f64,
    /// Which way it is heading.
    pub trend: VelocityTrend,
    /// Hours until available stock runs out at the projection rate (`None`: not selling).
    pub hours_to_stockout: Option<f64>,
    /// The alert level.
    pub alert: AlertLevel,
    /// Units to reorder (0: enough on hand).
    pub reorder_units: u32,
    /// Confidence in the suggestion, 0–1.
    pub reorder_confidence: f64,
    /// The multiplier linked trends put on projected demand, 1–2.
    pub viral_boost: f64,
}

/// Compute a product's velocity from its recent `sales` (older than 24 h are ignored),
/// `available` stock and the best trend score (0–100) among signals linked to it.
pub fn velocity(
    sales: &[Sale],
    now: DateTime<Utc>,
    available: i64,
    best_trend_score: f64,
    thresholds: &AlertThresholds,
) -> Velocity {
    let units_within = |hours: i64| -> (f64, u32) {
        let since = now - chrono::Duration::hours(hours);
        sales
            .iter()
            .filter(|s| s.at > since && s.at <= now)
            .fold((0.0, 0), |(units, orders), s| {
                (units + f64::from(s.units), orders + 1)
            })
    };
    let (u1, _) = units_within(1);
    let (u6, _) = units_within(6);
    let (u24, orders24) = units_within(24);
    let (v1, v6, v24) = (u1, u6 / 6.0, u24 / 24.0);
    let trend = if v6 > v24 * 1.25 {
        VelocityTrend::Increasing
    } else if v6 < v24 * 0.75 {
        VelocityTrend::Decreasing
    } else {
        VelocityTrend::Stable
    };
    let rate = v6.max(v24);
    let available = available.max(0) as f64;
    let hours_to_stockout = if available == 0.0 {
        Some(0.0)
    } else if rate > 0.0 {
        Some(round2(available / rate))
    } else {
        None
    };
    let viral_boost = 1.0 + best_trend_score.clamp(0.0, 100.0) / 100.0;
    let demand = rate * viral_boost * thresholds.medium_hours;
    let reorder_units = (demand - available).ceil().clamp(0.0, f64::from(u32::MAX)) as u32;
    let seen = f64::from(orders24);
    let steadiness = if trend == VelocityTrend::Stable {
        1.0
    } else {
        0.8
    };
    Velocity {
        velocity_1h: round2(v1),
        velocity_6h: round2(v6),
        velocity_24h: round2(v24),
        trend,
        hours_to_stockout,
        alert: thresholds.level(hours_to_stockout),
        reorder_units,
        reorder_confidence: round2(seen / (seen + 4.0) * steadiness),
        viral_boost: round2(viral_boost),
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests;
