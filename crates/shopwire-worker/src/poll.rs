//! A poll strategy that cannot lose a wake-up, and wakes at once on a push.
//!
//! apalis-core's `IntervalStrategy` replaces its fired timer without polling the new one,
//! so no waker is registered and an idle worker sleeps until the next heartbeat (up to
//! 30 s; `docs/apalis.md` §4). This one polls the interval again after each tick,
//! which registers the waker for the next tick.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use apalis::prelude::{PollSnapshot, PollStrategy};
use shopwire_queue::Wakeup;
use tokio::time::{Interval, MissedTickBehavior};

/// Wake the worker when a job is pushed to its queue, and every `period` regardless (due
/// retries, and any push notification that went missing).
#[derive(Debug)]
pub struct ReliableInterval {
    interval: Interval,
    pushed: Arc<Wakeup>,
}

impl ReliableInterval {
    /// A strategy ticking every `period` and on `pushed`; must be created inside a Tokio
    /// runtime.
    pub fn new(period: Duration, pushed: Arc<Wakeup>) -> Self {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self { interval, pushed }
    }
}

impl PollStrategy for ReliableInterval {
    fn poll_drive(&mut self, cx: &mut Context<'_>, _: &PollSnapshot) -> Poll<Option<()>> {
        let pushed = self.pushed.take(cx);
        if self.interval.poll_tick(cx).is_ready() {
            // Registers the waker for the next tick; its result is irrelevant now.
            let _ = self.interval.poll_tick(cx);
            return Poll::Ready(Some(()));
        }
        if pushed {
            Poll::Ready(Some(()))
        } else {
            Poll::Pending
        }
    }
}
