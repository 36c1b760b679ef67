//! Follows acknowledged deliveries into the database: polls Postgres until the worker has
//! finished each one, and times it from its (scheduled) send.
//!
//! The bench, the server and Postgres run on one machine and one monotonic clock: the
//! latency is `Instant` at the poll that first saw the result minus `Instant` at send, so
//! it over-states the true figure by at most one poll interval plus one query.
//!
//! Polling must not load the database it measures, so it runs at two speeds:
//! - every poll (`--poll-ms`), new orders only: a primary-key range scan from a watermark
//!   (kept [`WATERMARK_LAG`] ids behind, because ids are taken in insert order but commits
//!   can land out of order);
//! - every [`SLOW_EVERY`]th poll, the inbox status of every pending delivery, for those that
//!   finish without an order (sold out, not a buy).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::args::DbArgs;
use crate::db::{self, Finished};
use crate::load::{Budget, Engine, Mode, Outcome, Run, Source};
use crate::report::{Errors, Latency};

/// How far behind the highest order id seen the next poll starts.
pub const WATERMARK_LAG: i64 = 256;

/// Every how many polls the pending deliveries' inbox status is read: 100 ms at the
/// default 2 ms poll. With thousands pending it is the costliest query the bench makes
/// (16 ms a call in the spread run), so reading it every 20 ms took most of a Postgres
/// backend from the system being measured; it times only deliveries that end without an
/// order, which no target is measured on.
pub const SLOW_EVERY: u64 = 50;

/// What following found.
#[derive(Debug, Default)]
pub struct Followed {
    /// From each delivery's send until the poll that saw it finished.
    pub latency: Latency,
    /// `ack_without_id`, `unfinished` (still not done when the settle time ran out).
    pub errors: Errors,
    /// Every finished delivery.
    pub finished: Vec<Finished>,
    /// When the last one was seen finished.
    pub last_finished: Option<Instant>,
}

impl Followed {
    fn done(&mut self, finished: Finished, sent: Instant, seen: Instant) {
        self.latency.record(seen.saturating_duration_since(sent));
        self.last_finished = Some(seen);
        self.finished.push(finished);
    }
}

/// Follows every acknowledged delivery arriving on `acks` until the channel closes and all
/// are finished, or until `settle` has passed since it closed.
pub fn spawn(
    pool: PgPool,
    poll: Duration,
    settle: Duration,
    mut acks: UnboundedReceiver<Outcome>,
) -> JoinHandle<anyhow::Result<Followed>> {
    tokio::spawn(async move {
        let mut followed = Followed::default();
        let mut pending: HashMap<i64, Instant> = HashMap::new();
        let mut settle_until: Option<Instant> = None;
        let mut watermark = db::max_order_id(&pool).await?;
        for round in 0u64.. {
            loop {
                match acks.try_recv() {
                    // Transport errors are counted from the load run itself.
                    Ok(outcome) => {
                        if let Ok(ack) = outcome.result {
                            match ack.id {
                                Some(id) => {
                                    pending.insert(id, outcome.scheduled);
                                }
                                None => followed.errors.add("ack_without_id"),
                            }
                        }
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        settle_until.get_or_insert_with(|| Instant::now() + settle);
                        break;
                    }
                }
            }
            if !pending.is_empty() {
                let orders = db::orders_after(&pool, watermark - WATERMARK_LAG).await?;
                let seen = Instant::now();
                for (order_id, inbox_id) in orders {
                    watermark = watermark.max(order_id);
                    if let Some(sent) = pending.remove(&inbox_id) {
                        let finished = Finished {
                            inbox_id,
                            status: "processed".into(),
                            ordered: true,
                        };
                        followed.done(finished, sent, seen);
                    }
                }
            }
            if !pending.is_empty() && round % SLOW_EVERY == 0 {
                let ids: Vec<i64> = pending.keys().copied().collect();
                let done = db::finished(&pool, &ids).await?;
                let seen = Instant::now();
                for finished in done {
                    if let Some(sent) = pending.remove(&finished.inbox_id) {
                        followed.done(finished, sent, seen);
                    }
                }
            }
            match settle_until {
                Some(_) if pending.is_empty() => break,
                Some(until) if Instant::now() >= until => {
                    for _ in 0..pending.len() {
                        followed.errors.add("unfinished");
                    }
                    break;
                }
                _ => tokio::time::sleep(poll).await,
            }
        }
        Ok(followed)
    })
}

/// A load run whose answers were followed into the database.
#[derive(Debug)]
pub struct FollowedRun {
    /// What the load engine sent and got back.
    pub sent: Run,
    /// What following the accepted deliveries found.
    pub followed: Followed,
    /// Send → 2xx answer.
    pub ack: Latency,
    /// From the first scheduled send until the last delivery was seen finished.
    pub secs: f64,
}

/// Runs `source` on `engine` and follows every answer into the database; failed requests
/// and following's own errors are added to `errors`.
pub async fn run(
    engine: &Engine,
    (mode, budget): (Mode, Budget),
    source: Source,
    pool: &PgPool,
    db: &DbArgs,
    errors: &mut Errors,
) -> anyhow::Result<FollowedRun> {
    let (acks, received) = mpsc::unbounded_channel();
    let follower = spawn(
        pool.clone(),
        Duration::from_millis(db.poll_ms),
        Duration::from_secs(db.settle_secs),
        received,
    );
    let sent = engine.run(mode, budget, source, Some(acks)).await;
    let followed = follower.await??;

    let mut ack = Latency::default();
    for outcome in &sent.outcomes {
        match &outcome.result {
            Ok(_) => ack.record(outcome.latency),
            Err(kind) => errors.add(kind.clone()),
        }
    }
    errors.merge(&followed.errors);
    let first_send = sent.outcomes.iter().map(|o| o.scheduled).min();
    let secs = match (first_send, followed.last_finished) {
        (Some(a), Some(b)) => b.saturating_duration_since(a).as_secs_f64(),
        _ => 0.0,
    };
    Ok(FollowedRun {
        sent,
        followed,
        ack,
        secs,
    })
}

/// Polls every `poll` until `expected` claims exist for `product_ids` and every one has an
/// outcome; returns when a poll first saw that. When `stop` fires (or is dropped) it checks
/// once more and returns `None` if they are still not all decided.
pub fn watch_decided(
    pool: PgPool,
    product_ids: Vec<i64>,
    expected: i64,
    poll: Duration,
    mut stop: oneshot::Receiver<()>,
) -> JoinHandle<anyhow::Result<Option<Instant>>> {
    tokio::spawn(async move {
        loop {
            let stopping = !matches!(stop.try_recv(), Err(oneshot::error::TryRecvError::Empty));
            // One index probe while any claim is pending; the full count only when none is.
            if !db::any_claim_pending(&pool, &product_ids).await? {
                let seen = Instant::now();
                let (all, decided) = db::claims_decided(&pool, &product_ids).await?;
                if all >= expected && decided == all {
                    return Ok(Some(seen));
                }
            }
            if stopping {
                return Ok(None);
            }
            tokio::time::sleep(poll).await;
        }
    })
}
