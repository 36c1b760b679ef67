//! Follows acknowledged deliveries into the database: polls Postgres until the worker has
//! finished each one, and times it from its (scheduled) send.
//!
//! The bench, the server and Postgres run on one machine and one monotonic clock: the
//! latency is `Instant` at the poll that first saw the order minus `Instant` at send, so it
//! over-states the true figure by at most one poll interval plus one query.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::task::JoinHandle;

use crate::db::{self, Finished};
use crate::load::Outcome;
use crate::report::{Errors, Latency};

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
        loop {
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
                let ids: Vec<i64> = pending.keys().copied().collect();
                let done = db::finished(&pool, &ids).await?;
                let seen = Instant::now();
                for finished in done {
                    if let Some(sent) = pending.remove(&finished.inbox_id) {
                        followed
                            .latency
                            .record(seen.saturating_duration_since(sent));
                        followed.last_finished = Some(seen);
                        followed.finished.push(finished);
                    }
                }
            }
            match settle_until {
                Some(_) if pending.is_empty() => return Ok(followed),
                Some(until) if Instant::now() >= until => {
                    for _ in 0..pending.len() {
                        followed.errors.add("unfinished");
                    }
                    return Ok(followed);
                }
                _ => tokio::time::sleep(poll).await,
            }
        }
    })
}
