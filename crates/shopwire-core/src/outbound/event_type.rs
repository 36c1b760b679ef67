//! The events Shopwire reports (docs/contract.md §10), and which of them an endpoint wants.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// The type of an outbound event, as stored in `outbox_events.event_type` and sent as the
/// payload's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// A claim got a hold (and an order).
    ClaimReserved,
    /// A claim joined its variant's waitlist.
    ClaimWaitlisted,
    /// A waitlisted claim got its hold when stock freed up.
    ClaimPromoted,
    /// The product has variants and the claim named none that exists.
    ClaimNeedsVariant,
    /// Nothing free and the waitlist is full or off.
    ClaimSoldOut,
    /// Unmatched, over the buyer's limit, blocked or already held.
    ClaimRejected,
    /// An order's checkout link is ready to send.
    OrderCheckoutReady,
    /// A hold lapses in `HOLD_REMINDER_SECS`.
    HoldExpiring,
    /// An order was paid.
    OrderPaid,
    /// An unpaid order's hold lapsed.
    OrderExpired,
    /// A paid order was refunded.
    OrderRefunded,
    /// An order was cancelled.
    OrderCancelled,
    /// A product is selling out (docs/trends.md).
    StockAlert,
}

impl EventType {
    /// Every event type, in the contract's order.
    pub const ALL: [EventType; 13] = [
        EventType::ClaimReserved,
        EventType::ClaimWaitlisted,
        EventType::ClaimPromoted,
        EventType::ClaimNeedsVariant,
        EventType::ClaimSoldOut,
        EventType::ClaimRejected,
        EventType::OrderCheckoutReady,
        EventType::HoldExpiring,
        EventType::OrderPaid,
        EventType::OrderExpired,
        EventType::OrderRefunded,
        EventType::OrderCancelled,
        EventType::StockAlert,
    ];

    /// The dotted name (`claim.reserved`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ClaimReserved => "claim.reserved",
            EventType::ClaimWaitlisted => "claim.waitlisted",
            EventType::ClaimPromoted => "claim.promoted",
            EventType::ClaimNeedsVariant => "claim.needs_variant",
            EventType::ClaimSoldOut => "claim.sold_out",
            EventType::ClaimRejected => "claim.rejected",
            EventType::OrderCheckoutReady => "order.checkout_ready",
            EventType::HoldExpiring => "hold.expiring",
            EventType::OrderPaid => "order.paid",
            EventType::OrderExpired => "order.expired",
            EventType::OrderRefunded => "order.refunded",
            EventType::OrderCancelled => "order.cancelled",
            EventType::StockAlert => "stock.alert",
        }
    }

    /// The type named `name`, if it is one.
    pub fn parse(name: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The part before the dot (`claim`, `order`, `hold`, `stock`).
    pub fn group(self) -> &'static str {
        self.as_str().split_once('.').map_or("", |(group, _)| group)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A name that is not an event type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type `{0}` (expected {known}, a group like claim.* or *)", known = known_names())]
pub struct UnknownEventType(pub String);

fn known_names() -> String {
    let names: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    names.join(", ")
}

impl FromStr for EventType {
    type Err = UnknownEventType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventType::parse(s).ok_or_else(|| UnknownEventType(s.to_owned()))
    }
}

impl sqlx::Type<sqlx::Postgres> for EventType {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <&str as sqlx::Type<sqlx::Postgres>>::type_info()
    }

    fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
        <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Postgres> for EventType {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
        Ok(text.parse::<EventType>()?)
    }
}

/// The events an endpoint subscribes to: all of them (`*`, stored as `{*}`), or a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscription {
    /// Every event type, including ones added later.
    All,
    /// These types (never empty, no duplicates, in [`EventType::ALL`] order).
    Only(Vec<EventType>),
}

impl Subscription {
    /// What `event_types` stores: `{*}` or the type names. `emit_event` matches an event
    /// against it with `'*' = ANY(..) OR type = ANY(..)`.
    pub fn to_stored(&self) -> Vec<String> {
        match self {
            Subscription::All => vec!["*".to_owned()],
            Subscription::Only(types) => types.iter().map(|t| t.as_str().to_owned()).collect(),
        }
    }

    /// True when events of type `t` are delivered.
    pub fn includes(&self, t: EventType) -> bool {
        match self {
            Subscription::All => true,
            Subscription::Only(types) => types.contains(&t),
        }
    }
}

impl fmt::Display for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_stored().join(","))
    }
}

impl FromStr for Subscription {
    type Err = UnknownEventType;

    /// `*`, or a comma-separated list of types and groups: `claim.*` stands for every
    /// claim type that exists now (it is stored as that list, so a claim type added later
    /// is not included; `*` is). Spaces around names are ignored; an empty list is `*`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut picked = [false; EventType::ALL.len()];
        for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name == "*" {
                return Ok(Subscription::All);
            }
            let matches: Vec<usize> = match name.strip_suffix(".*") {
                Some(group) => EventType::ALL
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| t.group() == group)
                    .map(|(i, _)| i)
                    .collect(),
                None => EventType::ALL
                    .iter()
                    .position(|t| t.as_str() == name)
                    .into_iter()
                    .collect(),
            };
            if matches.is_empty() {
                return Err(UnknownEventType(name.to_owned()));
            }
            for i in matches {
                picked[i] = true;
            }
        }
        let types: Vec<EventType> = EventType::ALL
            .into_iter()
            .zip(picked)
            .filter_map(|(t, on)| on.then_some(t))
            .collect();
        Ok(if types.is_empty() {
            Subscription::All
        } else {
            Subscription::Only(types)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_parses_back_from_its_name() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            assert_eq!(t.to_string().parse::<EventType>(), Ok(t));
        }
        assert_eq!(EventType::parse("claim.bogus"), None);
        assert_eq!(EventType::parse("CLAIM.RESERVED"), None);
    }

    #[test]
    fn the_contract_names_thirteen_types_in_four_groups() {
        let names: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(names.len(), 13);
        assert!(names.contains(&"claim.needs_variant"));
        assert!(names.contains(&"order.checkout_ready"));
        assert!(names.contains(&"hold.expiring"));
        assert!(names.contains(&"stock.alert"));
        let mut groups: Vec<&str> = EventType::ALL.iter().map(|t| t.group()).collect();
        groups.dedup();
        assert_eq!(groups, ["claim", "order", "hold", "order", "stock"]);
    }

    #[test]
    fn types_serialize_as_their_dotted_name() {
        let json = serde_json::to_string(&EventType::OrderPaid).expect("serializes");
        assert_eq!(json, r#""order.paid""#);
    }

    #[test]
    fn a_star_or_an_empty_list_subscribes_to_everything() {
        assert_eq!("*".parse::<Subscription>(), Ok(Subscription::All));
        assert_eq!(
            "order.paid, *".parse::<Subscription>(),
            Ok(Subscription::All)
        );
        assert_eq!("".parse::<Subscription>(), Ok(Subscription::All));
        assert_eq!(Subscription::All.to_stored(), ["*"]);
        assert!(Subscription::All.includes(EventType::StockAlert));
    }

    #[test]
    fn lists_are_deduplicated_and_kept_in_contract_order() {
        let sub: Subscription = "order.paid,claim.sold_out, order.paid"
            .parse()
            .expect("known types");
        assert_eq!(
            sub,
            Subscription::Only(vec![EventType::ClaimSoldOut, EventType::OrderPaid])
        );
        assert_eq!(sub.to_string(), "claim.sold_out,order.paid");
        assert!(!sub.includes(EventType::OrderExpired));
    }

    #[test]
    fn a_group_stands_for_every_type_in_it() {
        let sub: Subscription = "claim.*".parse().expect("a group");
        let Subscription::Only(types) = &sub else {
            panic!("a list: {sub:?}");
        };
        assert_eq!(types.len(), 6);
        assert!(types.iter().all(|t| t.group() == "claim"));
        assert!(!sub.includes(EventType::OrderPaid));
    }

    #[test]
    fn an_unknown_type_or_group_is_named() {
        let err = "claim.sold_out,order.shipped"
            .parse::<Subscription>()
            .expect_err("unknown");
        assert_eq!(err, UnknownEventType("order.shipped".into()));
        let line = err.to_string();
        assert!(
            line.starts_with("unknown event type `order.shipped`"),
            "{line}"
        );
        assert!(!line.contains('\n'));
        assert_eq!(
            "refund.*".parse::<Subscription>(),
            Err(UnknownEventType("refund.*".into()))
        );
    }
}
