//! `/orders`: the newest orders (optionally of one status); `/orders/{order_number}`: one
//! order's whole story — what `shopwire-admin orders show` prints — from the delivery it
//! came in to its payments, and the events sent about it with each endpoint's delivery.

mod story;

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Extension, Router};
use maud::html;
use serde::Deserialize;
use shopwire_core::db::inbox::{self, InboxId};
use shopwire_core::db::{orders, outbox};

use crate::auth::Session;
use crate::error::PageError;
use crate::layout::{Page, Section, encode, money, page, time};
use crate::state::ConsoleState;

/// Orders the list shows.
const LIST_LIMIT: i64 = 100;

/// The statuses an order can have, in lifecycle order.
const STATUSES: [&str; 6] = [
    "pending",
    "paid",
    "fulfilled",
    "expired",
    "refunded",
    "cancelled",
];

/// This page's routes (the router adds the session check).
pub fn routes() -> Router<ConsoleState> {
    Router::new()
        .route("/orders", get(index))
        .route("/orders/{order_number}", get(show))
}

/// `?status=` of the list.
#[derive(Debug, Deserialize)]
pub struct Filter {
    status: Option<String>,
}

/// `GET /orders`: newest first, at most [`LIST_LIMIT`].
pub async fn index(
    State(state): State<ConsoleState>,
    Extension(session): Extension<Session>,
    Query(filter): Query<Filter>,
) -> Result<Page, PageError> {
    let status = match filter.status.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) if STATUSES.contains(&s) => Some(s),
        Some(s) => {
            return Err(PageError::BadRequest(format!(
                "no order status `{s}` (expected {})",
                STATUSES.join(", ")
            )));
        }
    };
    let rows = orders::list(&state.pool, status, LIST_LIMIT).await?;
    let body = html! {
        h1 { "Orders" }
        form #status-filter method="get" action="/orders" {
            label { "Status "
                select name="status" {
                    option value="" selected[status.is_none()] { "any" }
                    @for s in STATUSES {
                        option value=(s) selected[status == Some(s)] { (s) }
                    }
                }
            }
            button type="submit" { "Show" }
        }
        @if rows.is_empty() {
            p #no-orders {
                @match status {
                    Some(s) => { "No " (s) " orders." },
                    None => "No orders yet.",
                }
            }
        } @else {
            table #orders {
                thead { tr {
                    th { "Order" } th { "Status" } th { "Source" } th { "SKU" } th { "Buyer" }
                    th.num { "Qty" } th.num { "Total" } th { "Created" }
                } }
                tbody {
                    @for o in &rows {
                        tr.order data-order=(o.order_number) data-status=(o.status) {
                            td { a href=(order_href(&o.order_number)) { (o.order_number) } }
                            td.status { (o.status) }
                            td { (o.source) }
                            td { (o.sku.as_deref().unwrap_or("-")) }
                            td { (o.buyer) }
                            td.num { (o.quantity) }
                            td.num { (money(o.total_cents, &o.currency)) }
                            td { (time(&o.created_at)) }
                        }
                    }
                }
            }
            @if rows.len() as i64 == LIST_LIMIT {
                p.muted { "The newest " (LIST_LIMIT) " are shown." }
            }
        }
    };
    Ok(page("Orders", Section::Orders, Some(&session), body))
}

/// `GET /orders/{order_number}` (an internal id works too, as in `orders show`).
pub async fn show(
    State(state): State<ConsoleState>,
    Extension(session): Extension<Session>,
    Path(number): Path<String>,
) -> Result<Page, PageError> {
    let number = number.trim();
    let not_found = || PageError::NotFound(format!("no order {number}"));
    if number.is_empty() || number.len() > 64 {
        return Err(not_found());
    }
    let trace = orders::trace(&state.pool, number)
        .await?
        .ok_or_else(not_found)?;
    let delivery = match &trace.origin {
        Some(origin) => inbox::get(&state.pool, InboxId::new(origin.inbox_id)).await?,
        None => None,
    };
    let events = outbox::events_of_order(&state.pool, trace.order.id).await?;
    let story = story::Story {
        trace: &trace,
        delivery: delivery.as_ref(),
        events: &events,
    };
    let o = &trace.order;
    Ok(page(
        &o.order_number,
        Section::Orders,
        Some(&session),
        html! {
            p { a href="/orders" { "← Orders" } }
            h1 { "Order " (o.order_number) }
            p #order-summary data-status=(o.status) {
                strong.status { (o.status) }
                " · " (o.quantity) " × " (o.sku.as_deref().unwrap_or("-"))
                " · " (money(o.total_cents, &o.currency))
                " · " (o.buyer)
                " · created " (time(&o.created_at))
                @if trace.disputed { " · " strong.alert-critical #disputed { "disputed" } }
            }
            (story.render())
        },
    ))
}

/// `/orders/{order_number}`, percent-encoded.
pub fn order_href(order_number: &str) -> String {
    format!("/orders/{}", encode(order_number))
}
