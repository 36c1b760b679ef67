//! The reference ceiling: a minimal axum server doing only the floor of the ingest path —
//! read the body, verify its HMAC (the same verifiers), find its dedupe key, one Postgres
//! INSERT (own table, unique key, synchronous commit on), one Redis LPUSH, answer 200.
//!
//! The same ingest load is run against it, and shopwire-web's figures are quoted as ratios.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use redis::aio::ConnectionManager;
use serde_json::json;
use shopwire_core::domain::{Delivery, Provider};
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;

use crate::args::CeilingArgs;
use crate::payloads::Signers;

/// The ceiling's table: the inbox's identity, unique key and body, nothing else.
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS bench_ceiling (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider    TEXT        NOT NULL,
    dedupe_key  TEXT        NOT NULL,
    event_type  TEXT,
    body        BYTEA       NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (provider, dedupe_key)
)";

const INSERT: &str = "INSERT INTO bench_ceiling (provider, dedupe_key, event_type, body)
    VALUES ($1, $2, $3, $4) ON CONFLICT (provider, dedupe_key) DO NOTHING RETURNING id";

#[derive(Clone)]
struct Ceiling {
    pool: PgPool,
    redis: ConnectionManager,
    list: Arc<str>,
    signers: Arc<Signers>,
}

/// Serves until SIGINT or SIGTERM.
pub async fn serve(args: CeilingArgs) -> anyhow::Result<()> {
    let options: PgConnectOptions = args
        .database_url
        .parse()
        .context("DATABASE_URL is not a Postgres URL")?;
    let options = options
        .application_name("shopwire-bench-ceiling")
        .options([("synchronous_commit", "on")]);
    // The same pool settings as shopwire-web (no ping per checkout), all opened up front.
    let pool = shopwire_core::db::pool_options(args.pool_size)
        .min_connections(args.pool_size)
        .connect_with(options)
        .await
        .context("failed to connect to Postgres")?;
    sqlx::query(CREATE_TABLE)
        .execute(&pool)
        .await
        .context("failed to create bench_ceiling")?;
    let client = redis::Client::open(args.redis_url.as_str()).context("bad REDIS_URL")?;
    let redis = ConnectionManager::new(client)
        .await
        .context("failed to connect to Redis")?;
    let state = Ceiling {
        pool,
        redis,
        list: format!("{}:ceiling", args.queue_prefix).into(),
        signers: Arc::new(Signers::new(&args.signing)),
    };
    let app = Router::new()
        .route("/webhooks/{provider}", post(receive))
        .route("/ready", get(ready))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("failed to listen on 127.0.0.1:{}", args.port))?;
    eprintln!("ceiling server listening on http://127.0.0.1:{}", args.port);
    axum::serve(listener, app)
        .with_graceful_shutdown(shopwire_core::shutdown::signal())
        .await
        .context("ceiling server failed")
}

async fn receive(
    State(c): State<Ceiling>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(provider) = slug.parse::<Provider>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let verifier = c.signers.verifier(provider);
    let header = headers.get(verifier.header_name()).map(|v| v.as_bytes());
    if verifier.verify(header, &body, unix_now()).is_err() {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_signature"})),
        )
            .into_response();
    }
    let Ok(delivery) = Delivery::parse(provider, &body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "malformed_payload"})),
        )
            .into_response();
    };
    let inserted: Result<Option<(i64,)>, _> = sqlx::query_as(INSERT)
        .bind(provider.as_str())
        .bind(&delivery.dedupe_key)
        .bind(&delivery.event_type)
        .bind(&body[..])
        .fetch_optional(&c.pool)
        .await;
    let id = match inserted {
        Ok(Some((id,))) => id,
        Ok(None) => return Json(json!({"status": "duplicate"})).into_response(),
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
    };
    let mut redis = c.redis.clone();
    let pushed: Result<(), _> = redis::cmd("LPUSH")
        .arg(&*c.list)
        .arg(id)
        .query_async(&mut redis)
        .await;
    match pushed {
        Ok(()) => Json(json!({"status": "accepted", "id": id.to_string()})).into_response(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

async fn ready(State(c): State<Ceiling>) -> StatusCode {
    let pg = sqlx::query("SELECT 1").execute(&c.pool).await.is_ok();
    let mut redis = c.redis.clone();
    let pong: Result<String, _> = redis::cmd("PING").query_async(&mut redis).await;
    if pg && pong.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
