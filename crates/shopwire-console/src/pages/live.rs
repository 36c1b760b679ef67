//! `/live`: the streamers; `/live/{streamer}`: one live — what is pinned, the lineup and its
//! stock, claims as they happen, unpaid holds counting down, waitlists — kept current by
//! `/live/{streamer}/events` (server-sent events from the [`Feed`](crate::feed::Feed)).
//! Pin, unpin and the lineup's codes are changed from the page.

use std::collections::HashSet;
use std::convert::Infallible;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use futures::{Stream, StreamExt, stream};
use maud::html;
use serde::Deserialize;
use shopwire_core::db::feed;
use shopwire_core::db::lineup::{self, LineupError};
use shopwire_core::db::live_pins::{self, PinError};
use shopwire_core::db::products;
use tokio_stream::wrappers::BroadcastStream;

use crate::auth::Session;
use crate::error::PageError;
use crate::feed::Update;
use crate::layout::{Done, Page, Section, csrf_field, flash, page};
use crate::live_view::{Panel, claim_row, claims_table};
use crate::state::ConsoleState;

/// Claim lines a live page starts with.
const RECENT_CLAIMS: i64 = 100;
/// Missed claim lines a (re)connecting stream catches up with, at most.
const CATCH_UP: i64 = 500;

/// `GET /live`: the streamers with a lineup, a pin or claims, and a box to open any other.
pub async fn index(
    State(state): State<ConsoleState>,
    Extension(session): Extension<Session>,
) -> Result<Page, PageError> {
    let streamers = feed::streamers(&state.pool, 50).await?;
    Ok(page(
        "Live",
        Section::Live,
        Some(&session),
        html! {
            h1 { "Lives" }
            form #open-live method="get" action="/live/open" {
                label { "Streamer " input name="streamer" required maxlength="256"; }
                button type="submit" { "Open" }
            }
            @if streamers.is_empty() {
                p { "No live has a lineup, a pin or claims yet." }
            } @else {
                ul #streamers {
                    @for s in &streamers {
                        li { a href=(live_href(s)) { (s) } }
                    }
                }
            }
        },
    ))
}

/// `?streamer=` of the open box.
#[derive(Debug, Deserialize)]
pub struct Open {
    streamer: String,
}

/// `GET /live/open?streamer=`.
pub async fn open(Query(open): Query<Open>) -> Result<Redirect, PageError> {
    let streamer = checked_streamer(&open.streamer)?;
    Ok(Redirect::to(&live_href(streamer)))
}

/// `GET /live/{streamer}`.
pub async fn show(
    State(state): State<ConsoleState>,
    Extension(session): Extension<Session>,
    Path(streamer): Path<String>,
    Query(done): Query<Done>,
) -> Result<Page, PageError> {
    let streamer = checked_streamer(&streamer)?;
    let panel = Panel::load(&state.pool, streamer).await?;
    let claims = feed::claims_of(&state.pool, streamer, None, RECENT_CLAIMS).await?;
    let after = claims.first().map(|e| e.id).unwrap_or(0);
    let catalog = products::list(&state.pool).await?;
    let base = live_href(streamer);
    let body = html! {
        div #live data-streamer=(streamer) data-after=(after) {
            h1 { "Live: " (streamer) span #feed-state { "connecting…" } }
            (flash(done.done.as_deref()))
            div.controls {
                form #pin-form method="post" action=(format!("{base}/pin")) {
                    (csrf_field(&session))
                    label { "Pin " select name="sku" required {
                        @for p in &catalog {
                            option value=(p.sku) selected[panel.pinned.as_ref().is_some_and(|pin| pin.sku == p.sku)] {
                                (p.sku) " — " (p.title)
                            }
                        }
                    } }
                    button type="submit" { "Pin" }
                }
                form #unpin-form method="post" action=(format!("{base}/unpin")) {
                    (csrf_field(&session))
                    button type="submit" { "Unpin" }
                }
                form #lineup-add method="post" action=(format!("{base}/lineup")) {
                    (csrf_field(&session))
                    label { "Add to lineup " input name="item" placeholder="SKU or product code" required maxlength="128"; }
                    label { "as " input name="code" placeholder="next free (A1, A2 …)" maxlength="8" size="6"; }
                    button type="submit" { "Add" }
                }
                form #lineup-remove method="post" action=(format!("{base}/lineup/remove")) {
                    (csrf_field(&session))
                    label { "Remove code " input name="code" required maxlength="8" size="6"; }
                    button type="submit" { "Remove" }
                }
            }
            div.live-grid {
                div #panel { (panel.render()) }
                section #claims-section {
                    h2 { "Claims" }
                    (claims_table(&claims))
                }
            }
        }
    };
    Ok(page(
        &format!("Live: {streamer}"),
        Section::Live,
        Some(&session),
        body,
    ))
}

/// `?after=` of the event stream.
#[derive(Debug, Deserialize)]
pub struct After {
    after: Option<i64>,
}

/// `GET /live/{streamer}/events`: `hello`, then a fresh `panel` and the `claim` lines the
/// page has not shown (after `?after=` or the browser's `Last-Event-ID`), then every new
/// claim line and panel as they are committed; `reload` when the feed may have missed some.
pub async fn events(
    State(state): State<ConsoleState>,
    Path(streamer): Path<String>,
    Query(after): Query<After>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, PageError> {
    let streamer = checked_streamer(&streamer)?.to_owned();
    let last_seen = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .or(after.after);
    // Subscribe before reading what was missed, so nothing falls between the two.
    let (watch, updates) = state.feed.watch(&streamer);
    let panel = Panel::load(&state.pool, &streamer).await?;
    let missed = match last_seen {
        Some(id) => feed::claims_of(&state.pool, &streamer, Some(id), CATCH_UP).await?,
        None => Vec::new(),
    };
    let shown: HashSet<i64> = missed.iter().map(|e| e.id).collect();
    let mut first = vec![
        Event::default().event("hello").data("connected"),
        Event::default()
            .event("panel")
            .data(panel.render().into_string()),
    ];
    first.extend(missed.iter().rev().map(|e| {
        Event::default()
            .event("claim")
            .id(e.id.to_string())
            .data(claim_row(e).into_string())
    }));
    let live = BroadcastStream::new(updates).filter_map(move |update| {
        // The stream owns the watch: the streamer is unwatched when the page goes.
        let _watching = &watch;
        let event = match update {
            Ok(update) if update.streamer().is_some_and(|s| s != streamer) => None,
            Ok(Update::Claim { event_id, html, .. }) if !shown.contains(&event_id) => Some(
                Event::default()
                    .event("claim")
                    .id(event_id.to_string())
                    .data(&*html),
            ),
            Ok(Update::Claim { .. }) => None,
            Ok(Update::Panel { html, .. }) => Some(Event::default().event("panel").data(&*html)),
            // Missed events (a dropped LISTEN, or this page fell too far behind).
            Ok(Update::Resync) | Err(_) => Some(Event::default().event("reload").data("reload")),
        };
        std::future::ready(event.map(Ok))
    });
    Ok(Sse::new(stream::iter(first).map(Ok).chain(live)).keep_alive(KeepAlive::default()))
}

/// A form's CSRF token and nothing else.
#[derive(Debug, Deserialize)]
pub struct Plain {
    csrf: String,
}

/// The pin form.
#[derive(Debug, Deserialize)]
pub struct PinForm {
    csrf: String,
    sku: String,
}

/// `POST /live/{streamer}/pin`.
pub async fn pin(
    State(state): State<ConsoleState>,
    Extension(session): Extension<Session>,
    Path(streamer): Path<String>,
    Form(form): Form<PinForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    let streamer = checked_streamer(&streamer)?;
    let sku = form.sku.trim();
    let pin = live_pins::pin(&state.pool, streamer, sku)
        .await
        .map_err(|e| match e {
            PinError::UnknownSku(sku) => {
                PageError::BadRequest(format!("no product with SKU `{sku}`"))
            }
            PinError::Database(e) => e.into(),
        })?;
    state.feed.touch(streamer);
    Ok(back(streamer, &format!("pinned {}", pin.sku)))
}

/// `POST /live/{streamer}/unpin`.
pub async fn unpin(
    State(state): State<ConsoleState>,
    Extension(session): Extension<Session>,
    Path(streamer): Path<String>,
    Form(form): Form<Plain>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    let streamer = checked_streamer(&streamer)?;
    let closed = live_pins::unpin(&state.pool, streamer).await?;
    state.feed.touch(streamer);
    let done = match closed {
        Some(pin) => format!("unpinned {}", pin.sku),
        None => "nothing was pinned".to_owned(),
    };
    Ok(back(streamer, &done))
}

/// The lineup form.
#[derive(Debug, Deserialize)]
pub struct LineupForm {
    csrf: String,
    item: String,
    code: Option<String>,
}

/// `POST /live/{streamer}/lineup`: add an item under a claim code.
pub async fn lineup_add(
    State(state): State<ConsoleState>,
    Extension(session): Extension<Session>,
    Path(streamer): Path<String>,
    Form(form): Form<LineupForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    let streamer = checked_streamer(&streamer)?;
    let item = form.item.trim();
    let code = form
        .code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let code = lineup::add(&state.pool, streamer, item, code)
        .await
        .map_err(|e| match e {
            LineupError::Db(e) => e.into(),
            refused => PageError::BadRequest(refused.to_string()),
        })?;
    state.feed.touch(streamer);
    Ok(back(streamer, &format!("{item} is {code}")))
}

/// The remove-code form.
#[derive(Debug, Deserialize)]
pub struct RemoveForm {
    csrf: String,
    code: String,
}

/// `POST /live/{streamer}/lineup/remove`.
pub async fn lineup_remove(
    State(state): State<ConsoleState>,
    Extension(session): Extension<Session>,
    Path(streamer): Path<String>,
    Form(form): Form<RemoveForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    let streamer = checked_streamer(&streamer)?;
    let code = form.code.trim().to_ascii_uppercase();
    if !lineup::remove(&state.pool, streamer, &code).await? {
        return Err(PageError::NotFound(format!(
            "no item {code} in {streamer}'s lineup"
        )));
    }
    state.feed.touch(streamer);
    Ok(back(streamer, &format!("removed {code}")))
}

/// Back to the live page with a notice.
fn back(streamer: &str, done: &str) -> Response {
    Redirect::to(&format!(
        "{}?done={}",
        live_href(streamer),
        crate::layout::encode(done)
    ))
    .into_response()
}

/// `/live/{streamer}`, percent-encoded.
pub fn live_href(streamer: &str) -> String {
    format!("/live/{}", crate::layout::encode(streamer))
}

/// The streamer as stored (1 to 256 characters), or a 400.
fn checked_streamer(streamer: &str) -> Result<&str, PageError> {
    let trimmed = streamer.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 256 {
        return Err(PageError::BadRequest(
            "a streamer's name is 1 to 256 characters".into(),
        ));
    }
    Ok(trimmed)
}
