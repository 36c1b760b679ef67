//! Refunds (`POST /v1/refunds`) and charges (`GET /v1/charges/{id}`): giving back a
//! payment that landed after its hold lapsed, and finding a disputed charge's
//! PaymentIntent.

use serde::Deserialize;

use super::{StripeClient, StripeError, event::IdOrObject};

/// A refund Stripe created.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Refund {
    /// `re_…`.
    pub id: String,
    /// `pending`, `succeeded`, …
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Deserialize)]
struct Charge {
    #[serde(default)]
    payment_intent: Option<IdOrObject>,
}

impl StripeClient {
    /// The form body that refunds `amount` (minor units) of `payment_intent` for
    /// `order_number`: the order's own total, which is the whole payment for an order paid
    /// alone and its share when a live cart paid several orders with one PaymentIntent.
    pub fn render_refund(&self, payment_intent: &str, order_number: &str, amount: i64) -> String {
        super::form::encode(&[
            ("payment_intent".to_owned(), payment_intent.to_owned()),
            ("amount".to_owned(), amount.to_string()),
            ("metadata[order_id]".to_owned(), order_number.to_owned()),
        ])
    }

    /// Create a refund from its rendered `body`; safe to repeat under one key.
    pub async fn create_refund(
        &self,
        body: String,
        idempotency_key: &str,
    ) -> Result<Refund, StripeError> {
        self.post("/v1/refunds", body, idempotency_key).await
    }

    /// The PaymentIntent a charge belongs to, if it has one.
    pub async fn charge_payment_intent(&self, charge: &str) -> Result<Option<String>, StripeError> {
        let charge: Charge = self.get(&format!("/v1/charges/{charge}")).await?;
        Ok(charge.payment_intent.map(|pi| pi.id().to_owned()))
    }
}
