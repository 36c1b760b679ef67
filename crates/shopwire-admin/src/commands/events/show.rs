//! `events show ID`: one delivery, its body, and the rows that reference it.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use shopwire_core::db::inbox::{self, InboxId, InboxRow};
use shopwire_core::domain::Money;
use sqlx::PgPool;

use crate::output::{Tabular, clip, fields, or_dash, table, time};

/// A delivery with its body and consequences.
#[derive(Debug, Serialize)]
pub struct EventDetail {
    /// The inbox row.
    #[serde(flatten)]
    pub row: InboxRow,
    /// The body as text, or `None` when it is not valid UTF-8 or was purged
    /// (`body_purged_at`).
    pub body: Option<String>,
    /// The body's length in bytes.
    pub body_bytes: usize,
    /// What processing it produced.
    pub caused: Caused,
}

/// Rows that reference a delivery.
#[derive(Debug, Serialize)]
pub struct Caused {
    /// Buyer messages parsed from it, with their intent.
    pub messages: Vec<CausedMessage>,
    /// Orders made from those messages.
    pub orders: Vec<CausedOrder>,
    /// Payment events it applied.
    pub payments: Vec<CausedPayment>,
}

/// A buyer message and its classification.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct CausedMessage {
    /// Message id.
    pub id: i64,
    /// `dm` or `comment`.
    pub channel: String,
    /// What the buyer wrote.
    pub text: String,
    /// Classified intent.
    pub intent: Option<String>,
    /// Classifier confidence.
    pub intent_score: Option<f32>,
    /// What came of it.
    pub outcome: Option<String>,
}

/// An order made from the delivery's message.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct CausedOrder {
    /// Order id.
    pub id: i64,
    /// `ORD-YYYYMMDD-NNNNN`.
    pub order_number: String,
    /// Order status.
    pub status: String,
    /// Total in minor units.
    pub total_cents: i64,
    /// Currency.
    pub currency: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A payment event the delivery applied.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct CausedPayment {
    /// Payment row id.
    pub id: i64,
    /// The order it touched.
    pub order_id: Option<i64>,
    /// What happened (paid, refunded, …).
    pub kind: String,
    /// Amount in minor units.
    pub amount_cents: Option<i64>,
    /// Currency.
    pub currency: Option<String>,
}

/// Print the delivery `id`; a missing id is an error.
pub async fn run(id: InboxId, ctx: &crate::commands::Ctx) -> anyhow::Result<()> {
    let pool = ctx.pool().await?;
    let read = || format!("failed to read event {id}");
    let row = inbox::get(&pool, id)
        .await
        .with_context(read)?
        .with_context(|| format!("no event with id {id}"))?;
    let body = inbox::body(&pool, id)
        .await
        .with_context(read)?
        .unwrap_or_default();
    let purged = row.body_purged_at.is_some();
    let detail = EventDetail {
        row,
        body_bytes: body.len(),
        body: String::from_utf8(body).ok().filter(|_| !purged),
        caused: caused(&pool, id).await.with_context(read)?,
    };
    ctx.out.either(&detail, || human(&detail))
}

async fn caused(pool: &PgPool, id: InboxId) -> Result<Caused, sqlx::Error> {
    let messages = sqlx::query_as(
        "SELECT id, channel, text, intent, intent_score, outcome
           FROM messages WHERE inbox_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let orders = sqlx::query_as(
        "SELECT orders.id, orders.order_number, orders.status, orders.total_cents,
                orders.currency, orders.created_at
           FROM orders JOIN messages ON messages.id = orders.message_id
          WHERE messages.inbox_id = $1 ORDER BY orders.id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let payments = sqlx::query_as(
        "SELECT id, order_id, kind, amount_cents, currency
           FROM payments WHERE inbox_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(Caused {
        messages,
        orders,
        payments,
    })
}

fn human(detail: &EventDetail) -> String {
    let row = &detail.row;
    let mut text = fields(
        &[
            "ID",
            "PROVIDER",
            "EVENT_TYPE",
            "STATUS",
            "ATTEMPTS",
            "RECEIVED_AT",
            "PROCESSED_AT",
            "DEDUPE_KEY",
            "LAST_ERROR",
        ],
        &[
            row.id.to_string(),
            row.provider.clone(),
            or_dash(row.event_type.as_deref()),
            row.status.clone(),
            row.attempts.to_string(),
            time(&row.received_at),
            or_dash(row.processed_at.as_ref().map(time)),
            row.dedupe_key.clone(),
            or_dash(row.last_error.as_deref()),
        ],
    );
    match (&row.body_purged_at, &detail.body) {
        (Some(at), _) => text.push_str(&format!(
            "\nBODY purged at {} (retention); the delivery's record is kept",
            time(at)
        )),
        (None, Some(body)) => {
            text.push_str(&format!("\nBODY ({} bytes)\n", detail.body_bytes));
            text.push_str(body);
        }
        (None, None) => {
            text.push_str(&format!("\nBODY ({} bytes)\n", detail.body_bytes));
            text.push_str("(not UTF-8)");
        }
    }
    text.push_str("\n\nCAUSED\n");
    section(&mut text, "messages", &detail.caused.messages);
    section(&mut text, "orders", &detail.caused.orders);
    section(&mut text, "payments", &detail.caused.payments);
    text
}

fn section<T: Tabular>(text: &mut String, name: &str, rows: &[T]) {
    if rows.is_empty() {
        text.push_str(&format!("{name}: (none)\n"));
        return;
    }
    text.push_str(&format!("{name}:\n"));
    let cells: Vec<Vec<String>> = rows.iter().map(Tabular::cells).collect();
    text.push_str(&table(T::HEADERS, &cells));
}

impl Tabular for CausedMessage {
    const HEADERS: &'static [&'static str] =
        &["ID", "CHANNEL", "INTENT", "SCORE", "OUTCOME", "TEXT"];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.channel.clone(),
            or_dash(self.intent.as_deref()),
            or_dash(self.intent_score.map(|s| format!("{s:.2}"))),
            or_dash(self.outcome.as_deref()),
            clip(&self.text, 60),
        ]
    }
}

impl Tabular for CausedOrder {
    const HEADERS: &'static [&'static str] =
        &["ID", "ORDER_NUMBER", "STATUS", "TOTAL", "CREATED_AT"];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.order_number.clone(),
            self.status.clone(),
            format!(
                "{} {}",
                Money::stored_amount(self.total_cents, Some(&self.currency)),
                self.currency
            ),
            time(&self.created_at),
        ]
    }
}

impl Tabular for CausedPayment {
    const HEADERS: &'static [&'static str] = &["ID", "ORDER_ID", "KIND", "AMOUNT"];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            or_dash(self.order_id),
            self.kind.clone(),
            match (self.amount_cents, &self.currency) {
                (Some(minor), Some(cur)) => {
                    format!("{} {cur}", Money::stored_amount(minor, Some(cur)))
                }
                (Some(minor), None) => Money::stored_amount(minor, None),
                _ => "-".to_owned(),
            },
        ]
    }
}
