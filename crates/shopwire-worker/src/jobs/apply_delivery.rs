//! Apply one claimed delivery: its effects and its `processed` mark commit in one
//! transaction. The commerce pipeline (intent → product → reservation → order, Stripe
//! events, TikTok Shop orders) plugs in here; until it does, a delivery is recorded as
//! processed with no further effect.

use std::time::Duration;

use shopwire_core::db::inbox::{self, Claimed};
use shopwire_core::domain::InboxStatus;

use crate::context::JobContext;

/// Why an attempt failed, and whether trying again could help.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth retrying (network, 5xx, lock timeout); optionally not before `retry_after`.
    #[error("{message}")]
    Transient {
        /// What went wrong.
        message: String,
        /// The provider's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
    /// Retrying cannot help (bad payload, unknown product): straight to the dead-letter queue.
    #[error("{0}")]
    Permanent(String),
}

impl JobError {
    /// A transient failure without `Retry-After`.
    pub fn transient(message: impl Into<String>) -> Self {
        JobError::Transient {
            message: message.into(),
            retry_after: None,
        }
    }

    /// True when no retry should be attempted.
    pub fn is_permanent(&self) -> bool {
        matches!(self, JobError::Permanent(_))
    }

    /// The provider's requested delay, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            JobError::Transient { retry_after, .. } => *retry_after,
            JobError::Permanent(_) => None,
        }
    }
}

impl From<sqlx::Error> for JobError {
    fn from(e: sqlx::Error) -> Self {
        JobError::transient(format!("database: {e}"))
    }
}

/// Apply the delivery and mark it done, atomically. Returns the final inbox status.
pub async fn apply(ctx: &JobContext, claimed: &Claimed) -> Result<InboxStatus, JobError> {
    let mut tx = ctx.pool.begin().await?;
    let outcome = InboxStatus::Processed;
    if !inbox::finish(&mut *tx, claimed.id, &ctx.instance, outcome).await? {
        // Our lease expired and someone else took over: leave everything to them.
        tx.rollback().await?;
        return Err(JobError::transient("lease lost before commit"));
    }
    tx.commit().await?;
    Ok(outcome)
}
