//! A poll strategy that cannot lose a wake-up.
//!
//! apalis-core's `IntervalStrategy` replaces its fired timer without polling the new one,
//! so no waker is registered and an idle worker sleeps until the next heartbeat (up to
//! 30 s; `research/apalis.md` §4). This one polls the interval again after each tick,
//! which registers the waker for the next tick.

use std::task::{Context, Poll};
use std::time::Duration;

use apalis::prelude::{PollSnapshot, PollStrategy};
use tokio::time::{Interval, MissedTickBehavior};

/// Wake the worker every `period` to look for due jobs.
#[derive(Debug)]
pub struct ReliableInterval(Interval);

impl ReliableInterval {
    /// A strategy ticking every `period`; must be created inside a Tokio runtime.
    pub fn new(period: Duration) -> Self {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self(interval)
    }
}

impl PollStrategy for ReliableInterval {
    fn poll_drive(&mut self, cx: &mut Context<'_>, _: &PollSnapshot) -> Poll<Option<()>> {
        if self.0.poll_tick(cx).is_ready() {
            // Registers the waker for the next tick; its result is irrelevant now.
            let _ = self.0.poll_tick(cx);
            Poll::Ready(Some(()))
        } else {
            Poll::Pending
        }
    }
}
