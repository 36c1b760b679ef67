//! `POST /webhooks/{stripe,tiktok-shop,tiktok,comments}`: one generic handler, parameterised
//! by provider, in the order docs/contract.md §2 fixes: size → signature → record → enqueue →
//! answer. Recording and enqueueing happen in the [`crate::recorder`]'s shared batches.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::routing::post;
use axum::{Json, Router};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Serialize;
use shopwire_core::db::inbox::{self, Recorded};
use shopwire_core::domain::{Delivery, Provider};
use tracing::Instrument;

use crate::error::ApiError;
use crate::metrics::{DELIVERIES_TOTAL, INGEST_SECONDS};
use crate::recorder::RecordError;
use crate::state::AppState;

/// The four webhook routes.
pub fn router() -> Router<AppState> {
    Provider::ALL
        .into_iter()
        .fold(Router::new(), |router, provider| {
            router.route(
                &format!("/webhooks/{}", provider.route_slug()),
                post(
                    move |state: State<AppState>, headers: HeaderMap, body: Body| {
                        ingest(provider, state, headers, body)
                    },
                ),
            )
        })
}

/// The 200 answer: accepted (new) or duplicate (already recorded).
#[derive(Debug, Serialize)]
pub struct Ack {
    status: &'static str,
    id: String,
}

async fn ingest(
    provider: Provider,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Ack>, ApiError> {
    let started = Instant::now();
    let span = tracing::info_span!(
        "delivery",
        provider = provider.as_str(),
        inbox_id = tracing::field::Empty
    );
    let result = receive(provider, &state, &headers, body)
        .instrument(span)
        .await;
    let outcome = match &result {
        Ok(ack) => ack.status,
        Err(e) => e.code(),
    };
    let labels = [("provider", provider.as_str()), ("outcome", outcome)];
    metrics::counter!(DELIVERIES_TOTAL, &labels).increment(1);
    metrics::histogram!(INGEST_SECONDS, &labels).record(started.elapsed().as_secs_f64());
    result.map(Json)
}

async fn receive(
    provider: Provider,
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Ack, ApiError> {
    let bytes = tokio::time::timeout(
        BODY_DEADLINE,
        read_limited(headers, body, state.max_body_bytes),
    )
    .await
    .map_err(|_| ApiError::RequestTimeout)??;

    let verifier = state.verifiers.get(&provider).ok_or_else(|| {
        tracing::warn!("no secret configured for this route; refusing");
        ApiError::InvalidSignature
    })?;
    let header = headers.get(verifier.header_name()).map(|v| v.as_bytes());
    verifier.verify(header, &bytes, unix_now())?;

    let delivery = match Delivery::parse(provider, &bytes) {
        Ok(delivery) => delivery,
        Err(malformed) => {
            let recorded = within_deadline(inbox::record_rejected(
                &state.pool,
                provider,
                &bytes,
                malformed.reason(),
            ))
            .await?;
            tracing::Span::current().record("inbox_id", recorded.id().get());
            tracing::warn!(
                reason = malformed.reason(),
                "verified delivery is malformed; kept as rejected"
            );
            return Err(ApiError::MalformedPayload);
        }
    };

    let event_type = delivery.event_type.clone();
    let recorded = within_deadline(state.recorder.record(provider, delivery, bytes)).await?;
    tracing::Span::current().record("inbox_id", recorded.id().get());
    let status = match recorded {
        Recorded::New(_) => "accepted",
        Recorded::Duplicate(_) => "duplicate",
    };
    tracing::info!(event_type, status, "delivery recorded");
    Ok(Ack {
        status,
        id: recorded.id().to_string(),
    })
}

/// Read the body, refusing anything over `limit` before reading it whole: an honest
/// `Content-Length` is refused at once, a lying or chunked one when it crosses the limit.
async fn read_limited(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(ApiError::PayloadTooLarge);
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(ApiError::PayloadTooLarge),
        Err(_) => Err(ApiError::UnreadableBody),
    }
}

/// A client that trickles its body this long gets 408 instead of holding a connection.
const BODY_DEADLINE: Duration = Duration::from_secs(10);
/// Recording a delivery that takes longer than this answers 503; the provider retries.
const RECORD_DEADLINE: Duration = Duration::from_secs(5);

async fn within_deadline<T, E: Into<RecordError>>(
    fut: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, ApiError> {
    match tokio::time::timeout(RECORD_DEADLINE, fut).await {
        Ok(result) => result.map_err(|e| ApiError::Unavailable(e.into())),
        Err(_) => Err(ApiError::Unavailable(Arc::new(sqlx::Error::Io(
            std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "recording the delivery took longer than its deadline",
            ),
        )))),
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
