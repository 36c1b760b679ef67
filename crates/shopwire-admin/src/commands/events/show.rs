//! `events show ID`: one delivery, its body, and the rows that reference it.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use shopwire_core::db::inbox::{self, InboxId, InboxRow};
use shopwire_core::db::orders;
use shopwire_core::domain::{Money, Provider};
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
    /// For a TikTok Shop delivery: its shop and what it did to each order it was about
    /// (absent for other providers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tiktok_shop: Option<TiktokShopDelivery>,
}

/// A TikTok Shop delivery's side: the orders it touched are also in `caused.orders`.
#[derive(Debug, Serialize)]
pub struct TiktokShopDelivery {
    /// The shop, from the body's `shop_id` (`None` once the body was purged).
    pub shop_id: Option<String>,
    /// What it did, one row per order it was about (`tiktok_order_events`).
    pub notifications: Vec<CausedTiktokEvent>,
}

/// What a TikTok Shop delivery did to one order.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct CausedTiktokEvent {
    /// TikTok's order id.
    pub tiktok_order_id: String,
    /// Our order, if we had it.
    pub order_id: Option<i64>,
    /// Its `ORD-…` number.
    pub order_number: Option<String>,
    /// The notification's `type`.
    pub topic: i32,
    /// The status it carried.
    pub tiktok_status: String,
    /// Its `update_time`, if any.
    pub update_time: Option<i64>,
    /// `applied`, `stale`, `illegal`, `recorded` or `unknown_order`.
    pub outcome: String,
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

/// An order made from the delivery's message, or a TikTok Shop order it was about.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct CausedOrder {
    /// Order id.
    pub id: i64,
    /// `ORD-YYYYMMDD-NNNNN`.
    pub order_number: String,
    /// Order status.
    pub status: String,
    /// `message` or `tiktok_shop`.
    pub source: String,
    /// TikTok's order id (TikTok Shop orders).
    pub tiktok_order_id: Option<String>,
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
    let tiktok_shop = if row.provider == Provider::TiktokShop.as_str() {
        Some(TiktokShopDelivery {
            shop_id: orders::shop_of_body(&body),
            notifications: notifications(&pool, id).await.with_context(read)?,
        })
    } else {
        None
    };
    let detail = EventDetail {
        row,
        body_bytes: body.len(),
        body: String::from_utf8(body).ok().filter(|_| !purged),
        caused: caused(&pool, id).await.with_context(read)?,
        tiktok_shop,
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
    // Orders made from its messages, and TikTok Shop orders it moved or returned.
    let orders = sqlx::query_as(
        "SELECT o.id, o.order_number, o.status, o.source, o.tiktok_order_id, o.total_cents,
                o.currency, o.created_at
           FROM orders o
          WHERE o.id IN (SELECT m.order_id FROM (
                    SELECT orders.id AS order_id FROM orders
                      JOIN messages ON messages.id = orders.message_id
                     WHERE messages.inbox_id = $1
                    UNION SELECT order_id FROM tiktok_order_events WHERE inbox_id = $1
                    UNION SELECT order_id FROM tiktok_order_returns WHERE inbox_id = $1
                ) m)
          ORDER BY o.id",
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

async fn notifications(pool: &PgPool, id: InboxId) -> Result<Vec<CausedTiktokEvent>, sqlx::Error> {
    sqlx::query_as(
        "SELECT e.tiktok_order_id, e.order_id, o.order_number, e.topic, e.tiktok_status,
                e.update_time, e.outcome
           FROM tiktok_order_events e LEFT JOIN orders o ON o.id = e.order_id
          WHERE e.inbox_id = $1 ORDER BY e.id",
    )
    .bind(id)
    .fetch_all(pool)
    .await
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
    if let Some(shop) = &detail.tiktok_shop {
        text.push_str(&format!(
            "\nTIKTOK SHOP {}\n",
            or_dash(shop.shop_id.as_deref())
        ));
        section(&mut text, "notifications", &shop.notifications);
    }
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
    const HEADERS: &'static [&'static str] = &[
        "ID",
        "ORDER_NUMBER",
        "STATUS",
        "SOURCE",
        "TIKTOK_ORDER",
        "TOTAL",
        "CREATED_AT",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.order_number.clone(),
            self.status.clone(),
            self.source.clone(),
            or_dash(self.tiktok_order_id.as_deref()),
            format!(
                "{} {}",
                Money::stored_amount(self.total_cents, Some(&self.currency)),
                self.currency
            ),
            time(&self.created_at),
        ]
    }
}

impl Tabular for CausedTiktokEvent {
    const HEADERS: &'static [&'static str] = &[
        "TIKTOK_ORDER",
        "ORDER_NUMBER",
        "TOPIC",
        "TIKTOK_STATUS",
        "UPDATE_TIME",
        "OUTCOME",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.tiktok_order_id.clone(),
            or_dash(self.order_number.as_deref()),
            self.topic.to_string(),
            self.tiktok_status.clone(),
            or_dash(self.update_time),
            self.outcome.clone(),
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
