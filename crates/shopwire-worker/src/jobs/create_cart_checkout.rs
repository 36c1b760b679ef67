//! The cart checkout job (`CART_MODE=live`): one Checkout Session for a buyer's holds from
//! one live, a line item per hold, made `CART_SETTLE_SECS` after the last of them.
//!
//! The allocator keeps the job (`cart:<id>`) due that long after the cart's latest hold,
//! so it runs once the buyer has stopped claiming. It closes the cart to new holds first
//! (a later claim opens a new cart), then calls Stripe with `CART-<id>` as the
//! `Idempotency-Key` and the request fixed on the job, exactly as the order's job does
//! (`create_checkout`), and stores the session on the cart and each of its orders, with
//! the buyers' DM replies, in one transaction. The cart's trigger reports the link once.

use shopwire_core::db::carts::{self, CartCheckout};
use shopwire_core::db::jobs::{self, ClaimedJob};
use shopwire_core::jobs::Queue;

use super::JobError;
use super::create_checkout::{line_item, session_expiry};
use super::{reply_to_buyer, run_job};
use crate::attempt::commit;
use crate::context::JobContext;
use crate::stripe::{CartLineItem, NewCartSession};

/// One attempt; returns the outcome name on success.
pub async fn attempt(ctx: &JobContext, claimed: &ClaimedJob) -> Result<&'static str, JobError> {
    let cart_id = claimed
        .subject_id
        .ok_or_else(|| JobError::permanent(format!("job {} names no cart", claimed.id)))?;
    let stripe = ctx
        .stripe
        .as_ref()
        .ok_or_else(|| JobError::permanent("STRIPE_SECRET_KEY is not set"))?;
    let cart = carts::close_for_checkout(&ctx.pool, cart_id)
        .await?
        .ok_or_else(|| JobError::permanent(format!("cart {cart_id} does not exist")))?;
    if cart.checkout_session_id.is_some() || cart.status != "checkout" {
        let tx = ctx.pool.begin().await?;
        commit::job(tx, claimed).await?;
        return Ok("already_created");
    }
    if cart.lines.is_empty() {
        tracing::info!(
            cart = cart_id,
            "no pending holds left in the cart; no session created"
        );
        let mut tx = ctx.pool.begin().await?;
        carts::close_empty(&mut tx, cart_id).await?;
        commit::job(tx, claimed).await?;
        return Ok("empty");
    }
    let reference = carts::reference(cart_id);
    let rendered = stripe.render_cart_session(&session(&reference, &cart)?);
    let body = jobs::fix_request(&ctx.pool, claimed, rendered).await?;
    let session = stripe.create_checkout_session(body, &reference).await?;
    let orders: Vec<i64> = cart.lines.iter().map(|line| line.order_id).collect();
    let mut tx = ctx.pool.begin().await?;
    let took = carts::set_checkout(&mut tx, cart_id, &orders, &session.id, &session.url).await?;
    let mut replies = Vec::new();
    for order_id in took {
        if let Some(job) = reply_to_buyer::schedule(&mut tx, ctx, None, order_id).await? {
            replies.push(job);
        }
    }
    commit::job(tx, claimed).await?;
    for job in replies {
        run_job::enqueue(ctx, Queue::Replies, job).await;
    }
    tracing::info!(cart = cart_id, orders = orders.len(), session = %session.id, "cart checkout session created");
    Ok("processed")
}

/// The cart's session: a line per hold, expiring with the earliest hold.
fn session<'a>(reference: &'a str, cart: &'a CartCheckout) -> Result<NewCartSession<'a>, JobError> {
    let mut lines = Vec::with_capacity(cart.lines.len());
    for line in &cart.lines {
        let (_, quantity, unit_amount) = line_item(
            &line.order_number,
            line.quantity,
            line.total_cents,
            &line.currency,
        )?;
        lines.push(CartLineItem {
            name: line.title.as_deref().unwrap_or(&line.order_number),
            unit_amount,
            quantity,
        });
    }
    let earliest = cart
        .lines
        .iter()
        .map(|line| line.expires_at)
        .min()
        .ok_or_else(|| JobError::permanent("a cart session needs a line"))?;
    Ok(NewCartSession {
        reference,
        currency: &cart.lines[0].currency,
        lines,
        expires_at: session_expiry(earliest),
    })
}
