//! One apalis worker per queue, restarted with backoff when it dies.
//!
//! apalis-redis ends a worker on any Redis error (a restart, a timeout). apalis's
//! `Monitor` restarts workers immediately and without limit — thousands of times a second
//! during an outage — and reports all-dead as success; this supervisor restarts each
//! worker under a fresh unique name (apalis-redis refuses to re-register a name within
//! a heartbeat) after an exponential, capped backoff, and stops only when told to.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apalis::prelude::{BackendExt, WorkerBuilder, WorkerBuilderExt, WorkerError};
use apalis_core::worker::ext::parallelize::ParallelizeExt;
use backon::{BackoffBuilder, ExponentialBuilder};
use shopwire_core::jobs::Queue;
use shopwire_queue::Wakeup;
use tokio::sync::watch;

use crate::context::JobContext;
use crate::jobs::deliver_event::OutboundDelivery;
use crate::jobs::process_delivery::Delivery;
use crate::jobs::run_job::TableJob;
use crate::jobs::{allocate_claims, runner};
use crate::poll::ReliableInterval;

/// Worker restarts, by queue.
pub const WORKER_RESTARTS_TOTAL: &str = "shopwire_worker_restarts_total";

/// How each queue's worker runs.
#[derive(Debug, Clone, Copy)]
pub struct QueueOptions {
    /// Jobs in flight at once per queue (`WORKER_CONCURRENCY`); also the prefetch size.
    pub concurrency: usize,
    /// Outbound deliveries in flight at once (`OUTBOUND_CONCURRENCY`).
    pub outbound_concurrency: usize,
    /// Idle poll period (`QUEUE_POLL_INTERVAL_MS`).
    pub poll_interval: Duration,
}

/// Run `queue`'s worker until `stop` turns true, restarting it when it fails.
/// `wakeup` is signalled when a job is pushed to `queue`, so an idle worker fetches at
/// once instead of at its next poll tick.
pub async fn supervise(
    queue: Queue,
    ctx: Arc<JobContext>,
    options: QueueOptions,
    wakeup: Arc<Wakeup>,
    stop: watch::Receiver<bool>,
) {
    let mut backoff = restart_backoff();
    for run in 0usize.. {
        if *stop.borrow() {
            return;
        }
        let name = format!("{}:{}:{run}", queue.as_str(), ctx.instance);
        let worker = start_worker(queue, &name, &ctx, options, &wakeup, stop.clone());
        let started = Instant::now();
        tracing::info!(worker = %name, "queue worker starting");
        match worker.await {
            Ok(()) => {
                tracing::info!(worker = %name, "queue worker stopped");
                return;
            }
            Err(e) => {
                metrics::counter!(WORKER_RESTARTS_TOTAL, "queue" => queue.as_str()).increment(1);
                if started.elapsed() > Duration::from_secs(60) {
                    backoff = restart_backoff();
                }
                let delay = backoff.next().unwrap_or(Duration::from_secs(10));
                tracing::error!(worker = %name, error = %e, restart_in_ms = delay.as_millis() as u64, "queue worker died; restarting");
                let mut stop_rx = stop.clone();
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = stop_rx.wait_for(|stop| *stop) => return,
                }
            }
        }
    }
}

/// Build one apalis worker and its run future. A plain (non-async) function so the
/// future's type is concrete when it is boxed as `Send`: inside the async supervisor the
/// compiler cannot prove apalis's higher-ranked service types `Send`.
fn start_worker(
    queue: Queue,
    name: &str,
    ctx: &Arc<JobContext>,
    options: QueueOptions,
    wakeup: &Arc<Wakeup>,
    mut stop: watch::Receiver<bool>,
) -> Pin<Box<dyn Future<Output = Result<(), WorkerError>> + Send>> {
    let concurrency = match queue {
        Queue::Outbound => options.outbound_concurrency,
        _ => options.concurrency,
    };
    let storage = ctx
        .queue
        .storage(queue, concurrency)
        .poll_with_strategy(ReliableInterval::new(options.poll_interval, wakeup.clone()));
    let builder = WorkerBuilder::new(name)
        .backend(storage)
        .data(ctx.clone())
        .concurrency(concurrency)
        .catch_panic()
        .parallelize(tokio::spawn);
    let signal = async move {
        let _ = stop.wait_for(|stop| *stop).await;
        Ok::<(), std::io::Error>(())
    };
    // The checkout, replies and trends queues carry `jobs` rows; claims carries variants;
    // the others inbox rows.
    match queue {
        Queue::Claims => Box::pin(builder.build(allocate_claims::handle).run_until(signal)),
        Queue::Outbound => Box::pin(
            builder
                .build(runner::handle::<OutboundDelivery>)
                .run_until(signal),
        ),
        Queue::Checkout | Queue::Replies | Queue::Trends => {
            Box::pin(builder.build(runner::handle::<TableJob>).run_until(signal))
        }
        _ => Box::pin(builder.build(runner::handle::<Delivery>).run_until(signal)),
    }
}

fn restart_backoff() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(10))
        .with_jitter()
        .without_max_times()
        .build()
}
