//! `/health` (the process answers) and `/ready` (Postgres answers and the live feed is
//! listening: without it live pages would not update). Redis is reported but not required:
//! only the Queues page's counts and replay pushes need it, and both say so when it is away.

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use serde_json::json;
use shopwire_http::Check;

use crate::state::ConsoleState;

/// `GET /health`.
pub async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /ready`.
pub async fn ready(State(state): State<ConsoleState>) -> impl IntoResponse {
    let readiness = state.ready.check().await;
    shopwire_http::answer(&[
        Check::required("postgres", readiness.postgres),
        Check::required("live_feed", state.feed.is_listening()),
        Check::reported("redis", readiness.redis),
    ])
}
