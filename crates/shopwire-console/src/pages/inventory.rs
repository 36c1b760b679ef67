//! `/inventory`.

use axum::Extension;
use maud::html;

use crate::auth::Session;
use crate::layout::{Page, Section, page};

/// `GET /inventory`.
pub async fn index(Extension(session): Extension<Session>) -> Page {
    page(
        "inventory",
        Section::None,
        Some(&session),
        html! { h1 { "inventory" } },
    )
}
