//! When to try a failed job again: exponential backoff with full jitter.
//!
//! backon computes the exponential ceiling for attempt n (base · 2^(n-1), capped); full
//! jitter then draws the delay uniformly from [0, ceiling], so a burst of failures does not
//! retry in lockstep. A provider's `Retry-After` raises the delay to at least what it asked.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use rand::Rng;

/// The retry policy of every queue, from `JOB_*` settings.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// `JOB_MAX_ATTEMPTS`.
    pub max_attempts: u32,
    /// `JOB_BACKOFF_BASE_MS`.
    pub base: Duration,
    /// `JOB_BACKOFF_MAX_MS`.
    pub cap: Duration,
}

impl RetryPolicy {
    /// True when `attempts` (including the one that just failed) used up the budget.
    pub fn exhausted(&self, attempts: u32) -> bool {
        attempts >= self.max_attempts
    }

    /// The backoff ceiling after the `attempt`-th failure (1-based).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        ExponentialBuilder::default()
            .with_min_delay(self.base)
            .with_max_delay(self.cap)
            .with_factor(2.0)
            .without_max_times()
            .build()
            .nth(attempt.saturating_sub(1).min(64) as usize)
            .unwrap_or(self.cap)
            .min(self.cap)
    }

    /// The delay before the next attempt: full jitter under the ceiling, but never less
    /// than the provider's `Retry-After`.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let ceiling = self.ceiling(attempt);
        let jittered = rand::rng().random_range(Duration::ZERO..=ceiling);
        match retry_after {
            Some(asked) => jittered.max(asked),
            None => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 8,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(600),
        }
    }

    #[test]
    fn ceilings_double_from_the_base_up_to_the_cap() {
        let p = policy();
        assert_eq!(p.ceiling(1), Duration::from_secs(1));
        assert_eq!(p.ceiling(2), Duration::from_secs(2));
        assert_eq!(p.ceiling(4), Duration::from_secs(8));
        assert_eq!(p.ceiling(20), Duration::from_secs(600));
        assert_eq!(p.ceiling(u32::MAX), Duration::from_secs(600));
    }

    #[test]
    fn delays_are_jittered_within_the_ceiling() {
        let p = policy();
        let delays: Vec<_> = (0..200).map(|_| p.delay(5, None)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(16)));
        let distinct: std::collections::HashSet<_> = delays.iter().collect();
        assert!(
            distinct.len() > 100,
            "full jitter spreads retries: {} distinct",
            distinct.len()
        );
    }

    #[test]
    fn retry_after_is_a_floor() {
        let p = policy();
        for _ in 0..50 {
            assert!(p.delay(1, Some(Duration::from_secs(30))) >= Duration::from_secs(30));
        }
    }

    #[test]
    fn the_budget_is_spent_at_max_attempts() {
        let p = policy();
        assert!(!p.exhausted(7));
        assert!(p.exhausted(8));
    }
}
