//! Outbound deliveries as jobs of the one runner (docs/contract.md §10): one event for one
//! endpoint, claimed under the fencing scheme of [`super::lease`], in per-subject order.
//!
//! Events about one order (their `subject`, `order:7`) reach an endpoint in the order they
//! happened: a delivery can be claimed only when no delivery of an earlier event of its
//! subject to the same endpoint is still unfinished (event order, not delivery order: a
//! replay creates a newer delivery for an older event). The one that finishes (sent or dead) wakes the next
//! ([`next_in_subject`]), so nothing waits for the sweeper.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, PgPool};

use super::lease::AfterFailure;
use super::lease::{self, DeadQueue, FENCE, JobTable};
use crate::jobs::Queue;
use crate::outbound::{DeliveryId, EndpointId, EndpointSecret, EventId};

/// A delivery a worker holds the lease on, with what it sends.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedDelivery {
    /// The delivery.
    pub id: DeliveryId,
    /// Its event.
    pub event_id: EventId,
    /// Where it goes.
    pub endpoint_id: EndpointId,
    /// Its ordering key (`order:7`, `claim:42`), if any.
    pub subject: Option<String>,
    /// Attempts including this one.
    pub attempts: i32,
    /// The lease holder: the token finishing and failing check.
    pub locked_by: String,
    /// The endpoint's URL.
    pub url: String,
    /// The endpoint's current secret.
    pub secret: EndpointSecret,
    /// The previous secret, while a rotation keeps it signing.
    pub previous_secret: Option<EndpointSecret>,
    /// False when the endpoint was disabled or removed after the event.
    pub endpoint_active: bool,
    /// The event's type.
    pub event_type: String,
    /// The event's `data`, as JSON text (the same bytes on every attempt).
    pub data: String,
    /// When the event happened.
    pub occurred_at: DateTime<Utc>,
}

impl ClaimedDelivery {
    /// The `webhook-id`: one per event and endpoint, the same on every retry.
    pub fn webhook_id(&self) -> String {
        format!("msg_{}_{}", self.event_id, self.endpoint_id)
    }

    /// The secrets signing this attempt: the current one, then the previous one.
    pub fn secrets(&self) -> Vec<&EndpointSecret> {
        std::iter::once(&self.secret)
            .chain(self.previous_secret.as_ref())
            .collect()
    }

    /// The JSON body: `{"type","timestamp","data"}`, the same bytes on every attempt.
    pub fn body(&self) -> String {
        let timestamp = self
            .occurred_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        format!(
            r#"{{"type":{},"timestamp":{},"data":{}}}"#,
            serde_json::Value::from(self.event_type.as_str()),
            serde_json::Value::from(timestamp),
            self.data
        )
    }
}

/// Take the lease on delivery `id` if it is due, free, and first in its subject's line.
pub async fn claim(
    pool: &PgPool,
    id: DeliveryId,
    holder: &str,
    lease_for: Duration,
) -> Result<Option<ClaimedDelivery>, sqlx::Error> {
    let claim = lease::claim_statement(
        JobTable::Outbound,
        "id, event_id, endpoint_id, subject, attempts, locked_by",
        "subject IS NULL OR NOT EXISTS (
             SELECT 1 FROM outbound_deliveries earlier
              WHERE earlier.endpoint_id = outbound_deliveries.endpoint_id
                AND earlier.subject = outbound_deliveries.subject
                AND earlier.event_id < outbound_deliveries.event_id
                AND earlier.status IN ('queued', 'processing', 'failed'))",
    );
    let sql = format!(
        "WITH claimed AS ({claim})
         SELECT c.id, c.event_id, c.endpoint_id, c.subject, c.attempts, c.locked_by,
                e.url, e.secret,
                CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret END
                    AS previous_secret,
                (e.disabled_at IS NULL AND e.removed_at IS NULL) AS endpoint_active,
                ev.event_type, ev.data::text AS data, ev.occurred_at
           FROM claimed c
           JOIN endpoints e ON e.id = c.endpoint_id
           JOIN outbox_events ev ON ev.id = c.event_id"
    );
    sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .bind(holder)
        .bind(lease_for.as_secs_f64())
        .fetch_optional(pool)
        .await
}

/// How long until a delivery waiting for its next attempt is due.
pub async fn due_in(
    pool: &PgPool,
    id: DeliveryId,
) -> Result<Option<(Duration, Queue)>, sqlx::Error> {
    let wait = lease::next_attempt_in(pool, JobTable::Outbound, id.get()).await?;
    Ok(wait.map(|(wait, _)| (wait, Queue::Outbound)))
}

/// Mark a delivery sent (the endpoint answered `status`) and record the attempt, in one
/// statement. Returns false if the lease was lost.
pub async fn delivered(
    pool: &PgPool,
    delivery: &ClaimedDelivery,
    status: u16,
    took: Duration,
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "WITH done AS (
             UPDATE outbound_deliveries
                SET status = 'processed', processed_at = now(), locked_until = NULL,
                    last_error = NULL, last_status_code = $3
              WHERE {FENCE}
              RETURNING id, attempts
         )
         INSERT INTO outbound_attempts (delivery_id, attempt, status_code, duration_ms)
         SELECT id, attempts, $3, $4 FROM done"
    );
    let done = sqlx::query(AssertSqlSafe(sql))
        .bind(delivery.id)
        .bind(&delivery.locked_by)
        .bind(i32::from(status))
        .bind(millis(took))
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Record an attempt that did not deliver (the runner records the failure itself).
pub async fn record_attempt(
    pool: &PgPool,
    delivery: &ClaimedDelivery,
    status: Option<u16>,
    error: &str,
    took: Duration,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH noted AS (
             UPDATE outbound_deliveries SET last_status_code = $3 WHERE id = $1
         )
         INSERT INTO outbound_attempts (delivery_id, attempt, status_code, error, duration_ms)
         VALUES ($1, $2, $3, left($4, 2000), $5)",
    )
    .bind(delivery.id)
    .bind(delivery.attempts)
    .bind(status.map(i32::from))
    .bind(error)
    .bind(millis(took))
    .execute(pool)
    .await?;
    Ok(())
}

/// Record a failed attempt: the next one's time, or death on the `outbound` DLQ.
pub async fn fail(
    pool: &PgPool,
    delivery: &ClaimedDelivery,
    error: &str,
    after: AfterFailure,
) -> Result<bool, sqlx::Error> {
    lease::fail(
        pool,
        JobTable::Outbound,
        delivery.id.get(),
        &delivery.locked_by,
        DeadQueue::Named(Queue::Outbound.as_str()),
        error,
        after,
    )
    .await
}

/// Disable an endpoint that answered `410 Gone`; new events get no delivery for it.
pub async fn disable_gone(pool: &PgPool, endpoint: EndpointId) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE endpoints
            SET disabled_at = now(), disabled_reason = 'answered 410 Gone', updated_at = now()
          WHERE id = $1 AND disabled_at IS NULL",
    )
    .bind(endpoint)
    .execute(pool)
    .await?;
    Ok(())
}

/// The next unfinished delivery of `delivery`'s subject to the same endpoint, which may go
/// now that `delivery` is finished.
pub async fn next_in_subject(
    pool: &PgPool,
    delivery: &ClaimedDelivery,
) -> Result<Option<DeliveryId>, sqlx::Error> {
    let Some(subject) = &delivery.subject else {
        return Ok(None);
    };
    let next: Option<(DeliveryId,)> = sqlx::query_as(
        "SELECT id FROM outbound_deliveries
          WHERE endpoint_id = $1 AND subject = $2 AND event_id > $3
            AND status IN ('queued', 'failed')
          ORDER BY event_id LIMIT 1",
    )
    .bind(delivery.endpoint_id)
    .bind(subject)
    .bind(delivery.event_id)
    .fetch_optional(pool)
    .await?;
    Ok(next.map(|(id,)| id))
}

/// The queued deliveries of `events` (just committed: their NOTIFY arrived), to push.
pub async fn queued_for_events(
    pool: &PgPool,
    events: &[i64],
) -> Result<Vec<DeliveryId>, sqlx::Error> {
    let rows: Vec<(DeliveryId,)> = sqlx::query_as(
        "SELECT id FROM outbound_deliveries
          WHERE event_id = ANY ($1) AND status = 'queued'
          ORDER BY id",
    )
    .bind(events)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Up to `limit` queued deliveries, oldest first (a listener catching up after it
/// (re)connected).
pub async fn queued(pool: &PgPool, limit: i64) -> Result<Vec<DeliveryId>, sqlx::Error> {
    let rows: Vec<(DeliveryId,)> = sqlx::query_as(
        "SELECT id FROM outbound_deliveries
          WHERE status = 'queued' AND next_attempt_at <= now()
          ORDER BY id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

fn millis(took: Duration) -> i32 {
    i32::try_from(took.as_millis()).unwrap_or(i32::MAX)
}
