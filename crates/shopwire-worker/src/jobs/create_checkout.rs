//! The checkout job: create an order's Stripe Checkout Session and store it on the order.
//!
//! Call Stripe with the order number as the `Idempotency-Key` (the same on every attempt,
//! so a retry after a lost answer returns the session already created), sending the
//! request the first attempt rendered and fixed on the job (so an edit to the product or
//! the settings never turns a retry into an idempotency error); then store the session,
//! schedule the buyer's DM reply, and finish the job in one transaction.
//! Claiming, retries and dead-lettering are [`super::run_job`]'s.

use std::time::Duration;

use chrono::{DateTime, Utc};
use shopwire_core::db::jobs::{self, ClaimedJob};
use shopwire_core::db::orders;
use shopwire_core::domain::Money;
use shopwire_core::jobs::Queue;

use super::JobError;
use super::{reply_to_buyer, run_job};
use crate::attempt::commit;
use crate::context::JobContext;
use crate::stripe::NewCheckoutSession;

/// Stripe accepts an `expires_at` from 30 minutes to 24 hours after the session's
/// creation. The request is fixed at the first attempt, so the margin also covers the
/// retries that follow it; a hold shorter than this is enforced by expiring the session
/// when the hold lapses (`expire_checkout`).
const MIN_SESSION_LIFETIME: Duration = Duration::from_secs(35 * 60);

/// One attempt; returns the outcome name on success.
pub async fn attempt(ctx: &JobContext, claimed: &ClaimedJob) -> Result<&'static str, JobError> {
    let (order_id, stripe, order) = run_job::stripe_order(ctx, claimed).await?;
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
    let (total, quantity, unit_amount) = line_item(
        &order.order_number,
        order.quantity,
        order.total_cents,
        &order.currency,
    )?;
    let name = order.title.as_deref().unwrap_or(&order.order_number);
    let rendered = stripe.render_checkout_session(&NewCheckoutSession {
        order_number: &order.order_number,
        product_name: name,
        currency: total.currency.code(),
        unit_amount,
        quantity,
        expires_at: session_expiry(expires_at),
    });
    let body = jobs::fix_request(&ctx.pool, claimed, rendered).await?;
    let session = stripe
        .create_checkout_session(body, &order.order_number)
        .await?;
    finish(ctx, claimed, Some((order_id, &session.id, &session.url))).await?;
    tracing::info!(order = %order.order_number, session = %session.id, "checkout session created");
    Ok("processed")
}

/// The session's `expires_at` (unix seconds) for a hold lapsing at `hold_expires`: never
/// sooner than Stripe accepts.
pub(crate) fn session_expiry(hold_expires: DateTime<Utc>) -> i64 {
    let earliest =
        Utc::now() + chrono::Duration::from_std(MIN_SESSION_LIFETIME).unwrap_or_default();
    hold_expires.max(earliest).timestamp()
}

/// An order as a line item: its total and `(quantity, unit_amount)`.
pub(crate) fn line_item(
    order_number: &str,
    quantity: i32,
    total_cents: i64,
    currency: &str,
) -> Result<(Money, i32, i64), JobError> {
    // The total in its currency's minor unit as Stripe counts it (¥1,500 is 1500, $79.99
    // is 7999), copied from the product's price when the order was made. `inventory set`
    // refuses prices Stripe cannot charge; a row from before that check fails here, with
    // our reason, instead of as Stripe's 400.
    let total = Money::from_stored(total_cents, currency)
        .map_err(|e| JobError::permanent(format!("order {order_number}: {e}")))?;
    total
        .check_stripe_charge()
        .map_err(|e| JobError::permanent(format!("order {order_number}: {e}")))?;
    // One line item of `quantity` units when the total divides evenly into amounts Stripe
    // can charge, else the whole total as a single unit: the buyer is charged exactly the
    // order's total either way.
    let step = total.currency.stripe_step();
    let (quantity, unit_amount) = match quantity {
        q if q > 0 && total.minor % (i64::from(q) * step) == 0 => (q, total.minor / i64::from(q)),
        _ => (1, total.minor),
    };
    Ok((total, quantity, unit_amount))
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
    commit::job(tx, claimed).await?;
    if let Some(job) = reply {
        run_job::enqueue(ctx, Queue::Replies, job).await;
    }
    Ok(())
}
