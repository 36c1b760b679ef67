//! A buyer's DM or live comment: classify intent, resolve the product, and — for a
//! confident buy — reserve stock and create the pending order, all in one transaction
//! with the inbox mark. One message never makes two orders (`orders.message_id` is
//! unique and the whole stage re-runs as one unit).

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use shopwire_core::db::inbox::Claimed;
use shopwire_core::db::messages::{self, Decision, NewMessage};
use shopwire_core::db::orders::{self, OrderRequest, Reservation};
use shopwire_core::domain::{InboxStatus, Provider};
use shopwire_core::jobs::Queue;

use super::{checkout, product_match};
use crate::classify::Intent;
use crate::context::JobContext;
use crate::jobs::apply_delivery::{self, JobError};

/// Orders created from messages, by outcome.
pub const MESSAGE_OUTCOMES_TOTAL: &str = "shopwire_message_outcomes_total";

/// A buyer's DM: `im_receive_msg`, and `im_receive_msg_eu` from users in the EEA,
/// Switzerland and the UK.
const BUYER_DM_EVENTS: [&str; 2] = ["im_receive_msg", "im_receive_msg_eu"];

/// A message in the shape every channel reduces to.
#[derive(Debug)]
struct Parsed {
    channel: &'static str,
    streamer: Option<String>,
    buyer: String,
    conversation: Option<String>,
    text: String,
    sent_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct Comment {
    streamer: String,
    client: String,
    message: String,
    timestamp: String,
}

#[derive(Deserialize)]
struct TiktokEvent {
    event: String,
    #[serde(default)]
    user_openid: Option<String>,
    #[serde(default)]
    content: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct DmContent {
    #[serde(default)]
    conversation_id: Option<String>,
    #[serde(default)]
    timestamp: Option<i64>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    text: Option<DmText>,
    /// The sender's stable id. (`from` is their display name: never a buyer id.)
    #[serde(default)]
    from_user: Option<DmUser>,
}

#[derive(Deserialize)]
struct DmText {
    body: String,
}

#[derive(Deserialize)]
struct DmUser {
    id: String,
}

/// Parse the delivery into a message; `None` for TikTok events that are not a buyer's text
/// DM, or whose sender has no stable id.
fn parse(provider: Provider, body: &[u8]) -> Result<Option<Parsed>, JobError> {
    let bad = |e: serde_json::Error| JobError::permanent(format!("malformed message: {e}"));
    match provider {
        Provider::Comments => {
            let c: Comment = serde_json::from_slice(body).map_err(bad)?;
            let sent_at = DateTime::parse_from_rfc3339(&c.timestamp)
                .map_err(|e| JobError::permanent(format!("bad comment timestamp: {e}")))?
                .with_timezone(&Utc);
            Ok(Some(Parsed {
                channel: "comment",
                streamer: Some(c.streamer),
                buyer: c.client,
                conversation: None,
                text: c.message,
                sent_at,
            }))
        }
        Provider::Tiktok => {
            let e: TiktokEvent = serde_json::from_slice(body).map_err(bad)?;
            if !BUYER_DM_EVENTS.contains(&e.event.as_str()) {
                return Ok(None);
            }
            let content: DmContent = match e.content {
                Some(serde_json::Value::String(s)) => serde_json::from_str(&s).map_err(bad)?,
                Some(v) => serde_json::from_value(v).map_err(bad)?,
                None => return Ok(None),
            };
            let (Some(text), Some(buyer)) = (
                content
                    .text
                    .filter(|_| content.kind.as_deref().unwrap_or("text") == "text"),
                content
                    .from_user
                    .map(|u| u.id)
                    .filter(|id| !id.trim().is_empty()),
            ) else {
                return Ok(None);
            };
            let sent_at = content
                .timestamp
                .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
                .unwrap_or_else(Utc::now);
            Ok(Some(Parsed {
                channel: "dm",
                streamer: e.user_openid,
                buyer,
                conversation: content.conversation_id,
                text: text.body,
                sent_at,
            }))
        }
        Provider::Stripe | Provider::TiktokShop => Err(JobError::permanent("not a buyer message")),
    }
}

/// Apply one buyer message.
///
/// Everything that needs no lock happens first: classification and product resolution
/// before the transaction opens, the message row and the inbox mark inside it before the
/// reservation. The product's row lock is then held for one call (which also records the
/// message's decision) and the commit.
pub async fn apply(
    ctx: &JobContext,
    claimed: &Claimed,
    provider: Provider,
) -> Result<InboxStatus, JobError> {
    let Some(msg) = parse(provider, &claimed.body)? else {
        let tx = ctx.pool.begin().await?;
        return apply_delivery::commit(tx, ctx, claimed, InboxStatus::Ignored).await;
    };
    // Classify before opening the transaction: an LLM call must not hold a connection.
    let class = ctx.classifier.classify(&msg.text).await;
    let mut decision = Decision {
        intent: class.intent.as_str(),
        intent_score: class.score,
        classifier: class.classifier,
        product_id: None,
        match_score: None,
        outcome: "not_buy",
    };
    let mut wanted = None;
    if class.intent == Intent::Buy {
        if class.score < ctx.buy_threshold {
            decision.outcome = "below_threshold";
        } else {
            wanted = resolve_product(ctx, &msg).await?;
            decision.product_id = wanted.as_ref().map(|m| m.product_id);
            decision.match_score = wanted.as_ref().map(|m| m.score);
            decision.outcome = "unmatched";
        }
    }

    let mut tx = ctx.pool.begin().await?;
    let message_id = messages::insert(
        &mut tx,
        &NewMessage {
            inbox_id: claimed.id,
            channel: msg.channel,
            streamer: msg.streamer.as_deref(),
            buyer: &msg.buyer,
            conversation: msg.conversation.as_deref(),
            text: &msg.text,
            sent_at: msg.sent_at,
        },
    )
    .await?;
    apply_delivery::mark(&mut tx, ctx, claimed, InboxStatus::Processed).await?;

    let mut checkout_job = None;
    if let Some(wanted) = wanted {
        let checkout = ctx
            .stripe
            .is_some()
            .then_some((Queue::Checkout.as_str(), checkout::JOB_KEY_PREFIX));
        let request = OrderRequest {
            message_id,
            product_id: wanted.product_id,
            buyer: &msg.buyer,
            quantity: 1,
            ttl: ctx.reservation_ttl,
            checkout,
            decision: &decision,
        };
        let reserved = orders::reserve_for_message(&mut tx, &request).await?;
        decision.outcome = match reserved {
            Reservation::Ordered {
                order_number,
                checkout_job: job,
                ..
            } => {
                checkout_job = job;
                tracing::info!(order = %order_number, "order created");
                "ordered"
            }
            Reservation::SoldOut => "sold_out",
            Reservation::AlreadyPending { .. } => "duplicate_pending",
        };
    } else {
        messages::decide(&mut tx, message_id, &decision).await?;
    }
    tx.commit().await?;
    // Only after the order is committed may the checkout job run.
    if let Some(job) = checkout_job {
        checkout::enqueue(ctx, job).await;
    }
    metrics::counter!(MESSAGE_OUTCOMES_TOTAL, "outcome" => decision.outcome).increment(1);
    Ok(InboxStatus::Processed)
}

/// The product a buy message names (SKU or title), else the one the streamer had pinned
/// when the message was sent. Read outside the order's transaction: it locks nothing.
async fn resolve_product(
    ctx: &JobContext,
    msg: &Parsed,
) -> Result<Option<product_match::Match>, JobError> {
    let mut conn = ctx.pool.acquire().await?;
    let catalog = messages::catalog(&mut conn).await?;
    if let Some(named) = product_match::named_in(&msg.text, &catalog) {
        return Ok(Some(named));
    }
    let Some(streamer) = &msg.streamer else {
        return Ok(None);
    };
    let pinned = messages::pinned_at(&mut conn, streamer, msg.sent_at).await?;
    Ok(pinned.map(|product_id| product_match::Match {
        product_id,
        score: product_match::PINNED_CONFIDENCE,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dm(event: &str, content: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "event": event,
            "user_openid": "shop_account",
            "create_time": 1_763_805_600,
            "content": content.to_string(),
        }))
        .expect("serialises")
    }

    fn text_dm(extra: serde_json::Value) -> serde_json::Value {
        let mut content = serde_json::json!({
            "conversation_id": "conv-9",
            "message_id": "m-9",
            "timestamp": 1_763_805_600_000_i64,
            "type": "text",
            "text": {"body": "I'll take it"},
        });
        for (k, v) in extra.as_object().expect("an object") {
            content[k] = v.clone();
        }
        content
    }

    #[test]
    fn eea_and_uk_dms_are_buyer_messages_like_the_others() {
        for event in ["im_receive_msg", "im_receive_msg_eu"] {
            let body = dm(
                event,
                text_dm(serde_json::json!({"from": "Ana 🌸", "from_user": {"id": "open-id-ana"}})),
            );
            let msg = parse(Provider::Tiktok, &body)
                .expect("parses")
                .unwrap_or_else(|| panic!("{event} is a buyer message"));
            assert_eq!(msg.channel, "dm");
            assert_eq!(msg.buyer, "open-id-ana", "{event}");
            assert_eq!(msg.conversation.as_deref(), Some("conv-9"));
            assert_eq!(msg.streamer.as_deref(), Some("shop_account"));
            assert_eq!(msg.text, "I'll take it");
        }
    }

    #[test]
    fn a_display_name_is_never_the_buyer_id() {
        for from_user in [None, Some(serde_json::json!({"id": ""}))] {
            let mut extra = serde_json::json!({"from": "Ana 🌸"});
            if let Some(user) = from_user.clone() {
                extra["from_user"] = user;
            }
            let body = dm("im_receive_msg", text_dm(extra));
            assert!(
                parse(Provider::Tiktok, &body).expect("parses").is_none(),
                "no stable sender id ({from_user:?}): not a buyer message"
            );
        }
    }

    #[test]
    fn a_stripped_eea_notification_without_text_is_not_a_buyer_message() {
        let body = dm(
            "im_receive_msg_eu",
            serde_json::json!({"to_user": {"id": "shop"}}),
        );
        assert!(parse(Provider::Tiktok, &body).expect("parses").is_none());
        let echo = dm(
            "im_send_msg",
            text_dm(serde_json::json!({"from_user": {"id": "x"}})),
        );
        assert!(parse(Provider::Tiktok, &echo).expect("parses").is_none());
    }
}
