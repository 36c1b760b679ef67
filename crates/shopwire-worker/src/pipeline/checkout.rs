//! Stripe Checkout for new orders. The order's own transaction records its checkout job
//! (see [`JOB_KEY_PREFIX`]), so an order and its job exist together or not at all;
//! `enqueue` pushes it once that transaction has committed (if the push is lost, the sweeper pushes it after
//! `SWEEP_AFTER_SECS`). The job itself is `jobs::create_checkout`.

use shopwire_core::db::jobs::JobId;
use shopwire_core::jobs::{JobRef, Queue};

use crate::context::JobContext;

/// An order's checkout job has the idempotency key `checkout:<order number>`: one job per
/// order. `reserve_message_order` creates it with the order, in the same call.
pub const JOB_KEY_PREFIX: &str = "checkout:";

/// Push a scheduled checkout job, after the transaction that created it has committed.
/// Best effort: a job Redis never got is pushed by the sweeper.
pub async fn enqueue(ctx: &JobContext, job: JobId) {
    if let Err(e) = ctx
        .queue
        .push_refs(Queue::Checkout, &[JobRef { job_id: job }])
        .await
    {
        tracing::warn!(job_id = job.get(), error = %e, "could not push the checkout job; the sweeper will");
    }
}
