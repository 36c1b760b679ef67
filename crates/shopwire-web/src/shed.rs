//! Load shedding on the webhook routes: past `WEBHOOK_MAX_IN_FLIGHT` deliveries in flight a
//! new one is answered 503 with `Retry-After` before its body is read or its signature
//! checked. Providers retry a 503, so shedding loses nothing; a 2xx is still only ever sent
//! after the durable record (the handler's own rule).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::metrics::DELIVERIES_SHED_TOTAL;
use crate::state::AppState;

/// Run the webhook handler if a permit is free, else shed.
pub async fn shed(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Ok(_permit) = state.in_flight.clone().try_acquire_owned() else {
        metrics::counter!(DELIVERIES_SHED_TOTAL).increment(1);
        return ApiError::Overloaded.into_response();
    };
    next.run(request).await
}
