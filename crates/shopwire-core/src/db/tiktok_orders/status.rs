//! Our order statuses and the legal steps between them (the orders migration's trigger).

/// `orders.status`: where an order stands. Mirrors the forward-only trigger of the orders
/// migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Created, not paid.
    Pending,
    /// Paid; stock is committed.
    Paid,
    /// Shipped or delivered.
    Fulfilled,
    /// The hold lapsed unpaid (message orders only).
    Expired,
    /// Money returned.
    Refunded,
    /// Cancelled before shipping.
    Cancelled,
}

impl OrderStatus {
    /// The name stored in Postgres.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Paid => "paid",
            OrderStatus::Fulfilled => "fulfilled",
            OrderStatus::Expired => "expired",
            OrderStatus::Refunded => "refunded",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    /// The status stored as `name`, if it is one.
    pub fn parse(name: &str) -> Option<OrderStatus> {
        [
            OrderStatus::Pending,
            OrderStatus::Paid,
            OrderStatus::Fulfilled,
            OrderStatus::Expired,
            OrderStatus::Refunded,
            OrderStatus::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }

    /// The statuses one legal step away (the trigger's list).
    fn next(self) -> &'static [OrderStatus] {
        match self {
            OrderStatus::Pending => &[
                OrderStatus::Paid,
                OrderStatus::Expired,
                OrderStatus::Cancelled,
            ],
            OrderStatus::Paid => &[
                OrderStatus::Fulfilled,
                OrderStatus::Refunded,
                OrderStatus::Cancelled,
            ],
            OrderStatus::Fulfilled => &[OrderStatus::Refunded],
            OrderStatus::Expired | OrderStatus::Refunded | OrderStatus::Cancelled => &[],
        }
    }

    /// The shortest chain of legal steps from `self` to `to`, without `self`: empty when
    /// already there, `None` when `to` cannot be reached (it would move the order back).
    /// `pending → fulfilled` goes through `paid`, so its stock is committed on the way.
    pub fn path_to(self, to: OrderStatus) -> Option<Vec<OrderStatus>> {
        if self == to {
            return Some(Vec::new());
        }
        for &step in self.next() {
            if step == to {
                return Some(vec![step]);
            }
        }
        // The graph is a short DAG (depth ≤ 3): depth-first over the next steps suffices,
        // and direct steps were tried first, so the result is shortest.
        self.next().iter().find_map(|&step| {
            step.path_to(to).map(|rest| {
                let mut path = vec![step];
                path.extend(rest);
                path
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::*;
    use super::*;

    #[test]
    fn paths_follow_the_forward_only_trigger() {
        assert_eq!(Pending.path_to(Pending), Some(vec![]));
        assert_eq!(Pending.path_to(Paid), Some(vec![Paid]));
        assert_eq!(Pending.path_to(Fulfilled), Some(vec![Paid, Fulfilled]));
        assert_eq!(Pending.path_to(Cancelled), Some(vec![Cancelled]));
        assert_eq!(Pending.path_to(Refunded), Some(vec![Paid, Refunded]));
        assert_eq!(Paid.path_to(Cancelled), Some(vec![Cancelled]));
        assert_eq!(Fulfilled.path_to(Refunded), Some(vec![Refunded]));
    }

    #[test]
    fn nothing_moves_an_order_back() {
        assert_eq!(Paid.path_to(Pending), None);
        assert_eq!(Fulfilled.path_to(Paid), None);
        assert_eq!(Fulfilled.path_to(Cancelled), None);
        assert_eq!(Cancelled.path_to(Paid), None);
        assert_eq!(Refunded.path_to(Fulfilled), None);
        assert_eq!(Expired.path_to(Paid), None);
    }

    #[test]
    fn every_status_round_trips_through_its_name() {
        for s in [Pending, Paid, Fulfilled, Expired, Refunded, Cancelled] {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(OrderStatus::parse("shipped"), None);
    }
}
