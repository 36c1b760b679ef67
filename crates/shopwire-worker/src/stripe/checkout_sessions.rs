//! Checkout Sessions: create one (a hosted Checkout page for one order), expire it when
//! the order's hold lapses, and read one back.

use serde::Deserialize;

use super::event::IdOrObject;
use super::{StripeClient, StripeError};

/// What a session is made of. It is rendered once ([`StripeClient::render_checkout_session`])
/// and the job keeps the bytes, so each attempt sends the same request under the same
/// idempotency key.
#[derive(Debug, Clone)]
pub struct NewCheckoutSession<'a> {
    /// `ORD-…`: `client_reference_id`, `metadata[order_id]` (on the session and its
    /// PaymentIntent) and the idempotency key.
    pub order_number: &'a str,
    /// The line item's name.
    pub product_name: &'a str,
    /// Lowercase ISO currency.
    pub currency: &'a str,
    /// Price of one unit, minor units.
    pub unit_amount: i64,
    /// Units.
    pub quantity: i32,
    /// When the session expires (unix seconds).
    pub expires_at: i64,
}

/// A live cart's session (`CART_MODE=live`): one line item per hold, all in one currency.
/// Rendered once and kept on the job, like [`NewCheckoutSession`].
#[derive(Debug, Clone)]
pub struct NewCartSession<'a> {
    /// `CART-<id>`: `client_reference_id`, `metadata[cart_id]` (on the session and its
    /// PaymentIntent) and the idempotency key.
    pub reference: &'a str,
    /// Lowercase ISO currency.
    pub currency: &'a str,
    /// The line items, one per hold.
    pub lines: Vec<CartLineItem<'a>>,
    /// When the session expires (unix seconds).
    pub expires_at: i64,
}

/// One line item of a cart's session.
#[derive(Debug, Clone)]
pub struct CartLineItem<'a> {
    /// The line item's name.
    pub name: &'a str,
    /// Price of one unit, minor units.
    pub unit_amount: i64,
    /// Units.
    pub quantity: i32,
}

/// The session Stripe created.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CheckoutSession {
    /// `cs_…`.
    pub id: String,
    /// The hosted page the buyer pays on.
    pub url: String,
}

/// A session as Stripe reports it (expiring or reading one).
#[derive(Debug, Deserialize)]
pub struct SessionState {
    /// `cs_…`.
    pub id: String,
    /// `open`, `complete` or `expired`.
    #[serde(default)]
    pub status: Option<String>,
    /// `paid`, `unpaid` or `no_payment_required`.
    #[serde(default)]
    pub payment_status: Option<String>,
    /// The PaymentIntent, once there is one.
    #[serde(default)]
    pub payment_intent: Option<IdOrObject>,
}

impl StripeClient {
    /// The form body that creates `session`; render once, send on every attempt.
    pub fn render_checkout_session(&self, session: &NewCheckoutSession<'_>) -> String {
        super::form::encode(&self.checkout_params(session))
    }

    /// The form body that creates a cart's `session`; render once, send on every attempt.
    pub fn render_cart_session(&self, session: &NewCartSession<'_>) -> String {
        let mut params = vec![("mode".to_owned(), "payment".to_owned())];
        for (i, line) in session.lines.iter().enumerate() {
            let item = |field: &str| format!("line_items[{i}]{field}");
            params.extend([
                (item("[price_data][currency]"), session.currency.to_owned()),
                (
                    item("[price_data][unit_amount]"),
                    line.unit_amount.to_string(),
                ),
                (
                    item("[price_data][product_data][name]"),
                    line.name.to_owned(),
                ),
                (item("[quantity]"), line.quantity.to_string()),
            ]);
        }
        params.extend([
            (
                "client_reference_id".to_owned(),
                session.reference.to_owned(),
            ),
            ("metadata[cart_id]".to_owned(), session.reference.to_owned()),
            (
                "payment_intent_data[metadata][cart_id]".to_owned(),
                session.reference.to_owned(),
            ),
            ("expires_at".to_owned(), session.expires_at.to_string()),
        ]);
        self.push_redirects(&mut params);
        super::form::encode(&params)
    }

    /// Create a Checkout Session from its rendered `body`. Safe to repeat: Stripe answers
    /// a repeated idempotency key with the session it created the first time.
    pub async fn create_checkout_session(
        &self,
        body: String,
        idempotency_key: &str,
    ) -> Result<CheckoutSession, StripeError> {
        self.post("/v1/checkout/sessions", body, idempotency_key)
            .await
    }

    /// `POST /v1/checkout/sessions/{id}/expire`: nobody can pay an open session any more.
    /// Stripe refuses (4xx) a session that is not open: read it back to learn why.
    pub async fn expire_checkout_session(
        &self,
        id: &str,
        idempotency_key: &str,
    ) -> Result<SessionState, StripeError> {
        self.post(
            &format!("/v1/checkout/sessions/{id}/expire"),
            String::new(),
            idempotency_key,
        )
        .await
    }

    /// `GET /v1/checkout/sessions/{id}`.
    pub async fn checkout_session(&self, id: &str) -> Result<SessionState, StripeError> {
        self.get(&format!("/v1/checkout/sessions/{id}")).await
    }

    fn checkout_params(&self, s: &NewCheckoutSession<'_>) -> Vec<(String, String)> {
        let mut params: Vec<(String, String)> = [
            ("mode", "payment".to_owned()),
            ("line_items[0][price_data][currency]", s.currency.to_owned()),
            (
                "line_items[0][price_data][unit_amount]",
                s.unit_amount.to_string(),
            ),
            (
                "line_items[0][price_data][product_data][name]",
                s.product_name.to_owned(),
            ),
            ("line_items[0][quantity]", s.quantity.to_string()),
            ("client_reference_id", s.order_number.to_owned()),
            ("metadata[order_id]", s.order_number.to_owned()),
            (
                "payment_intent_data[metadata][order_id]",
                s.order_number.to_owned(),
            ),
            ("expires_at", s.expires_at.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        self.push_redirects(&mut params);
        params
    }

    /// Where Checkout sends the buyer afterwards.
    fn push_redirects(&self, params: &mut Vec<(String, String)>) {
        if let Some(url) = &self.success_url {
            params.push(("success_url".to_owned(), url.clone()));
        }
        if let Some(url) = &self.cancel_url {
            params.push(("cancel_url".to_owned(), url.clone()));
        }
    }
}
