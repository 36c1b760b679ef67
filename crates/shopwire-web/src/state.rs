//! What every request handler shares.

use std::collections::HashMap;
use std::sync::Arc;

use shopwire_core::config::Settings;
use shopwire_core::domain::Provider;
use shopwire_core::signature::Verifier;
use shopwire_queue::QueueClient;
use sqlx::PgPool;

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
}

impl AppState {
    /// Build the shared state from settings and connections; starts the recorder's
    /// flushers, so call it inside the runtime.
    pub fn new(settings: &Settings, pool: PgPool, queue: QueueClient) -> Self {
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
        }
    }
}
