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

/// After Redis refused the push, try those variants again this soon.
const PUSH_RETRY: Duration = Duration::from_secs(1);

/// What one variant waits for before its allocation can decide something: either of two
/// waits, kept apart so that a claim waiting only for its time is never held back by
/// another's backlog, nor one waiting for the backlog released by another's time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Wait {
    /// Allocate at this time whatever the backlog (claims whose arrival is not known here).
    at: Option<DateTime<Utc>>,
    /// Claims due at `.0` that are settled once every unread buyer message arrived after
    /// `.1`.
    settled: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// When the earliest unread buyer message arrived, if the watch asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unread {
    /// Not asked: no settled wait is due.
    Unknown,
    /// `None`: every buyer message has been read.
    Earliest(Option<DateTime<Utc>>),
}

impl Wait {
    /// Keep the earlier of each wait: the allocation decides whatever is ready by then, and
    /// whatever is not is watched again.
    fn merge(self, other: Wait) -> Wait {
        let earlier = |a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Wait {
            at: earlier(self.at, other.at),
            settled: match (self.settled, other.settled) {
                (Some((d1, a1)), Some((d2, a2))) => Some((d1.min(d2), a1.min(a2))),
                (a, b) => a.or(b),
            },
        }
    }

    /// A settled wait whose claims are due: only the backlog can tell whether it is ready.
    fn needs_unread(&self, now: DateTime<Utc>) -> bool {
        self.settled.is_some_and(|(due, _)| due <= now)
    }

    fn ready(&self, now: DateTime<Utc>, unread: Unread) -> bool {
        let on_time = self.at.is_some_and(|at| at <= now);
        let settled = match (self.settled, unread) {
            (Some((due, after)), Unread::Earliest(earliest)) => {
                due <= now && earliest.is_none_or(|unread| unread > after)
            }
            _ => false,
        };
        on_time || settled
    }

    /// The earliest time this wait could be ready by the clock alone.
    fn next_time(&self) -> Option<DateTime<Utc>> {
        match (self.at, self.settled.map(|(due, _)| due)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
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
                at: Some(due),
                settled: None,
            },
        );
    }

    /// Allocate `product_id` once its claim due at `due` is settled: every unread buyer
    /// message arrived after `after` (the claim's arrival + the window).
    pub fn due_and_settled(&self, product_id: i64, due: DateTime<Utc>, after: DateTime<Utc>) {
        self.add(
            product_id,
            Wait {
                at: None,
                settled: Some((due, after)),
            },
        );
    }

    /// Allocate `product_id` once every unread buyer message arrived after `after`: its
    /// due claims are settled then.
    pub fn settled_after(&self, product_id: i64, after: DateTime<Utc>) {
        self.due_and_settled(product_id, DateTime::<Utc>::MIN_UTC, after);
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

    /// Take the variants that are ready at `now`.
    fn take_ready(&self, now: DateTime<Utc>, unread: Unread) -> Vec<i64> {
        let mut waiting = self.lock();
        let ready: Vec<i64> = waiting
            .iter()
            .filter(|(_, w)| w.ready(now, unread))
            .map(|(&id, _)| id)
            .collect();
        for id in &ready {
            waiting.remove(id);
        }
        ready
    }

    /// Whether any wait needs the backlog looked at now.
    fn needs_unread(&self, now: DateTime<Utc>) -> bool {
        self.lock().values().any(|w| w.needs_unread(now))
    }

    /// The earliest time anything waiting could be ready by the clock alone.
    fn next_time(&self) -> Option<DateTime<Utc>> {
        self.lock().values().filter_map(Wait::next_time).min()
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
        let until = if watch.needs_unread(Utc::now()) {
            // A backlog: look once per tick.
            last_look + TICK
        } else {
            // Only clocks: sleep until the earliest.
            let next = watch.next_time().unwrap_or_else(Utc::now);
            Instant::now() + (next - Utc::now()).to_std().unwrap_or_default()
        };
        tokio::select! {
            () = tokio::time::sleep_until(until) => {}
            () = watch.wake.notified() => continue,
            _ = stop.wait_for(|stop| *stop) => return,
        }
        last_look = Instant::now();
        let unread = if watch.needs_unread(Utc::now()) {
            match claims::earliest_unread_message(&ctx.pool).await {
                Ok(at) => Unread::Earliest(at),
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the message backlog; will look again");
                    Unread::Unknown
                }
            }
        } else {
            Unread::Unknown
        };
        let ready = watch.take_ready(Utc::now(), unread);
        if ready.is_empty() {
            continue;
        }
        let jobs: Vec<AllocateJob> = ready
            .iter()
            .map(|&product_id| AllocateJob { product_id })
            .collect();
        if let Err(e) = ctx.queue.push_allocations(&jobs).await {
            tracing::warn!(error = %e, variants = jobs.len(), "could not push allocations; trying again shortly");
            let again = Utc::now() + chrono::Duration::from_std(PUSH_RETRY).unwrap_or_default();
            for product_id in ready {
                watch.due_at(product_id, again);
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

    fn unread(ms: i64) -> Unread {
        Unread::Earliest(Some(at(ms)))
    }

    #[test]
    fn a_claim_is_ready_at_its_due_time_and_not_before() {
        let watch = ClaimWatch::new();
        watch.due_at(7, at(1_000));
        assert!(watch.take_ready(at(999), Unread::Unknown).is_empty());
        assert_eq!(watch.take_ready(at(1_000), Unread::Unknown), vec![7]);
        assert!(watch.is_empty(), "taken once");
    }

    #[test]
    fn an_unsettled_claim_waits_until_every_unread_message_arrived_after_it() {
        let watch = ClaimWatch::new();
        watch.settled_after(7, at(1_300));
        assert!(watch.take_ready(at(5_000), unread(1_200)).is_empty());
        assert!(watch.take_ready(at(5_000), unread(1_300)).is_empty());
        assert!(
            watch.take_ready(at(5_000), Unread::Unknown).is_empty(),
            "not without looking at the backlog"
        );
        assert_eq!(watch.take_ready(at(5_000), unread(1_301)), vec![7]);

        watch.settled_after(8, at(1_300));
        assert_eq!(
            watch.take_ready(at(5_000), Unread::Earliest(None)),
            vec![8],
            "nothing unread at all"
        );
    }

    #[test]
    fn a_new_claim_waits_for_its_due_time_and_then_for_the_messages_before_it() {
        let watch = ClaimWatch::new();
        watch.due_and_settled(7, at(1_000), at(1_010));
        assert!(!watch.needs_unread(at(999)), "not due: no need to look");
        assert!(watch.take_ready(at(999), Unread::Earliest(None)).is_empty());
        assert!(watch.needs_unread(at(1_000)));
        assert!(watch.take_ready(at(1_000), unread(1_005)).is_empty());
        assert_eq!(watch.take_ready(at(1_002), unread(1_011)), vec![7]);
    }

    #[test]
    fn a_wait_on_the_clock_is_not_held_back_by_another_claims_backlog() {
        let watch = ClaimWatch::new();
        watch.settled_after(7, at(900));
        watch.due_at(7, at(1_000));
        assert_eq!(watch.len(), 1);
        assert!(watch.take_ready(at(999), unread(800)).is_empty());
        assert_eq!(
            watch.take_ready(at(1_000), unread(800)),
            vec![7],
            "its time came"
        );
    }

    #[test]
    fn two_waits_for_one_variant_keep_the_earlier_of_each() {
        let watch = ClaimWatch::new();
        watch.due_at(7, at(2_000));
        watch.due_at(7, at(1_000));
        assert_eq!(watch.next_time(), Some(at(1_000)));
        let watch = ClaimWatch::new();
        watch.due_and_settled(7, at(1_500), at(1_600));
        watch.due_and_settled(7, at(1_400), at(1_700));
        assert_eq!(watch.len(), 1);
        assert!(watch.take_ready(at(1_399), unread(1_650)).is_empty());
        assert_eq!(watch.take_ready(at(1_400), unread(1_601)), vec![7]);
    }

    #[test]
    fn only_clock_waits_let_the_watch_sleep_until_the_earliest() {
        let watch = ClaimWatch::new();
        watch.due_at(7, at(2_000));
        watch.due_and_settled(8, at(1_500), at(1_510));
        assert_eq!(watch.next_time(), Some(at(1_500)));
        assert!(!watch.needs_unread(at(1_499)));
        watch.settled_after(9, at(100));
        assert!(
            watch.needs_unread(at(1_499)),
            "a due backlog wait needs looking at"
        );
    }
}
