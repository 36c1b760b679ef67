//! The page shell every console page shares: head, navigation, sign-out, and the helpers
//! pages use for forms, money and times.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use shopwire_core::domain::Money;

use crate::auth::Session;

/// A rendered page (`Html` with the console's headers).
pub struct Page(pub Markup);

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut response = Html(self.0.into_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
        headers.insert(
            "x-frame-options",
            axum::http::HeaderValue::from_static("DENY"),
        );
        headers.insert(
            "content-security-policy",
            axum::http::HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
            ),
        );
        response
    }
}

/// The navigation's sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// `/live`.
    Live,
    /// `/inventory`.
    Inventory,
    /// `/orders`.
    Orders,
    /// `/queues`.
    Queues,
    /// `/trends`.
    Trends,
    /// Sign-in and errors.
    None,
}

const SECTIONS: [(Section, &str, &str); 5] = [
    (Section::Live, "/live", "Live"),
    (Section::Inventory, "/inventory", "Inventory"),
    (Section::Orders, "/orders", "Orders"),
    (Section::Queues, "/queues", "Queues"),
    (Section::Trends, "/trends", "Trends"),
];

/// A whole page titled `title` with `body` under the navigation of `current`.
pub fn page(title: &str, current: Section, session: Option<&Session>, body: Markup) -> Page {
    Page(html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Shopwire" }
                link rel="stylesheet" href="/assets/console.css";
                script src="/assets/console.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/" { "Shopwire" }
                    @if let Some(session) = session {
                        nav {
                            @for (section, href, label) in SECTIONS {
                                a href=(href) class=[(section == current).then_some("current")] { (label) }
                            }
                        }
                        form.signout method="post" action="/signout" {
                            (csrf_field(session))
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    })
}

/// The page of an error.
pub fn error_page(status: StatusCode, message: &str) -> Page {
    Page(html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (status.as_u16()) " · Shopwire" }
                link rel="stylesheet" href="/assets/console.css";
            }
            body {
                main {
                    h1 { (status.canonical_reason().unwrap_or("Error")) }
                    p #error role="alert" { (message) }
                    p { a href="/" { "Back to the console" } }
                }
            }
        }
    })
}

/// The hidden field carrying the session's CSRF token; every form has one.
pub fn csrf_field(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// `?done=…`: what a form did, shown by [`flash`] on the page it redirects to.
#[derive(Debug, serde::Deserialize)]
pub struct Done {
    /// The notice.
    pub done: Option<String>,
}

/// A one-line notice at the top of a page (after a redirect: `?done=…`).
pub fn flash(message: Option<&str>) -> Markup {
    html! {
        @if let Some(message) = message {
            p #flash role="status" { (message) }
        }
    }
}

/// An amount in its currency, e.g. `79.99 USD`.
pub fn money(cents: i64, currency: &str) -> String {
    format!(
        "{} {}",
        Money::stored_amount(cents, Some(currency)),
        currency.to_ascii_uppercase()
    )
}

/// A timestamp as the browser shows it (UTC, to the second), machine-readable too.
pub fn time(at: &DateTime<Utc>) -> Markup {
    html! {
        time datetime=(at.to_rfc3339()) { (at.format("%Y-%m-%d %H:%M:%S UTC")) }
    }
}

/// A countdown to `at`, kept ticking by the page script.
pub fn countdown(at: &DateTime<Utc>) -> Markup {
    let left = (*at - Utc::now()).num_seconds().max(0);
    html! {
        span.countdown data-expires=(at.to_rfc3339()) { (format!("{}:{:02}", left / 60, left % 60)) }
    }
}

/// `-` for nothing.
pub fn or_dash<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// Raw, already-escaped HTML (the SVG charts).
pub fn trusted(svg: String) -> Markup {
    PreEscaped(svg)
}

/// What [`encode`] leaves as it is: the unreserved characters (letters, digits, `-`, `.`,
/// `_`, `~`); everything else (`/`, `?`, `#`, `%`, `&`, spaces, non-ASCII …) is encoded.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `s` percent-encoded for a path segment or a query value.
pub fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}
