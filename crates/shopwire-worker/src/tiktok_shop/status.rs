//! TikTok Shop's order statuses, as strings or legacy integers, and what each means for
//! our order.

use shopwire_core::db::tiktok_orders::OrderStatus;

/// An order status as TikTok Shop reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TiktokStatus {
    /// Placed, not paid.
    Unpaid,
    /// Paid but held (the buyer may still cancel).
    OnHold,
    /// Paid; the seller must ship.
    AwaitingShipment,
    /// Packed; waiting for the carrier.
    AwaitingCollection,
    /// Some packages shipped.
    PartiallyShipping,
    /// With the carrier.
    InTransit,
    /// At the buyer.
    Delivered,
    /// Closed.
    Completed,
    /// Cancelled (`CANCEL` in the webhook doc, `CANCELLED` in the order API).
    Cancelled,
}

impl TiktokStatus {
    const ALL: [TiktokStatus; 9] = [
        TiktokStatus::Unpaid,
        TiktokStatus::OnHold,
        TiktokStatus::AwaitingShipment,
        TiktokStatus::AwaitingCollection,
        TiktokStatus::PartiallyShipping,
        TiktokStatus::InTransit,
        TiktokStatus::Delivered,
        TiktokStatus::Completed,
        TiktokStatus::Cancelled,
    ];

    /// The current API's name; what we store in `orders.tiktok_status`.
    pub fn name(self) -> &'static str {
        match self {
            TiktokStatus::Unpaid => "UNPAID",
            TiktokStatus::OnHold => "ON_HOLD",
            TiktokStatus::AwaitingShipment => "AWAITING_SHIPMENT",
            TiktokStatus::AwaitingCollection => "AWAITING_COLLECTION",
            TiktokStatus::PartiallyShipping => "PARTIALLY_SHIPPING",
            TiktokStatus::InTransit => "IN_TRANSIT",
            TiktokStatus::Delivered => "DELIVERED",
            TiktokStatus::Completed => "COMPLETED",
            TiktokStatus::Cancelled => "CANCELLED",
        }
    }

    /// The pre-202309 integer code.
    pub fn code(self) -> i64 {
        match self {
            TiktokStatus::Unpaid => 100,
            TiktokStatus::OnHold => 105,
            TiktokStatus::AwaitingShipment => 111,
            TiktokStatus::AwaitingCollection => 112,
            TiktokStatus::PartiallyShipping => 114,
            TiktokStatus::InTransit => 121,
            TiktokStatus::Delivered => 122,
            TiktokStatus::Completed => 130,
            TiktokStatus::Cancelled => 140,
        }
    }

    /// A status by name (case-insensitive; `CANCEL` too), or `None` for one we do not know.
    pub fn from_name(name: &str) -> Option<TiktokStatus> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("CANCEL") {
            return Some(TiktokStatus::Cancelled);
        }
        Self::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }

    /// A status by legacy integer code.
    pub fn from_code(code: i64) -> Option<TiktokStatus> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Our status for an order TikTok reports in this status.
    pub fn target(self) -> OrderStatus {
        match self {
            TiktokStatus::Unpaid | TiktokStatus::OnHold => OrderStatus::Pending,
            TiktokStatus::AwaitingShipment
            | TiktokStatus::AwaitingCollection
            | TiktokStatus::PartiallyShipping => OrderStatus::Paid,
            TiktokStatus::InTransit | TiktokStatus::Delivered | TiktokStatus::Completed => {
                OrderStatus::Fulfilled
            }
            TiktokStatus::Cancelled => OrderStatus::Cancelled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tiktok_status_maps_to_our_status() {
        let expected = [
            ("UNPAID", OrderStatus::Pending),
            ("ON_HOLD", OrderStatus::Pending),
            ("AWAITING_SHIPMENT", OrderStatus::Paid),
            ("AWAITING_COLLECTION", OrderStatus::Paid),
            ("PARTIALLY_SHIPPING", OrderStatus::Paid),
            ("IN_TRANSIT", OrderStatus::Fulfilled),
            ("DELIVERED", OrderStatus::Fulfilled),
            ("COMPLETED", OrderStatus::Fulfilled),
            ("CANCELLED", OrderStatus::Cancelled),
            ("CANCEL", OrderStatus::Cancelled),
        ];
        for (name, ours) in expected {
            let status = TiktokStatus::from_name(name).unwrap_or_else(|| panic!("{name} is known"));
            assert_eq!(status.target(), ours, "{name}");
        }
    }

    #[test]
    fn legacy_integer_codes_name_the_same_statuses() {
        let expected = [
            (100, "UNPAID"),
            (105, "ON_HOLD"),
            (111, "AWAITING_SHIPMENT"),
            (112, "AWAITING_COLLECTION"),
            (114, "PARTIALLY_SHIPPING"),
            (121, "IN_TRANSIT"),
            (122, "DELIVERED"),
            (130, "COMPLETED"),
            (140, "CANCELLED"),
        ];
        for (code, name) in expected {
            assert_eq!(
                TiktokStatus::from_code(code).map(TiktokStatus::name),
                Some(name),
                "{code}"
            );
            assert_eq!(
                TiktokStatus::from_name(name).map(TiktokStatus::code),
                Some(code),
                "{name}"
            );
        }
    }

    #[test]
    fn unknown_names_and_codes_are_none_and_case_does_not_matter() {
        assert_eq!(
            TiktokStatus::from_name("awaiting_shipment"),
            Some(TiktokStatus::AwaitingShipment)
        );
        assert_eq!(TiktokStatus::from_name("SHIPPED"), None);
        assert_eq!(TiktokStatus::from_name(""), None);
        assert_eq!(TiktokStatus::from_code(113), None);
        assert_eq!(TiktokStatus::from_code(-1), None);
    }
}
