//! Outbound deliveries as jobs of the one runner: sign one event for one endpoint with
//! Standard Webhooks and POST it. A 2xx finishes it; `410 Gone` disables the endpoint and
//! ends it; anything else is retried with backoff (honouring `Retry-After`) up to
//! `OUTBOUND_MAX_ATTEMPTS`, then dead on the `outbound` DLQ (`outbox replay`).

use std::time::{Duration, Instant};

use bytes::Bytes;
use secrecy::SecretString;
use shopwire_core::db::deliveries::{self, ClaimedDelivery};
use shopwire_core::db::lease::AfterFailure;
use shopwire_core::jobs::{OutboundJob, Queue};
use shopwire_core::outbound::{DeliveryId, EndpointSecret};

use super::runner::{self, JobKind};
use crate::attempt::JobError;
use crate::context::JobContext;
use crate::outbound::client::SendError;
use crate::outbound::sign;
use crate::retry::RetryPolicy;

/// Events sent, by type and outcome.
pub const OUTBOUND_TOTAL: &str = "shopwire_outbound_deliveries_total";

/// One event for one endpoint (the `outbound` queue).
pub struct OutboundDelivery;

impl JobKind for OutboundDelivery {
    type Claimed = ClaimedDelivery;
    type Payload = OutboundJob;

    fn payload(id: i64) -> OutboundJob {
        OutboundJob { delivery_id: id }
    }

    fn row_id(payload: &OutboundJob) -> i64 {
        payload.delivery_id
    }

    async fn claim(ctx: &JobContext, id: i64) -> Result<Option<ClaimedDelivery>, sqlx::Error> {
        deliveries::claim(
            &ctx.outbound_pool,
            DeliveryId::new(id),
            &ctx.instance,
            ctx.lease,
        )
        .await
    }

    async fn due_in(ctx: &JobContext, id: i64) -> Result<Option<(Duration, Queue)>, sqlx::Error> {
        deliveries::due_in(&ctx.outbound_pool, DeliveryId::new(id)).await
    }

    fn id(claimed: &ClaimedDelivery) -> i64 {
        claimed.id.get()
    }

    fn queue(_claimed: &ClaimedDelivery) -> Option<Queue> {
        Some(Queue::Outbound)
    }

    fn attempts(claimed: &ClaimedDelivery) -> i32 {
        claimed.attempts
    }

    fn describe(_claimed: &ClaimedDelivery, _span: &tracing::Span) {}

    async fn attempt(
        ctx: &JobContext,
        claimed: &ClaimedDelivery,
    ) -> Result<&'static str, JobError> {
        let outcome = send(ctx, claimed).await;
        let label = match &outcome {
            Ok(_) => "delivered",
            Err(e) if e.is_permanent() => "dead",
            Err(_) => "failed",
        };
        metrics::counter!(OUTBOUND_TOTAL, "type" => claimed.event_type.clone(), "outcome" => label)
            .increment(1);
        outcome
    }

    async fn fail(
        ctx: &JobContext,
        claimed: &ClaimedDelivery,
        error: &str,
        after: AfterFailure,
    ) -> Result<bool, sqlx::Error> {
        deliveries::fail(&ctx.outbound_pool, claimed, error, after).await
    }

    fn policy(ctx: &JobContext) -> RetryPolicy {
        ctx.outbound_retry
    }

    /// Sent or dead, the next event of its subject may go.
    async fn settled(ctx: &JobContext, claimed: &ClaimedDelivery) {
        match deliveries::next_in_subject(&ctx.outbound_pool, claimed).await {
            Ok(Some(next)) => {
                runner::enqueue_after_commit(ctx, Queue::Outbound, &[OutboundJob::from(next)]).await
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not find the next delivery of the subject; the sweeper will")
            }
        }
    }
}

/// Sign and POST; record the attempt.
async fn send(ctx: &JobContext, claimed: &ClaimedDelivery) -> Result<&'static str, JobError> {
    if !claimed.endpoint_active {
        return Err(JobError::permanent(format!(
            "endpoint {} is disabled or removed",
            claimed.endpoint_id
        )));
    }
    let client = ctx
        .outbound
        .as_ref()
        .ok_or_else(|| JobError::transient("the outbound HTTP client could not be built"))?;
    let body = claimed.body();
    let webhook_id = claimed.webhook_id();
    let timestamp = chrono::Utc::now().timestamp();
    let secrets: Vec<&SecretString> = claimed
        .secrets()
        .into_iter()
        .map(EndpointSecret::as_secret)
        .collect();
    let signature = sign::signature_header(&secrets, &webhook_id, timestamp, body.as_bytes())
        .map_err(|e| JobError::permanent("could not sign the delivery").caused_by(e))?;
    let started = Instant::now();
    let sent = client
        .send(
            &claimed.url,
            &webhook_id,
            timestamp,
            &signature,
            Bytes::from(body),
        )
        .await;
    match sent {
        Ok(delivered) => {
            if deliveries::delivered(
                &ctx.outbound_pool,
                claimed,
                delivered.status,
                delivered.duration,
            )
            .await?
            {
                Ok("delivered")
            } else {
                Err(JobError::transient(
                    "lease lost before the delivery was recorded",
                ))
            }
        }
        Err(error) => {
            let took = started.elapsed();
            if let Err(e) = deliveries::record_attempt(
                &ctx.outbound_pool,
                claimed,
                error.status(),
                &error.to_string(),
                took,
            )
            .await
            {
                tracing::warn!(error = %e, "could not record the attempt");
            }
            Err(classify(ctx, claimed, error).await)
        }
    }
}

/// What a failed send means for the job: `410` disables the endpoint and ends the
/// delivery, a refused target ends it, anything else is retried.
async fn classify(ctx: &JobContext, claimed: &ClaimedDelivery, error: SendError) -> JobError {
    match &error {
        SendError::Gone => {
            if let Err(e) = deliveries::disable_gone(&ctx.outbound_pool, claimed.endpoint_id).await
            {
                tracing::warn!(error = %e, "could not disable the endpoint that answered 410");
            }
            tracing::warn!(
                endpoint = claimed.endpoint_id.get(),
                "endpoint answered 410 Gone; disabled"
            );
            JobError::permanent(error.to_string()).caused_by(error)
        }
        SendError::Refused { .. } => JobError::permanent(error.to_string()).caused_by(error),
        SendError::Failed { retry_after, .. } => {
            JobError::transient_after(error.to_string(), *retry_after).caused_by(error)
        }
    }
}
