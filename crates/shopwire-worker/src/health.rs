//! The worker's own small HTTP server on `WORKER_PORT`: `/health`, `/ready`, `/metrics`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::context::JobContext;

/// Routes of the health server.
pub fn router(ctx: Arc<JobContext>) -> Router {
    Router::new()
        .route("/health", get(|| async { Json(json!({ "status": "ok" })) }))
        .route("/ready", get(ready))
        .route(
            "/metrics",
            get(|| async { shopwire_core::telemetry::metrics::handle().render() }),
        )
        .with_state(ctx)
}

async fn ready(State(ctx): State<Arc<JobContext>>) -> (StatusCode, Json<Value>) {
    let limit = Duration::from_secs(2);
    let pg = tokio::time::timeout(limit, sqlx::query("SELECT 1").execute(&ctx.pool));
    let redis = tokio::time::timeout(limit, ctx.queue.ping());
    let (pg, redis) = tokio::join!(pg, redis);
    let (pg_ok, redis_ok) = (matches!(pg, Ok(Ok(_))), matches!(redis, Ok(Ok(()))));
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let status = if pg_ok && redis_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(
            json!({ "status": word(pg_ok && redis_ok), "postgres": word(pg_ok), "redis": word(redis_ok) }),
        ),
    )
}
