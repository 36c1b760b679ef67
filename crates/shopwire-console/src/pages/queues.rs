//! `/queues`.

use axum::routing::get;
use axum::{Extension, Router};
use maud::html;

use crate::auth::Session;
use crate::layout::{Page, Section, page};
use crate::state::ConsoleState;

/// This page's routes (the router adds the session check).
pub fn routes() -> Router<ConsoleState> {
    Router::new().route("/queues", get(index))
}

/// `GET /queues`.
pub async fn index(Extension(session): Extension<Session>) -> Page {
    page(
        "queues",
        Section::None,
        Some(&session),
        html! { h1 { "queues" } },
    )
}
