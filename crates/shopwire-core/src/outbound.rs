//! Outbound events (docs/contract.md §10): what Shopwire tells the endpoints a seller
//! registers, as Standard Webhooks.
//!
//! The database writes each event in the transaction of the change it reports (the
//! outbox, `crates/shopwire-core/sql/outbound_events.sql`) with one delivery per endpoint
//! subscribed at that moment; the worker sends deliveries. This module holds what the CLI
//! and the worker agree on: event types, ids, signing secrets and the URL policy.

mod delivery_status;
mod event_type;
mod secret;
pub mod url_policy;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use delivery_status::{DeliveryStatus, UnknownDeliveryStatus};
pub use event_type::{EventType, Subscription, UnknownEventType};
pub use secret::{BadSecret, EndpointSecret, SECRET_PREFIX};
pub use url_policy::{EndpointUrl, UrlPolicy, UrlRefused, check_url, ip_allowed};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            sqlx::Type,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(i64);

        impl $name {
            /// Wrap a raw id (from the CLI or a job payload).
            pub fn new(id: i64) -> Self {
                Self(id)
            }

            /// The raw value.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }
    };
}

id_type!(
    /// The id of an `endpoints` row.
    EndpointId
);
id_type!(
    /// The id of an `outbound_deliveries` row: one event for one endpoint.
    DeliveryId
);
id_type!(
    /// The id of an `outbox_events` row.
    EventId
);
