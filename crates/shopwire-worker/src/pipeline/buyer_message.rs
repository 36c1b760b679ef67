//! A buyer's DM or live comment: classify intent and, for a confident buy, read the claim
//! (item, quantity, variant) and record it with the message and the inbox mark in one
//! transaction. The allocator then decides it in message-time order. One message makes
//! one claim and at most one order (`claims.message_id` and `orders.message_id` are
//! unique, and the whole stage re-runs as one unit).

use std::time::Duration;

use crate::attempt::{JobError, commit};
use crate::context::JobContext;
use crate::jobs::allocate_claims;
use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use shopwire_core::claims::item::names_any_code;
use shopwire_core::claims::{CatalogItem, ClaimRules, LiveContext, Reading};
use shopwire_core::db::buyers;
use shopwire_core::db::claims::{self, NewClaim};
use shopwire_core::db::inbox::Claimed;
use shopwire_core::db::messages::{self, Decision, NewMessage};
use shopwire_core::domain::message_text::storable;
use shopwire_core::domain::{ClaimOutcome, InboxStatus, MessageText, Provider};
use shopwire_insight::classify::Intent;

/// Orders created from messages, by outcome.
pub const MESSAGE_OUTCOMES_TOTAL: &str = "shopwire_message_outcomes_total";

/// A buyer's DM: `im_receive_msg`, and `im_receive_msg_eu` from users in the EEA,
/// Switzerland and the UK.
const BUYER_DM_EVENTS: [&str; 2] = ["im_receive_msg", "im_receive_msg_eu"];

/// A message in the shape every channel reduces to, taken out of the inbox body (which
/// stays byte-exact) once, here: every string is [`storable`] (a NUL made U+FFFD, so no
/// insert or lookup of it fails with SQLSTATE 22021), and the text is capped at
/// `MESSAGE_MAX_CHARS`.
#[derive(Debug)]
struct Parsed {
    channel: &'static str,
    streamer: Option<String>,
    buyer: String,
    conversation: Option<String>,
    /// The first `MESSAGE_MAX_CHARS` characters: what the classifier and the claim reader
    /// read, and what `messages.text` stores. The capped text rather than the full one, so
    /// a row is bounded and says exactly what was read; the full text is in the inbox body.
    text: MessageText,
    sent_at: DateTime<Utc>,
}

impl Parsed {
    /// The parts of one delivery, made storable and capped.
    fn new(
        channel: &'static str,
        streamer: Option<String>,
        buyer: String,
        conversation: Option<String>,
        text: &str,
        sent_at: DateTime<Utc>,
        max_chars: usize,
    ) -> Parsed {
        let clean = |s: String| match storable(&s) {
            std::borrow::Cow::Borrowed(_) => s,
            std::borrow::Cow::Owned(replaced) => replaced,
        };
        Parsed {
            channel,
            streamer: streamer.map(clean),
            buyer: clean(buyer),
            conversation: conversation.map(clean),
            text: MessageText::new(text, max_chars),
            sent_at,
        }
    }
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

/// Parse the delivery into a message, its text capped at `max_chars` characters; `None`
/// for TikTok events that are not a buyer's text DM, or whose sender has no stable id.
fn parse(provider: Provider, body: &[u8], max_chars: usize) -> Result<Option<Parsed>, JobError> {
    let bad = |e: serde_json::Error| JobError::permanent(format!("malformed message: {e}"));
    match provider {
        Provider::Comments => {
            let c: Comment = serde_json::from_slice(body).map_err(bad)?;
            let sent_at = DateTime::parse_from_rfc3339(&c.timestamp)
                .map_err(|e| JobError::permanent(format!("bad comment timestamp: {e}")))?
                .with_timezone(&Utc);
            Ok(Some(Parsed::new(
                "comment",
                Some(c.streamer),
                c.client,
                None,
                &c.message,
                sent_at,
                max_chars,
            )))
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
            Ok(Some(Parsed::new(
                "dm",
                e.user_openid,
                buyer,
                content.conversation_id,
                &text.body,
                sent_at,
                max_chars,
            )))
        }
        Provider::Stripe | Provider::TiktokShop => Err(JobError::permanent("not a buyer message")),
    }
}

/// What a confident buy asks for, read before the transaction opens (it locks nothing).
enum Ask {
    /// The buyer is on the block list.
    Blocked,
    /// What the claim reader made of the text.
    Read(Reading),
}

/// Apply one buyer message.
///
/// Everything that needs no lock happens before the transaction: classification, the
/// block list and reading the claim. The transaction records the message, its decision,
/// the claim and the inbox mark; a claim for a variant is `pending` and is decided by the
/// allocator once `CLAIM_ORDER_WINDOW_MS` has passed since the message's own time, so the
/// earliest message wins however the deliveries arrive (`jobs::allocate_claims`).
pub async fn apply(
    ctx: &JobContext,
    claimed: &Claimed,
    provider: Provider,
) -> Result<InboxStatus, JobError> {
    let Some(msg) = parse(provider, &claimed.body, ctx.message_max_chars)? else {
        let tx = ctx.pool.begin().await?;
        return commit::delivery(tx, claimed, InboxStatus::Ignored).await;
    };
    // Classify before opening the transaction: an LLM call must not hold a connection.
    let class = ctx.classifier.classify(msg.text.as_str()).await;
    let mut decision = Decision {
        intent: class.intent.as_str(),
        intent_score: class.score,
        classifier: class.classifier,
        product_id: None,
        match_score: None,
        outcome: "not_buy",
    };
    let now = Utc::now();
    let message_time = trusted_time(msg.sent_at, now, ctx.message_time_tolerance);
    let mut ask = None;
    let confident = class.intent == Intent::Buy && class.score >= ctx.buy_threshold;
    if class.intent == Intent::Buy && !confident {
        decision.outcome = "below_threshold";
    }
    if confident {
        ask = read_ask(ctx, &msg, message_time, false).await?;
    } else if matches!(class.intent, Intent::Buy | Intent::Other) {
        // In a live sale a bare "A1 M" or "DNM-JKT x2" is a claim, however little else
        // it says: a message the classifier finds no intent in is a buy when it names a
        // claim code or a SKU.
        ask = read_ask(ctx, &msg, message_time, true).await?;
        if ask.is_some() {
            decision.intent = Intent::Buy.as_str();
            decision.classifier = CLAIM_CODE_CLASSIFIER;
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
            text: msg.text.as_str(),
            sent_at: msg.sent_at,
        },
    )
    .await?;
    commit::mark_delivery(&mut tx, claimed, InboxStatus::Processed).await?;
    if let Some(Ask::Read(Reading::Claim { product_id, .. })) = &ask {
        decision.product_id = Some(*product_id);
        decision.match_score = Some(1.0);
    }
    messages::decide(&mut tx, message_id, &decision).await?;
    let mut claim = NewClaim {
        message_id,
        streamer: msg.streamer.as_deref(),
        buyer: &msg.buyer,
        channel: msg.channel,
        product_id: None,
        product_code: None,
        quantity: 1,
        message_time,
        due_at: message_time
            + chrono::Duration::from_std(ctx.claims.order_window).unwrap_or_default(),
    };
    let mut pending = None;
    let outcome = match &ask {
        None => None,
        Some(Ask::Blocked) => Some(ClaimOutcome::Blocked),
        Some(Ask::Read(Reading::Unmatched)) => Some(ClaimOutcome::Unmatched),
        Some(Ask::Read(Reading::NeedsVariant {
            product_code,
            quantity,
            ..
        })) => {
            claim.product_code = Some(product_code);
            claim.quantity = clamp_quantity(*quantity);
            Some(ClaimOutcome::NeedsVariant)
        }
        Some(Ask::Read(Reading::Claim {
            product_id,
            quantity,
            ..
        })) => {
            claim.product_id = Some(*product_id);
            claim.quantity = clamp_quantity(*quantity);
            claims::insert_pending(&mut tx, &claim).await?;
            pending = Some((*product_id, claim.due_at));
            None
        }
    };
    if let Some(outcome) = outcome {
        claims::insert_decided(&mut tx, &claim, outcome).await?;
        metrics::counter!(MESSAGE_OUTCOMES_TOTAL, "outcome" => outcome.as_str()).increment(1);
    } else if pending.is_none() {
        metrics::counter!(MESSAGE_OUTCOMES_TOTAL, "outcome" => decision.outcome).increment(1);
    }
    tx.commit().await?;
    // Only a committed claim may be allocated: at once when its window has passed (as with
    // CLAIM_ORDER_WINDOW_MS=0), else by the claim watch once it is due and settled (every
    // buyer message that arrived before it + the window has been read).
    if let Some((product_id, due_at)) = pending {
        if due_at <= Utc::now() {
            allocate_claims::run(ctx, product_id).await;
        } else {
            let window = chrono::Duration::from_std(ctx.claims.order_window).unwrap_or_default();
            ctx.claim_watch
                .due_and_settled(product_id, due_at, claimed.received_at + window);
        }
    }
    Ok(InboxStatus::Processed)
}

/// A message's own time, unless it cannot be trusted: one in the future or older than the
/// signature tolerance counts as its arrival (`now`).
fn trusted_time(sent_at: DateTime<Utc>, now: DateTime<Utc>, tolerance: Duration) -> DateTime<Utc> {
    let tolerance = chrono::Duration::from_std(tolerance).unwrap_or_default();
    if sent_at > now || sent_at < now - tolerance {
        now
    } else {
        sent_at
    }
}

fn clamp_quantity(quantity: u32) -> i32 {
    i32::try_from(quantity.clamp(1, 100)).unwrap_or(1)
}

/// The block list, then the claim reader over the catalog and the streamer's live as it
/// stood at the message's time. Read outside the claim's transaction: it locks nothing.
///
/// With `only_by_code`, the message is a claim only if it names one of the streamer's
/// lineup codes or a catalog SKU or product code as a whole code (`None` otherwise).
async fn read_ask(
    ctx: &JobContext,
    msg: &Parsed,
    at: DateTime<Utc>,
    only_by_code: bool,
) -> Result<Option<Ask>, JobError> {
    let mut conn = ctx.pool.acquire().await?;
    let catalog = claims::reader_catalog(&mut conn).await?;
    let live = claims::live_context(
        &mut conn,
        msg.streamer.as_deref(),
        at,
        ctx.claims.lineup_only && msg.channel == "comment",
    )
    .await?;
    if only_by_code && !names_a_code(msg.text.as_str(), &catalog, &live) {
        return Ok(None);
    }
    if buyers::is_blocked(&mut conn, &msg.buyer).await? {
        return Ok(Some(Ask::Blocked));
    }
    let rules = ClaimRules {
        max_quantity: ctx.claims.max_quantity,
    };
    Ok(Some(Ask::Read(shopwire_core::claims::read(
        msg.text.as_str(),
        &catalog,
        &live,
        &rules,
    ))))
}

/// The classifier name recorded for a message that is a buy because it names a code.
const CLAIM_CODE_CLASSIFIER: &str = "claim_code";

/// True when `text` names a lineup code, a SKU or a product code as a whole code.
fn names_a_code(text: &str, catalog: &[CatalogItem], live: &LiveContext) -> bool {
    let head: String = text
        .chars()
        .take(shopwire_core::claims::MAX_SCAN_CHARS)
        .collect();
    let codes = live.lineup.iter().map(|(code, _)| code.as_str()).chain(
        catalog
            .iter()
            .flat_map(|c| [c.sku.as_str(), c.product_code.as_str()]),
    );
    names_any_code(&head, codes)
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

    fn item(sku: &str, code: &str) -> CatalogItem {
        CatalogItem {
            product_id: 1,
            sku: sku.into(),
            product_code: code.into(),
            title: "Denim jacket".into(),
            options: Default::default(),
        }
    }

    #[test]
    fn a_bare_claim_code_or_sku_is_named_and_a_longer_code_is_not() {
        let catalog = [item("DNM-JKT-M", "DNM-JKT"), item("TEE-1", "TEE-1")];
        let live = LiveContext {
            lineup: vec![("A1".into(), "DNM-JKT".into())],
            ..Default::default()
        };
        for text in ["A1 M", "a1 m x2", "DNM-JKT L", "tee-1!!", "2 of A1 please"] {
            assert!(names_a_code(text, &catalog, &live), "{text}");
        }
        for text in ["A11", "love it", "TEE-10", "so cute A"] {
            assert!(!names_a_code(text, &catalog, &live), "{text}");
        }
    }

    #[test]
    fn eea_and_uk_dms_are_buyer_messages_like_the_others() {
        for event in ["im_receive_msg", "im_receive_msg_eu"] {
            let body = dm(
                event,
                text_dm(serde_json::json!({"from": "Ana 🌸", "from_user": {"id": "open-id-ana"}})),
            );
            let msg = parse(Provider::Tiktok, &body, 2000)
                .expect("parses")
                .unwrap_or_else(|| panic!("{event} is a buyer message"));
            assert_eq!(msg.channel, "dm");
            assert_eq!(msg.buyer, "open-id-ana", "{event}");
            assert_eq!(msg.conversation.as_deref(), Some("conv-9"));
            assert_eq!(msg.streamer.as_deref(), Some("shop_account"));
            assert_eq!(msg.text.as_str(), "I'll take it");
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
                parse(Provider::Tiktok, &body, 2000)
                    .expect("parses")
                    .is_none(),
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
        assert!(
            parse(Provider::Tiktok, &body, 2000)
                .expect("parses")
                .is_none()
        );
        let echo = dm(
            "im_send_msg",
            text_dm(serde_json::json!({"from_user": {"id": "x"}})),
        );
        assert!(
            parse(Provider::Tiktok, &echo, 2000)
                .expect("parses")
                .is_none()
        );
    }
}
