//! `jobs` rows (the checkout, replies and trends queues) as jobs of the one runner: claim
//! the row, run its queue's attempt, and let the runner record the outcome.

use std::time::Duration;

use shopwire_core::db::inbox::AfterFailure;
use shopwire_core::db::jobs::{self, ClaimedJob, JobId};
use shopwire_core::db::{carts, orders, payments};
use shopwire_core::jobs::{JobRef, Queue};

use super::runner::{self, JobKind};
use super::{
    create_cart_checkout, create_checkout, expire_checkout, refund_payment, reply_to_buyer,
    score_trends,
};
use crate::attempt::JobError;
use crate::context::JobContext;

/// A later-stage job tied to its delivery: a Stripe call, a reply, trend scoring.
pub struct TableJob;

impl JobKind for TableJob {
    type Claimed = ClaimedJob;
    type Payload = JobRef;

    fn payload(id: i64) -> JobRef {
        JobRef {
            job_id: JobId::new(id),
        }
    }

    fn row_id(payload: &JobRef) -> i64 {
        payload.job_id.get()
    }

    async fn claim(ctx: &JobContext, id: i64) -> Result<Option<ClaimedJob>, sqlx::Error> {
        jobs::claim(&ctx.pool, JobId::new(id), &ctx.instance, ctx.lease).await
    }

    async fn due_in(ctx: &JobContext, id: i64) -> Result<Option<(Duration, Queue)>, sqlx::Error> {
        jobs::due_in(&ctx.pool, JobId::new(id)).await
    }

    fn id(claimed: &ClaimedJob) -> i64 {
        claimed.id.get()
    }

    fn queue(claimed: &ClaimedJob) -> Option<Queue> {
        Queue::from_name(&claimed.queue)
    }

    fn attempts(claimed: &ClaimedJob) -> i32 {
        claimed.attempts
    }

    fn describe(claimed: &ClaimedJob, span: &tracing::Span) {
        if let Some(inbox_id) = claimed.inbox_id {
            span.record("inbox_id", inbox_id.get());
        }
    }

    async fn attempt(ctx: &JobContext, claimed: &ClaimedJob) -> Result<&'static str, JobError> {
        match Self::queue(claimed) {
            Some(Queue::Checkout) => stripe_call(ctx, claimed).await,
            Some(Queue::Replies) => reply_to_buyer::attempt(ctx, claimed).await,
            Some(Queue::Trends) => score_trends::attempt(ctx, claimed).await,
            _ => Err(JobError::permanent(format!(
                "no handler for queue `{}`",
                claimed.queue
            ))),
        }
    }

    async fn fail(
        ctx: &JobContext,
        claimed: &ClaimedJob,
        error: &str,
        after: AfterFailure,
    ) -> Result<bool, sqlx::Error> {
        jobs::fail(&ctx.pool, claimed, error, after).await
    }
}

/// Claim, attempt and record one job (what the queue's handler does for each job).
pub async fn process(ctx: &JobContext, id: JobId) {
    runner::process::<TableJob>(ctx, id.get()).await;
}

/// What every Stripe job about an order starts from: the order's id, the Stripe client and
/// the order as checkout sees it. A job without an order, or without Stripe configured,
/// cannot succeed by retrying.
pub async fn stripe_order<'a>(
    ctx: &'a JobContext,
    claimed: &ClaimedJob,
) -> Result<
    (
        i64,
        &'a crate::stripe::StripeClient,
        payments::CheckoutOrder,
    ),
    JobError,
> {
    let order_id = claimed
        .subject_id
        .ok_or_else(|| JobError::permanent(format!("job {} names no order", claimed.id)))?;
    let stripe = ctx
        .stripe
        .as_ref()
        .ok_or_else(|| JobError::permanent("STRIPE_SECRET_KEY is not set"))?;
    let mut conn = ctx.pool.acquire().await?;
    let order = payments::checkout_order(&mut conn, order_id)
        .await?
        .ok_or_else(|| JobError::permanent(format!("order {order_id} does not exist")))?;
    Ok((order_id, stripe, order))
}

/// The checkout queue carries every Stripe call about an order or a live cart; its key
/// says which.
async fn stripe_call(ctx: &JobContext, claimed: &ClaimedJob) -> Result<&'static str, JobError> {
    let key = claimed.idempotency_key.as_str();
    if key.starts_with(orders::EXPIRE_SESSION_KEY_PREFIX) {
        expire_checkout::attempt(ctx, claimed).await
    } else if key.starts_with(refund_payment::KEY_PREFIX) {
        refund_payment::attempt(ctx, claimed).await
    } else if key.starts_with(carts::JOB_KEY_PREFIX) {
        create_cart_checkout::attempt(ctx, claimed).await
    } else {
        create_checkout::attempt(ctx, claimed).await
    }
}

/// Push `jobs` rows after the transaction that created them has committed.
pub async fn enqueue(ctx: &JobContext, queue: Queue, job: JobId) {
    runner::enqueue_after_commit(ctx, queue, &[JobRef { job_id: job }]).await;
}
