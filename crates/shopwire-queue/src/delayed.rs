//! Jobs to run later (retries waiting out their backoff), kept to the millisecond.
//!
//! apalis-redis schedules in whole seconds: a task pushed to run at 12:00:00.900 is
//! stored as 12:00:00 and fetched up to a second early. Our handlers then find the
//! Postgres row not yet due and end the task, and the retry waited for the sweeper
//! instead (a minute, by default). So a delayed job never goes to apalis's scheduled set:
//! it waits in our own sorted set, `<queue>:later`, scored in unix milliseconds, and each
//! worker process moves the due ones into the queue every poll interval
//! ([`QueueClient::promote_due`]), as an immediate push that wakes the queue's worker.
//!
//! Losing a member (Redis flushed, a promotion that popped and could not push) loses no
//! job: Postgres holds its next attempt time and the sweeper enqueues it.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::Script;
use serde::Serialize;
use shopwire_core::jobs::{InboxJob, JobRef, Queue};

use crate::{QueueClient, QueueError};

/// At most this many due jobs are moved per queue and call.
const PROMOTE_BATCH: usize = 500;

/// Pop every member of each KEYS[i] scored at most ARGV[1], up to ARGV[2] per key.
/// Returns one array per key, in KEYS order: member, score, member, score, …
static POP_DUE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local out = {}
for i, key in ipairs(KEYS) do
    local due = redis.call('ZRANGEBYSCORE', key, '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
    for j = 1, #due, 2 do
        redis.call('ZREM', key, due[j])
    end
    out[i] = due
end
return out
"#,
    )
});

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

impl QueueClient {
    /// The sorted set of `queue`'s jobs waiting to run later.
    pub(crate) fn later_set(&self, queue: Queue) -> String {
        format!("{}:later", queue.key(self.prefix()))
    }

    /// Enqueue an inbox job to run after `delay` (a retry with backoff).
    pub async fn push_after(
        &self,
        queue: Queue,
        job: InboxJob,
        delay: Duration,
    ) -> Result<(), QueueError> {
        self.schedule(queue, &job, delay).await
    }

    /// Enqueue a `jobs` row to run after `delay` (a retry with backoff).
    pub async fn push_ref_after(
        &self,
        queue: Queue,
        job: JobRef,
        delay: Duration,
    ) -> Result<(), QueueError> {
        self.schedule(queue, &job, delay).await
    }

    /// Add `job` (an [`InboxJob`] or a [`JobRef`]) to `queue`'s later set, due `delay`
    /// from now. The same job scheduled twice keeps the earlier time (`ZADD LT`): a copy
    /// that comes early finds its row not due and schedules itself again.
    pub async fn schedule<J: Serialize>(
        &self,
        queue: Queue,
        job: &J,
        delay: Duration,
    ) -> Result<(), QueueError> {
        let member = serde_json::to_string(job).expect("job payloads (ids) serialize");
        let due = now_millis().saturating_add(delay.as_millis() as u64);
        let mut conn = self.connection();
        redis::cmd("ZADD")
            .arg(self.later_set(queue))
            .arg("LT")
            .arg(due)
            .arg(member)
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    /// Move every job that is due into its queue, waking that queue's worker. Returns how
    /// many were moved. A batch that cannot be pushed is put back as it was.
    pub async fn promote_due(&self) -> Result<usize, QueueError> {
        let mut invocation = POP_DUE.prepare_invoke();
        for queue in Queue::ALL {
            invocation.key(self.later_set(queue));
        }
        invocation.arg(now_millis()).arg(PROMOTE_BATCH);
        let mut conn = self.connection();
        let popped: Vec<Vec<(String, f64)>> = invocation.invoke_async(&mut conn).await?;
        let mut moved = 0;
        for (queue, due) in Queue::ALL.into_iter().zip(popped) {
            if due.is_empty() {
                continue;
            }
            let jobs: Vec<serde_json::Value> = due
                .iter()
                .filter_map(|(member, _)| serde_json::from_str(member).ok())
                .collect();
            if let Err(e) = self.push_jobs(queue, &jobs).await {
                self.put_back(queue, &due).await;
                return Err(e);
            }
            moved += jobs.len();
        }
        Ok(moved)
    }

    async fn put_back(&self, queue: Queue, due: &[(String, f64)]) {
        let mut cmd = redis::cmd("ZADD");
        cmd.arg(self.later_set(queue)).arg("LT");
        for (member, score) in due {
            cmd.arg(*score as u64).arg(member);
        }
        let mut conn = self.connection();
        if let Err(e) = cmd.query_async::<()>(&mut conn).await {
            tracing::warn!(error = %e, queue = queue.as_str(), jobs = due.len(), "could not put delayed jobs back; the sweeper will enqueue them");
        }
    }

    /// Jobs of `queue` waiting to run later: `(due now, due later)`.
    pub(crate) async fn later_counts(&self, queue: Queue) -> Result<(u64, u64), QueueError> {
        let now = now_millis();
        let mut conn = self.connection();
        let counts = redis::pipe()
            .zcount(self.later_set(queue), "-inf", now)
            .zcount(self.later_set(queue), format!("({now}"), "+inf")
            .query_async(&mut conn)
            .await?;
        Ok(counts)
    }
}
