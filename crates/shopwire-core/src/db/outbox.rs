//! The outbox log (docs/contract.md §10): events, their deliveries, and replays.
//!
//! A replay resets rows in Postgres inside one transaction and returns the delivery ids;
//! the caller pushes them to the `outbound` queue after the commit (a lost push leaves a
//! queued row the worker's sweeper enqueues). Like `dlq replay` for jobs, each reset is
//! conditional on the row's status, so a delivery is put back at most once per call and
//! two concurrent replays cannot both put it back.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use crate::db::endpoints::{self, EndpointError};
use crate::outbound::{DeliveryId, DeliveryStatus, EndpointId, EventId, EventType};

/// One event, with how its deliveries stand.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EventRow {
    /// Its id.
    pub id: EventId,
    /// Its type (`claim.reserved`, …).
    pub event_type: String,
    /// The change it reports (`claim:42:reserved`).
    pub dedupe_key: String,
    /// The ordering key its deliveries follow (`order:7`, `claim:42`).
    pub subject: Option<String>,
    /// The order it is about.
    pub order_id: Option<i64>,
    /// The claim it is about.
    pub claim_id: Option<i64>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Deliveries made for it (one per endpoint subscribed when it happened).
    pub deliveries: i64,
    /// Of those, the ones an endpoint accepted.
    pub delivered: i64,
}

/// Which events to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventFilter {
    /// Only events with a delivery for this endpoint.
    pub endpoint: Option<EndpointId>,
    /// Only this type.
    pub event_type: Option<EventType>,
}

macro_rules! event_where {
    () => {
        " WHERE ($1::bigint IS NULL OR EXISTS (
                     SELECT 1 FROM outbound_deliveries x
                      WHERE x.event_id = ev.id AND x.endpoint_id = $1))
            AND ($2::text IS NULL OR ev.event_type = $2)"
    };
}

/// Events newest first, at most `limit`.
pub async fn list_events(
    pool: &PgPool,
    filter: EventFilter,
    limit: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ev.id, ev.event_type, ev.dedupe_key, ev.subject, ev.order_id, ev.claim_id,
                ev.occurred_at,
                (SELECT count(*) FROM outbound_deliveries d WHERE d.event_id = ev.id)
                    AS deliveries,
                (SELECT count(*) FROM outbound_deliveries d
                  WHERE d.event_id = ev.id AND d.status = 'processed') AS delivered
           FROM outbox_events ev",
        event_where!(),
        " ORDER BY ev.id DESC LIMIT $3"
    ))
    .bind(filter.endpoint)
    .bind(filter.event_type.map(EventType::as_str))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// How many events `filter` matches.
pub async fn count_events(pool: &PgPool, filter: EventFilter) -> Result<i64, sqlx::Error> {
    let (count,): (i64,) = sqlx::query_as(concat!(
        "SELECT count(*) FROM outbox_events ev",
        event_where!()
    ))
    .bind(filter.endpoint)
    .bind(filter.event_type.map(EventType::as_str))
    .fetch_one(pool)
    .await?;
    Ok(count)
}

/// One delivery: an event for an endpoint.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeliveryRow {
    /// Its id (what `outbox replay` takes).
    pub id: DeliveryId,
    /// The event.
    pub event_id: EventId,
    /// The event's type.
    pub event_type: String,
    /// Where it goes.
    pub endpoint_id: EndpointId,
    /// Its ordering key.
    pub subject: Option<String>,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made (reset by a replay).
    pub attempts: i32,
    /// When the next attempt is due.
    pub next_attempt_at: DateTime<Utc>,
    /// The HTTP status of the last attempt, when the endpoint answered.
    pub last_status_code: Option<i32>,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When the endpoint accepted it.
    pub processed_at: Option<DateTime<Utc>>,
}

/// Which deliveries to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeliveryFilter {
    /// Only this endpoint's.
    pub endpoint: Option<EndpointId>,
    /// Only this status.
    pub status: Option<DeliveryStatus>,
    /// Only events of this type.
    pub event_type: Option<EventType>,
}

macro_rules! delivery_select {
    () => {
        "SELECT d.id, d.event_id, ev.event_type, d.endpoint_id, d.subject, d.status,
                d.attempts, d.next_attempt_at, d.last_status_code, d.last_error, d.created_at,
                d.processed_at
           FROM outbound_deliveries d JOIN outbox_events ev ON ev.id = d.event_id "
    };
}

macro_rules! delivery_where {
    () => {
        " WHERE ($1::bigint IS NULL OR d.endpoint_id = $1)
            AND ($2::text IS NULL OR d.status = $2)
            AND ($3::text IS NULL OR ev.event_type = $3)"
    };
}

/// Deliveries newest first, at most `limit`.
pub async fn list_deliveries(
    pool: &PgPool,
    filter: DeliveryFilter,
    limit: i64,
) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        delivery_select!(),
        delivery_where!(),
        " ORDER BY d.id DESC LIMIT $4"
    ))
    .bind(filter.endpoint)
    .bind(filter.status.map(DeliveryStatus::as_str))
    .bind(filter.event_type.map(EventType::as_str))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// How many deliveries `filter` matches.
pub async fn count_deliveries(pool: &PgPool, filter: DeliveryFilter) -> Result<i64, sqlx::Error> {
    let (count,): (i64,) = sqlx::query_as(concat!(
        "SELECT count(*) FROM outbound_deliveries d JOIN outbox_events ev ON ev.id = d.event_id",
        delivery_where!()
    ))
    .bind(filter.endpoint)
    .bind(filter.status.map(DeliveryStatus::as_str))
    .bind(filter.event_type.map(EventType::as_str))
    .fetch_one(pool)
    .await?;
    Ok(count)
}

/// One delivery.
pub async fn get_delivery(
    pool: &PgPool,
    id: DeliveryId,
) -> Result<Option<DeliveryRow>, sqlx::Error> {
    sqlx::query_as(concat!(delivery_select!(), "WHERE d.id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// An event about one order, with its delivery to each endpoint (the story's last steps in
/// `orders show` and the console's order page).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OrderEvent {
    /// Its id.
    pub id: EventId,
    /// Its type (`claim.reserved`, `order.paid`, …).
    pub event_type: String,
    /// The change it reports.
    pub dedupe_key: String,
    /// The claim it is about.
    pub claim_id: Option<i64>,
    /// What it says (the `data` sent).
    pub data: serde_json::Value,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Its deliveries, by endpoint (none when no endpoint was subscribed).
    #[sqlx(skip)]
    pub deliveries: Vec<EventDelivery>,
}

/// One delivery of an [`OrderEvent`]: how it stands at one endpoint.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EventDelivery {
    /// Its id (what `outbox replay` takes).
    pub id: DeliveryId,
    /// The event.
    #[serde(skip)]
    pub event_id: EventId,
    /// Where it goes.
    pub endpoint_id: EndpointId,
    /// The endpoint's URL.
    pub endpoint_url: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made (reset by a replay).
    pub attempts: i32,
    /// The HTTP status of the last attempt, when the endpoint answered.
    pub last_status_code: Option<i32>,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// When the next attempt is due (while it is not processed or dead).
    pub next_attempt_at: DateTime<Utc>,
    /// When the endpoint accepted it.
    pub processed_at: Option<DateTime<Utc>>,
}

/// Every event about order `order_id`, oldest first, each with its deliveries (by
/// endpoint): its claim's outcome, its checkout link (its own, or its live cart's), and its
/// moves to paid, expired, refunded or cancelled.
pub async fn events_of_order(pool: &PgPool, order_id: i64) -> Result<Vec<OrderEvent>, sqlx::Error> {
    // A live cart's link is one event for the cart (no order_id): found by its dedupe key.
    let mut events: Vec<OrderEvent> = sqlx::query_as(
        "SELECT ev.id, ev.event_type, ev.dedupe_key, ev.claim_id, ev.data, ev.occurred_at
           FROM outbox_events ev
          WHERE ev.order_id = $1
             OR ev.dedupe_key IN (
                    SELECT 'cart:' || c.id || ':checkout:' || md5(c.checkout_url)
                      FROM orders o JOIN carts c ON c.id = o.cart_id
                     WHERE o.id = $1 AND c.checkout_url IS NOT NULL
                       AND o.checkout_session_id = c.checkout_session_id)
          ORDER BY ev.id",
    )
    .bind(order_id)
    .fetch_all(pool)
    .await?;
    if events.is_empty() {
        return Ok(events);
    }
    let ids: Vec<i64> = events.iter().map(|e| e.id.get()).collect();
    let deliveries: Vec<EventDelivery> = sqlx::query_as(
        "SELECT d.id, d.event_id, d.endpoint_id, e.url AS endpoint_url, d.status, d.attempts,
                d.last_status_code, d.last_error, d.next_attempt_at, d.processed_at
           FROM outbound_deliveries d JOIN endpoints e ON e.id = d.endpoint_id
          WHERE d.event_id = ANY($1)
          ORDER BY d.event_id, d.endpoint_id, d.id",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    for delivery in deliveries {
        if let Some(event) = events.iter_mut().find(|e| e.id == delivery.event_id) {
            event.deliveries.push(delivery);
        }
    }
    Ok(events)
}

/// The result of replaying one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryReplay {
    /// Reset (queued, attempts 0, due now, no lease), its DLQ entry closed, committed:
    /// push it.
    Replayed {
        /// Its status before.
        previous: DeliveryStatus,
    },
    /// No delivery has this id.
    NotFound,
    /// Neither dead nor failed (its status now); nothing changed.
    NotReplayable(DeliveryStatus),
    /// Its endpoint is disabled or removed; nothing changed.
    EndpointInactive {
        /// The endpoint.
        endpoint: EndpointId,
        /// True when removed, false when disabled.
        removed: bool,
    },
}

/// Put a dead or failed delivery back in line, in one transaction: the row is locked, and
/// reset only while it is still dead or failed, so a second or concurrent replay finds it
/// queued and changes nothing; its open `dead_jobs` entry is stamped `replayed_at`. The
/// last error is kept until an attempt succeeds. The caller pushes it after this returns.
pub async fn replay_delivery(pool: &PgPool, id: DeliveryId) -> Result<DeliveryReplay, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let row: Option<(DeliveryStatus, EndpointId, bool, bool)> = sqlx::query_as(
        "SELECT d.status, d.endpoint_id, e.disabled_at IS NOT NULL, e.removed_at IS NOT NULL
           FROM outbound_deliveries d JOIN endpoints e ON e.id = d.endpoint_id
          WHERE d.id = $1
            FOR UPDATE OF d",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((previous, endpoint, disabled, removed)) = row else {
        return Ok(DeliveryReplay::NotFound);
    };
    if !matches!(previous, DeliveryStatus::Dead | DeliveryStatus::Failed) {
        return Ok(DeliveryReplay::NotReplayable(previous));
    }
    if disabled || removed {
        return Ok(DeliveryReplay::EndpointInactive { endpoint, removed });
    }
    requeue(&mut tx, &[id]).await?;
    tx.commit().await?;
    Ok(DeliveryReplay::Replayed { previous })
}

/// Reset the dead or failed deliveries among `ids` and close their DLQ entries; returns
/// the ids reset.
async fn requeue(
    conn: &mut sqlx::PgConnection,
    ids: &[DeliveryId],
) -> Result<Vec<DeliveryId>, sqlx::Error> {
    let reset: Vec<(DeliveryId,)> = sqlx::query_as(
        "WITH reset AS (
             UPDATE outbound_deliveries
                SET status = 'queued', attempts = 0, next_attempt_at = now(),
                    locked_by = NULL, locked_until = NULL
              WHERE id = ANY($1) AND status IN ('dead', 'failed')
              RETURNING id
         ), closed AS (
             UPDATE dead_jobs d SET replayed_at = now()
               FROM reset
              WHERE d.outbound_delivery_id = reset.id AND d.replayed_at IS NULL
         )
         SELECT id FROM reset ORDER BY id",
    )
    .bind(ids.iter().map(|id| id.get()).collect::<Vec<_>>())
    .fetch_all(&mut *conn)
    .await?;
    Ok(reset.into_iter().map(|(id,)| id).collect())
}

/// What a replay since a time does with one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SinceAction {
    /// The endpoint had no delivery for it: one is made.
    Create,
    /// Its delivery was dead: it is put back.
    Requeue,
    /// Its delivery was accepted; left alone.
    Delivered,
    /// Its delivery is still on its way (queued, processing or failed with a retry due);
    /// left alone.
    Pending,
}

/// One event of a replay since a time.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SinceItem {
    /// The event.
    pub event_id: EventId,
    /// Its type.
    pub event_type: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Its delivery for the endpoint (after the replay: the new one for `create`).
    pub delivery_id: Option<DeliveryId>,
    /// Its delivery's status before the replay.
    pub status: Option<DeliveryStatus>,
    /// What the replay does with it.
    #[sqlx(skip)]
    pub action: Option<SinceAction>,
}

/// The result of [`replay_endpoint_since`].
#[derive(Debug, Clone, Serialize)]
pub struct SinceReplay {
    /// True when nothing was changed.
    pub dry_run: bool,
    /// Deliveries made for events the endpoint had none for.
    pub created: usize,
    /// Dead deliveries put back.
    pub requeued: usize,
    /// Events whose delivery was accepted or is on its way, left alone.
    pub left: usize,
    /// Every event of the window the endpoint subscribes to, oldest first.
    pub items: Vec<SinceItem>,
}

impl SinceReplay {
    /// The deliveries to push after the commit (none for a dry run), oldest event first.
    pub fn to_push(&self) -> Vec<DeliveryId> {
        if self.dry_run {
            return Vec::new();
        }
        self.items
            .iter()
            .filter(|i| matches!(i.action, Some(SinceAction::Create | SinceAction::Requeue)))
            .filter_map(|i| i.delivery_id)
            .collect()
    }
}

/// Send again what an endpoint should have had from the last `since`: for each event of
/// the window that it subscribes to (by its current subscription), make a delivery when
/// it has none (an endpoint added or disabled meanwhile) and put back a dead one; accepted
/// and pending deliveries are left alone. One transaction with the endpoint row locked,
/// so two replays of one endpoint take turns; with `dry_run` it is rolled back and only
/// says what it would do. Refused for a removed or disabled endpoint.
pub async fn replay_endpoint_since(
    pool: &PgPool,
    endpoint: EndpointId,
    since: Duration,
    dry_run: bool,
) -> Result<SinceReplay, EndpointError> {
    let mut tx = pool.begin().await?;
    let locked = endpoints::lock_live(&mut tx, endpoint).await?;
    if locked.disabled_at.is_some() {
        return Err(EndpointError::Disabled(endpoint));
    }
    let mut items: Vec<SinceItem> = sqlx::query_as(
        "SELECT ev.id AS event_id, ev.event_type, ev.occurred_at, d.id AS delivery_id, d.status
           FROM outbox_events ev
           JOIN endpoints e ON e.id = $1
           LEFT JOIN outbound_deliveries d ON d.event_id = ev.id AND d.endpoint_id = e.id
          WHERE ev.occurred_at >= now() - make_interval(secs => $2)
            AND ('*' = ANY (e.event_types) OR ev.event_type = ANY (e.event_types))
          ORDER BY ev.id",
    )
    .bind(endpoint)
    .bind(since.as_secs_f64())
    .fetch_all(&mut *tx)
    .await?;
    for item in &mut items {
        item.action = Some(match item.status {
            None => SinceAction::Create,
            Some(DeliveryStatus::Dead) => SinceAction::Requeue,
            Some(DeliveryStatus::Processed) => SinceAction::Delivered,
            Some(_) => SinceAction::Pending,
        });
    }
    if !dry_run {
        apply_since(&mut tx, endpoint, &mut items).await?;
        tx.commit().await?;
    }
    let count = |a: &[SinceAction]| {
        items
            .iter()
            .filter(|i| i.action.is_some_and(|x| a.contains(&x)))
            .count()
    };
    Ok(SinceReplay {
        dry_run,
        created: count(&[SinceAction::Create]),
        requeued: count(&[SinceAction::Requeue]),
        left: count(&[SinceAction::Delivered, SinceAction::Pending]),
        items,
    })
}

/// Make the missing deliveries and put back the dead ones, recording what happened.
async fn apply_since(
    conn: &mut sqlx::PgConnection,
    endpoint: EndpointId,
    items: &mut [SinceItem],
) -> Result<(), sqlx::Error> {
    let missing: Vec<i64> = items
        .iter()
        .filter(|i| i.action == Some(SinceAction::Create))
        .map(|i| i.event_id.get())
        .collect();
    // Made in event order, so ids follow the events (the sender keeps a subject's order).
    let created: Vec<(EventId, DeliveryId)> = sqlx::query_as(
        "INSERT INTO outbound_deliveries (event_id, endpoint_id, subject)
         SELECT ev.id, $2, ev.subject FROM outbox_events ev
          WHERE ev.id = ANY($1)
          ORDER BY ev.id
         ON CONFLICT (event_id, endpoint_id) DO NOTHING
         RETURNING event_id, id",
    )
    .bind(&missing)
    .bind(endpoint)
    .fetch_all(&mut *conn)
    .await?;
    let dead: Vec<DeliveryId> = items
        .iter()
        .filter(|i| i.action == Some(SinceAction::Requeue))
        .filter_map(|i| i.delivery_id)
        .collect();
    let requeued = requeue(conn, &dead).await?;
    for item in items.iter_mut() {
        match item.action {
            Some(SinceAction::Create) => match created.iter().find(|(e, _)| *e == item.event_id) {
                Some((_, id)) => item.delivery_id = Some(*id),
                // Made by someone else meanwhile: on its way already.
                None => item.action = Some(SinceAction::Pending),
            },
            Some(SinceAction::Requeue)
                if !item.delivery_id.is_some_and(|id| requeued.contains(&id)) =>
            {
                item.action = Some(SinceAction::Pending);
            }
            _ => {}
        }
    }
    Ok(())
}

/// Record an event in the caller's transaction, as the triggers do (`emit_event`): once per
/// `dedupe_key`, with a delivery for each subscribed endpoint, pushed when the transaction
/// commits. Returns the event id, or `None` when this change already reported itself.
pub async fn emit(
    conn: &mut sqlx::PgConnection,
    event_type: crate::outbound::EventType,
    dedupe_key: &str,
    subject: Option<&str>,
    data: &serde_json::Value,
) -> Result<Option<EventId>, sqlx::Error> {
    let (id,): (Option<EventId>,) = sqlx::query_as("SELECT emit_event($1, $2, $3, NULL, NULL, $4)")
        .bind(event_type.as_str())
        .bind(dedupe_key)
        .bind(subject)
        .bind(data)
        .fetch_one(conn)
        .await?;
    Ok(id)
}
