//! One order's story as a timeline (`ol.story`), one `li[data-step]` per step that
//! happened: the delivery, the buyer's message and what was made of it, the claim, the
//! reservation, the checkout link, each payment, then each event sent about the order with
//! its delivery to every endpoint.

use maud::{Markup, html};
use serde_json::Value;
use shopwire_core::db::inbox::InboxRow;
use shopwire_core::db::orders::OrderTrace;
use shopwire_core::db::outbox::{EventDelivery, OrderEvent};
use shopwire_core::outbound::DeliveryStatus;

use crate::layout::{countdown, money, or_dash, time};

/// What the order page tells.
pub struct Story<'a> {
    /// The order and its chain (`orders::trace`).
    pub trace: &'a OrderTrace,
    /// The inbox row of the delivery it came in, for orders from a buyer's message.
    pub delivery: Option<&'a InboxRow>,
    /// The events about it, oldest first, with their deliveries.
    pub events: &'a [OrderEvent],
}

impl Story<'_> {
    /// The timeline.
    pub fn render(&self) -> Markup {
        let t = self.trace;
        let claims = self
            .events
            .iter()
            .filter(|e| e.event_type.starts_with("claim."));
        html! {
            ol.story {
                (self.delivery_step())
                @if let Some(m) = &t.origin {
                    li data-step="message" {
                        strong { "Message" } " "
                        (m.channel)
                        @if let Some(streamer) = &m.streamer { " on " (streamer) "'s live" }
                        ": " q.text { (m.text) }
                        br;
                        "intent " (or_dash(m.intent.as_deref()))
                        " " (format!("{:.2}", m.intent_score.unwrap_or_default()))
                        " (" (or_dash(m.classifier.as_deref())) ")"
                        " · product " (or_dash(t.order.sku.as_deref()))
                        @if let Some(score) = m.match_score { " (match " (format!("{score:.2}")) ")" }
                    }
                }
                @for e in claims { (claim_step(e)) }
                @if let Some(r) = &t.reservation {
                    li data-step="reservation" data-status=(r.status) {
                        strong { "Reservation" } " "
                        span.status { (r.status) } " · " (r.quantity) " unit(s)"
                        @if r.status == "held" {
                            " · lapses " (time(&r.expires_at)) " (in " (countdown(&r.expires_at)) ")"
                        } @else {
                            " · held until " (time(&r.expires_at))
                        }
                        @if let Some(at) = &r.released_at { " · " (r.status) " " (time(at)) }
                    }
                }
                @if t.checkout_session_id.is_some() || t.order.checkout_url.is_some() {
                    li data-step="checkout" {
                        strong { "Checkout" } " "
                        "session " code { (or_dash(t.checkout_session_id.as_deref())) }
                        @if let Some(url) = &t.order.checkout_url {
                            " · " a.checkout-url href=(url) rel="noreferrer" { (url) }
                        }
                        @if let Some(pi) = &t.payment_intent_id {
                            " · payment intent " code { (pi) }
                        }
                    }
                }
                @for p in &t.payments {
                    li data-step="payment" data-kind=(p.kind) {
                        strong { "Payment" } " "
                        (p.kind) " · Stripe event " code { (p.stripe_event_id) }
                        " (inbox #" (p.inbox_id) ")"
                        @if let Some(cents) = p.amount_cents {
                            " · " (money(cents, &t.order.currency))
                        }
                        " · " (time(&p.created_at))
                    }
                }
                @for e in self.events { (event_step(e)) }
            }
            @if self.events.is_empty() {
                p #no-events.muted { "No events were sent about this order." }
            }
        }
    }

    fn delivery_step(&self) -> Markup {
        let t = self.trace;
        html! {
            li data-step="delivery" {
                strong { "Delivery" } " "
                @match (&t.origin, self.delivery) {
                    (Some(_), Some(d)) => {
                        "inbox #" (d.id) " from " (d.provider)
                        @if let Some(kind) = &d.event_type { " (" (kind) ")" }
                        " · key " code { (d.dedupe_key) }
                        " · received " (time(&d.received_at))
                        " · " span.status { (d.status) } " after " (d.attempts) " attempt(s)"
                        @if let Some(at) = &d.processed_at { " · processed " (time(at)) }
                        @if let Some(error) = &d.last_error { br; span.error { (error) } }
                    },
                    (Some(m), None) => { "inbox #" (m.inbox_id) " from " (m.provider) },
                    (None, _) => { "came in as a " (t.order.source) " order, not a buyer's message" },
                }
            }
        }
    }
}

/// A claim's outcome, from the event that reported it.
fn claim_step(e: &OrderEvent) -> Markup {
    let text = |key: &str| e.data.get(key).and_then(Value::as_str);
    let outcome = text("outcome").unwrap_or("?");
    html! {
        li data-step="claim" data-claim-id=[e.claim_id] data-outcome=(outcome) {
            strong { "Claim" } " "
            @if let Some(id) = e.claim_id { "#" (id) " " }
            span class=(format!("outcome outcome-{outcome}")) { (outcome.replace('_', " ")) }
            " · " (text("sku").unwrap_or("-")) " × "
            (e.data.get("quantity").and_then(Value::as_i64).unwrap_or(1))
            @if let Some(streamer) = text("streamer") { " on " (streamer) "'s live" }
            @if let Some(channel) = text("channel") { " via " (channel) }
            " · " (time(&e.occurred_at))
        }
    }
}

/// An event sent about the order, and how it stands at each endpoint.
fn event_step(e: &OrderEvent) -> Markup {
    html! {
        li data-step="event" data-event-id=(e.id) data-event-type=(e.event_type) {
            strong { "Event" } " #" (e.id) " " code { (e.event_type) } " · " (time(&e.occurred_at))
            @if e.deliveries.is_empty() {
                " · " span.muted { "no endpoint was subscribed" }
            } @else {
                table.deliveries {
                    thead { tr {
                        th { "Endpoint" } th { "Status" } th.num { "Attempts" }
                        th.num { "Last HTTP" } th { "When" } th { "Last error" }
                    } }
                    tbody {
                        @for d in &e.deliveries { (delivery_row(d)) }
                    }
                }
            }
            details {
                summary { "data" }
                pre { (serde_json::to_string_pretty(&e.data).unwrap_or_default()) }
            }
        }
    }
}

fn delivery_row(d: &EventDelivery) -> Markup {
    html! {
        tr.delivery data-delivery-id=(d.id) data-endpoint=(d.endpoint_id) data-status=(d.status.as_str()) {
            td { "#" (d.endpoint_id) " " (d.endpoint_url) }
            td.status { (d.status.as_str()) }
            td.num.attempts { (d.attempts) }
            td.num.http { (or_dash(d.last_status_code)) }
            td {
                @match (d.status, &d.processed_at) {
                    (DeliveryStatus::Processed, Some(at)) => { "delivered " (time(at)) },
                    (DeliveryStatus::Dead, _) => "in the dead-letter queue",
                    _ => { "next attempt " (time(&d.next_attempt_at)) },
                }
            }
            td.error { (or_dash(d.last_error.as_deref())) }
        }
    }
}
