//! The `shopwire-worker` child the scenario starts itself: its environment points it at the
//! in-process fake, and it is killed when its handle is dropped — on success, on an error
//! returned early, and on Ctrl-C (the scenario turns that into an error) — so no worker
//! outlives the run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// How long a worker has to answer `/ready`.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// What a worker is started with.
#[derive(Debug, Clone)]
pub struct WorkerEnv {
    /// The binary.
    pub bin: PathBuf,
    /// Where its output goes (`None`: discarded).
    pub log: Option<PathBuf>,
    /// Its `WORKER_PORT`.
    pub port: u16,
    /// Variables set on top of the harness's own environment.
    pub vars: Vec<(String, String)>,
}

/// A running worker; dropping it kills it and reaps it.
pub struct Worker {
    child: Child,
    /// When it was spawned.
    pub spawned: Instant,
}

impl Worker {
    /// Start a worker with `env` plus `extra`, and wait for its `/ready`.
    pub async fn start(env: &WorkerEnv, extra: &[(&str, String)]) -> anyhow::Result<Worker> {
        let mut command = Command::new(&env.bin);
        // A static token would serve shops that were never connected: the scenario's shop is.
        command
            .env_remove("TIKTOK_SHOP_ACCESS_TOKEN")
            .env_remove("TIKTOK_SHOP_SHOP_CIPHER");
        for (k, v) in &env.vars {
            command.env(k, v);
        }
        for (k, v) in extra {
            command.env(k, v);
        }
        let (out, err) = outputs(env.log.as_deref())?;
        command.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = command
            .spawn()
            .with_context(|| format!("failed to start {}", env.bin.display()))?;
        let mut worker = Worker {
            child,
            spawned: Instant::now(),
        };
        worker.wait_ready(env.port).await?;
        Ok(worker)
    }

    /// Poll `/ready` until it answers 200; an exited worker is an error at once.
    async fn wait_ready(&mut self, port: u16) -> anyhow::Result<()> {
        let url = format!("http://127.0.0.1:{port}/ready");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .context("failed to build an HTTP client")?;
        while self.spawned.elapsed() < READY_WITHIN {
            if let Some(status) = self.child.try_wait().context("failed to poll the worker")? {
                anyhow::bail!("shopwire-worker exited before it was ready ({status}); see its log");
            }
            if let Ok(answer) = http.get(&url).send().await
                && answer.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("shopwire-worker was not ready at {url} within {READY_WITHIN:?}")
    }

    /// Its peak resident set so far (`VmHWM`), in MiB.
    pub fn hwm_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let kib = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
        let kib: f64 = kib.trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kib / 1024.0)
    }

    /// Whether it is still running (a worker that died mid-run makes the run an error).
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// stdout and stderr: both appended to `log`, or discarded.
fn outputs(log: Option<&Path>) -> anyhow::Result<(Stdio, Stdio)> {
    let Some(path) = log else {
        return Ok((Stdio::null(), Stdio::null()));
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("failed to open the worker log {}", path.display()))?;
    let copy = file
        .try_clone()
        .context("failed to share the worker log between stdout and stderr")?;
    Ok((Stdio::from(file), Stdio::from(copy)))
}

/// A port nobody listens on now (the OS picks it; released before the worker binds it).
pub fn free_port() -> anyhow::Result<u16> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").context("failed to find a free port")?;
    Ok(listener
        .local_addr()
        .context("failed to read the free port")?
        .port())
}
