//! `/health` (the process answers) and `/ready` (Postgres answers and the live feed is
//! listening: without it live pages would not update). Redis is reported but not required:
//! only the Queues page's counts and replay pushes need it, and both say so when it is away.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use crate::state::ConsoleState;

/// `GET /health`.
pub async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /ready`.
pub async fn ready(State(state): State<ConsoleState>) -> impl IntoResponse {
    let limit = Duration::from_secs(2);
    let pg = tokio::time::timeout(limit, sqlx::query("SELECT 1").execute(&state.pool));
    let redis = tokio::time::timeout(limit, state.queue.ping());
    let (pg, redis) = tokio::join!(pg, redis);
    let pg_ok = matches!(pg, Ok(Ok(_)));
    let redis_ok = matches!(redis, Ok(Ok(())));
    let feed_ok = state.feed.is_listening();
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let ready = pg_ok && feed_ok;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": word(ready),
            "postgres": word(pg_ok),
            "live_feed": word(feed_ok),
            "redis": word(redis_ok),
        })),
    )
}
