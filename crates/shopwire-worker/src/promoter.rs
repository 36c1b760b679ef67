//! Moves jobs whose retry time has come from Redis's later sets into their queues, every
//! poll interval (`shopwire_queue`'s `delayed.rs` says why apalis's own schedule is not
//! used). Every worker process runs one; the move is atomic, so each job moves once.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::context::JobContext;

/// Promote due jobs every `every` until `stop` turns true.
pub async fn run(ctx: Arc<JobContext>, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        match ctx.queue.promote_due().await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(jobs = n, "due retries moved into their queues"),
            Err(e) => tracing::warn!(error = %e, "could not move due retries; will try again"),
        }
    }
}
