//! What every request handler shares.

use std::collections::HashMap;
use std::sync::Arc;

use shopwire_core::config::Settings;
use shopwire_core::domain::Provider;
use shopwire_core::signature::Verifier;
use shopwire_http::ReadyProbe;
use shopwire_queue::QueueClient;
use sqlx::PgPool;
use tokio::sync::Semaphore;

use crate::recorder::Recorder;

/// Cheap to clone: everything inside is shared.
#[derive(Clone)]
pub struct AppState {
    /// The inbox database.
    pub pool: PgPool,
    /// Where jobs go.
    pub queue: QueueClient,
    /// Records deliveries in batches that share a commit, and enqueues the new ones.
    pub recorder: Recorder,
    /// Per-route verifiers; a route without one refuses every delivery.
    pub verifiers: Arc<HashMap<Provider, Verifier>>,
    /// `WEBHOOK_MAX_BODY_BYTES`.
    pub max_body_bytes: usize,
    /// `/ready`'s cached probe, on its own connection.
    pub ready: Arc<ReadyProbe>,
    /// `WEBHOOK_MAX_IN_FLIGHT` permits; a delivery that finds none is shed (503).
    pub in_flight: Arc<Semaphore>,
}

impl AppState {
    /// Build the shared state from settings and connections; starts the recorder's
    /// flushers, so call it inside the runtime.
    pub fn new(settings: &Settings, pool: PgPool, queue: QueueClient, ready: ReadyProbe) -> Self {
        let verifiers = Provider::ALL
            .into_iter()
            .filter_map(|p| settings.verifier(p).map(|v| (p, v)))
            .collect();
        Self {
            recorder: Recorder::start(pool.clone(), queue.clone()),
            pool,
            queue,
            verifiers: Arc::new(verifiers),
            max_body_bytes: settings.webhook_max_body_bytes,
            ready: Arc::new(ready),
            in_flight: Arc::new(Semaphore::new(settings.edge.webhook_max_in_flight)),
        }
    }
}
