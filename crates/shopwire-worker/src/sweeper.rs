//! Periodic housekeeping: re-enqueue what Redis lost, release expired reservations, trim
//! finished task keys, publish queue gauges, refresh TikTok Shop tokens before they expire,
//! and (with `INBOX_RETENTION_DAYS`) purge the bodies of settled deliveries at most hourly.
//!
//! The sweeper is why a flushed or restarted Redis loses nothing: any delivery that is not
//! finished and has not been (re-)enqueued for `SWEEP_AFTER_SECS` is pushed again. It is
//! quiet under normal load, where every delivery finishes within milliseconds.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shopwire_core::db::lease::{self, JobTable};
use shopwire_core::db::retention::{self, Purged};
use shopwire_core::db::{inbox, jobs};
use shopwire_core::domain::Provider;
use shopwire_core::jobs::{InboxJob, JobRef, OutboundJob, Queue};
use tokio::sync::watch;

use crate::context::JobContext;
use crate::jobs::{allocate_claims, run_job};

/// Deliveries the sweeper re-enqueued.
pub const SWEPT_TOTAL: &str = "shopwire_swept_total";
/// Tasks ready or running in Redis, by queue and state.
pub const QUEUE_DEPTH: &str = "shopwire_queue_depth";
/// Inbox rows by status.
pub const INBOX_ROWS: &str = "shopwire_inbox_rows";
/// Dead jobs not yet replayed, by queue (the DLQ size).
pub const DEAD_JOBS: &str = "shopwire_dead_jobs";
/// Age of the oldest delivery still waiting (queued or failed), in seconds.
pub const OLDEST_PENDING_SECONDS: &str = "shopwire_oldest_pending_age_seconds";

const BATCH: i64 = 500;

/// Sweep every `every` until `stop` turns true.
pub async fn run(
    ctx: Arc<JobContext>,
    after: Duration,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut retention_clock = RetentionClock::default();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        match sweep_once(&ctx, after).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(deliveries = n, "sweeper re-enqueued stranded deliveries"),
            Err(e) => tracing::warn!(error = %e, "sweep failed; will retry"),
        }
        lapse_holds(&ctx).await;
        remind_expiring_holds(&ctx).await;
        allocate_stranded(&ctx).await;
        refresh_tiktok_shop_tokens(&ctx).await;
        if ctx.inbox_retention.is_some()
            && retention_clock.due(Instant::now())
            && purge_retained_bodies(&ctx).await.is_none()
        {
            retention_clock.retry_next_tick();
        }
        if let Err(e) = publish_gauges(&ctx).await {
            tracing::debug!(error = %e, "could not read queue gauges");
        }
    }
}

/// Refresh the TikTok Shop grants whose access tokens are due (none unless a shop was
/// connected); a failure is recorded on the grant and tried again later.
async fn refresh_tiktok_shop_tokens(ctx: &JobContext) {
    let Some(tiktok_shop) = &ctx.tiktok_shop else {
        return;
    };
    match tiktok_shop.refresh_due().await {
        Ok(done) if done.failed > 0 => {
            tracing::warn!(
                refreshed = done.refreshed,
                failed = done.failed,
                "some TikTok Shop token refreshes failed"
            );
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not look for TikTok Shop tokens to refresh"),
    }
}

/// The periodic purge runs at most this often.
pub const RETENTION_EVERY: Duration = Duration::from_secs(3_600);

/// When the periodic purge last ran: it is due on the first tick, then once per
/// [`RETENTION_EVERY`].
#[derive(Debug, Default)]
pub struct RetentionClock {
    last: Option<Instant>,
}

impl RetentionClock {
    /// True (and counted as a run at `now`) when the purge should run at `now`.
    pub fn due(&mut self, now: Instant) -> bool {
        match self.last {
            Some(last) if now.saturating_duration_since(last) < RETENTION_EVERY => false,
            _ => {
                self.last = Some(now);
                true
            }
        }
    }

    /// The run failed: try again on the next tick rather than in an hour.
    pub fn retry_next_tick(&mut self) {
        self.last = None;
    }
}

/// With `INBOX_RETENTION_DAYS` set, purge the bodies of deliveries settled longer ago (the
/// core function `shopwire-admin inbox purge` calls); `None` when it is unset or the purge
/// failed (logged).
pub async fn purge_retained_bodies(ctx: &JobContext) -> Option<Purged> {
    let older_than = ctx.inbox_retention?;
    match retention::purge_settled(&ctx.pool, older_than).await {
        Ok(purged) => {
            if purged.bodies > 0 {
                tracing::info!(
                    bodies = purged.bodies,
                    messages = purged.messages,
                    "purged the bodies of settled deliveries past INBOX_RETENTION_DAYS"
                );
            }
            Some(purged)
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not purge settled inbox bodies; will retry");
            None
        }
    }
}

/// Allocate the variants whose claims nobody is about to allocate: overdue claims (their
/// scheduled run was lost) and waitlists that can move (stock freed, entries lapsed).
pub async fn allocate_stranded(ctx: &JobContext) {
    match shopwire_core::db::claims::needing_allocation(&ctx.pool, STRANDED_AFTER, BATCH).await {
        Ok(products) => {
            for product_id in products {
                allocate_claims::run(ctx, product_id).await;
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not look for claims to allocate; will retry"),
    }
}

/// A pending claim this long past its due time has lost its scheduled allocation.
const STRANDED_AFTER: Duration = Duration::from_secs(1);

/// Deal with holds past their expiry: release them, or (Stripe configured, a session
/// exists) push the job that expires the session first.
pub async fn lapse_holds(ctx: &JobContext) {
    let via_stripe = ctx.stripe.as_ref().map(|_| Queue::Checkout.as_str());
    match shopwire_core::db::orders::expire_reservations(&ctx.pool, BATCH, via_stripe).await {
        Ok(lapsed) => {
            if lapsed.released > 0 {
                tracing::info!(orders = lapsed.released, "released expired reservations");
            }
            for job in lapsed.session_jobs {
                run_job::enqueue(ctx, Queue::Checkout, job).await;
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not release expired reservations; will retry")
        }
    }
}

/// Tell endpoints about unpaid holds that lapse within `HOLD_REMINDER_SECS`.
pub async fn remind_expiring_holds(ctx: &JobContext) {
    let ahead = ctx.hold_reminder;
    match shopwire_core::db::reminders::emit_hold_expiring(&ctx.pool, ahead, BATCH).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(orders = n, "hold.expiring reminders emitted"),
        Err(e) => tracing::warn!(error = %e, "could not emit hold reminders; will retry"),
    }
}

/// Re-enqueue every stranded delivery and `jobs` row; returns how many.
pub async fn sweep_once(ctx: &JobContext, after: Duration) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let stranded = inbox::sweep(&ctx.pool, after, BATCH).await?;
        let mut by_queue: HashMap<Queue, Vec<InboxJob>> = HashMap::new();
        for row in &stranded {
            let queue = row
                .provider
                .parse::<Provider>()
                .map(Queue::for_provider)
                .unwrap_or(Queue::Messages);
            by_queue
                .entry(queue)
                .or_default()
                .push(InboxJob { inbox_id: row.id });
        }
        for (queue, jobs) in by_queue {
            ctx.queue.push(queue, &jobs).await?;
            metrics::counter!(SWEPT_TOTAL, "queue" => queue.as_str()).increment(jobs.len() as u64);
        }
        total += stranded.len();
        if (stranded.len() as i64) < BATCH {
            break;
        }
    }
    loop {
        let stranded = jobs::sweep(&ctx.pool, after, BATCH).await?;
        let mut by_queue: HashMap<Queue, Vec<JobRef>> = HashMap::new();
        for row in &stranded {
            match Queue::ALL.into_iter().find(|q| q.as_str() == row.queue) {
                Some(queue) => by_queue
                    .entry(queue)
                    .or_default()
                    .push(JobRef { job_id: row.id }),
                None => {
                    tracing::warn!(job_id = row.id.get(), queue = %row.queue, "job of an unknown queue; left alone")
                }
            }
        }
        for (queue, refs) in by_queue {
            ctx.queue.push_refs(queue, &refs).await?;
            metrics::counter!(SWEPT_TOTAL, "queue" => queue.as_str()).increment(refs.len() as u64);
        }
        total += stranded.len();
        if (stranded.len() as i64) < BATCH {
            break;
        }
    }
    loop {
        let stranded = lease::sweep(&ctx.pool, JobTable::Outbound, after, BATCH).await?;
        let jobs: Vec<OutboundJob> = stranded
            .iter()
            .map(|row| OutboundJob {
                delivery_id: row.id,
            })
            .collect();
        ctx.queue.push_jobs(Queue::Outbound, &jobs).await?;
        metrics::counter!(SWEPT_TOTAL, "queue" => Queue::Outbound.as_str())
            .increment(jobs.len() as u64);
        total += stranded.len();
        if (stranded.len() as i64) < BATCH {
            return Ok(total);
        }
    }
}

async fn publish_gauges(ctx: &JobContext) -> anyhow::Result<()> {
    for queue in Queue::ALL {
        ctx.queue.trim_done(queue, 1000).await?;
        let depth = ctx.queue.depth(queue).await?;
        for (state, value) in [
            ("pending", depth.pending),
            ("scheduled", depth.scheduled),
            ("running", depth.running),
        ] {
            metrics::gauge!(QUEUE_DEPTH, "queue" => queue.as_str(), "state" => state)
                .set(value as f64);
        }
    }
    for (status, count) in inbox::count_by_status(&ctx.pool).await? {
        metrics::gauge!(INBOX_ROWS, "status" => status).set(count as f64);
    }
    for queue in Queue::ALL {
        metrics::gauge!(DEAD_JOBS, "queue" => queue.as_str()).set(0.0);
    }
    for (queue, count) in shopwire_core::db::dead_letters::open_counts_by_queue(&ctx.pool).await? {
        metrics::gauge!(DEAD_JOBS, "queue" => queue).set(count as f64);
    }
    let oldest = inbox::oldest_pending_age_secs(&ctx.pool)
        .await?
        .unwrap_or(0);
    metrics::gauge!(OLDEST_PENDING_SECONDS).set(oldest as f64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retention_purge_is_due_at_once_then_once_an_hour_or_again_after_a_failure() {
        let start = Instant::now();
        let mut clock = RetentionClock::default();
        assert!(clock.due(start), "the first tick purges");
        assert!(!clock.due(start + Duration::from_secs(5)));
        assert!(!clock.due(start + RETENTION_EVERY - Duration::from_secs(1)));
        assert!(
            clock.due(start + RETENTION_EVERY),
            "an hour later it is due again"
        );
        assert!(!clock.due(start + RETENTION_EVERY + Duration::from_secs(1)));
        clock.retry_next_tick();
        assert!(clock.due(start + RETENTION_EVERY + Duration::from_secs(2)));
    }
}
