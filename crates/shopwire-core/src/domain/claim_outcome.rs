//! How a claim ends (docs/contract.md §9): exactly one outcome per claim, recorded on its
//! message; a waitlisted claim may later be promoted.

use std::fmt;
use std::str::FromStr;

/// The outcome of a claim, as stored in `claims.outcome` and `messages.outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClaimOutcome {
    /// A hold, an order and (with Stripe) a checkout link.
    Reserved,
    /// On the variant's waitlist.
    Waitlisted,
    /// A waitlisted claim that got its hold when stock freed up.
    Promoted,
    /// The product has variants and the claim named none that exists.
    NeedsVariant,
    /// Nothing free and the waitlist is full or off.
    SoldOut,
    /// No item named, pinned or in the lineup.
    Unmatched,
    /// The buyer already has `BUYER_MAX_OPEN_HOLDS` unpaid holds.
    LimitReached,
    /// The buyer is on the block list.
    Blocked,
    /// The buyer already holds this variant.
    AlreadyHeld,
}

impl ClaimOutcome {
    /// Every outcome.
    pub const ALL: [ClaimOutcome; 9] = [
        ClaimOutcome::Reserved,
        ClaimOutcome::Waitlisted,
        ClaimOutcome::Promoted,
        ClaimOutcome::NeedsVariant,
        ClaimOutcome::SoldOut,
        ClaimOutcome::Unmatched,
        ClaimOutcome::LimitReached,
        ClaimOutcome::Blocked,
        ClaimOutcome::AlreadyHeld,
    ];

    /// The name stored in Postgres and shown by the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimOutcome::Reserved => "reserved",
            ClaimOutcome::Waitlisted => "waitlisted",
            ClaimOutcome::Promoted => "promoted",
            ClaimOutcome::NeedsVariant => "needs_variant",
            ClaimOutcome::SoldOut => "sold_out",
            ClaimOutcome::Unmatched => "unmatched",
            ClaimOutcome::LimitReached => "limit_reached",
            ClaimOutcome::Blocked => "blocked",
            ClaimOutcome::AlreadyHeld => "already_held",
        }
    }

    /// True when the claim holds stock (reserved or promoted).
    pub fn holds_stock(self) -> bool {
        matches!(self, ClaimOutcome::Reserved | ClaimOutcome::Promoted)
    }
}

impl fmt::Display for ClaimOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a claim outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a claim outcome (reserved, waitlisted, promoted, needs_variant, sold_out, unmatched, limit_reached, blocked, already_held)"
)]
pub struct UnknownOutcome(pub String);

impl FromStr for ClaimOutcome {
    type Err = UnknownOutcome;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ClaimOutcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| UnknownOutcome(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_reads_back_from_its_name() {
        for outcome in ClaimOutcome::ALL {
            assert_eq!(outcome.as_str().parse::<ClaimOutcome>(), Ok(outcome));
        }
        assert!("ordered".parse::<ClaimOutcome>().is_err());
    }
}
