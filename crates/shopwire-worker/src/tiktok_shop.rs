//! TikTok Shop: its webhook bodies, its order statuses, and a client for its Open API
//! (signed requests, `x-tts-access-token`) used to read an order's buyer, total and lines,
//! and what a return sent back.

pub mod notification;
mod order;
pub mod returns;
pub mod sign;
pub mod status;

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use shopwire_core::config::Settings;
use shopwire_core::db::tiktok_orders::Details;

use crate::jobs::JobError;
use returns::ReturnDetail;

/// Get Order Detail, version 202309.
pub const ORDER_DETAIL_PATH: &str = "/order/202309/orders";
/// Search Returns, version 202309 (`POST`, JSON body).
pub const SEARCH_RETURNS_PATH: &str = "/return_refund/202309/returns/search";
/// The header carrying the shop's access token.
pub const ACCESS_TOKEN_HEADER: &str = "x-tts-access-token";
/// One API call's time limit; kept well under a job attempt's.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest `Retry-After` honoured; TikTok asking for more is treated as this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// A client of the TikTok Shop Open API for one shop. `Debug` never shows the secret or token.
#[derive(Debug, Clone)]
pub struct TiktokShopClient {
    http: reqwest::Client,
    base: String,
    app_key: String,
    app_secret: SecretString,
    access_token: SecretString,
    shop_cipher: String,
}

/// Why an API call failed, and whether trying again could help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// Network trouble, a timeout, 429 or 5xx: worth retrying, not before `retry_after`.
    #[error("{message}")]
    Transient {
        /// What went wrong (never the token, secret, sign or URL).
        message: String,
        /// TikTok's `Retry-After` on 429 or 503.
        retry_after: Option<Duration>,
    },
    /// Any other 4xx or a refusal in the body: retrying cannot help.
    #[error("{0}")]
    Permanent(String),
}

impl From<ApiError> for JobError {
    fn from(e: ApiError) -> Self {
        let error = match &e {
            ApiError::Transient {
                message,
                retry_after,
            } => JobError::transient_after(message.clone(), *retry_after),
            ApiError::Permanent(message) => JobError::permanent(message.clone()),
        };
        error.caused_by(e)
    }
}

impl TiktokShopClient {
    /// A client when the API is configured ([`Settings::tiktok_shop_api_configured`]):
    /// `TIKTOK_SHOP_APP_KEY`, `TIKTOK_SHOP_APP_SECRETS` (the first one signs),
    /// `TIKTOK_SHOP_ACCESS_TOKEN` and `TIKTOK_SHOP_SHOP_CIPHER`; `None` otherwise.
    pub fn from_settings(settings: &Settings) -> Option<TiktokShopClient> {
        if !settings.tiktok_shop_api_configured() {
            return None;
        }
        Some(TiktokShopClient {
            http: reqwest::Client::new(),
            base: settings.tiktok_shop_api_base.clone(),
            app_key: settings.tiktok_shop_app_key.clone()?,
            app_secret: settings.tiktok_shop_app_secrets.first()?.clone(),
            access_token: settings.tiktok_shop_access_token.clone()?,
            shop_cipher: settings.tiktok_shop_shop_cipher.clone()?,
        })
    }

    /// Get Order Detail for one order: its buyer, total and lines.
    pub async fn order_detail(&self, order_id: &str) -> Result<Details, ApiError> {
        let body = self
            .call(
                Method::GET,
                ORDER_DETAIL_PATH,
                &[("ids", order_id)],
                None,
                "Get Order Detail",
            )
            .await?;
        let envelope: order::Envelope = serde_json::from_slice(&body).map_err(unreadable)?;
        envelope
            .data
            .into_iter()
            .flat_map(|d| d.orders)
            .find(|o| o.id == order_id)
            .map(order::ApiOrder::into_details)
            // Notifications can outrun the order API; the order shows up on a later attempt.
            .ok_or_else(|| transient("TikTok Shop API does not list the order yet".into()))
    }

    /// Search Returns for one return: its type and the units it sent back.
    pub async fn return_detail(&self, return_id: &str) -> Result<ReturnDetail, ApiError> {
        let request = serde_json::to_vec(&serde_json::json!({ "return_ids": [return_id] }))
            .map_err(|e| ApiError::Permanent(format!("Search Returns body: {e}")))?;
        let body = self
            .call(
                Method::POST,
                SEARCH_RETURNS_PATH,
                &[],
                Some(request),
                "Search Returns",
            )
            .await?;
        let envelope: returns::Envelope = serde_json::from_slice(&body).map_err(unreadable)?;
        envelope
            .data
            .into_iter()
            .flat_map(|d| d.return_orders)
            .find(|r| r.return_id == return_id)
            .map(returns::ApiReturn::into_detail)
            .ok_or_else(|| transient("TikTok Shop API does not list the return yet".into()))
    }

    /// One signed call: `app_key`, `timestamp`, `shop_cipher` and `params` in the query, the
    /// `sign` over them and `body`, the access token in its header. The answer's bytes when
    /// it is a 2xx with `code` 0.
    async fn call(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, &str)],
        body: Option<Vec<u8>>,
        what: &str,
    ) -> Result<Vec<u8>, ApiError> {
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let mut query = vec![
            ("app_key", self.app_key.as_str()),
            ("timestamp", timestamp.as_str()),
            ("shop_cipher", self.shop_cipher.as_str()),
        ];
        query.extend_from_slice(params);
        let sign = sign::sign(
            self.app_secret.expose_secret(),
            path,
            &query,
            body.as_deref().unwrap_or_default(),
        );
        let mut url = reqwest::Url::parse(&format!("{}{path}", self.base)).map_err(|e| {
            ApiError::Permanent(format!("TIKTOK_SHOP_API_BASE is not a usable URL: {e}"))
        })?;
        url.query_pairs_mut()
            .extend_pairs(&query)
            .append_pair("sign", &sign);
        let mut token = HeaderValue::from_str(self.access_token.expose_secret()).map_err(|_| {
            ApiError::Permanent("TIKTOK_SHOP_ACCESS_TOKEN is not a valid header value".into())
        })?;
        token.set_sensitive(true);

        let mut request = self
            .http
            .request(method, url)
            .header(ACCESS_TOKEN_HEADER, token)
            .timeout(REQUEST_TIMEOUT);
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| transient(format!("TikTok Shop API unreachable: {}", e.without_url())))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| {
            transient(format!(
                "TikTok Shop API body cut short: {}",
                e.without_url()
            ))
        })?;
        if !status.is_success() {
            return Err(refused(status, &headers, &body));
        }
        let answer: Answer = serde_json::from_slice(&body).map_err(unreadable)?;
        if answer.code != 0 {
            return Err(ApiError::Permanent(format!(
                "TikTok Shop API refused {what}: code {} ({})",
                answer.code, answer.message
            )));
        }
        Ok(body.to_vec())
    }
}

/// The `code` and `message` every TikTok Shop API answer carries; `code` 0 is success.
#[derive(serde::Deserialize)]
struct Answer {
    code: i64,
    #[serde(default)]
    message: String,
}

fn unreadable(e: serde_json::Error) -> ApiError {
    ApiError::Permanent(format!("TikTok Shop API answered unreadable JSON: {e}"))
}

fn transient(message: String) -> ApiError {
    ApiError::Transient {
        message,
        retry_after: None,
    }
}

/// A non-2xx answer: 408, 429 and 5xx are transient (429 and 503 with their
/// `Retry-After`), anything else permanent.
fn refused(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ApiError {
    let detail = serde_json::from_slice::<Answer>(body)
        .map(|e| format!(": code {} ({})", e.code, e.message))
        .unwrap_or_default();
    let message = format!("TikTok Shop API answered {}{detail}", status.as_u16());
    if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
        ApiError::Transient {
            message,
            retry_after: crate::http::retry_after(headers).map(|d| d.min(MAX_RETRY_AFTER)),
        }
    } else if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
        transient(message)
    } else {
        ApiError::Permanent(message)
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::RETRY_AFTER;

    use super::*;

    fn headers(retry_after: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_str(retry_after).expect("valid"),
        );
        h
    }

    #[test]
    fn rate_limits_and_server_errors_are_transient_other_refusals_permanent() {
        let none = HeaderMap::new();
        for code in [429, 500, 502, 503, 504, 408] {
            let status = StatusCode::from_u16(code).expect("status");
            assert!(
                matches!(refused(status, &none, b""), ApiError::Transient { .. }),
                "{code}"
            );
        }
        for code in [400, 401, 403, 404, 422] {
            let status = StatusCode::from_u16(code).expect("status");
            assert!(
                matches!(refused(status, &none, b""), ApiError::Permanent(_)),
                "{code}"
            );
        }
    }

    #[test]
    fn retry_after_is_honoured_on_429_and_503_only() {
        let asked = headers("7");
        let delay = |code| match refused(StatusCode::from_u16(code).expect("status"), &asked, b"") {
            ApiError::Transient { retry_after, .. } => retry_after,
            ApiError::Permanent(_) => panic!("{code} is transient"),
        };
        assert_eq!(delay(429), Some(Duration::from_secs(7)));
        assert_eq!(delay(503), Some(Duration::from_secs(7)));
        assert_eq!(delay(500), None);
        let asked = headers("999999");
        let capped = match refused(StatusCode::TOO_MANY_REQUESTS, &asked, b"") {
            ApiError::Transient { retry_after, .. } => retry_after,
            ApiError::Permanent(_) => panic!("429 is transient"),
        };
        assert_eq!(capped, Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn a_refusal_names_tiktoks_code_but_not_the_body() {
        let body =
            br#"{"code":105002,"message":"Expired credentials","request_id":"x","data":null}"#;
        let err = refused(StatusCode::UNAUTHORIZED, &HeaderMap::new(), body);
        assert_eq!(
            err,
            ApiError::Permanent(
                "TikTok Shop API answered 401: code 105002 (Expired credentials)".into()
            )
        );
    }

    #[test]
    fn debug_output_never_shows_the_secret_or_token() {
        let settings = Settings::from_lookup(|k| {
            match k {
                "DATABASE_URL" => Some("postgres://localhost/x"),
                "TIKTOK_SHOP_APP_KEY" => Some("key"),
                "TIKTOK_SHOP_APP_SECRETS" => Some("app-secret-value"),
                "TIKTOK_SHOP_ACCESS_TOKEN" => Some("access-token-value"),
                "TIKTOK_SHOP_SHOP_CIPHER" => Some("ROW_cipher"),
                _ => None,
            }
            .map(str::to_owned)
        })
        .expect("settings");
        let client = TiktokShopClient::from_settings(&settings).expect("configured");
        let printed = format!("{client:?}");
        assert!(!printed.contains("app-secret-value"), "{printed}");
        assert!(!printed.contains("access-token-value"), "{printed}");
    }

    #[test]
    fn without_an_access_token_the_api_is_not_configured() {
        let settings = Settings::from_lookup(|k| {
            match k {
                "DATABASE_URL" => Some("postgres://localhost/x"),
                "TIKTOK_SHOP_APP_KEY" => Some("key"),
                "TIKTOK_SHOP_APP_SECRETS" => Some("secret"),
                _ => None,
            }
            .map(str::to_owned)
        })
        .expect("settings");
        assert!(TiktokShopClient::from_settings(&settings).is_none());
    }
}
