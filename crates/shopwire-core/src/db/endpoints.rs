//! Endpoints (docs/contract.md §10): the URLs outbound events go to, their subscriptions
//! and signing secrets, and the attempts made to reach them.
//!
//! `emit_event` gives a delivery to every endpoint that is neither disabled nor removed
//! when the event happens, so `disable` and `remove` stop new deliveries at once. Removal
//! is soft (`removed_at`): the row stays for its deliveries and attempts, and it cannot be
//! enabled again. Deliveries already pending when an endpoint is disabled or removed are
//! left as they are, for the worker's sender to end: it must not send to an endpoint that
//! is not [`Endpoint::is_active`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use crate::outbound::{
    DeliveryId, EndpointId, EndpointSecret, EndpointUrl, EventId, EventType, Subscription,
};

/// How long a rotated-out secret keeps signing next to the new one.
pub const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 3600);

/// An endpoint. `Debug` never shows its secrets, and it is not `Serialize`: callers
/// choose what to print.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Endpoint {
    /// Its id.
    pub id: EndpointId,
    /// Where deliveries are POSTed (checked by `check_url` when added).
    pub url: String,
    /// The operator's note.
    pub description: Option<String>,
    /// Subscribed types as stored: `{*}` or type names.
    pub event_types: Vec<String>,
    /// The signing secret.
    pub secret: EndpointSecret,
    /// The secret before the last rotation, signing too until `previous_secret_expires_at`.
    pub previous_secret: Option<EndpointSecret>,
    /// When the previous secret stops signing.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// When it was disabled (by `endpoints disable`, or by the sender on `410 Gone`).
    pub disabled_at: Option<DateTime<Utc>>,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// When it was removed.
    pub removed_at: Option<DateTime<Utc>>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Endpoint {
    /// True when new events get deliveries for it.
    pub fn is_active(&self) -> bool {
        self.disabled_at.is_none() && self.removed_at.is_none()
    }

    /// `removed`, `disabled` or `enabled`.
    pub fn state(&self) -> &'static str {
        match (self.removed_at, self.disabled_at) {
            (Some(_), _) => "removed",
            (None, Some(_)) => "disabled",
            (None, None) => "enabled",
        }
    }

    /// The subscription, read from `event_types` (names this build does not know are
    /// skipped).
    pub fn subscription(&self) -> Subscription {
        if self.event_types.iter().any(|t| t == "*") {
            return Subscription::All;
        }
        Subscription::Only(
            EventType::ALL
                .into_iter()
                .filter(|t| self.event_types.iter().any(|n| n == t.as_str()))
                .collect(),
        )
    }

    /// The secrets a delivery sent at `now` is signed with: the current one, and the
    /// previous one until it expires.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&EndpointSecret> {
        let mut secrets = vec![&self.secret];
        if let (Some(previous), Some(until)) =
            (&self.previous_secret, self.previous_secret_expires_at)
            && now < until
        {
            secrets.push(previous);
        }
        secrets
    }
}

/// Why an endpoint could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// No endpoint has this id.
    #[error("no endpoint {0}")]
    NotFound(EndpointId),
    /// It was removed; removed endpoints do not come back.
    #[error("endpoint {0} was removed")]
    Removed(EndpointId),
    /// It is disabled (for what needs it enabled).
    #[error("endpoint {0} is disabled (endpoints enable {0} first)")]
    Disabled(EndpointId),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

macro_rules! endpoint_columns {
    () => {
        "id, url, description, event_types, secret, previous_secret, previous_secret_expires_at,
         disabled_at, disabled_reason, removed_at, created_at, updated_at"
    };
}

/// Add an endpoint, enabled, subscribed to `events` and signing with `secret`.
pub async fn add(
    pool: &PgPool,
    url: &EndpointUrl,
    description: Option<&str>,
    events: &Subscription,
    secret: &EndpointSecret,
) -> Result<Endpoint, sqlx::Error> {
    sqlx::query_as(concat!(
        "INSERT INTO endpoints (url, description, event_types, secret)
         VALUES ($1, $2, $3, $4)
         RETURNING ",
        endpoint_columns!()
    ))
    .bind(url.as_str())
    .bind(description)
    .bind(events.to_stored())
    .bind(secret.expose())
    .fetch_one(pool)
    .await
}

/// Every endpoint by id, without the removed ones unless `include_removed`.
pub async fn list(pool: &PgPool, include_removed: bool) -> Result<Vec<Endpoint>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        endpoint_columns!(),
        " FROM endpoints WHERE $1 OR removed_at IS NULL ORDER BY id"
    ))
    .bind(include_removed)
    .fetch_all(pool)
    .await
}

/// One endpoint, removed or not.
pub async fn get(pool: &PgPool, id: EndpointId) -> Result<Option<Endpoint>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        endpoint_columns!(),
        " FROM endpoints WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// The endpoint, locked for the transaction; refused when missing or removed.
pub(crate) async fn lock_live(
    conn: &mut PgConnection,
    id: EndpointId,
) -> Result<Endpoint, EndpointError> {
    let endpoint: Option<Endpoint> = sqlx::query_as(concat!(
        "SELECT ",
        endpoint_columns!(),
        " FROM endpoints WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    match endpoint {
        None => Err(EndpointError::NotFound(id)),
        Some(e) if e.removed_at.is_some() => Err(EndpointError::Removed(id)),
        Some(e) => Ok(e),
    }
}

/// The endpoint after a change, and whether the change did anything.
#[derive(Debug, Clone)]
pub struct Changed {
    /// The endpoint as it is now.
    pub endpoint: Endpoint,
    /// False when it already was that way.
    pub changed: bool,
}

/// Set `disabled_at` (and `reason`), unless already disabled (the first reason stays).
pub async fn disable(
    pool: &PgPool,
    id: EndpointId,
    reason: Option<&str>,
) -> Result<Changed, EndpointError> {
    set_disabled(pool, id, true, reason).await
}

/// Clear `disabled_at` and its reason, unless already enabled. Events that happened while
/// it was disabled have no delivery for it (`outbox replay --endpoint` makes them).
pub async fn enable(pool: &PgPool, id: EndpointId) -> Result<Changed, EndpointError> {
    set_disabled(pool, id, false, None).await
}

async fn set_disabled(
    pool: &PgPool,
    id: EndpointId,
    disabled: bool,
    reason: Option<&str>,
) -> Result<Changed, EndpointError> {
    let mut tx = pool.begin().await?;
    let endpoint = lock_live(&mut tx, id).await?;
    if endpoint.disabled_at.is_some() == disabled {
        return Ok(Changed {
            endpoint,
            changed: false,
        });
    }
    let endpoint: Endpoint = sqlx::query_as(concat!(
        "UPDATE endpoints
            SET disabled_at = CASE WHEN $2 THEN now() END,
                disabled_reason = CASE WHEN $2 THEN $3 END,
                updated_at = now()
          WHERE id = $1
          RETURNING ",
        endpoint_columns!()
    ))
    .bind(id)
    .bind(disabled)
    .bind(reason)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Changed {
        endpoint,
        changed: true,
    })
}

/// Make `new` the signing secret; the current one becomes the previous secret and keeps
/// signing for [`ROTATION_OVERLAP`]. A previous secret still within its overlap is
/// dropped: only the two newest sign.
pub async fn rotate_secret(
    pool: &PgPool,
    id: EndpointId,
    new: &EndpointSecret,
) -> Result<Endpoint, EndpointError> {
    let mut tx = pool.begin().await?;
    lock_live(&mut tx, id).await?;
    let endpoint: Endpoint = sqlx::query_as(concat!(
        "UPDATE endpoints
            SET previous_secret = secret,
                previous_secret_expires_at = now() + make_interval(secs => $3),
                secret = $2,
                updated_at = now()
          WHERE id = $1
          RETURNING ",
        endpoint_columns!()
    ))
    .bind(id)
    .bind(new.expose())
    .bind(ROTATION_OVERLAP.as_secs_f64())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(endpoint)
}

/// What `remove` did.
#[derive(Debug, Clone)]
pub struct Removed {
    /// The endpoint, with `removed_at` set.
    pub endpoint: Endpoint,
    /// Its deliveries still queued, processing or failed: left for the sender to end.
    pub pending_deliveries: i64,
}

/// Remove an endpoint (soft: `removed_at`). It gets no new deliveries and cannot be
/// enabled again; its history stays.
pub async fn remove(pool: &PgPool, id: EndpointId) -> Result<Removed, EndpointError> {
    let mut tx = pool.begin().await?;
    lock_live(&mut tx, id).await?;
    let endpoint: Endpoint = sqlx::query_as(concat!(
        "UPDATE endpoints SET removed_at = now(), updated_at = now() WHERE id = $1
          RETURNING ",
        endpoint_columns!()
    ))
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    let (pending_deliveries,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM outbound_deliveries
          WHERE endpoint_id = $1 AND status IN ('queued', 'processing', 'failed')",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Removed {
        endpoint,
        pending_deliveries,
    })
}

/// One HTTP attempt at a delivery, with the event it carried.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Attempt {
    /// When it was made.
    pub attempted_at: DateTime<Utc>,
    /// The delivery.
    pub delivery_id: DeliveryId,
    /// The event.
    pub event_id: EventId,
    /// The event's type.
    pub event_type: String,
    /// Which attempt of the delivery (1 for the first).
    pub attempt: i32,
    /// The HTTP status, when the endpoint answered.
    pub status_code: Option<i32>,
    /// What went wrong, when it did.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i32,
}

/// The endpoint's `limit` most recent attempts, newest first.
pub async fn recent_attempts(
    pool: &PgPool,
    endpoint: EndpointId,
    limit: i64,
) -> Result<Vec<Attempt>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.attempted_at, a.delivery_id, d.event_id, ev.event_type, a.attempt,
                a.status_code, a.error, a.duration_ms
           FROM outbound_attempts a
           JOIN outbound_deliveries d ON d.id = a.delivery_id
           JOIN outbox_events ev ON ev.id = d.event_id
          WHERE d.endpoint_id = $1
          ORDER BY a.attempted_at DESC, a.id DESC
          LIMIT $2",
    )
    .bind(endpoint)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The endpoint's deliveries by status (for `endpoints show`), in lifecycle order.
pub async fn delivery_counts(
    pool: &PgPool,
    endpoint: EndpointId,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT status, count(*) FROM outbound_deliveries WHERE endpoint_id = $1
          GROUP BY status
          ORDER BY array_position(ARRAY['queued', 'processing', 'processed', 'failed', 'dead'], status)",
    )
    .bind(endpoint)
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn endpoint(event_types: &[&str]) -> Endpoint {
        let now = Utc::now();
        Endpoint {
            id: EndpointId::new(1),
            url: "https://example.com/".into(),
            description: None,
            event_types: event_types.iter().map(|t| (*t).to_owned()).collect(),
            secret: EndpointSecret::generate(),
            previous_secret: None,
            previous_secret_expires_at: None,
            disabled_at: None,
            disabled_reason: None,
            removed_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn the_previous_secret_signs_until_it_expires() {
        let now = Utc::now();
        let mut e = endpoint(&["*"]);
        assert_eq!(e.signing_secrets(now).len(), 1);
        e.previous_secret = Some(EndpointSecret::generate());
        e.previous_secret_expires_at = Some(now + TimeDelta::hours(24));
        assert_eq!(e.signing_secrets(now).len(), 2);
        assert_eq!(e.signing_secrets(now + TimeDelta::hours(25)).len(), 1);
    }

    #[test]
    fn stored_types_read_back_as_a_subscription() {
        assert_eq!(endpoint(&["*"]).subscription(), Subscription::All);
        assert_eq!(
            endpoint(&["order.paid", "later.type"]).subscription(),
            Subscription::Only(vec![EventType::OrderPaid])
        );
    }

    #[test]
    fn debug_output_has_no_secret() {
        let e = endpoint(&["*"]);
        let debug = format!("{e:?}");
        assert!(!debug.contains(e.secret.expose()), "{debug}");
    }
}
