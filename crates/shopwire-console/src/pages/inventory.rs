//! `/inventory`: every product and variant with its stock, price, velocity, stockout ETA,
//! alert and reorder suggestion — what `shopwire-admin inventory list` shows, read by the same
//! core function — and on each row a form that sets its stock (`POST /inventory/{sku}/stock`),
//! refused below what pending orders reserve.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use maud::{Markup, html};
use serde::Deserialize;
use shopwire_core::db::products::{self, SetStockError};
use shopwire_core::db::trends::velocity::{self, StockLine};

use crate::auth::Session;
use crate::error::PageError;
use crate::layout::{Done, Page, Section, csrf_field, encode, flash, money, or_dash, page};
use crate::state::ConsoleState;

/// This page's routes (the router adds the session check).
pub fn routes() -> Router<ConsoleState> {
    Router::new()
        .route("/inventory", get(index))
        .route("/inventory/{sku}/stock", post(set_stock))
}

/// `GET /inventory`.
pub async fn index(
    State(state): State<ConsoleState>,
    Extension(session): Extension<Session>,
    Query(done): Query<Done>,
) -> Result<Page, PageError> {
    let lines = velocity::inventory(&state.pool).await?;
    let body = html! {
        h1 { "Inventory" }
        (flash(done.done.as_deref()))
        @if lines.is_empty() {
            p #no-products { "No products yet: add one with " code { "shopwire-admin inventory set" } "." }
        } @else {
            p.muted {
                "Units/h, stockout, alert and reorder are as of the last trends scoring run "
                "(- until the first). Stock may not go below what pending orders reserve."
            }
            table #stock {
                thead {
                    tr {
                        th { "SKU" } th { "Title" } th { "Product" } th { "Price" }
                        th { "On hand" } th { "Reserved" } th { "Available" }
                        th { "Units/h" } th { "Stockout in" } th { "Alert" } th { "Reorder" }
                        th { "Set stock" }
                    }
                }
                tbody {
                    @for line in &lines { (row(&session, line)) }
                }
            }
        }
    };
    Ok(page("Inventory", Section::Inventory, Some(&session), body))
}

/// One SKU's row: `tr[data-sku]` with `td.stock`, `td.reserved`, `td.available`, `td.alert`
/// and its `form.stock-form`.
fn row(session: &Session, line: &StockLine) -> Markup {
    let p = &line.product;
    let alert = line.alert.as_deref();
    html! {
        tr data-sku=(p.sku) class=[(p.available <= 0).then_some("sold-out")] {
            td.sku { (p.sku) }
            td.title { (p.title) }
            td.product {
                (p.product_code)
                @if !p.options.is_empty() { " " span.options.muted { (options(&p.options)) } }
            }
            td.price { (money(p.price_cents, &p.currency)) }
            td.stock { (p.stock_on_hand) }
            td.reserved { (p.reserved) }
            td.available { (p.available) }
            td.velocity { (or_dash(line.velocity_per_hour.map(|v| format!("{v:.2}")))) }
            td.eta { (or_dash(line.hours_to_stockout.map(|h| format!("{h:.1} h")))) }
            td.alert data-alert=[alert] {
                @match alert {
                    Some(level) => span class=(format!("alert-{level}")) { (level) },
                    None => "-",
                }
            }
            td.reorder { (or_dash(line.reorder_units)) }
            td {
                form.stock-form method="post" action=(stock_path(&p.sku)) {
                    (csrf_field(session))
                    input type="number" name="stock" min="0" step="1" required value=(p.stock_on_hand)
                        aria-label=(format!("Stock of {}", p.sku)) size="6";
                    button type="submit" { "Set" }
                }
            }
        }
    }
}

/// `/inventory/{sku}/stock`, the SKU percent-encoded.
fn stock_path(sku: &str) -> String {
    format!("/inventory/{}/stock", encode(sku))
}

/// `size=M color=blue`.
fn options(options: &BTreeMap<String, String>) -> String {
    options
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The edit-stock form. Both fields may be missing: that is refused with a page (403 or
/// 400), not a bare extractor error.
#[derive(Debug, Deserialize)]
pub struct StockForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    stock: String,
}

/// `POST /inventory/{sku}/stock`: set the SKU's units on hand, then back to the list.
pub async fn set_stock(
    State(state): State<ConsoleState>,
    Extension(session): Extension<Session>,
    Path(sku): Path<String>,
    Form(form): Form<StockForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    let stock = products::parse_stock(&form.stock).map_err(|e| {
        PageError::BadRequest(format!(
            "{e}: enter the units on hand as a whole number, 0 or more"
        ))
    })?;
    let product = products::set_stock(&state.pool, &sku, stock)
        .await
        .map_err(|e| match e {
            SetStockError::UnknownSku(_) => PageError::NotFound(e.to_string()),
            SetStockError::StockBelowReserved { .. } => PageError::Conflict(e.to_string()),
            SetStockError::Negative(_) => PageError::BadRequest(e.to_string()),
            SetStockError::Database(e) => e.into(),
        })?;
    // Open live pages show this stock in their panels.
    state.feed.touch_all();
    let done = format!(
        "stock of {} set to {} ({} available)",
        product.sku, product.stock_on_hand, product.available
    );
    Ok(Redirect::to(&format!("/inventory?done={}", encode(&done))).into_response())
}
