//! The worker's own small HTTP server on `WORKER_PORT`: `/health`, `/ready` (Postgres and
//! Redis answer; cached, on its own connection: see [`shopwire_http::ready`]), `/metrics`.

use std::sync::Arc;

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use shopwire_http::{Check, ReadyProbe};

/// Routes of the health server.
pub fn router(ready: Arc<ReadyProbe>) -> Router {
    Router::new()
        .route("/health", get(|| async { Json(json!({ "status": "ok" })) }))
        .route("/ready", get(readiness))
        .route(
            "/metrics",
            get(|| async { shopwire_core::telemetry::metrics::handle().render() }),
        )
        .with_state(ready)
}

async fn readiness(State(ready): State<Arc<ReadyProbe>>) -> impl IntoResponse {
    let readiness = ready.check().await;
    shopwire_http::answer(&[
        Check::required("postgres", readiness.postgres),
        Check::required("redis", readiness.redis),
    ])
}
