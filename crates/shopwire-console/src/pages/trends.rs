//! `/trends`: the best-scored products and signals (what `shopwire-admin trends top` lists)
//! with the charts `trends top --html` draws — per product its stock over the last day and
//! the projection to stockout, and its best signal's score; per signal its score history.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Extension, Router};
use chrono::Utc;
use maud::{Markup, html};
use serde::Deserialize;
use shopwire_core::db::trends::report::{self, ProductReport, SignalReport};
use shopwire_insight::trends::report::{Charts, label};

use crate::auth::Session;
use crate::error::PageError;
use crate::layout::{Page, Section, or_dash, page, trusted};
use crate::state::ConsoleState;

/// Products and signals shown without `?limit=`.
const DEFAULT_LIMIT: i64 = 10;
/// The most `?limit=` may ask for (each signal's history is one query).
const MAX_LIMIT: i64 = 100;

/// This page's routes (the router adds the session check).
pub fn routes() -> Router<ConsoleState> {
    Router::new().route("/trends", get(index))
}

/// `?limit=`.
#[derive(Debug, Deserialize)]
pub struct Limit {
    limit: Option<String>,
}

/// `GET /trends[?limit=N]`.
pub async fn index(
    State(state): State<ConsoleState>,
    Extension(session): Extension<Session>,
    Query(limit): Query<Limit>,
) -> Result<Page, PageError> {
    let limit = checked_limit(limit.limit.as_deref())?;
    let products = report::top_products(&state.pool, limit).await?;
    let signals = report::top_signals(&state.pool, limit).await?;
    let charts = Charts::load(&state.pool, &signals, Utc::now()).await?;
    let body = html! {
        h1 { "Trends" }
        form #trends-limit method="get" action="/trends" {
            label { "Show the top " input type="number" name="limit" min="1" max=(MAX_LIMIT) value=(limit) size="4"; }
            button type="submit" { "Show" }
        }
        section #products-section {
            h2 { "Products" }
            @if products.is_empty() {
                p { "No product is linked to a scored signal yet." }
            } @else {
                (products_table(&products))
                div.charts #product-charts {
                    @for p in &products {
                        figure.chart data-sku=(p.sku) {
                            figcaption { strong { (p.sku) } " " (p.title) }
                            (trusted(charts.stock(p)))
                            @if let Some(svg) = charts.best_signal_score(p, &signals) {
                                (trusted(svg))
                            }
                        }
                    }
                }
            }
        }
        section #signals-section {
            h2 { "Signals" }
            @if signals.is_empty() {
                p { "No signal has been scored yet: import some with " code { "shopwire-admin trends import" } "." }
            } @else {
                (signals_table(&signals))
                div.charts #signal-charts {
                    @for s in &signals {
                        figure.chart data-signal=(label(s)) {
                            figcaption { strong { (label(s)) } }
                            (trusted(charts.score(s)))
                        }
                    }
                }
            }
        }
    };
    Ok(page("Trends", Section::Trends, Some(&session), body))
}

fn products_table(products: &[ProductReport]) -> Markup {
    html! {
        table #products {
            thead {
                tr {
                    th { "SKU" } th { "Title" } th { "Trend" } th { "Urgency" } th { "Available" }
                    th { "Units/h (6 h)" } th { "Units/h (24 h)" } th { "Stockout in" }
                    th { "Alert" } th { "Reorder" } th { "Signals" }
                }
            }
            tbody {
                @for p in products {
                    tr data-sku=(p.sku) {
                        td.sku { (p.sku) }
                        td.title { (p.title) }
                        td.trend { (format!("{:.1}", p.trend_score)) }
                        td.urgency { (format!("{:.1}", p.urgency_score)) }
                        td.available { (p.available) }
                        td.velocity-6h { (or_dash(p.velocity_6h.map(|v| format!("{v:.2}")))) }
                        td.velocity-24h { (or_dash(p.velocity_24h.map(|v| format!("{v:.2}")))) }
                        td.eta { (or_dash(p.hours_to_stockout.map(|h| format!("{h:.1} h")))) }
                        td.alert data-alert=[p.alert.as_deref()] {
                            @match p.alert.as_deref() {
                                Some(level) => span class=(format!("alert-{level}")) { (level) },
                                None => "-",
                            }
                        }
                        td.reorder {
                            (or_dash(p.reorder_units))
                            @if let Some(confidence) = p.reorder_confidence {
                                span.muted { (format!(" ({:.0}% sure)", confidence * 100.0)) }
                            }
                        }
                        td.signals { (p.signals.join(", ")) }
                    }
                }
            }
        }
    }
}

fn signals_table(signals: &[SignalReport]) -> Markup {
    html! {
        table #signals {
            thead {
                tr {
                    th { "Signal" } th { "Trend" } th { "Urgency" } th { "Growth %/h" }
                    th { "Engagement %" } th { "Views" } th { "Scorer" } th { "SKUs" }
                    th { "Why" }
                }
            }
            tbody {
                @for s in signals {
                    tr data-signal=(label(s)) {
                        td.signal { (label(s)) }
                        td.trend { (format!("{:.1}", s.trend_score)) }
                        td.urgency { (format!("{:.1}", s.urgency_score)) }
                        td.growth { (format!("{:.1}", s.growth_rate * 100.0)) }
                        td.engagement { (format!("{:.1}", s.engagement_rate * 100.0)) }
                        td.views { (s.views) }
                        td.scorer { (s.scorer) }
                        td.skus { (s.skus.join(", ")) }
                        td.reasoning { (s.reasoning) }
                    }
                }
            }
        }
    }
}

/// `?limit=` as a number from 1 to [`MAX_LIMIT`], [`DEFAULT_LIMIT`] when absent.
fn checked_limit(limit: Option<&str>) -> Result<i64, PageError> {
    let Some(text) = limit.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(DEFAULT_LIMIT);
    };
    match text.parse::<i64>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(PageError::BadRequest(format!(
            "limit `{text}` must be a whole number from 1 to {MAX_LIMIT}"
        ))),
    }
}
