//! TikTok Shop webhook bodies, parsed into what the order sync acts on. Ids stay strings
//! (order ids exceed 2^53); statuses may be names or legacy integers.

use serde::Deserialize;

use super::status::TiktokStatus;

/// Topic 1: order created or its status changed.
pub const ORDER_STATUS_CHANGE: i64 = 1;
/// Topic 11: a cancellation request changed.
pub const CANCELLATION_STATUS_CHANGE: i64 = 11;
/// Topic 12: a return or refund request changed.
pub const RETURN_STATUS_CHANGE: i64 = 12;
/// Topic 6: the seller revoked the app for the shop.
pub const SELLER_DEAUTHORIZATION: i64 = 6;

/// A notification we act on, or the topic number of one we do not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// Topic 1.
    OrderStatus(OrderStatusChange),
    /// Topic 11: `status` is the `cancel_status`.
    Cancellation(RequestChange),
    /// Topic 12: `status` is the `return_status`.
    Return(RequestChange),
    /// Topic 6: the envelope's shop is no longer authorized.
    Deauthorized,
    /// Any other topic.
    Other(i64),
}

/// Topic 1's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderStatusChange {
    /// TikTok's order id.
    pub order_id: String,
    /// The status reported.
    pub status: Reported,
    /// When the order changed (unix seconds): applied only if newer than the last.
    pub update_time: i64,
}

/// An order status as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reported {
    /// One we know.
    Known(TiktokStatus),
    /// One we do not (value drift): recorded, never applied.
    Unknown(String),
}

impl Reported {
    /// What to record: the status's name, or the raw value.
    pub fn label(&self) -> &str {
        match self {
            Reported::Known(status) => status.name(),
            Reported::Unknown(raw) => raw,
        }
    }
}

/// Topic 11 or 12's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestChange {
    /// TikTok's order id.
    pub order_id: String,
    /// `cancel_status` or `return_status`, as sent.
    pub status: String,
    /// `update_time` (returns) or `create_time` (cancellations, which have no update time).
    pub time: Option<i64>,
    /// `return_id` or `cancel_id`, when sent.
    pub request_id: Option<String>,
    /// Returns only: `return_type` (`REFUND`, `RETURN_AND_REFUND` or `REPLACEMENT`), when sent.
    pub return_type: Option<String>,
}

/// Why a body could not be understood.
#[derive(Debug, thiserror::Error)]
#[error("malformed TikTok Shop notification: {0}")]
pub struct Malformed(String);

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    topic: i64,
    #[serde(default)]
    shop_id: Option<Text>,
    #[serde(default)]
    data: serde_json::Value,
}

/// A string, or a number sent where a string was documented.
#[derive(Deserialize)]
#[serde(untagged)]
enum Text {
    Str(String),
    Int(i64),
    Uint(u64),
}

impl Text {
    fn into_string(self) -> String {
        match self {
            Text::Str(s) => s,
            Text::Int(n) => n.to_string(),
            Text::Uint(n) => n.to_string(),
        }
    }

    fn to_i64(&self) -> Option<i64> {
        match self {
            Text::Str(s) => s.trim().parse().ok(),
            Text::Int(n) => Some(*n),
            Text::Uint(n) => i64::try_from(*n).ok(),
        }
    }
}

#[derive(Deserialize)]
struct OrderData {
    order_id: Text,
    order_status: Text,
    #[serde(default)]
    update_time: Option<Text>,
}

#[derive(Deserialize)]
struct CancellationData {
    order_id: Text,
    cancel_status: String,
    #[serde(default)]
    cancel_id: Option<Text>,
    #[serde(default)]
    create_time: Option<Text>,
}

#[derive(Deserialize)]
struct ReturnData {
    order_id: Text,
    return_status: String,
    #[serde(default)]
    return_type: Option<String>,
    #[serde(default)]
    return_id: Option<Text>,
    #[serde(default)]
    update_time: Option<Text>,
    #[serde(default)]
    create_time: Option<Text>,
}

/// Parse a webhook body. Unknown topics are [`Notification::Other`], never an error.
pub fn parse(body: &[u8]) -> Result<Notification, Malformed> {
    parse_for_shop(body).map(|(_, notification)| notification)
}

/// Parse a webhook body, with the envelope's `shop_id` (which selects the shop's tokens)
/// when it names one.
pub fn parse_for_shop(body: &[u8]) -> Result<(Option<String>, Notification), Malformed> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| Malformed(e.to_string()))?;
    let shop_id = envelope
        .shop_id
        .map(Text::into_string)
        .filter(|s| !s.trim().is_empty());
    read_topic(envelope.topic, envelope.data).map(|n| (shop_id, n))
}

fn read_topic(topic: i64, data_value: serde_json::Value) -> Result<Notification, Malformed> {
    let data = |what: &str, e: serde_json::Error| Malformed(format!("topic {what} data: {e}"));
    let order_id = |id: Text| {
        let id = id.into_string();
        if id.is_empty() || id.len() > 64 {
            Err(Malformed(
                "order_id is empty or longer than 64 characters".into(),
            ))
        } else {
            Ok(id)
        }
    };
    match topic {
        ORDER_STATUS_CHANGE => {
            let d: OrderData = serde_json::from_value(data_value).map_err(|e| data("1", e))?;
            let status = match d.order_status {
                Text::Str(name) => {
                    TiktokStatus::from_name(&name).map_or(Reported::Unknown(name), Reported::Known)
                }
                number => {
                    let code = number.to_i64();
                    code.and_then(TiktokStatus::from_code)
                        .map_or_else(|| Reported::Unknown(number.into_string()), Reported::Known)
                }
            };
            let update_time = d
                .update_time
                .as_ref()
                .and_then(Text::to_i64)
                .ok_or_else(|| {
                    Malformed("topic 1 data: update_time is missing or not a number".into())
                })?;
            Ok(Notification::OrderStatus(OrderStatusChange {
                order_id: order_id(d.order_id)?,
                status,
                update_time,
            }))
        }
        CANCELLATION_STATUS_CHANGE => {
            let d: CancellationData =
                serde_json::from_value(data_value).map_err(|e| data("11", e))?;
            Ok(Notification::Cancellation(RequestChange {
                order_id: order_id(d.order_id)?,
                status: d.cancel_status,
                time: d.create_time.as_ref().and_then(Text::to_i64),
                request_id: d.cancel_id.map(Text::into_string),
                return_type: None,
            }))
        }
        RETURN_STATUS_CHANGE => {
            let d: ReturnData = serde_json::from_value(data_value).map_err(|e| data("12", e))?;
            Ok(Notification::Return(RequestChange {
                order_id: order_id(d.order_id)?,
                status: d.return_status,
                time: d
                    .update_time
                    .or(d.create_time)
                    .as_ref()
                    .and_then(Text::to_i64),
                request_id: d.return_id.map(Text::into_string),
                return_type: d
                    .return_type
                    .map(|t| t.trim().to_ascii_uppercase())
                    .filter(|t| !t.is_empty()),
            }))
        }
        SELLER_DEAUTHORIZATION => Ok(Notification::Deauthorized),
        other => Ok(Notification::Other(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(data: &str) -> Result<Notification, Malformed> {
        parse(format!(r#"{{"type":1,"tts_notification_id":"1","shop_id":"2","timestamp":3,"data":{data}}}"#).as_bytes())
    }

    #[test]
    fn the_envelope_names_the_shop_and_topic_6_deauthorizes_it() {
        let body = br#"{"type":6,"tts_notification_id":"1","shop_id":"7495540735365777507","timestamp":1718305585,"data":{}}"#;
        let (shop, notification) = parse_for_shop(body).expect("parsed");
        assert_eq!(shop.as_deref(), Some("7495540735365777507"));
        assert_eq!(notification, Notification::Deauthorized);
        let numeric = br#"{"type":1,"shop_id":7495540735365777507,"data":{"order_id":"5","order_status":"UNPAID","update_time":1}}"#;
        let (shop, _) = parse_for_shop(numeric).expect("parsed");
        assert_eq!(shop.as_deref(), Some("7495540735365777507"));
        let none = br#"{"type":5,"data":{}}"#;
        assert_eq!(
            parse_for_shop(none).expect("parsed"),
            (None, Notification::Other(5))
        );
    }

    #[test]
    fn the_doc_vector_is_an_unpaid_order_with_its_id_kept_exact() {
        let body = br#"{"type":1,"tts_notification_id":"7380066284010030890","shop_id":"7495540735365777507","timestamp":1718305585,"data":{"is_on_hold_order":true,"order_id":"576653688135258178","order_status":"UNPAID","update_time":1718305585}}"#;
        assert_eq!(
            parse(body).expect("parses"),
            Notification::OrderStatus(OrderStatusChange {
                order_id: "576653688135258178".into(),
                status: Reported::Known(TiktokStatus::Unpaid),
                update_time: 1_718_305_585,
            })
        );
    }

    #[test]
    fn integer_statuses_and_integer_ids_are_accepted() {
        let Notification::OrderStatus(change) = order(
            r#"{"order_id":576653688135258178,"order_status":111,"update_time":"1718309210"}"#,
        )
        .expect("parses") else {
            panic!("topic 1");
        };
        assert_eq!(change.order_id, "576653688135258178");
        assert_eq!(
            change.status,
            Reported::Known(TiktokStatus::AwaitingShipment)
        );
        assert_eq!(change.update_time, 1_718_309_210);
    }

    #[test]
    fn unknown_statuses_are_kept_raw_not_refused() {
        for (raw, label) in [
            (r#""SHIPPED_BY_DRONE""#, "SHIPPED_BY_DRONE"),
            ("999", "999"),
        ] {
            let data = format!(r#"{{"order_id":"1","order_status":{raw},"update_time":5}}"#);
            let Notification::OrderStatus(change) = order(&data).expect("parses") else {
                panic!("topic 1");
            };
            assert_eq!(change.status, Reported::Unknown(label.into()));
            assert_eq!(change.status.label(), label);
        }
    }

    #[test]
    fn a_topic_1_without_order_id_or_update_time_is_malformed() {
        assert!(order(r#"{"order_status":"UNPAID","update_time":5}"#).is_err());
        assert!(order(r#"{"order_id":"1","order_status":"UNPAID"}"#).is_err());
        assert!(order(r#"{"order_id":"","order_status":"UNPAID","update_time":5}"#).is_err());
        assert!(parse(b"not json").is_err());
    }

    #[test]
    fn cancellation_and_return_fixtures_parse() {
        let cancel = br#"{"type":11,"tts_notification_id":"7380102234987655170","shop_id":"7495540735365777507","timestamp":1718312000,"data":{"order_id":"576653688135258178","cancellations_role":"BUYER","cancel_status":"CANCELLATION_REQUEST_PENDING","cancel_id":"4035389028390310187","create_time":1718311998}}"#;
        assert_eq!(
            parse(cancel).expect("parses"),
            Notification::Cancellation(RequestChange {
                order_id: "576653688135258178".into(),
                status: "CANCELLATION_REQUEST_PENDING".into(),
                time: Some(1_718_311_998),
                request_id: Some("4035389028390310187".into()),
                return_type: None,
            })
        );
        let ret = br#"{"type":12,"tts_notification_id":"7381204456120318986","shop_id":"7495540735365777507","timestamp":1718570400,"data":{"order_id":"576653688135258178","return_role":"BUYER","return_type":"RETURN_AND_REFUND","return_status":"RETURN_OR_REFUND_REQUEST_PENDING","return_id":"4035389028390551230","create_time":1718570398,"update_time":1718570399}}"#;
        assert_eq!(
            parse(ret).expect("parses"),
            Notification::Return(RequestChange {
                order_id: "576653688135258178".into(),
                status: "RETURN_OR_REFUND_REQUEST_PENDING".into(),
                time: Some(1_718_570_399),
                request_id: Some("4035389028390551230".into()),
                return_type: Some("RETURN_AND_REFUND".into()),
            })
        );
    }

    #[test]
    fn other_topics_are_passed_over_whatever_their_data() {
        let body = br#"{"type":5,"tts_notification_id":"9","shop_id":"2","timestamp":3,"data":{"anything":[1,2]}}"#;
        assert_eq!(parse(body).expect("parses"), Notification::Other(5));
        assert_eq!(
            parse(br#"{"type":99}"#).expect("parses"),
            Notification::Other(99)
        );
    }
}
