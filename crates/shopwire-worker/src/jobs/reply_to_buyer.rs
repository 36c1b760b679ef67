//! The reply job: send the buyer who ordered by DM their checkout link, when TikTok
//! Business Messaging is configured (`TIKTOK_MESSAGING_TOKEN`).
//!
//! The reply is a `jobs` row scheduled in the transaction that stores the Checkout
//! Session, so it is sent after the link exists and at most once per order
//! (`idempotency_key = reply:<order>`); a crash between the send and its commit can still
//! send it twice (the messaging API takes no idempotency key).

use shopwire_core::db::inbox::InboxId;
use shopwire_core::db::jobs::{self, ClaimedJob, JobId};
use shopwire_core::jobs::Queue;
use sqlx::PgConnection;

use super::JobError;
use crate::context::JobContext;
use crate::tiktok_messaging::MessagingError;

/// Schedule the reply for an order inside the transaction that stored its Checkout
/// Session; `None` when messaging is off or the order did not come from a DM.
pub async fn schedule(
    conn: &mut PgConnection,
    ctx: &JobContext,
    inbox_id: Option<InboxId>,
    order_id: i64,
) -> Result<Option<JobId>, JobError> {
    if ctx.messaging.is_none() {
        return Ok(None);
    }
    let from_dm: Option<(String,)> = sqlx::query_as(
        "SELECT o.order_number FROM orders o JOIN messages m ON m.id = o.message_id
          WHERE o.id = $1 AND m.channel = 'dm' AND m.conversation IS NOT NULL",
    )
    .bind(order_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((order_number,)) = from_dm else {
        return Ok(None);
    };
    let id = jobs::insert_for_order(
        conn,
        Queue::Replies.as_str(),
        order_id,
        &format!("reply:{order_number}"),
    )
    .await?;
    if let Some(inbox_id) = inbox_id {
        sqlx::query("UPDATE jobs SET inbox_id = $2 WHERE id = $1")
            .bind(id.get())
            .bind(inbox_id)
            .execute(conn)
            .await?;
    }
    Ok(Some(id))
}

#[derive(sqlx::FromRow)]
struct ReplyTarget {
    order_number: String,
    checkout_url: Option<String>,
    status: String,
    business: Option<String>,
    conversation: Option<String>,
}

/// One attempt: send the link, then mark the job done.
pub async fn attempt(ctx: &JobContext, claimed: &ClaimedJob) -> Result<&'static str, JobError> {
    let order_id = claimed
        .subject_id
        .ok_or_else(|| JobError::permanent("reply job without an order"))?;
    let messaging = ctx
        .messaging
        .as_ref()
        .ok_or_else(|| JobError::permanent("TIKTOK_MESSAGING_TOKEN is not set"))?;
    let target: Option<ReplyTarget> = sqlx::query_as(
        "SELECT o.order_number, o.checkout_url, o.status, m.streamer AS business, m.conversation
           FROM orders o JOIN messages m ON m.id = o.message_id WHERE o.id = $1",
    )
    .bind(order_id)
    .fetch_optional(&ctx.pool)
    .await?;
    let target =
        target.ok_or_else(|| JobError::permanent(format!("order {order_id} has no message")))?;
    let outcome = match (
        &target.checkout_url,
        &target.conversation,
        target.status.as_str(),
    ) {
        (Some(url), Some(conversation), "pending") => {
            let text = format!(
                "You got it! Your order {} is reserved. Pay here to confirm: {url}",
                target.order_number
            );
            messaging
                .send_text(target.business.as_deref(), conversation, &text)
                .await
                .map_err(job_error)?;
            "processed"
        }
        // Paid, expired or cancelled meanwhile: a link would only confuse.
        _ => "not_needed",
    };
    if !jobs::finish(&ctx.pool, claimed).await? {
        return Err(JobError::transient("lease lost before commit"));
    }
    Ok(outcome)
}

fn job_error(e: MessagingError) -> JobError {
    let error = if e.is_transient() {
        JobError::transient_after(e.to_string(), e.retry_after())
    } else {
        JobError::permanent(e.to_string())
    };
    error.caused_by(e)
}
