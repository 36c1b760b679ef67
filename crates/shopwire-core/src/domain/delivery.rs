//! A verified webhook body, parsed just enough to record it: its dedupe key and event type.
//!
//! Parsing here never decides what a delivery *means*; the worker does that. It only
//! refuses bodies that are not JSON or lack the fields their provider always sends.

use std::borrow::Cow;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::Provider;

/// Longest dedupe key or event type we store (the inbox has a CHECK to match).
const MAX_KEY_LEN: usize = 512;

/// What the inbox needs to know about a delivery before the worker sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Unique per provider; a second delivery with the same key is a duplicate.
    pub dedupe_key: String,
    /// Provider's event type (`checkout.session.completed`, `ORDER_STATUS_CHANGE`, `im_receive_msg`, `comment`).
    pub event_type: String,
}

/// A verified body that is not JSON or lacks a field its provider always sends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {provider} payload: {reason}")]
pub struct MalformedPayload {
    provider: Provider,
    reason: String,
}

impl MalformedPayload {
    fn new(provider: Provider, reason: impl Into<String>) -> Self {
        Self {
            provider,
            reason: reason.into(),
        }
    }

    /// Why the payload was refused, for logs and the inbox's `last_error`.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

#[derive(Deserialize)]
struct StripeEnvelope<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
}

/// `tts_notification_id` is optional: the webhooks overview's body table and sample omit it.
#[derive(Deserialize)]
struct TiktokShopEnvelope<'a> {
    #[serde(rename = "type")]
    kind: u32,
    #[serde(default, borrow)]
    tts_notification_id: Option<StringOrNumber<'a>>,
}

#[derive(Deserialize)]
struct TiktokEnvelope<'a> {
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(default, borrow)]
    content: Option<Content<'a>>,
}

/// TikTok sends `content` as a JSON-encoded string; accept an object too.
#[derive(Deserialize)]
#[serde(untagged)]
enum Content<'a> {
    Encoded(#[serde(borrow)] Cow<'a, str>),
    Object(#[serde(borrow)] ContentFields<'a>),
}

#[derive(Deserialize, Default)]
struct ContentFields<'a> {
    #[serde(default, borrow)]
    message_id: Option<StringOrNumber<'a>>,
}

#[derive(Deserialize)]
struct CommentEnvelope<'a> {
    #[serde(default, borrow)]
    comment_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    streamer: Cow<'a, str>,
    #[serde(borrow)]
    client: Cow<'a, str>,
    #[serde(borrow)]
    message: Cow<'a, str>,
    #[serde(borrow)]
    timestamp: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrNumber<'a> {
    Str(#[serde(borrow)] Cow<'a, str>),
    Num(u64),
}

impl StringOrNumber<'_> {
    fn into_string(self) -> String {
        match self {
            StringOrNumber::Str(s) => s.into_owned(),
            StringOrNumber::Num(n) => n.to_string(),
        }
    }
}

impl Delivery {
    /// Parse a verified body from `provider` into what the inbox records.
    pub fn parse(provider: Provider, body: &[u8]) -> Result<Delivery, MalformedPayload> {
        let bad = |e: serde_json::Error| MalformedPayload::new(provider, e.to_string());
        let (dedupe_key, event_type) = match provider {
            Provider::Stripe => {
                let env: StripeEnvelope<'_> = serde_json::from_slice(body).map_err(bad)?;
                (env.id.into_owned(), env.kind.into_owned())
            }
            Provider::TiktokShop => {
                let env: TiktokShopEnvelope<'_> = serde_json::from_slice(body).map_err(bad)?;
                let key = match env.tts_notification_id {
                    Some(id) => id.into_string(),
                    None => body_hash(body),
                };
                (key, tiktok_shop_topic(env.kind))
            }
            Provider::Tiktok => {
                let env: TiktokEnvelope<'_> = serde_json::from_slice(body).map_err(bad)?;
                let message_id = match env.content {
                    Some(Content::Encoded(s)) => serde_json::from_str::<ContentFields<'_>>(&s)
                        .ok()
                        .and_then(|fields| fields.message_id)
                        .map(StringOrNumber::into_string),
                    Some(Content::Object(fields)) => {
                        fields.message_id.map(StringOrNumber::into_string)
                    }
                    None => None,
                };
                let key = match message_id {
                    Some(id) if env.event.starts_with("im_") => id,
                    _ => body_hash(body),
                };
                (key, env.event.into_owned())
            }
            Provider::Comments => {
                let env: CommentEnvelope<'_> = serde_json::from_slice(body).map_err(bad)?;
                for (field, value) in [
                    ("streamer", &env.streamer),
                    ("client", &env.client),
                    ("message", &env.message),
                ] {
                    if value.trim().is_empty() {
                        return Err(MalformedPayload::new(
                            provider,
                            format!("`{field}` is empty"),
                        ));
                    }
                }
                chrono::DateTime::parse_from_rfc3339(&env.timestamp).map_err(|e| {
                    MalformedPayload::new(provider, format!("`timestamp` is not RFC 3339: {e}"))
                })?;
                let key = match env.comment_id {
                    Some(id) => id.into_owned(),
                    None => body_hash(body),
                };
                (key, "comment".to_owned())
            }
        };
        check_storable(provider, "dedupe key", &dedupe_key)?;
        check_storable(provider, "event type", &event_type)?;
        Ok(Delivery {
            dedupe_key,
            event_type,
        })
    }
}

/// Postgres text cannot hold NUL, and the inbox bounds key length.
fn check_storable(provider: Provider, what: &str, value: &str) -> Result<(), MalformedPayload> {
    if value.is_empty() || value.len() > MAX_KEY_LEN || value.contains('\0') {
        return Err(MalformedPayload::new(
            provider,
            format!("{what} is empty, longer than {MAX_KEY_LEN} bytes or contains NUL"),
        ));
    }
    Ok(())
}

/// SHA-256 of the exact body, hex: the dedupe key for events that carry no id.
pub fn body_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// TikTok Shop topic numbers as the `event_type` people read in `events list`.
fn tiktok_shop_topic(kind: u32) -> String {
    let name = match kind {
        1 => "ORDER_STATUS_CHANGE",
        2 => "REVERSE_STATUS_UPDATE",
        3 => "RECIPIENT_ADDRESS_UPDATE",
        4 => "PACKAGE_UPDATE",
        5 => "PRODUCT_STATUS_CHANGE",
        6 => "SELLER_DEAUTHORIZATION",
        7 => "UPCOMING_AUTHORIZATION_EXPIRATION",
        11 => "CANCELLATION_STATUS_CHANGE",
        12 => "RETURN_STATUS_CHANGE",
        13 => "NEW_CONVERSATION",
        14 => "NEW_MESSAGE",
        other => return format!("TOPIC_{other}"),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use shopwire_testkit::fixture;

    use super::*;

    #[test]
    fn stripe_events_are_keyed_by_event_id() {
        let d = Delivery::parse(
            Provider::Stripe,
            &fixture("stripe/checkout.session.completed.json"),
        )
        .expect("fixture parses");
        assert_eq!(d.dedupe_key, "evt_1QkZr4LkdIwHu7ixcT0nWq8P");
        assert_eq!(d.event_type, "checkout.session.completed");
    }

    #[test]
    fn tiktok_shop_notifications_are_keyed_by_notification_id() {
        let d = Delivery::parse(
            Provider::TiktokShop,
            &fixture("tiktok/shop.cancellation_status_change.json"),
        )
        .expect("fixture parses");
        assert_eq!(d.dedupe_key, "7380102234987655170");
        assert_eq!(d.event_type, "CANCELLATION_STATUS_CHANGE");
    }

    #[test]
    fn tiktok_shop_notifications_without_a_notification_id_are_keyed_by_body_hash() {
        let body = fixture("tiktok/shop.order_status_change.without_notification_id.json");
        let d = Delivery::parse(Provider::TiktokShop, &body).expect("the documented shape parses");
        assert_eq!(d.dedupe_key, body_hash(&body));
        assert_eq!(d.event_type, "ORDER_STATUS_CHANGE");
        let null_id =
            br#"{"type":12,"tts_notification_id":null,"shop_id":"s","timestamp":1,"data":{}}"#;
        assert_eq!(
            Delivery::parse(Provider::TiktokShop, null_id)
                .expect("a null id is no id")
                .dedupe_key,
            body_hash(null_id)
        );
    }

    #[test]
    fn unknown_tiktok_shop_topics_are_accepted() {
        let body =
            br#"{"type":99,"tts_notification_id":"n1","shop_id":"s","timestamp":1,"data":{}}"#;
        let d = Delivery::parse(Provider::TiktokShop, body).expect("unknown topic is fine");
        assert_eq!(d.event_type, "TOPIC_99");
    }

    #[test]
    fn tiktok_dms_are_keyed_by_message_id() {
        let body = br#"{"event":"im_receive_msg","user_openid":"b","create_time":1,"content":"{\"message_id\":\"m-42\",\"text\":{\"body\":\"mine!\"}}"}"#;
        let d = Delivery::parse(Provider::Tiktok, body).expect("dm parses");
        assert_eq!(d.dedupe_key, "m-42");
        assert_eq!(d.event_type, "im_receive_msg");
    }

    #[test]
    fn tiktok_dm_message_ids_may_be_numbers_in_either_content_form() {
        let encoded = br#"{"event":"im_receive_msg","content":"{\"message_id\":7001}"}"#;
        let object = br#"{"event":"im_receive_msg","content":{"message_id":7001}}"#;
        for body in [&encoded[..], &object[..]] {
            let d = Delivery::parse(Provider::Tiktok, body).expect("numeric id parses");
            assert_eq!(d.dedupe_key, "7001");
        }
    }

    #[test]
    fn tiktok_developer_events_are_keyed_by_body_hash() {
        let body = fixture("tiktok/developers.authorization_removed.json");
        let d = Delivery::parse(Provider::Tiktok, &body).expect("fixture parses");
        assert_eq!(d.dedupe_key, body_hash(&body));
        assert_eq!(d.event_type, "authorization.removed");
    }

    #[test]
    fn comments_use_comment_id_else_body_hash() {
        let with_id = br#"{"comment_id":"c1","streamer":"s","client":"v","message":"mine","timestamp":"2026-11-22T10:00:00Z"}"#;
        assert_eq!(
            Delivery::parse(Provider::Comments, with_id)
                .expect("ok")
                .dedupe_key,
            "c1"
        );
        let without =
            br#"{"streamer":"s","client":"v","message":"mine","timestamp":"2026-11-22T10:00:00Z"}"#;
        assert_eq!(
            Delivery::parse(Provider::Comments, without)
                .expect("ok")
                .dedupe_key,
            body_hash(without)
        );
    }

    #[test]
    fn bodies_missing_required_fields_are_malformed() {
        let cases: [(Provider, &[u8]); 8] = [
            (Provider::Stripe, b"not json"),
            (Provider::Stripe, br#"{"type":"x"}"#),
            (Provider::TiktokShop, br#"{"type":"one","tts_notification_id":"n"}"#),
            (Provider::TiktokShop, br#"{"tts_notification_id":"n","shop_id":"s"}"#),
            (Provider::Tiktok, br#"{"content":"{}"}"#),
            (Provider::Comments, br#"{"streamer":"s","client":"v","message":"m","timestamp":"yesterday"}"#),
            (Provider::Comments, br#"{"streamer":" ","client":"v","message":"m","timestamp":"2026-11-22T10:00:00Z"}"#),
            (Provider::Stripe, br#"{"id":"evt_\u0000","type":"x"}"#),
        ];
        for (provider, body) in cases {
            assert!(
                Delivery::parse(provider, body).is_err(),
                "{provider} accepted {}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn deeply_nested_json_is_parsed_without_a_crash() {
        let nest = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let ignored = format!("{{\"id\":\"e\",\"type\":\"t\",\"x\":{}}}", nest(100_000));
        assert!(Delivery::parse(Provider::Stripe, ignored.as_bytes()).is_ok());
        let required = format!("{{\"id\":{},\"type\":\"t\"}}", nest(100_000));
        assert!(Delivery::parse(Provider::Stripe, required.as_bytes()).is_err());
    }
}
