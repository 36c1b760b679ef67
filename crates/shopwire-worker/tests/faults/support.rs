//! What every fault test shares: the per-test database URL, the shared Redis under a key
//! prefix of the test's own, conditions polled with deadlines, and inbox figures.

use std::net::TcpListener;
use std::time::Duration;

use secrecy::SecretString;
use shopwire_core::jobs::Queue;
use shopwire_queue::QueueClient;
use sqlx::PgPool;

/// How long a test waits for a condition: a bound that fails a hung test, not a measure
/// of speed (the machine may be busy with other builds).
pub const PATIENCE: Duration = Duration::from_secs(40);

pub use shopwire_testkit::{database_url, redis_url, wait_until};

/// A port nobody listens on right now (for a child process's `WORKER_PORT`).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// `SELECT count(*) …` as a number.
pub async fn count(pool: &PgPool, sql: &'static str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    n
}

/// Inbox rows a worker still has to finish.
pub async fn unfinished(pool: &PgPool) -> i64 {
    count(
        pool,
        "SELECT (SELECT count(*) FROM inbox WHERE status IN ('queued', 'processing', 'failed'))
              + (SELECT count(*) FROM claims WHERE status = 'pending')",
    )
    .await
}

/// Inbox rows a worker has finished, one way or another.
pub async fn finished(pool: &PgPool) -> i64 {
    count(
        pool,
        "SELECT count(*) FROM inbox WHERE status IN ('processed', 'ignored', 'dead')",
    )
    .await
}

/// Inbox counts by status, for failure messages and reports.
pub async fn by_status(pool: &PgPool) -> Vec<(String, i64)> {
    shopwire_core::db::inbox::count_by_status(pool)
        .await
        .expect("inbox counts")
}

/// End every other session on this test's database, so `#[sqlx::test]` can drop it at
/// once (the in-process web's pool lives on in its connection tasks).
pub async fn release_database(pool: &PgPool) {
    let _ = sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(pool)
    .await;
}

/// This test's key prefix in the shared Redis: a client under it, and a targeted flush.
/// Dropping it deletes the prefix's keys.
pub struct RedisPrefix {
    /// e.g. `faults-0123456789abcdef`.
    pub prefix: String,
    /// A client of the shared Redis under `prefix`.
    pub queue: QueueClient,
}

impl RedisPrefix {
    /// A fresh random prefix.
    pub fn new() -> RedisPrefix {
        let prefix = format!("faults-{:016x}", rand::random::<u64>());
        let queue = QueueClient::lazy(
            &SecretString::from(redis_url()),
            &prefix,
            Duration::from_secs(2),
        )
        .expect("REDIS_URL is valid");
        RedisPrefix { prefix, queue }
    }

    /// Delete every key under the prefix (SCAN MATCH + DEL; never FLUSHALL: other tests
    /// share this Redis). Returns how many keys went.
    pub async fn delete_keys(&self) -> usize {
        let client = redis::Client::open(redis_url()).expect("REDIS_URL is valid");
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("redis answers");
        let pattern = format!("{}:*", self.prefix);
        let (mut cursor, mut deleted) = (0u64, 0usize);
        // Bounded: SCAN visits every key in a finite number of rounds.
        for _ in 0..100_000 {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .expect("SCAN works");
            if !keys.is_empty() {
                deleted += redis::cmd("DEL")
                    .arg(&keys)
                    .query_async::<usize>(&mut conn)
                    .await
                    .expect("DEL works");
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
        deleted
    }

    /// Tasks waiting, scheduled or running on every queue.
    pub async fn depth(&self) -> u64 {
        let mut total = 0;
        for queue in Queue::ALL {
            let depth = self.queue.depth(queue).await.expect("redis answers");
            total += depth.pending + depth.scheduled + depth.running;
        }
        total
    }
}

impl Drop for RedisPrefix {
    /// Best effort: delete the prefix's keys and its entries in apalis's global list.
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(redis_url()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_secs(1)) else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.prefix))
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: Result<u64, _> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
        let listed: Vec<String> = Queue::ALL
            .iter()
            .map(|queue| self.queue.config(*queue, 1).workers_set())
            .collect();
        let _: Result<u64, _> = redis::cmd("ZREM")
            .arg("core:apalis:queues:list")
            .arg(listed)
            .query(&mut conn);
    }
}
