//! The hold-lapsed job: expire the order's Checkout Session at Stripe before its stock
//! goes back on sale, so a buyer can never pay for units someone else was given.
//!
//! A hold may be shorter than Stripe's 30-minute session minimum, so the session usually
//! outlives it. When the hold lapses the sweeper (`orders::expire_reservations`) creates
//! this job instead of releasing; it asks Stripe to expire the session and acts on what
//! Stripe says the session is: `expired` → release the hold; `complete` and paid → the
//! order is paid (the buyer beat the clock); `complete` but unpaid → a delayed payment is
//! under way and the hold stays. A session that is still open is retried. If the job
//! dies, the sweeper releases the hold without Stripe, and a payment that still lands is
//! honoured or refunded (`pipeline::stripe_event`).

use shopwire_core::db::jobs::ClaimedJob;
use shopwire_core::db::orders::{self, ReleasedAs};

use super::JobError;
use super::run_job;
use crate::attempt::commit;
use crate::context::JobContext;
use crate::stripe::SessionState;

/// One attempt; returns the outcome name on success.
pub async fn attempt(ctx: &JobContext, claimed: &ClaimedJob) -> Result<&'static str, JobError> {
    let (order_id, stripe, order) = run_job::stripe_order(ctx, claimed).await?;
    let tx = ctx.pool.begin().await?;
    if order.status != "pending" {
        commit::job(tx, claimed).await?;
        return Ok("not_pending");
    }
    let Some(session_id) = order.checkout_session_id.as_deref() else {
        return release(tx, claimed, order_id).await;
    };
    let state = match stripe
        .expire_checkout_session(session_id, &claimed.idempotency_key)
        .await
    {
        Ok(state) => state,
        // Stripe refuses to expire a session that is not open: read it to learn why.
        Err(e) if !e.is_transient() => stripe.checkout_session(session_id).await?,
        Err(e) => return Err(e.into()),
    };
    settle(tx, claimed, order_id, &order.order_number, &state).await
}

/// Act on the session's state at Stripe, in one transaction with the job's completion.
async fn settle(
    mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
    claimed: &ClaimedJob,
    order_id: i64,
    order_number: &str,
    state: &SessionState,
) -> Result<&'static str, JobError> {
    let intent = state.payment_intent.as_ref().map(|pi| pi.id());
    let outcome = match (state.status.as_deref(), state.payment_status.as_deref()) {
        (Some("expired"), _) => return release(tx, claimed, order_id).await,
        (Some("complete"), Some("paid" | "no_payment_required")) => {
            orders::mark_paid(&mut tx, order_id, intent).await?;
            tracing::info!(
                order = order_number,
                "the hold lapsed but the session was paid: order paid"
            );
            "paid"
        }
        (Some("complete"), _) => {
            orders::await_payment(&mut tx, order_id, intent).await?;
            tracing::info!(
                order = order_number,
                "the hold lapsed during a delayed payment: hold kept"
            );
            "awaiting_payment"
        }
        (status, _) => {
            return Err(JobError::transient(format!(
                "session {} is still {}",
                state.id,
                status.unwrap_or("of unknown status")
            )));
        }
    };
    commit::job(tx, claimed).await?;
    Ok(outcome)
}

async fn release(
    mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
    claimed: &ClaimedJob,
    order_id: i64,
) -> Result<&'static str, JobError> {
    orders::release(&mut tx, order_id, ReleasedAs::Expired).await?;
    commit::job(tx, claimed).await?;
    Ok("expired")
}
