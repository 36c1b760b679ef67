//! The checkout job: create an order's Stripe Checkout Session and store it on the order.
//!
//! Call Stripe with the order number as the `Idempotency-Key` (the same on every attempt,
//! so a retry after a lost answer returns the session already created); then store the
//! session, schedule the buyer's DM reply, and finish the job in one transaction.
//! Claiming, retries and dead-lettering are [`super::run_job`]'s.

use std::time::Duration;

use chrono::Utc;
use shopwire_core::db::jobs::{self, ClaimedJob};
use shopwire_core::db::{orders, payments};
use shopwire_core::jobs::Queue;

use super::apply_delivery::JobError;
use super::{reply_to_buyer, run_job};
use crate::context::JobContext;
use crate::stripe::{NewCheckoutSession, StripeError};

/// Stripe refuses an `expires_at` less than 30 minutes after the session's creation; keep
/// a margin for the request's own latency.
const MIN_SESSION_LIFETIME: Duration = Duration::from_secs(30 * 60 + 30);

/// One attempt; returns the outcome name on success.
pub async fn attempt(ctx: &JobContext, claimed: &ClaimedJob) -> Result<&'static str, JobError> {
    let order_id = claimed
        .subject_id
        .ok_or_else(|| JobError::permanent("checkout job without an order"))?;
    let stripe = ctx
        .stripe
        .as_ref()
        .ok_or_else(|| JobError::permanent("STRIPE_SECRET_KEY is not set"))?;
    let order = {
        let mut conn = ctx.pool.acquire().await?;
        payments::checkout_order(&mut conn, order_id)
            .await?
            .ok_or_else(|| JobError::permanent(format!("order {order_id} does not exist")))?
    };
    if order.status != "pending" {
        tracing::info!(order = %order.order_number, status = %order.status, "order no longer pending; no session created");
        return finish(ctx, claimed, None).await.map(|()| "not_pending");
    }
    if order.checkout_session_id.is_some() {
        return finish(ctx, claimed, None).await.map(|()| "already_created");
    }
    let expires_at = order.expires_at.ok_or_else(|| {
        JobError::permanent(format!("order {} has no reservation", order.order_number))
    })?;
    let lifetime = (expires_at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
    if lifetime < MIN_SESSION_LIFETIME {
        return Err(JobError::permanent(format!(
            "reservation of {} lapses in {}s, under Stripe Checkout's 30-minute minimum",
            order.order_number,
            lifetime.as_secs()
        )));
    }
    // One line item of `quantity` units when the total divides evenly, else the whole
    // total as a single unit: the buyer is charged exactly the order's total either way.
    let (quantity, unit_amount) = match order.quantity {
        q if q > 0 && order.total_cents % i64::from(q) == 0 => {
            (q, order.total_cents / i64::from(q))
        }
        _ => (1, order.total_cents),
    };
    let name = order.title.as_deref().unwrap_or(&order.order_number);
    let session = stripe
        .create_checkout_session(&NewCheckoutSession {
            order_number: &order.order_number,
            product_name: name,
            currency: &order.currency,
            unit_amount,
            quantity,
            expires_at: expires_at.timestamp(),
        })
        .await
        .map_err(job_error)?;
    finish(ctx, claimed, Some((order_id, &session.id, &session.url))).await?;
    tracing::info!(order = %order.order_number, session = %session.id, "checkout session created");
    Ok("processed")
}

/// Store the session (if any) and mark the job processed, in one transaction.
async fn finish(
    ctx: &JobContext,
    claimed: &ClaimedJob,
    session: Option<(i64, &str, &str)>,
) -> Result<(), JobError> {
    let mut tx = ctx.pool.begin().await?;
    let mut reply = None;
    if let Some((order_id, session_id, url)) = session {
        orders::set_checkout(&mut tx, order_id, session_id, url).await?;
        reply = reply_to_buyer::schedule(&mut tx, ctx, claimed.inbox_id, order_id).await?;
    }
    if !jobs::finish(&mut *tx, claimed).await? {
        tx.rollback().await?;
        return Err(JobError::transient("lease lost before commit"));
    }
    tx.commit().await?;
    if let Some(job) = reply {
        run_job::enqueue(ctx, Queue::Replies, job).await;
    }
    Ok(())
}

fn job_error(e: StripeError) -> JobError {
    if e.is_transient() {
        JobError::Transient {
            retry_after: e.retry_after(),
            message: e.to_string(),
        }
    } else {
        JobError::permanent(e.to_string())
    }
}
