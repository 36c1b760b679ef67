//! `/inventory`.

use axum::routing::get;
use axum::{Extension, Router};
use maud::html;

use crate::auth::Session;
use crate::layout::{Page, Section, page};
use crate::state::ConsoleState;

/// This page's routes (the router adds the session check).
pub fn routes() -> Router<ConsoleState> {
    Router::new().route("/inventory", get(index))
}

/// `GET /inventory`.
pub async fn index(Extension(session): Extension<Session>) -> Page {
    page(
        "inventory",
        Section::None,
        Some(&session),
        html! { h1 { "inventory" } },
    )
}
