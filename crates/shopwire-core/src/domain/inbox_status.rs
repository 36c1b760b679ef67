//! Where a delivery stands in its life in the inbox.

use std::fmt;
use std::str::FromStr;

/// The status column of an inbox row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InboxStatus {
    /// Recorded, waiting for a worker (or for the sweeper to enqueue it).
    Queued,
    /// A worker holds its lease.
    Processing,
    /// Its effects are committed.
    Processed,
    /// Verified and valid, but nothing for us to do (unknown event type or topic).
    Ignored,
    /// Verified but malformed; kept for audit, never processed.
    Rejected,
    /// The last attempt failed; another is scheduled.
    Failed,
    /// Out of attempts; in the dead-letter queue.
    Dead,
}

impl InboxStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [InboxStatus; 7] = [
        InboxStatus::Queued,
        InboxStatus::Processing,
        InboxStatus::Processed,
        InboxStatus::Ignored,
        InboxStatus::Rejected,
        InboxStatus::Failed,
        InboxStatus::Dead,
    ];

    /// The name stored in Postgres.
    pub fn as_str(self) -> &'static str {
        match self {
            InboxStatus::Queued => "queued",
            InboxStatus::Processing => "processing",
            InboxStatus::Processed => "processed",
            InboxStatus::Ignored => "ignored",
            InboxStatus::Rejected => "rejected",
            InboxStatus::Failed => "failed",
            InboxStatus::Dead => "dead",
        }
    }
}

impl fmt::Display for InboxStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is not one of ours.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown status `{0}` (expected one of queued, processing, processed, ignored, rejected, failed, dead)"
)]
pub struct UnknownStatus(String);

impl FromStr for InboxStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InboxStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}
