//! The endpoint the `outbound` scenario registers: a minimal axum server on 127.0.0.1 that
//! notes when each delivery arrived and answers 200 at once (no signature check: the
//! worker's tests check signatures; here only the time of arrival matters).
//!
//! Also a listener on the channel `emit_event` notifies, which Postgres delivers at commit:
//! when this process first heard of each event.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::postgres::PgListener;

/// The channel `emit_event` notifies with the event's id.
const CHANNEL: &str = "shopwire_outbound";

/// One delivery as it arrived.
#[derive(Debug, Clone)]
pub struct Receipt {
    /// From `webhook-id: msg_<event>_<endpoint>`.
    pub event_id: Option<i64>,
    /// The body's `type`.
    pub event_type: String,
    /// The body's `data.comment_id` (claim events of comments).
    pub comment_id: Option<String>,
    /// Wall clock at arrival (compared with Postgres' `now()` on the same machine).
    pub wall: DateTime<Utc>,
    /// Monotonic clock at arrival.
    pub at: Instant,
}

#[derive(Deserialize)]
struct Body {
    #[serde(rename = "type", default)]
    event_type: String,
    #[serde(default)]
    data: serde_json::Value,
}

/// Every delivery received so far.
#[derive(Debug, Clone, Default)]
pub struct Receipts(Arc<Mutex<Vec<Receipt>>>);

impl Receipts {
    /// Takes every receipt so far, leaving none.
    pub fn take(&self) -> Vec<Receipt> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// How many of the receipts so far match `pick`, without taking them.
    pub fn count(&self, pick: impl Fn(&Receipt) -> bool) -> usize {
        let receipts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        receipts.iter().filter(|r| pick(r)).count()
    }
}

/// Serves on an ephemeral port of 127.0.0.1 until the process ends; returns its base URL
/// and what it receives.
pub async fn start() -> anyhow::Result<(String, Receipts)> {
    let receipts = Receipts::default();
    let app = Router::new()
        .route("/", post(receive))
        .with_state(receipts.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .context("failed to listen on 127.0.0.1")?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("outbound receiver failed: {e}");
        }
    });
    Ok((url, receipts))
}

async fn receive(State(receipts): State<Receipts>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let (at, wall) = (Instant::now(), Utc::now());
    let event_id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|id| id.strip_prefix("msg_")?.split('_').next()?.parse().ok());
    let parsed: Option<Body> = serde_json::from_slice(&body).ok();
    let (event_type, comment_id) = match parsed {
        Some(b) => (
            b.event_type,
            b.data["comment_id"].as_str().map(str::to_owned),
        ),
        None => (String::new(), None),
    };
    receipts
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Receipt {
            event_id,
            event_type,
            comment_id,
            wall,
            at,
        });
    StatusCode::OK
}

/// When this process first heard each event's commit notification.
#[derive(Debug, Clone, Default)]
pub struct Commits(Arc<Mutex<HashMap<i64, Instant>>>);

impl Commits {
    /// When event `id` was heard of, if it was.
    pub fn get(&self, id: i64) -> Option<Instant> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .copied()
    }
}

/// LISTENs on `emit_event`'s channel until the process ends.
pub async fn listen(database_url: &str) -> anyhow::Result<Commits> {
    let mut listener = PgListener::connect(database_url)
        .await
        .context("failed to connect the commit listener")?;
    listener
        .listen(CHANNEL)
        .await
        .context("failed to LISTEN for outbound events")?;
    let commits = Commits::default();
    let seen = commits.clone();
    tokio::spawn(async move {
        while let Ok(n) = listener.recv().await {
            let at = Instant::now();
            if let Ok(id) = n.payload().parse() {
                seen.0
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry(id)
                    .or_insert(at);
            }
        }
    });
    Ok(commits)
}
