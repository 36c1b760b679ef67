//! When to allocate a variant's pending claims, watched in-process: a claim waits for its
//! due time (`CLAIM_ORDER_WINDOW_MS` after its message's time) and then until every buyer
//! message that arrived before it + the window has been read. The second wait depends on
//! other deliveries, not on a clock, so rather than each waiting variant re-running its
//! allocation every few tens of milliseconds (which, with many SKUs in a burst, was most
//! of Postgres's work and slowed the very reads being waited for) one task per process
//! asks once per tick when the earliest unread buyer message arrived, and pushes the
//! allocations of every variant that is now due and settled.
//!
//! The watch is a hint: the claims table is the truth. A variant pushed too early decides
//! nothing and is watched again; one forgotten (the process stopped) is allocated by any
//! worker's sweeper a second after its claim fell due (`sweeper::allocate_stranded`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use shopwire_core::db::claims;
use shopwire_core::jobs::AllocateJob;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::context::JobContext;

/// How often the watch looks while anything waits: one indexed query per tick.
pub const TICK: Duration = Duration::from_millis(5);

/// What one variant waits for before its allocation can decide something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Wait {
    /// The earliest due time of its pending claims.
    due: DateTime<Utc>,
    /// With due claims that are not settled: they are once every unread buyer message
    /// arrived after this.
    unread_after: Option<DateTime<Utc>>,
}

impl Wait {
    /// Keep the earlier of both waits: the allocation decides whatever is ready by then.
    fn merge(self, other: Wait) -> Wait {
        Wait {
            due: self.due.min(other.due),
            unread_after: match (self.unread_after, other.unread_after) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        }
    }

    fn ready(&self, now: DateTime<Utc>, earliest_unread: Option<DateTime<Utc>>) -> bool {
        self.due <= now
            && match (self.unread_after, earliest_unread) {
                (Some(after), Some(unread)) => unread > after,
                _ => true,
            }
    }
}

/// The variants this process will allocate when their claims are due and settled.
#[derive(Debug, Default)]
pub struct ClaimWatch {
    waiting: Mutex<HashMap<i64, Wait>>,
    wake: Notify,
}

impl ClaimWatch {
    /// An empty watch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Allocate `product_id` once `due` has passed.
    pub fn due_at(&self, product_id: i64, due: DateTime<Utc>) {
        self.add(
            product_id,
            Wait {
                due,
                unread_after: None,
            },
        );
    }

    /// Allocate `product_id` once every unread buyer message arrived after `after`: its
    /// due claims are settled then.
    pub fn settled_after(&self, product_id: i64, after: DateTime<Utc>) {
        self.add(
            product_id,
            Wait {
                due: DateTime::<Utc>::MIN_UTC,
                unread_after: Some(after),
            },
        );
    }

    /// How many variants are waiting.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn add(&self, product_id: i64, wait: Wait) {
        self.lock()
            .entry(product_id)
            .and_modify(|w| *w = w.merge(wait))
            .or_insert(wait);
        self.wake.notify_one();
    }

    /// Take the variants that are ready at `now`, given when the earliest unread buyer
    /// message arrived.
    fn take_ready(&self, now: DateTime<Utc>, earliest_unread: Option<DateTime<Utc>>) -> Vec<i64> {
        let mut waiting = self.lock();
        let ready: Vec<i64> = waiting
            .iter()
            .filter(|(_, w)| w.ready(now, earliest_unread))
            .map(|(&id, _)| id)
            .collect();
        for id in &ready {
            waiting.remove(id);
        }
        ready
    }

    /// The earliest due time of anything waiting only on time (`None`: something waits on
    /// unread messages, or nothing waits), so an idle watch sleeps until then.
    fn next_due(&self) -> Option<DateTime<Utc>> {
        let waiting = self.lock();
        if waiting.values().any(|w| w.unread_after.is_some()) {
            return None;
        }
        waiting.values().map(|w| w.due).min()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Wait>> {
        // A panic while holding the lock leaves a valid map: keep using it.
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Watch until `stop`: push each variant's allocation as soon as it is due and settled.
pub async fn run(ctx: Arc<JobContext>, mut stop: watch::Receiver<bool>) {
    let watch = ctx.claim_watch.clone();
    let mut last_look = Instant::now();
    loop {
        if watch.is_empty() {
            tokio::select! {
                () = watch.wake.notified() => {}
                _ = stop.wait_for(|stop| *stop) => return,
            }
            continue;
        }
        // Deadlines are absolute, so a stream of new waits never postpones a look.
        let next_due = watch.next_due();
        let until = match next_due {
            // Only time: sleep until the earliest due.
            Some(due) => Instant::now() + (due - Utc::now()).to_std().unwrap_or_default(),
            // A backlog: look once per tick.
            None => last_look + TICK,
        };
        tokio::select! {
            () = tokio::time::sleep_until(until) => {}
            () = watch.wake.notified() => continue,
            _ = stop.wait_for(|stop| *stop) => return,
        }
        last_look = Instant::now();
        let earliest_unread = if next_due.is_none() {
            match claims::earliest_unread_message(&ctx.pool).await {
                Ok(at) => at,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the message backlog; will look again");
                    continue;
                }
            }
        } else {
            None
        };
        let ready = watch.take_ready(Utc::now(), earliest_unread);
        if ready.is_empty() {
            continue;
        }
        let jobs: Vec<AllocateJob> = ready
            .iter()
            .map(|&product_id| AllocateJob { product_id })
            .collect();
        if let Err(e) = ctx.queue.push_allocations(&jobs).await {
            tracing::warn!(error = %e, variants = jobs.len(), "could not push allocations; watching them again");
            let now = Utc::now();
            for product_id in ready {
                watch.due_at(product_id, now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::milliseconds(ms)
    }

    #[test]
    fn a_claim_is_ready_at_its_due_time_and_not_before() {
        let watch = ClaimWatch::new();
        watch.due_at(7, at(1_000));
        assert!(watch.take_ready(at(999), None).is_empty());
        assert_eq!(watch.take_ready(at(1_000), None), vec![7]);
        assert!(watch.is_empty(), "taken once");
    }

    #[test]
    fn an_unsettled_claim_waits_until_every_unread_message_arrived_after_it() {
        let watch = ClaimWatch::new();
        watch.settled_after(7, at(1_300));
        assert!(watch.take_ready(at(5_000), Some(at(1_200))).is_empty());
        assert!(watch.take_ready(at(5_000), Some(at(1_300))).is_empty());
        assert_eq!(watch.take_ready(at(5_000), Some(at(1_301))), vec![7]);

        watch.settled_after(8, at(1_300));
        assert_eq!(
            watch.take_ready(at(5_000), None),
            vec![8],
            "nothing unread at all"
        );
    }

    #[test]
    fn two_waits_for_one_variant_keep_the_earlier_of_each() {
        let watch = ClaimWatch::new();
        watch.due_at(7, at(2_000));
        watch.due_at(7, at(1_000));
        watch.settled_after(7, at(900));
        assert_eq!(watch.len(), 1);
        assert_eq!(watch.take_ready(at(1_000), Some(at(901))), vec![7]);
    }

    #[test]
    fn only_time_waits_let_the_watch_sleep_until_the_earliest_due() {
        let watch = ClaimWatch::new();
        watch.due_at(7, at(2_000));
        watch.due_at(8, at(1_500));
        assert_eq!(watch.next_due(), Some(at(1_500)));
        watch.settled_after(9, at(100));
        assert_eq!(watch.next_due(), None, "a backlog wait needs looking at");
    }
}
