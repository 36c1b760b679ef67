//! The one error envelope every route answers with: `{"error": "<code>"}`.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use shopwire_core::signature::SignatureError;

/// What a shed delivery is told: retry in a second (in-flight deliveries take milliseconds).
const RETRY_AFTER_SECS: &str = "1";

/// Every way a request can fail, each with its status and stable code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Missing, unparsable or non-matching signature (or no secret configured).
    #[error("invalid signature")]
    InvalidSignature,
    /// Signed, but too old or too far in the future.
    #[error("timestamp out of tolerance")]
    TimestampOutOfTolerance,
    /// Body over `WEBHOOK_MAX_BODY_BYTES`.
    #[error("payload too large")]
    PayloadTooLarge,
    /// Verified, but not JSON or missing the provider's required fields.
    #[error("malformed payload")]
    MalformedPayload,
    /// The client did not send its body in time.
    #[error("request timeout")]
    RequestTimeout,
    /// The body could not be read (client went away mid-upload).
    #[error("unreadable body")]
    UnreadableBody,
    /// `WEBHOOK_MAX_IN_FLIGHT` deliveries are already in flight: shed before any work; the
    /// provider retries after `Retry-After`.
    #[error("overloaded")]
    Overloaded,
    /// Postgres could not record the delivery: the provider should retry.
    #[error("storage unavailable")]
    Unavailable(#[source] std::sync::Arc<sqlx::Error>),
    /// No such route.
    #[error("not found")]
    NotFound,
    /// Route exists, method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::InvalidSignature => (StatusCode::UNAUTHORIZED, "invalid_signature"),
            ApiError::TimestampOutOfTolerance => {
                (StatusCode::UNAUTHORIZED, "timestamp_out_of_tolerance")
            }
            ApiError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::MalformedPayload => (StatusCode::BAD_REQUEST, "malformed_payload"),
            ApiError::RequestTimeout => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
            ApiError::UnreadableBody => (StatusCode::BAD_REQUEST, "unreadable_body"),
            ApiError::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
        }
    }

    /// The stable code, for metrics labels.
    pub fn code(&self) -> &'static str {
        self.status_and_code().1
    }
}

impl From<SignatureError> for ApiError {
    fn from(e: SignatureError) -> Self {
        match e {
            SignatureError::TimestampOutOfTolerance => ApiError::TimestampOutOfTolerance,
            _ => ApiError::InvalidSignature,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        // Logged once, here, with the cause chain; the body says nothing internal. Only what
        // needs a person is an ERROR (and so a Sentry event): Postgres refusing deliveries.
        // Shed load is the limit doing its job; a bad signature or body is the sender's.
        match &self {
            ApiError::Unavailable(cause) => {
                tracing::error!(error.code = code, error.cause = %cause, "request failed");
            }
            ApiError::Overloaded => {
                tracing::info!(error.code = code, "delivery shed at WEBHOOK_MAX_IN_FLIGHT");
            }
            ApiError::NotFound | ApiError::MethodNotAllowed => {}
            _ => tracing::warn!(error.code = code, "request refused"),
        }
        let body = Json(json!({ "error": code }));
        match self {
            ApiError::Overloaded => {
                (status, [(header::RETRY_AFTER, RETRY_AFTER_SECS)], body).into_response()
            }
            _ => (status, body).into_response(),
        }
    }
}
