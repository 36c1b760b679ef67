//! `/orders`.

use axum::Extension;
use maud::html;

use crate::auth::Session;
use crate::layout::{Page, Section, page};

/// `GET /orders`.
pub async fn index(Extension(session): Extension<Session>) -> Page {
    page(
        "orders",
        Section::None,
        Some(&session),
        html! { h1 { "orders" } },
    )
}
