//! Domain types parsed at the edge: providers, inbox statuses, parsed deliveries.

mod delivery;
mod inbox_status;
mod provider;

pub use delivery::{Delivery, MalformedPayload, body_hash};
pub use inbox_status::InboxStatus;
pub use provider::Provider;
