//! Queue depth read straight from apalis-redis's keys (its own metrics APIs are broken
//! in 1.0.0: `docs/apalis.md` §9).

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use shopwire_core::jobs::Queue;

use crate::{QueueClient, QueueError};

/// How many tasks a queue holds in Redis, by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Depth {
    /// Ready to fetch now (active list plus scheduled tasks already due).
    pub pending: u64,
    /// Scheduled for later (retries waiting out their backoff).
    pub scheduled: u64,
    /// Fetched by a worker and not yet acknowledged.
    pub running: u64,
}

impl QueueClient {
    /// Read one queue's depth.
    pub async fn depth(&self, queue: Queue) -> Result<Depth, QueueError> {
        let config = self.config(queue, 1);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let mut conn = self.connection();
        let (active, due, later, workers): (u64, u64, u64, Vec<String>) = redis::pipe()
            .llen(config.active_jobs_list())
            .zcount(config.scheduled_jobs_set(), "-inf", now)
            .zcount(config.scheduled_jobs_set(), format!("({now}"), "+inf")
            .zrange(config.workers_set(), 0, -1)
            .query_async(&mut conn)
            .await?;
        let mut running = 0;
        for worker in workers {
            let key = format!("{}:{worker}", config.inflight_jobs_set());
            running += redis::cmd("SCARD")
                .arg(key)
                .query_async::<u64>(&mut conn)
                .await?;
        }
        let (later_due, later_waiting) = self.later_counts(queue).await?;
        Ok(Depth {
            pending: active + due + later_due,
            scheduled: later + later_waiting,
            running,
        })
    }
}

impl QueueClient {
    /// Forget up to `max` finished tasks of `queue` (their ids, payloads and metadata), so
    /// Redis memory stays bounded: apalis-redis keeps them forever, and its `vacuum` also
    /// deletes tasks waiting for a retry.
    pub async fn trim_done(&self, queue: Queue, max: usize) -> Result<usize, QueueError> {
        let config = self.config(queue, 1);
        let mut conn = self.connection();
        let ids: Vec<String> = redis::cmd("SPOP")
            .arg(config.done_jobs_set())
            .arg(max)
            .query_async(&mut conn)
            .await?;
        if ids.is_empty() {
            return Ok(0);
        }
        let mut pipe = redis::pipe();
        pipe.hdel(config.job_data_hash(), &ids).ignore();
        for id in &ids {
            pipe.del(format!("{}:{id}", config.job_meta_hash()))
                .ignore();
        }
        pipe.query_async::<()>(&mut conn).await?;
        Ok(ids.len())
    }
}
