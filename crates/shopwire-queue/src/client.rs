//! A cheap-to-clone handle on Redis for pushing jobs and reading queue state.

use std::time::Duration;

use apalis_core::task::builder::TaskBuilder;
use apalis_redis::{Client, Config, ConnectionManager, RedisStorage};
use redis::aio::ConnectionManagerConfig;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use shopwire_core::jobs::{InboxJob, JobRef, Queue};

/// Failure to reach Redis or to run a queue script.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// Redis refused, timed out or is unreachable.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// apalis-redis's script failed.
    #[error("queue: {0}")]
    Apalis(#[from] apalis_redis::Error),
    /// The operation did not finish within its deadline.
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
}

/// Connection plus key prefix; clones share one multiplexed connection.
#[derive(Clone)]
pub struct QueueClient {
    pub(crate) client: Client,
    conn: ConnectionManager,
    prefix: String,
    orphan_timeout: Duration,
}

impl std::fmt::Debug for QueueClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueClient")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl QueueClient {
    /// Build a client that connects on first use, so a process starts while Redis is down
    /// and reconnects by itself when it comes back.
    pub fn lazy(
        redis_url: &SecretString,
        prefix: &str,
        orphan_timeout: Duration,
    ) -> Result<QueueClient, QueueError> {
        let client = Client::open(redis_url.expose_secret())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        Ok(QueueClient {
            client,
            conn,
            prefix: prefix.to_owned(),
            orphan_timeout,
        })
    }

    /// The key prefix all queues live under.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The apalis config for `queue`: explicit name, heartbeats sized so a dead worker's
    /// tasks are re-enqueued after the orphan timeout, prefetch kept small.
    pub fn config(&self, queue: Queue, batch_size: usize) -> Config {
        let heartbeat =
            (self.orphan_timeout / 4).clamp(Duration::from_secs(1), Duration::from_secs(10));
        let missed = (self.orphan_timeout.as_secs_f64() / heartbeat.as_secs_f64())
            .ceil()
            .max(1.0);
        Config::default()
            .queue(queue.key(&self.prefix))
            .batch_size(batch_size.max(1))
            .heartbeat_interval(heartbeat)
            .missed_heartbeats(missed as usize)
            // Must stay true: apalis-core sends a task's ack (its `Complete` event) only
            // when results are persisted. Without it no task ever leaves its worker's
            // in-flight set, and `trim_done` finds nothing to trim.
            .persist_results(true)
            // apalis-redis publishes only for tasks without a run-at time, and every task
            // it builds has one; `push_jobs` announces pushes on `wake_channel` itself.
            .emit_events(false)
    }

    /// An apalis storage for a worker of `queue`. Tasks decode as plain JSON so that a
    /// payload we cannot read never kills the worker (the handler rejects it instead).
    pub fn storage(&self, queue: Queue, batch_size: usize) -> RedisStorage<serde_json::Value> {
        RedisStorage::new(self.conn.clone()).with_config(self.config(queue, batch_size))
    }

    /// Enqueue jobs now, in one round trip.
    pub async fn push(&self, queue: Queue, jobs: &[InboxJob]) -> Result<(), QueueError> {
        self.push_jobs(queue, jobs).await
    }

    /// Enqueue `jobs` rows now (the checkout queue), in one round trip.
    pub async fn push_refs(&self, queue: Queue, jobs: &[JobRef]) -> Result<(), QueueError> {
        self.push_jobs(queue, jobs).await
    }

    /// Enqueue allocation jobs now (the claims queue), in one round trip.
    pub async fn push_allocations(
        &self,
        jobs: &[shopwire_core::jobs::AllocateJob],
    ) -> Result<(), QueueError> {
        self.push_jobs(Queue::Claims, jobs).await
    }

    /// Push `jobs` (id payloads) due now, in one round trip, and announce them on the
    /// queue's wake channel. Delayed jobs never go through apalis's own (whole-second)
    /// schedule: see `delayed.rs`.
    pub async fn push_jobs<J: Serialize>(
        &self,
        queue: Queue,
        jobs: &[J],
    ) -> Result<(), QueueError> {
        if jobs.is_empty() {
            return Ok(());
        }
        let config = self.config(queue, 1);
        let tasks: Vec<_> = jobs
            .iter()
            .map(|job| {
                let bytes = serde_json::to_vec(job).expect("job payloads (ids) serialize");
                TaskBuilder::new(bytes).build()
            })
            .collect();
        let mut conn = self.conn.clone();
        apalis_redis::queries::push_tasks(&mut conn, &config, &tasks).await?;
        // Best effort: a worker that misses it finds the jobs at its next poll.
        let announced: Result<i64, _> = redis::cmd("PUBLISH")
            .arg(self.wake_channel(queue))
            .arg(jobs.len())
            .query_async(&mut conn)
            .await;
        if let Err(e) = announced {
            tracing::debug!(error = %e, queue = queue.as_str(), "could not announce a push");
        }
        Ok(())
    }

    /// Push jobs after the transaction that created their rows has committed: the one way
    /// every producer (web, worker, admin) hands committed work to Redis. Best effort: a
    /// failed push is logged and returns false; the job's row stays due in Postgres and
    /// the sweeper pushes it.
    pub async fn enqueue_after_commit<J: Serialize>(&self, queue: Queue, jobs: &[J]) -> bool {
        match self.push_jobs(queue, jobs).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(queue = queue.as_str(), jobs = jobs.len(), error = %e, "could not push after commit; the sweeper will");
                false
            }
        }
    }

    /// Round trip to Redis, for readiness checks.
    pub async fn ping(&self) -> Result<(), QueueError> {
        let mut conn = self.conn.clone();
        redis::cmd("PING").query_async::<String>(&mut conn).await?;
        Ok(())
    }

    /// The shared connection (depth queries, trimming).
    pub(crate) fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }
}
