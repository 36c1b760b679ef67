//! The real `shopwire-worker` binary as a child process, to SIGKILL at will.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use super::support::{RedisPrefix, redis_url};

/// The environment of a test worker: this test's database and Redis prefix, quick
/// polling, a 2 s lease and a 1 s sweep, so a killed worker's work is taken over soon.
pub fn worker_env(database_url: &str, redis: &RedisPrefix) -> BTreeMap<String, String> {
    [
        ("DATABASE_URL", database_url.to_owned()),
        ("DATABASE_MAX_CONNECTIONS", "6".into()),
        ("REDIS_URL", redis_url()),
        ("QUEUE_PREFIX", redis.prefix.clone()),
        ("WORKER_PORT", "0".into()),
        ("WORKER_CONCURRENCY", "4".into()),
        ("QUEUE_POLL_INTERVAL_MS", "20".into()),
        ("ORPHAN_TIMEOUT_SECS", "2".into()),
        ("SWEEP_AFTER_SECS", "1".into()),
        ("SHUTDOWN_GRACE_SECS", "2".into()),
        ("RUST_LOG", "warn".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// A running `shopwire-worker` process; SIGKILLed when dropped.
pub struct WorkerProcess {
    child: Child,
}

impl WorkerProcess {
    /// Start the binary with exactly `env` (nothing inherited, so no stray secret or
    /// `DATABASE_URL` of the test runner leaks in). Its logs show with `FAULTS_LOG` set.
    pub fn spawn(env: &BTreeMap<String, String>) -> WorkerProcess {
        let logs = || {
            if std::env::var_os("FAULTS_LOG").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            }
        };
        let child = Command::new(env!("CARGO_BIN_EXE_shopwire-worker"))
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .stdout(logs())
            .stderr(logs())
            .kill_on_drop(true)
            .spawn()
            .expect("the shopwire-worker binary starts");
        WorkerProcess { child }
    }

    /// SIGKILL (no chance to finish or clean up anything) and reap it.
    pub async fn kill(mut self) {
        self.child.start_kill().expect("SIGKILL is delivered");
        let waited = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
        assert!(waited.is_ok(), "a SIGKILLed worker is reaped at once");
    }

    /// True while the process has not exited (it has not crashed).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}
