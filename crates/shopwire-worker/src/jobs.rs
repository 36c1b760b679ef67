//! Job handlers, one file per job.

pub mod allocate_claims;
pub mod apply_delivery;
pub mod create_checkout;
pub mod expire_checkout;
pub mod process_delivery;
pub mod refund_payment;
pub mod reply_to_buyer;
pub mod run_job;
pub mod score_trends;

use std::time::Duration;

use serde::Serialize;
use shopwire_core::jobs::Queue;

use crate::context::JobContext;

/// A job whose row could not be claimed: if the row waits for a later attempt (the copy
/// came early, e.g. on a clock a little ahead of Postgres's), schedule it again for then;
/// otherwise it is done or leased elsewhere and this copy simply ends.
async fn schedule_if_early<J: Serialize>(
    ctx: &JobContext,
    due: Result<Option<(Duration, Queue)>, sqlx::Error>,
    job: J,
) {
    match due {
        Ok(Some((wait, queue))) => {
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                "came before its time; scheduled again"
            );
            if let Err(e) = ctx.queue.schedule(queue, &job, wait).await {
                tracing::warn!(error = %e, "could not schedule it again; the sweeper will");
            }
        }
        Ok(None) => tracing::debug!("already done or leased elsewhere; nothing to do"),
        Err(e) => {
            tracing::warn!(error = %e, "could not read its schedule; the sweeper will retry it")
        }
    }
}
