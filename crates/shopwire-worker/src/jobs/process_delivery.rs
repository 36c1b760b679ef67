//! Inbox deliveries as jobs of the one runner: claim the delivery, route it to its
//! pipeline stage, whose effects and the inbox row's final mark commit in one transaction.

use std::time::Duration;

use shopwire_core::db::inbox::{self, AfterFailure, Claimed, InboxId};
use shopwire_core::domain::{InboxStatus, Provider};
use shopwire_core::jobs::{InboxJob, Queue};

use super::runner::{self, JobKind};
use crate::attempt::JobError;
use crate::context::JobContext;
use crate::pipeline;

/// A webhook delivery's first stage (the messages, stripe-events and tiktok-shop queues).
pub struct Delivery;

impl JobKind for Delivery {
    type Claimed = Claimed;
    type Payload = InboxJob;

    fn payload(id: i64) -> InboxJob {
        InboxJob {
            inbox_id: InboxId::new(id),
        }
    }

    fn row_id(payload: &InboxJob) -> i64 {
        payload.inbox_id.get()
    }

    async fn claim(ctx: &JobContext, id: i64) -> Result<Option<Claimed>, sqlx::Error> {
        inbox::claim(&ctx.pool, InboxId::new(id), &ctx.instance, ctx.lease).await
    }

    async fn due_in(ctx: &JobContext, id: i64) -> Result<Option<(Duration, Queue)>, sqlx::Error> {
        inbox::due_in(&ctx.pool, InboxId::new(id)).await
    }

    fn id(claimed: &Claimed) -> i64 {
        claimed.id.get()
    }

    fn queue(claimed: &Claimed) -> Option<Queue> {
        Some(Queue::for_provider_name(&claimed.provider))
    }

    fn attempts(claimed: &Claimed) -> i32 {
        claimed.attempts
    }

    fn describe(claimed: &Claimed, span: &tracing::Span) {
        span.record("inbox_id", claimed.id.get());
        span.record("provider", claimed.provider.as_str());
    }

    async fn attempt(ctx: &JobContext, claimed: &Claimed) -> Result<&'static str, JobError> {
        apply(ctx, claimed).await.map(InboxStatus::as_str)
    }

    async fn fail(
        ctx: &JobContext,
        claimed: &Claimed,
        error: &str,
        after: AfterFailure,
    ) -> Result<bool, sqlx::Error> {
        inbox::fail(&ctx.pool, claimed.id, &claimed.locked_by, error, after).await
    }
}

/// Claim, apply and record one delivery (what the queue's handler does for each job).
pub async fn process(ctx: &JobContext, id: InboxId) {
    runner::process::<Delivery>(ctx, id.get()).await;
}

/// Route the delivery to its stage. Returns the final inbox status.
pub async fn apply(ctx: &JobContext, claimed: &Claimed) -> Result<InboxStatus, JobError> {
    let provider: Provider = claimed
        .provider
        .parse()
        .map_err(|e| JobError::permanent(format!("{e}")))?;
    match provider {
        Provider::Comments | Provider::Tiktok => {
            pipeline::buyer_message::apply(ctx, claimed, provider).await
        }
        Provider::Stripe => pipeline::stripe_event::apply(ctx, claimed).await,
        Provider::TiktokShop => pipeline::tiktok_shop_order::apply(ctx, claimed).await,
    }
}
