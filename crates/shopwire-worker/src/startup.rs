//! `Worker::build` wires settings into queue workers, the sweeper and the health server;
//! `main` and the tests both start the worker through it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use shopwire_core::config::Settings;
use shopwire_core::jobs::Queue;
use shopwire_http::{ReadyProbe, ServeOptions};
use shopwire_queue::{QueueClient, Wakeup};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::context::JobContext;
use crate::supervisor::{self, QueueOptions};
use crate::trends::schedule;
use crate::{promoter, sweeper};

/// A built, bound, not yet running worker process.
pub struct Worker {
    ctx: Arc<JobContext>,
    listener: TcpListener,
    ready: Arc<ReadyProbe>,
    serve: ServeOptions,
    options: QueueOptions,
    sweep_after: Duration,
    shutdown_grace: Duration,
}

impl Worker {
    /// Connect lazily (the process starts while Postgres or Redis are down) and bind
    /// `WORKER_PORT`.
    pub async fn build(settings: Settings) -> anyhow::Result<Worker> {
        shopwire_core::telemetry::metrics::handle();
        let pool = shopwire_core::db::lazy_pool(&settings)
            .context("DATABASE_URL is not a valid Postgres URL")?;
        let queue = QueueClient::lazy(
            &settings.redis_url,
            &settings.queue_prefix,
            settings.orphan_timeout,
        )
        .context("REDIS_URL is not a valid Redis URL")?;
        let listener = shopwire_http::bind(SocketAddr::from(([0, 0, 0, 0], settings.worker_port)))
            .with_context(|| format!("failed to bind WORKER_PORT {}", settings.worker_port))?;
        let ready = ReadyProbe::new("worker", &settings, queue.clone())
            .context("DATABASE_URL is not a valid Postgres URL")?;
        Ok(Worker {
            ctx: Arc::new(JobContext::new(&settings, pool, queue)),
            listener,
            ready: Arc::new(ready),
            serve: ServeOptions::from(&settings.edge),
            options: QueueOptions {
                concurrency: settings.worker_concurrency,
                outbound_concurrency: settings.outbound.concurrency,
                poll_interval: settings.queue_poll_interval,
            },
            sweep_after: settings.sweep_after,
            shutdown_grace: settings.shutdown_grace,
        })
    }

    /// The bound health port (tests bind port 0).
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    /// The shared job context (tests use it to drive jobs directly).
    pub fn context(&self) -> Arc<JobContext> {
        self.ctx.clone()
    }

    /// Drain every queue until `shutdown` resolves; then stop taking jobs, give running
    /// ones `SHUTDOWN_GRACE_SECS` to finish, and return.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut health_stop = stop_rx.clone();
        let health = tokio::spawn(shopwire_http::serve(
            self.listener,
            crate::health::router(self.ready.clone()),
            self.serve,
            async move {
                let _ = health_stop.wait_for(|stop| *stop).await;
            },
        ));
        let wakeups: Vec<(Queue, Arc<Wakeup>)> =
            Queue::ALL.into_iter().map(|q| (q, Wakeup::new())).collect();
        let pushes = tokio::spawn(self.ctx.queue.clone().listen_for_pushes(wakeups.clone()));
        let mut tasks = tokio::task::JoinSet::new();
        for (queue, wakeup) in wakeups {
            tasks.spawn(supervisor::supervise(
                queue,
                self.ctx.clone(),
                self.options,
                wakeup,
                stop_rx.clone(),
            ));
        }
        let every = (self.sweep_after.min(self.ctx.lease) / 4)
            .clamp(Duration::from_millis(200), Duration::from_secs(5));
        tasks.spawn(sweeper::run(
            self.ctx.clone(),
            self.sweep_after,
            every,
            stop_rx.clone(),
        ));
        tasks.spawn(schedule::run(self.ctx.clone(), stop_rx.clone()));
        tasks.spawn(crate::tiktok_inventory::run(
            self.ctx.clone(),
            stop_rx.clone(),
        ));
        tasks.spawn(crate::tiktok_reconcile::run(
            self.ctx.clone(),
            stop_rx.clone(),
        ));
        tasks.spawn(crate::outbound::wake::run(
            self.ctx.clone(),
            stop_rx.clone(),
        ));
        tasks.spawn(crate::claim_watch::run(self.ctx.clone(), stop_rx.clone()));
        tasks.spawn(promoter::run(
            self.ctx.clone(),
            self.options.poll_interval,
            stop_rx.clone(),
        ));
        tracing::info!(instance = %self.ctx.instance, "shopwire-worker running");

        shutdown.await;
        let _ = stop_tx.send(true);
        let drained = tokio::time::timeout(self.shutdown_grace, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                grace_secs = self.shutdown_grace.as_secs(),
                "grace period over; abandoning running jobs (their leases expire and another worker takes them)"
            );
            tasks.abort_all();
        }
        pushes.abort();
        match health.await {
            Ok(Err(e)) => tracing::error!(error = %e, "health server failed"),
            Err(e) => tracing::error!(error = %e, "health server panicked"),
            Ok(Ok(())) => {}
        }
        self.ready.close().await;
        tracing::info!("shopwire-worker stopped");
        Ok(())
    }
}
