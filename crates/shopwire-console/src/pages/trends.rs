//! `/trends`.

use axum::Extension;
use maud::html;

use crate::auth::Session;
use crate::layout::{Page, Section, page};

/// `GET /trends`.
pub async fn index(Extension(session): Extension<Session>) -> Page {
    page(
        "trends",
        Section::None,
        Some(&session),
        html! { h1 { "trends" } },
    )
}
