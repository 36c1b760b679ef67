//! The one error type of the console's handlers: a status and a sentence for the person at
//! the screen, rendered as a page. Database trouble is a 503 ("try again"), never a 500.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::layout;

/// What went wrong, in words for the page.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The form or link asked for something invalid.
    #[error("{0}")]
    BadRequest(String),
    /// Not signed in.
    #[error("sign in first")]
    Unauthorized,
    /// A form without this session's CSRF token.
    #[error("{0}")]
    Forbidden(String),
    /// No such thing.
    #[error("{0}")]
    NotFound(String),
    /// Refused by a rule (e.g. stock below what is reserved).
    #[error("{0}")]
    Conflict(String),
    /// Too many sign-in attempts.
    #[error("too many sign-in attempts from this address: wait a minute and try again")]
    TooManyAttempts,
    /// Postgres or Redis did not answer.
    #[error("{0}")]
    Unavailable(String),
}

impl PageError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PageError::Unauthorized => StatusCode::UNAUTHORIZED,
            PageError::Forbidden(_) => StatusCode::FORBIDDEN,
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::Conflict(_) => StatusCode::CONFLICT,
            PageError::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            PageError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<sqlx::Error> for PageError {
    fn from(e: sqlx::Error) -> Self {
        tracing::warn!(error = %e, "console: database call failed");
        PageError::Unavailable("the database did not answer: try again in a moment".into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (status, layout::error_page(status, &self.to_string())).into_response();
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("30"),
            );
        }
        response
    }
}
