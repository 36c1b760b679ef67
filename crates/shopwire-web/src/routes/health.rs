//! `/health` (liveness), `/ready` (Postgres and Redis answer; cached, on its own connection:
//! see [`shopwire_http::ready`]) and `/metrics`.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use shopwire_http::Check;

use crate::state::AppState;

/// Health, readiness and metrics routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let readiness = state.ready.check().await;
    shopwire_http::answer(&[
        Check::required("postgres", readiness.postgres),
        Check::required("redis", readiness.redis),
    ])
}

async fn metrics() -> String {
    shopwire_core::telemetry::metrics::handle().render()
}
