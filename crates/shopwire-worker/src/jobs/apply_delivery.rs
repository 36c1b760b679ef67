//! Apply one claimed delivery: route it to its pipeline stage, whose effects and the
//! inbox row's final mark commit in one transaction.

use std::time::Duration;

use shopwire_core::db::inbox::{self, Claimed};
use shopwire_core::domain::{InboxStatus, Provider};
use sqlx::{PgConnection, Postgres, Transaction};

use crate::context::JobContext;
use crate::pipeline;

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

    /// A failure no retry can fix.
    pub fn permanent(message: impl Into<String>) -> Self {
        JobError::Permanent(message.into())
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

/// Route the delivery to its stage. Returns the final inbox status.
pub async fn apply(ctx: &JobContext, claimed: &Claimed) -> Result<InboxStatus, JobError> {
    let provider: Provider = claimed
        .provider
        .parse()
        .map_err(|e| JobError::permanent(format!("{e}")))?;
    match provider {
        Provider::Comments | Provider::Tiktok => {
            pipeline::buyer_message::apply(ctx, claimed, provider).await
        }
        Provider::Stripe => pipeline::stripe_event::apply(ctx, claimed).await,
        Provider::TiktokShop => pipeline::tiktok_shop_order::apply(ctx, claimed).await,
    }
}

/// Mark the delivery `outcome` inside `tx` and commit. If our lease was lost meanwhile,
/// roll everything back: the worker that holds it now applies it instead.
pub async fn commit(
    mut tx: Transaction<'static, Postgres>,
    ctx: &JobContext,
    claimed: &Claimed,
    outcome: InboxStatus,
) -> Result<InboxStatus, JobError> {
    // On a lost lease `tx` is dropped here, which rolls it back.
    mark(&mut tx, ctx, claimed, outcome).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Mark the delivery `outcome` inside the caller's transaction without committing: a
/// stage that takes a hot lock marks first, so its lock waits for nothing but the commit.
/// On a lost lease the caller must drop (roll back) the transaction.
pub async fn mark(
    conn: &mut PgConnection,
    ctx: &JobContext,
    claimed: &Claimed,
    outcome: InboxStatus,
) -> Result<(), JobError> {
    if inbox::finish(conn, claimed.id, &ctx.instance, outcome).await? {
        Ok(())
    } else {
        Err(JobError::transient("lease lost before commit"))
    }
}
