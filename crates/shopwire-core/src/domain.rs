//! Domain types parsed at the edge: providers, inbox statuses, parsed deliveries, money.

mod claim_outcome;
mod delivery;
mod inbox_status;
pub mod message_text;
mod money;
mod provider;

pub use claim_outcome::{ClaimOutcome, ClaimStatus, UnknownOutcome};
pub use delivery::{Delivery, MalformedPayload, body_hash};
pub use inbox_status::InboxStatus;
pub use message_text::MessageText;
pub use money::{AmountError, ChargeError, Currency, CurrencyError, DecimalAmount, Money};
pub use provider::Provider;
