//! What the live page shows, rendered once on the server for the page and for its stream:
//! a claim's line (from its outbox event) and the panel of stock, holds and waitlists.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde_json::Value;
use shopwire_core::db::claims::{self, WaitlistEntry};
use shopwire_core::db::feed::FeedEvent;
use shopwire_core::db::lineup::{self, Hold, LineupItem};
use shopwire_core::db::live_pins::{self, Pin};
use shopwire_core::db::products::{self, Product};
use sqlx::PgPool;

use crate::layout::{countdown, money, time};

/// One claim event as a table row: `tr.claim[data-outcome]`.
pub fn claim_row(event: &FeedEvent) -> Markup {
    let data = &event.data;
    let text = |key: &str| data.get(key).and_then(Value::as_str);
    let number = |key: &str| data.get(key).and_then(Value::as_i64);
    let outcome = event.event_type.strip_prefix("claim.").unwrap_or("?");
    let outcome = match (outcome, text("reason")) {
        ("rejected", Some(reason)) => reason,
        (outcome, _) => outcome,
    };
    let hold_expires = text("hold_expires_at")
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    html! {
        tr.claim data-event-id=(event.id) data-claim-id=[number("claim_id")] data-outcome=(outcome) {
            td { (time(&event.occurred_at)) }
            td.buyer { (text("buyer").unwrap_or("-")) }
            td { (text("channel").unwrap_or("-")) }
            td.sku { (text("sku").or(text("product_code")).unwrap_or("-")) }
            td.qty { (number("quantity").unwrap_or(1)) }
            td { span.outcome class=(format!("outcome-{outcome}")) { (outcome.replace('_', " ")) } }
            td.detail {
                @if let Some(order) = text("order_number") {
                    a href=(format!("/orders/{}", crate::layout::encode(order))) { (order) }
                    @if let (Some(cents), Some(currency)) = (number("amount_cents"), text("currency")) {
                        " · " (money(cents, currency))
                    }
                    @if let Some(at) = &hold_expires { " · held " (countdown(at)) }
                } @else if let Some(position) = number("position") {
                    "#" (position) " in line"
                } @else if let Some(options) = data.get("options").and_then(Value::as_object) {
                    "asked which: "
                    @for (name, values) in options {
                        (name) " " (values.as_array().map(|v| v.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("/")).unwrap_or_default()) " "
                    }
                }
            }
        }
    }
}

/// The claims table with `events` (newest first).
pub fn claims_table(events: &[FeedEvent]) -> Markup {
    html! {
        table.claims {
            thead { tr { th { "When" } th { "Buyer" } th { "Via" } th { "SKU" } th { "Qty" } th { "Outcome" } th { "" } } }
            tbody #claims {
                @for event in events { (claim_row(event)) }
            }
        }
    }
}

/// Holds and waitlist places a panel lists, at most (the rest are counted): the panel goes
/// to every viewer on every change, so its size must not grow with a busy live.
pub const LISTED: usize = 50;

/// Everything on a live page but the claims: the pinned item, the lineup and its stock,
/// holds and waitlists.
#[derive(Debug)]
pub struct Panel {
    /// What is on screen.
    pub pinned: Option<Pin>,
    /// Claim codes.
    pub lineup: Vec<LineupItem>,
    /// The lineup's variants with their stock.
    pub variants: Vec<Product>,
    /// Unpaid holds, soonest to lapse first.
    pub holds: Vec<Hold>,
    /// Waitlists by SKU (only those with someone waiting).
    pub waitlists: Vec<(String, Vec<WaitlistEntry>)>,
}

impl Panel {
    /// Read `streamer`'s panel.
    pub async fn load(pool: &PgPool, streamer: &str) -> Result<Panel, sqlx::Error> {
        let lineup = lineup::list(pool, streamer).await?;
        let pinned = live_pins::current(pool, streamer).await?;
        let mut skus: BTreeSet<String> = lineup.iter().flat_map(|i| i.skus.clone()).collect();
        if let Some(pin) = &pinned {
            skus.insert(pin.sku.clone());
        }
        let variants: Vec<Product> = products::list(pool)
            .await?
            .into_iter()
            .filter(|p| skus.contains(&p.sku))
            .collect();
        let holds = lineup::holds(pool, streamer).await?;
        let mut waitlists = Vec::new();
        for sku in &skus {
            let line = claims::waitlist(pool, sku).await?;
            if !line.is_empty() {
                waitlists.push((sku.clone(), line));
            }
        }
        Ok(Panel {
            pinned,
            lineup,
            variants,
            holds,
            waitlists,
        })
    }

    /// The panel's HTML (`#panel`'s contents).
    pub fn render(&self) -> Markup {
        html! {
            section #pinned {
                h2 { "On screen" }
                @match &self.pinned {
                    Some(pin) => p { strong.pinned-sku { (pin.sku) } " since " (time(&pin.pinned_at)) },
                    None => p.pinned-none { "Nothing pinned: a bare “mine!” claims nothing." },
                }
            }
            section #lineup-section {
                h2 { "Lineup" }
                @if self.lineup.is_empty() {
                    p { "No claim codes yet." }
                } @else {
                    table #lineup {
                        thead { tr { th { "Code" } th { "Item" } th { "Available" } } }
                        tbody {
                            @for item in &self.lineup {
                                tr data-code=(item.code) {
                                    td.code { (item.code) }
                                    td { (item.item) }
                                    td.available { (item.available) }
                                }
                            }
                        }
                    }
                }
            }
            section #stock-section {
                h2 { "Stock" }
                table #stock {
                    thead { tr { th { "SKU" } th { "Title" } th { "On hand" } th { "Reserved" } th { "Available" } } }
                    tbody {
                        @for p in &self.variants {
                            tr data-sku=(p.sku) class=[(p.available <= 0).then_some("sold-out")] {
                                td { (p.sku) }
                                td { (p.title) }
                                td.stock { (p.stock_on_hand) }
                                td.reserved { (p.reserved) }
                                td.available { (p.available) }
                            }
                        }
                    }
                }
            }
            section #holds-section {
                h2 { "Unpaid holds" @if !self.holds.is_empty() { " (" (self.holds.len()) ")" } }
                @if self.holds.is_empty() {
                    p { "None." }
                } @else {
                    table #holds {
                        thead { tr { th { "Order" } th { "Buyer" } th { "SKU" } th { "Qty" } th { "Lapses in" } } }
                        tbody {
                            @for h in self.holds.iter().take(LISTED) {
                                tr data-order=(h.order_number) {
                                    td { a href=(format!("/orders/{}", crate::layout::encode(&h.order_number))) { (h.order_number) } }
                                    td { (h.buyer) }
                                    td { (h.sku) }
                                    td { (h.quantity) }
                                    td { (countdown(&h.expires_at)) }
                                }
                            }
                            @if self.holds.len() > LISTED {
                                tr.more { td colspan="5" { "and " (self.holds.len() - LISTED) " more, lapsing later" } }
                            }
                        }
                    }
                }
            }
            section #waitlists {
                h2 { "Waitlists" }
                @if self.waitlists.is_empty() {
                    p { "Nobody waiting." }
                }
                @for (sku, line) in &self.waitlists {
                    h3 { (sku) }
                    ol.waitlist data-sku=(sku) {
                        @for w in line.iter().take(LISTED) {
                            li { (w.buyer) " × " (w.quantity) " · lapses in " (countdown(&w.expires_at)) }
                        }
                    }
                    @if line.len() > LISTED {
                        p.more { "and " (line.len() - LISTED) " more waiting" }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};

    use super::*;

    fn hold(n: usize) -> Hold {
        Hold {
            order_number: format!("ORD-20261202-{n:05}"),
            buyer: format!("buyer-{n}"),
            sku: "TEE-M".into(),
            quantity: 1,
            expires_at: Utc::now() + Duration::minutes(10),
        }
    }

    #[test]
    fn a_busy_live_lists_the_first_holds_and_counts_the_rest() {
        let panel = Panel {
            pinned: None,
            lineup: Vec::new(),
            variants: Vec::new(),
            holds: (1..=LISTED + 12).map(hold).collect(),
            waitlists: Vec::new(),
        };

        let html = panel.render().into_string();

        assert_eq!(html.matches("<tr data-order=").count(), LISTED);
        assert!(
            html.contains(&format!("Unpaid holds ({})", LISTED + 12)),
            "{html}"
        );
        assert!(html.contains("and 12 more, lapsing later"));
        assert!(html.contains("ORD-20261202-00001"));
        assert!(!html.contains(&format!("ORD-20261202-{:05}", LISTED + 1)));
    }

    #[test]
    fn a_quiet_live_lists_every_hold_without_a_count_line() {
        let panel = Panel {
            pinned: None,
            lineup: Vec::new(),
            variants: Vec::new(),
            holds: (1..=3).map(hold).collect(),
            waitlists: Vec::new(),
        };

        let html = panel.render().into_string();

        assert_eq!(html.matches("<tr data-order=").count(), 3);
        assert!(!html.contains("more, lapsing later"));
    }
}
