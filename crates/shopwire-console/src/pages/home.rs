//! `GET /`: straight to the live view.

use axum::response::Redirect;

/// `GET /`.
pub async fn index() -> Redirect {
    Redirect::to("/live")
}
