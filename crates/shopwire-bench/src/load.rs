//! The load engine: closed loop (N connections, each sends when its previous answer
//! arrives) and open loop (a fixed schedule; each request is timed from its *scheduled*
//! start, so a slow server cannot hide queueing delay as lower load: no coordinated omission).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::header::CONTENT_TYPE;
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::payloads::Prepared;

/// Builds (and signs, at send time) request number `i`.
pub type Source = Arc<dyn Fn(u64) -> anyhow::Result<Prepared> + Send + Sync>;

/// How requests are paced.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// `concurrency` connections, each sending as soon as its previous request answered.
    Closed { concurrency: usize },
    /// `rate` requests per second on a fixed schedule, however long answers take.
    Open { rate: f64 },
}

impl Mode {
    /// `open` or `closed`, for reports.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Closed { .. } => "closed",
            Mode::Open { .. } => "open",
        }
    }
}

/// When to stop sending.
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    /// Exactly this many requests.
    Requests(u64),
    /// Keep sending for this long (open loop: `rate × duration` requests).
    For(Duration),
}

/// What the server answered: shopwire-web's `{"status": "accepted"|"duplicate", "id": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Ack {
    /// `accepted` or `duplicate`.
    pub status: String,
    /// The inbox (or ceiling) row id, when the answer carried one.
    #[serde(default, deserialize_with = "id_from_string_or_number")]
    pub id: Option<i64>,
}

impl Ack {
    /// Parses a 2xx body; anything else becomes an `Ack` with status `unknown`.
    pub fn parse(body: &[u8]) -> Ack {
        serde_json::from_slice(body).unwrap_or(Ack {
            status: "unknown".into(),
            id: None,
        })
    }
}

/// One request's result.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The request's index.
    pub index: u64,
    /// When it was due: the scheduled start (open loop) or the actual start (closed loop).
    pub scheduled: Instant,
    /// From `scheduled` until the whole answer was read.
    pub latency: Duration,
    /// The answer, or the kind of error (`http_503`, `connect`, `timeout`, …).
    pub result: Result<Ack, String>,
}

/// A finished run.
#[derive(Debug)]
pub struct Run {
    /// Every request's outcome, in completion order per sender.
    pub outcomes: Vec<Outcome>,
    /// From the first send until the last answer.
    pub elapsed: Duration,
}

/// Sends requests to one base URL.
#[derive(Debug, Clone)]
pub struct Engine {
    client: reqwest::Client,
    base: Arc<str>,
    timeout: Duration,
}

impl Engine {
    /// An engine for `base` (e.g. `http://127.0.0.1:8080`) with a per-request `timeout`.
    pub fn new(base: &str, timeout: Duration, connections: usize) -> anyhow::Result<Engine> {
        let client = reqwest::Client::builder()
            .http1_only()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(connections.max(1))
            .build()
            .context("failed to build the HTTP client")?;
        Ok(Engine {
            client,
            base: base.trim_end_matches('/').into(),
            timeout,
        })
    }

    /// An engine that opens a new connection for every request and drops it after the
    /// answer, as webhook providers deliver: every latency includes the TCP connect and the
    /// server's accept.
    pub fn new_connection_each(base: &str, timeout: Duration) -> anyhow::Result<Engine> {
        let client = reqwest::Client::builder()
            .http1_only()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(0)
            .build()
            .context("failed to build the HTTP client")?;
        Ok(Engine {
            client,
            base: base.trim_end_matches('/').into(),
            timeout,
        })
    }

    /// Runs `source` under `mode` until `budget` is spent. Every answer is also sent on
    /// `acks`, as it arrives, for scenarios that follow deliveries into the database.
    pub async fn run(
        &self,
        mode: Mode,
        budget: Budget,
        source: Source,
        acks: Option<mpsc::UnboundedSender<Outcome>>,
    ) -> Run {
        match mode {
            Mode::Closed { concurrency } => self.closed(concurrency, budget, source, acks).await,
            Mode::Open { rate } => self.open(rate, budget, source, acks).await,
        }
    }

    async fn closed(
        &self,
        concurrency: usize,
        budget: Budget,
        source: Source,
        acks: Option<mpsc::UnboundedSender<Outcome>>,
    ) -> Run {
        let next = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let (limit, until) = match budget {
            Budget::Requests(n) => (n, None),
            Budget::For(d) => (u64::MAX, Some(started + d)),
        };
        let mut senders = JoinSet::new();
        for _ in 0..concurrency.max(1) {
            let (engine, source, next, acks) =
                (self.clone(), source.clone(), next.clone(), acks.clone());
            senders.spawn(async move {
                let mut outcomes = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= limit || until.is_some_and(|u| Instant::now() >= u) {
                        return outcomes;
                    }
                    let outcome = engine.send(&source, i, Instant::now()).await;
                    if let Some(acks) = &acks {
                        let _ = acks.send(outcome.clone());
                    }
                    outcomes.push(outcome);
                }
            });
        }
        let mut outcomes = Vec::new();
        while let Some(done) = senders.join_next().await {
            outcomes.extend(done.unwrap_or_default());
        }
        Run {
            outcomes,
            elapsed: started.elapsed(),
        }
    }

    async fn open(
        &self,
        rate: f64,
        budget: Budget,
        source: Source,
        acks: Option<mpsc::UnboundedSender<Outcome>>,
    ) -> Run {
        let rate = rate.max(0.001);
        let total = match budget {
            Budget::Requests(n) => n,
            Budget::For(d) => (d.as_secs_f64() * rate).ceil() as u64,
        };
        let started = Instant::now();
        let mut requests = JoinSet::new();
        for i in 0..total {
            let due = started + Duration::from_secs_f64(i as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
            let (engine, source, acks) = (self.clone(), source.clone(), acks.clone());
            requests.spawn(async move {
                let outcome = engine.send(&source, i, due).await;
                if let Some(acks) = &acks {
                    let _ = acks.send(outcome.clone());
                }
                outcome
            });
        }
        let mut outcomes = Vec::with_capacity(total as usize);
        while let Some(done) = requests.join_next().await {
            if let Ok(outcome) = done {
                outcomes.push(outcome);
            }
        }
        Run {
            outcomes,
            elapsed: started.elapsed(),
        }
    }

    /// Builds, signs and sends request `i`, timing it from `scheduled`.
    async fn send(&self, source: &Source, i: u64, scheduled: Instant) -> Outcome {
        let result = match source(i) {
            Ok(prepared) => self.post(prepared).await,
            Err(e) => Err(format!("prepare: {e}")),
        };
        Outcome {
            index: i,
            scheduled,
            latency: scheduled.elapsed(),
            result,
        }
    }

    async fn post(&self, prepared: Prepared) -> Result<Ack, String> {
        let response = self
            .client
            .post(format!("{}{}", self.base, prepared.path))
            .header(prepared.header, prepared.signature)
            .header(CONTENT_TYPE, "application/json")
            .body(prepared.body)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| error_kind(&e))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| error_kind(&e))?;
        if status.is_success() {
            Ok(Ack::parse(&body))
        } else {
            Err(format!("http_{}", status.as_u16()))
        }
    }
}

/// A short, stable label for a transport error.
fn error_kind(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "request"
    }
    .to_owned()
}

fn id_from_string_or_number<'de, D>(de: D) -> Result<Option<i64>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Num(i64),
        Str(String),
    }
    Ok(match Option::<Id>::deserialize(de)? {
        Some(Id::Num(n)) => Some(n),
        Some(Id::Str(s)) => s.parse().ok(),
        None => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_carry_the_status_and_an_id_sent_as_string_or_number() {
        assert_eq!(
            Ack::parse(br#"{"status":"accepted","id":"42"}"#),
            Ack {
                status: "accepted".into(),
                id: Some(42)
            }
        );
        assert_eq!(Ack::parse(br#"{"status":"duplicate","id":7}"#).id, Some(7));
        assert_eq!(Ack::parse(b"not json").status, "unknown");
        assert_eq!(Ack::parse(br#"{"status":"accepted"}"#).id, None);
    }
}
