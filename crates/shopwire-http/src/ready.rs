//! `GET /ready` that cannot starve ingest.
//!
//! Every unauthenticated `/ready` used to run a Postgres and a Redis round trip on the pool
//! that records webhooks: 200 callers took its connections from deliveries, and with a slow
//! Postgres the pool ran out first. A [`ReadyProbe`] has its own single Postgres connection
//! and remembers its last answer for `READY_CACHE_MS`; concurrent callers share one probe.
//! A flood therefore costs at most one probe per cache period and no pool connection.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Json;
use axum::http::StatusCode;
use serde_json::{Map, Value};
use shopwire_core::config::Settings;
use shopwire_queue::QueueClient;
use sqlx::PgPool;
use tokio::sync::Mutex;

/// Probes actually run (not answered from the cache), by server.
pub const READY_PROBES_TOTAL: &str = "shopwire_ready_probes_total";

/// How long one dependency may take to answer before it counts as unavailable.
const PROBE_LIMIT: Duration = Duration::from_secs(2);

/// What the last probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    /// `SELECT 1` answered within the limit.
    pub postgres: bool,
    /// `PING` answered within the limit.
    pub redis: bool,
}

/// A cached, single-flight probe of Postgres and Redis.
pub struct ReadyProbe {
    server: &'static str,
    pool: PgPool,
    queue: QueueClient,
    ttl: Duration,
    last: Mutex<Option<(Instant, Readiness)>>,
    probes: AtomicU64,
}

impl ReadyProbe {
    /// A probe for `server` (a metrics label) with its own lazily connecting Postgres
    /// connection, caching answers for `READY_CACHE_MS`.
    pub fn new(
        server: &'static str,
        settings: &Settings,
        queue: QueueClient,
    ) -> Result<ReadyProbe, sqlx::Error> {
        let pool = shopwire_core::db::pool_options(1)
            .acquire_timeout(PROBE_LIMIT)
            .connect_lazy_with(shopwire_core::db::connect_options(settings)?);
        Ok(ReadyProbe {
            server,
            pool,
            queue,
            ttl: settings.edge.ready_cache,
            last: Mutex::new(None),
            probes: AtomicU64::new(0),
        })
    }

    /// Close the probe's connection (at shutdown, so nothing holds the database open).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Probes this probe has run (answers not from the cache) since it was made.
    pub fn probes_run(&self) -> u64 {
        self.probes.load(Ordering::Relaxed)
    }

    /// The last answer if it is fresh, else a new probe (one at a time: callers that
    /// arrive during a probe wait for it and share its answer).
    pub async fn check(&self) -> Readiness {
        let mut last = self.last.lock().await;
        if let Some((at, readiness)) = *last
            && at.elapsed() < self.ttl
        {
            return readiness;
        }
        metrics::counter!(READY_PROBES_TOTAL, "server" => self.server).increment(1);
        self.probes.fetch_add(1, Ordering::Relaxed);
        let pg = tokio::time::timeout(PROBE_LIMIT, sqlx::query("SELECT 1").execute(&self.pool));
        let redis = tokio::time::timeout(PROBE_LIMIT, self.queue.ping());
        let (pg, redis) = tokio::join!(pg, redis);
        let readiness = Readiness {
            postgres: matches!(pg, Ok(Ok(_))),
            redis: matches!(redis, Ok(Ok(()))),
        };
        *last = Some((Instant::now(), readiness));
        readiness
    }
}

/// One line of a `/ready` answer.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    /// Its key in the JSON answer (`postgres`, `redis`, `live_feed`).
    pub name: &'static str,
    /// Whether it answered.
    pub ok: bool,
    /// Whether the server is unready without it (a merely reported check is not).
    pub required: bool,
}

impl Check {
    /// A check the server cannot serve without.
    pub fn required(name: &'static str, ok: bool) -> Check {
        Check {
            name,
            ok,
            required: true,
        }
    }

    /// A check that is reported but does not make the server unready.
    pub fn reported(name: &'static str, ok: bool) -> Check {
        Check {
            name,
            ok,
            required: false,
        }
    }
}

/// The answer every server's `/ready` gives: 200 `{"status":"ok", <check>: "ok", …}` when
/// every required check passed, else 503 with `"unavailable"` where it failed.
pub fn answer(checks: &[Check]) -> (StatusCode, Json<Value>) {
    let word = |ok: bool| Value::from(if ok { "ok" } else { "unavailable" });
    let ready = checks.iter().all(|c| c.ok || !c.required);
    let mut body = Map::new();
    body.insert("status".into(), word(ready));
    for check in checks {
        body.insert(check.name.into(), word(check.ok));
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(Value::Object(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_required_check_makes_the_answer_503_but_a_reported_one_does_not() {
        let (status, Json(body)) = answer(&[
            Check::required("postgres", true),
            Check::reported("redis", false),
        ]);
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            serde_json::json!({"status": "ok", "postgres": "ok", "redis": "unavailable"})
        );
        let (status, Json(body)) = answer(&[
            Check::required("postgres", false),
            Check::required("redis", true),
        ]);
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["status"], "unavailable");
        assert_eq!(body["postgres"], "unavailable");
    }
}
