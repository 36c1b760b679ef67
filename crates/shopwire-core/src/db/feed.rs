//! The seller console's live feed (docs/contract.md §11) reads committed events from the
//! outbox: the `shopwire_events` NOTIFY that `emit_event` sends with every event carries its
//! id, and a live page's history is the same rows, so what a page shows first and what its
//! stream adds agree.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// The channel `emit_event` notifies with each new event's id.
pub const CHANNEL: &str = "shopwire_events";

/// One committed event as the feed carries it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FeedEvent {
    /// Outbox id (ascending in commit order only roughly: ids are taken before commit).
    pub id: i64,
    /// `claim.reserved`, `order.paid`, …
    pub event_type: String,
    /// The event's body (`streamer`, `buyer`, `sku`, …).
    pub data: serde_json::Value,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

impl FeedEvent {
    /// The streamer whose live it belongs to, if any.
    pub fn streamer(&self) -> Option<&str> {
        self.data
            .get("streamer")
            .and_then(serde_json::Value::as_str)
    }

    /// A claim's outcome event (`claim.*`).
    pub fn is_claim(&self) -> bool {
        self.event_type.starts_with("claim.")
    }
}

/// The events with these ids (those that exist), in id order.
pub async fn by_ids(pool: &PgPool, ids: &[i64]) -> Result<Vec<FeedEvent>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, event_type, data, occurred_at FROM outbox_events
          WHERE id = ANY($1) ORDER BY id",
    )
    .bind(ids)
    .fetch_all(pool)
    .await
}

/// `streamer`'s latest claim events, newest first: at most `limit`, and only those after
/// event `after` when given (a stream catching up on what its page did not show).
pub async fn claims_of(
    pool: &PgPool,
    streamer: &str,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<FeedEvent>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, event_type, data, occurred_at FROM outbox_events
          WHERE event_type LIKE 'claim.%' AND data ->> 'streamer' = $1
            AND ($2::bigint IS NULL OR id > $2)
          ORDER BY id DESC LIMIT $3",
    )
    .bind(streamer)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Streamers with a live lineup, a pin or claims, most recently active first.
pub async fn streamers(pool: &PgPool, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT streamer FROM (
             SELECT streamer, max(added_at) AS at FROM live_lineup
              WHERE removed_at IS NULL GROUP BY streamer
             UNION ALL
             SELECT streamer, max(pinned_at) FROM live_pins GROUP BY streamer
             UNION ALL
             SELECT streamer, max(received_at) FROM claims WHERE streamer IS NOT NULL GROUP BY streamer
         ) s
         GROUP BY streamer ORDER BY max(at) DESC NULLS LAST LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}
