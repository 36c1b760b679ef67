//! Commit an attempt's effects together with its row's final mark, fenced by the lease
//! (`shopwire_core::db::lease`): if the lease was lost meanwhile, everything rolls back
//! and the worker that holds it now applies the job instead.

use shopwire_core::db::inbox::{self, Claimed};
use shopwire_core::db::jobs::{self, ClaimedJob};
use shopwire_core::domain::InboxStatus;
use sqlx::{PgConnection, Postgres, Transaction};

use super::JobError;

/// Mark the delivery `outcome` inside `tx` and commit both.
pub async fn delivery(
    mut tx: Transaction<'static, Postgres>,
    claimed: &Claimed,
    outcome: InboxStatus,
) -> Result<InboxStatus, JobError> {
    // On a lost lease `tx` is dropped here, which rolls it back.
    mark_delivery(&mut tx, claimed, outcome).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Mark the delivery `outcome` inside the caller's transaction without committing: a
/// stage that takes a hot lock marks first, so its lock waits for nothing but the commit.
/// On a lost lease the caller must drop (roll back) the transaction.
pub async fn mark_delivery(
    conn: &mut PgConnection,
    claimed: &Claimed,
    outcome: InboxStatus,
) -> Result<(), JobError> {
    if inbox::finish(conn, claimed.id, &claimed.locked_by, outcome).await? {
        Ok(())
    } else {
        Err(JobError::transient("lease lost before commit"))
    }
}

/// Mark the claimed job processed in `tx` and commit both; on a lost lease `tx` rolls
/// back and the attempt counts as failed (the job's new holder decides).
pub async fn job(
    mut tx: Transaction<'static, Postgres>,
    claimed: &ClaimedJob,
) -> Result<(), JobError> {
    if !jobs::finish(&mut *tx, claimed).await? {
        tx.rollback().await?;
        return Err(JobError::transient("lease lost before commit"));
    }
    tx.commit().await?;
    Ok(())
}
