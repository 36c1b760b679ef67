//! `/queues`.

use axum::Extension;
use maud::html;

use crate::auth::Session;
use crate::layout::{Page, Section, page};

/// `GET /queues`.
pub async fn index(Extension(session): Extension<Session>) -> Page {
    page(
        "queues",
        Section::None,
        Some(&session),
        html! { h1 { "queues" } },
    )
}
