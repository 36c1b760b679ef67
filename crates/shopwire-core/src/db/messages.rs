//! Buyer messages (DMs and live comments) and what the pipeline decided about each.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::db::inbox::InboxId;

/// A message as parsed from its delivery.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    /// The delivery it came in.
    pub inbox_id: InboxId,
    /// `dm` or `comment`.
    pub channel: &'a str,
    /// The live stream's host, for comments.
    pub streamer: Option<&'a str>,
    /// Who wrote it.
    pub buyer: &'a str,
    /// DM conversation id, for replies.
    pub conversation: Option<&'a str>,
    /// What they wrote.
    pub text: &'a str,
    /// When they wrote it.
    pub sent_at: DateTime<Utc>,
}

/// Insert the message of a delivery; returns its id, or the existing id when the delivery
/// was already applied by an earlier attempt that committed.
pub async fn insert(conn: &mut PgConnection, m: &NewMessage<'_>) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO messages (inbox_id, channel, streamer, buyer, conversation, text, sent_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (inbox_id) DO UPDATE SET inbox_id = EXCLUDED.inbox_id
         RETURNING id",
    )
    .bind(m.inbox_id)
    .bind(m.channel)
    .bind(m.streamer)
    .bind(m.buyer)
    .bind(m.conversation)
    .bind(m.text)
    .bind(m.sent_at)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// What the pipeline made of a message.
#[derive(Debug, Clone)]
pub struct Decision<'a> {
    /// `buy`, `question`, `feedback`, `complaint` or `other`.
    pub intent: &'a str,
    /// Classifier confidence in [0, 1].
    pub intent_score: f32,
    /// Which classifier decided.
    pub classifier: &'a str,
    /// The product it was matched to, if any.
    pub product_id: Option<i64>,
    /// Match confidence in [0, 1].
    pub match_score: Option<f32>,
    /// `ordered`, `sold_out`, `unmatched`, `below_threshold`, `not_buy` or `duplicate_pending`.
    pub outcome: &'a str,
}

/// Record the decision on the message.
pub async fn decide(
    conn: &mut PgConnection,
    message_id: i64,
    d: &Decision<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE messages SET intent = $2, intent_score = $3, classifier = $4, product_id = $5,
                match_score = $6, outcome = $7
          WHERE id = $1",
    )
    .bind(message_id)
    .bind(d.intent)
    .bind(d.intent_score)
    .bind(d.classifier)
    .bind(d.product_id)
    .bind(d.match_score)
    .bind(d.outcome)
    .execute(conn)
    .await?;
    Ok(())
}

/// A product candidate for matching message text.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CatalogEntry {
    /// Internal id.
    pub id: i64,
    /// SKU.
    pub sku: String,
    /// Title.
    pub title: String,
}

/// Every product's id, SKU and title (the matcher scans them in memory).
pub async fn catalog(conn: &mut PgConnection) -> Result<Vec<CatalogEntry>, sqlx::Error> {
    sqlx::query_as("SELECT id, sku, title FROM products ORDER BY id")
        .fetch_all(conn)
        .await
}

/// The product a streamer had pinned at `at`.
pub async fn pinned_at(
    conn: &mut PgConnection,
    streamer: &str,
    at: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT product_id FROM live_pins
          WHERE streamer = $1 AND pinned_at <= $2 AND (unpinned_at IS NULL OR unpinned_at > $2)
          ORDER BY pinned_at DESC LIMIT 1",
    )
    .bind(streamer)
    .bind(at)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(id,)| id))
}
