//! Stripe Checkout for new orders. `schedule` records a checkout job in the order's own
//! transaction, so an order and its job exist together or not at all; `enqueue` pushes it
//! once that transaction has committed (if the push is lost, the sweeper pushes it after
//! `SWEEP_AFTER_SECS`). The job itself is `jobs::create_checkout`.

use shopwire_core::db::jobs::{self, JobId};
use shopwire_core::jobs::{JobRef, Queue};
use sqlx::PgConnection;

use crate::context::JobContext;
use crate::jobs::apply_delivery::JobError;

/// The `jobs.idempotency_key` of an order's checkout job: one job per order.
pub fn job_key(order_number: &str) -> String {
    format!("checkout:{order_number}")
}

/// Schedule a Checkout Session for a new order, inside the order's transaction. Returns
/// the job to pass to [`enqueue`] after commit, or `None` when Stripe is not configured.
pub async fn schedule(
    conn: &mut PgConnection,
    ctx: &JobContext,
    order_id: i64,
    order_number: &str,
) -> Result<Option<JobId>, JobError> {
    if ctx.stripe.is_none() {
        return Ok(None);
    }
    let id = jobs::insert_for_order(
        conn,
        Queue::Checkout.as_str(),
        order_id,
        &job_key(order_number),
    )
    .await?;
    Ok(Some(id))
}

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
