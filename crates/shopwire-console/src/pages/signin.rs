//! `GET|POST /signin`, `POST /signout`.

use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use maud::html;
use serde::Deserialize;

use crate::auth::{COOKIE, SignInError, safe_next};
use crate::error::PageError;
use crate::layout::{Section, page};
use crate::state::ConsoleState;

/// `?next=` of the sign-in page.
#[derive(Debug, Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub struct SignInForm {
    password: String,
    next: Option<String>,
}

/// `GET /signin`.
pub async fn form(Query(next): Query<Next>) -> Response {
    form_page(next.next.as_deref(), None).into_response()
}

fn form_page(next: Option<&str>, problem: Option<&str>) -> crate::layout::Page {
    page(
        "Sign in",
        Section::None,
        None,
        html! {
            h1 { "Sign in" }
            @if let Some(problem) = problem {
                p #error role="alert" { (problem) }
            }
            form #signin method="post" action="/signin" {
                input type="hidden" name="next" value=(safe_next(next));
                label { "Password " input type="password" name="password" autocomplete="current-password" required autofocus; }
                button type="submit" { "Sign in" }
            }
        },
    )
}

/// `POST /signin`: a session cookie and on to `next`, or the form again with the reason.
pub async fn submit(
    State(state): State<ConsoleState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = safe_next(form.next.as_deref()).to_owned();
    match state.auth.sign_in(peer.ip(), form.password).await {
        Ok(token) => {
            let jar = jar.add(state.auth.cookie(token));
            (jar, Redirect::to(&next)).into_response()
        }
        Err(SignInError::Wrong) => {
            tracing::info!(peer = %peer.ip(), "console: wrong password");
            (
                StatusCode::UNAUTHORIZED,
                form_page(Some(&next), Some("That is not the password.")),
            )
                .into_response()
        }
        Err(SignInError::TooMany) => {
            tracing::warn!(peer = %peer.ip(), "console: sign-in attempts limited");
            PageError::TooManyAttempts.into_response()
        }
    }
}

/// The sign-out form (its CSRF token).
#[derive(Debug, Deserialize)]
pub struct SignOutForm {
    csrf: String,
}

/// `POST /signout`.
pub async fn sign_out(
    State(state): State<ConsoleState>,
    axum::Extension(session): axum::Extension<crate::auth::Session>,
    jar: CookieJar,
    Form(form): Form<SignOutForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    if let Some(cookie) = jar.get(COOKIE) {
        state.auth.sign_out(cookie.value());
    }
    let jar = jar.remove(state.auth.removal());
    Ok((jar, Redirect::to("/signin")).into_response())
}
