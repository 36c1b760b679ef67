//! How a claim ends (docs/contract.md §9): exactly one outcome per claim, recorded on its
//! message; a waitlisted claim may later be promoted. And where a claim stands.

use std::fmt;
use std::str::FromStr;

/// The outcome of a claim, as stored in `claims.outcome` and `messages.outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
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

/// Where a claim stands, as stored in `claims.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    /// Recorded; the allocator has not decided it yet (its window may still be open).
    Pending,
    /// On its variant's waitlist.
    Waiting,
    /// Decided for good.
    Decided,
    /// Left the waitlist unserved.
    Lapsed,
}

impl ClaimStatus {
    /// Every status.
    pub const ALL: [ClaimStatus; 4] = [
        ClaimStatus::Pending,
        ClaimStatus::Waiting,
        ClaimStatus::Decided,
        ClaimStatus::Lapsed,
    ];

    /// The name stored in Postgres.
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimStatus::Pending => "pending",
            ClaimStatus::Waiting => "waiting",
            ClaimStatus::Decided => "decided",
            ClaimStatus::Lapsed => "lapsed",
        }
    }
}

impl FromStr for ClaimStatus {
    type Err = UnknownOutcome;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ClaimStatus::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| UnknownOutcome(s.to_owned()))
    }
}

/// Both are stored as text and read back through their `FromStr`.
macro_rules! text_column {
    ($t:ty) => {
        impl sqlx::Type<sqlx::Postgres> for $t {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <&str as sqlx::Type<sqlx::Postgres>>::type_info()
            }

            fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Postgres> for $t {
            fn decode(
                value: sqlx::postgres::PgValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
                Ok(text.parse::<$t>()?)
            }
        }
    };
}
text_column!(ClaimOutcome);
text_column!(ClaimStatus);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_reads_back_from_its_name() {
        for outcome in ClaimOutcome::ALL {
            assert_eq!(outcome.as_str().parse::<ClaimOutcome>(), Ok(outcome));
        }
        assert!("ordered".parse::<ClaimOutcome>().is_err());
        for status in ClaimStatus::ALL {
            assert_eq!(status.as_str().parse::<ClaimStatus>(), Ok(status));
        }
        assert!("done".parse::<ClaimStatus>().is_err());
    }
}
