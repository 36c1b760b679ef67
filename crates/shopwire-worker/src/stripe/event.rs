//! Stripe's event envelope and the fields of `data.object` the worker reads. Every field
//! of the object is optional and unknown ones are skipped, so a change of API version
//! cannot break parsing (`docs/protocols.md` §1.4).

use serde::Deserialize;

/// An event envelope (`docs/protocols.md` §1.5).
#[derive(Debug, Deserialize)]
pub struct Event {
    /// `evt_…`, the inbox dedupe key.
    pub id: String,
    /// e.g. `checkout.session.completed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The object snapshot (absent only in bodies Stripe did not send: they then name
    /// no order and are ignored).
    #[serde(default)]
    pub data: EventData,
}

/// `data`.
#[derive(Debug, Default, Deserialize)]
pub struct EventData {
    /// The session, PaymentIntent, charge or dispute.
    #[serde(default)]
    pub object: StripeObject,
}

/// The fields of a Checkout Session, PaymentIntent, Charge or Dispute that we read.
#[derive(Debug, Default, Deserialize)]
pub struct StripeObject {
    /// `cs_…`, `pi_…`, `ch_…` or `dp_…`.
    pub id: Option<String>,
    /// Sessions: our `ORD-…` number.
    pub client_reference_id: Option<String>,
    /// Our `order_id` (sessions, and PaymentIntents and charges via
    /// `payment_intent_data[metadata]`).
    pub metadata: Option<Metadata>,
    /// Sessions: `paid`, `unpaid` or `no_payment_required`.
    pub payment_status: Option<String>,
    /// The PaymentIntent of a session, charge or dispute.
    pub payment_intent: Option<IdOrObject>,
    /// A dispute's charge (`ch_…`), through which its PaymentIntent is found when the
    /// dispute does not name one itself.
    #[serde(default)]
    pub charge: Option<IdOrObject>,
    /// Sessions: what the buyer was charged, minor units.
    pub amount_total: Option<i64>,
    /// PaymentIntents, charges, disputes: the amount, minor units.
    pub amount: Option<i64>,
    /// Charges: refunded so far (cumulative).
    pub amount_refunded: Option<i64>,
    /// Charges: true only once refunded in full.
    pub refunded: Option<bool>,
    /// Lowercase ISO currency.
    pub currency: Option<String>,
    /// Disputes: why.
    pub reason: Option<String>,
    /// The object's own status.
    pub status: Option<String>,
    /// PaymentIntents: why the last attempt failed.
    pub last_payment_error: Option<PaymentError>,
}

/// The metadata keys we set.
#[derive(Debug, Default, Deserialize)]
pub struct Metadata {
    /// Ours when it starts with `ORD-`.
    pub order_id: Option<String>,
    /// A live cart's session: ours when it starts with `CART-`.
    #[serde(default)]
    pub cart_id: Option<String>,
}

/// A reference Stripe sends either as an id or, when expanded, as the object.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum IdOrObject {
    /// Not expanded.
    Id(String),
    /// Expanded.
    Object {
        /// Its id.
        id: String,
    },
}

impl IdOrObject {
    /// The id either way.
    pub fn id(&self) -> &str {
        match self {
            IdOrObject::Id(id) | IdOrObject::Object { id } => id,
        }
    }
}

/// Why a PaymentIntent's last attempt failed.
#[derive(Debug, Deserialize)]
pub struct PaymentError {
    /// e.g. `card_declined`.
    pub code: Option<String>,
    /// e.g. `insufficient_funds`.
    pub decline_code: Option<String>,
}
