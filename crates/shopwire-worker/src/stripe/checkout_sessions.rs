//! `POST /v1/checkout/sessions`: a hosted Checkout page for one order.

use serde::Deserialize;

use super::{StripeClient, StripeError};

/// What a session is made of; every field comes from the order in Postgres, so each
/// attempt sends the same parameters under the same idempotency key.
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
    /// When the session expires (unix seconds): the reservation's expiry.
    pub expires_at: i64,
}

/// The session Stripe created.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CheckoutSession {
    /// `cs_…`.
    pub id: String,
    /// The hosted page the buyer pays on.
    pub url: String,
}

impl StripeClient {
    /// Create the Checkout Session for an order. Safe to repeat: Stripe answers a repeated
    /// idempotency key with the session it created the first time.
    pub async fn create_checkout_session(
        &self,
        session: &NewCheckoutSession<'_>,
    ) -> Result<CheckoutSession, StripeError> {
        let params = self.checkout_params(session);
        self.post("/v1/checkout/sessions", &params, session.order_number)
            .await
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
        if let Some(url) = &self.success_url {
            params.push(("success_url".to_owned(), url.clone()));
        }
        if let Some(url) = &self.cancel_url {
            params.push(("cancel_url".to_owned(), url.clone()));
        }
        params
    }
}
