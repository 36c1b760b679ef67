//! The TikTok Shop Open API for one app: signed calls on behalf of a shop (`sign` over the
//! path, query and body; the shop's token in `x-tts-access-token`) and the answers' `code`.
//! `docs/protocols.md` §3 has the protocol.

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use shopwire_core::config::Settings;

use crate::budget::RateBudget;
use crate::sign;

/// The header carrying the shop's access token.
pub const ACCESS_TOKEN_HEADER: &str = "x-tts-access-token";
/// One API call's time limit; kept well under a job attempt's.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest `Retry-After` honoured; TikTok asking for more is treated as this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// TikTok's codes for an access token it does not accept: invalid, expired.
const CREDENTIAL_CODES: [i64; 2] = [105001, 105002];

/// The app's side of every call: where the APIs are and the app's key and signing secret.
/// `Debug` never shows the secret.
#[derive(Debug, Clone)]
pub struct TiktokShopApi {
    pub(crate) http: reqwest::Client,
    pub(crate) api_base: String,
    pub(crate) auth_base: String,
    pub(crate) app_key: String,
    pub(crate) app_secret: SecretString,
    /// The shared per-minute budget (`None` only when the Redis URL is unusable).
    pub(crate) budget: Option<RateBudget>,
}

/// The shop's side of a call: its `shop_cipher` and an access token for it. `Debug` never
/// shows the token.
#[derive(Debug, Clone)]
pub struct ShopCall {
    /// The shop's `shop_cipher`.
    pub cipher: String,
    /// Its grant's access token.
    pub access_token: SecretString,
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
    /// TikTok does not accept the access token (expired or revoked): a refreshed token may
    /// work, retrying the same one cannot.
    #[error("{0}")]
    Credentials(String),
    /// Any other 4xx or a refusal in the body: retrying cannot help.
    #[error("{0}")]
    Permanent(String),
}

impl TiktokShopApi {
    /// The app when `TIKTOK_SHOP_APP_KEY` and `TIKTOK_SHOP_APP_SECRETS` are set (the first
    /// secret signs), else `None`; its calls share `TIKTOK_SHOP_REQUESTS_PER_MINUTE` through
    /// the Redis at `REDIS_URL` under `QUEUE_PREFIX`.
    pub fn from_settings(settings: &Settings) -> Option<TiktokShopApi> {
        let budget = RateBudget::new(
            &settings.redis_url,
            &settings.queue_prefix,
            settings.tiktok_shop_requests_per_minute,
        )
        .inspect_err(
            |e| tracing::warn!(error = %e, "REDIS_URL unusable for the TikTok Shop rate budget"),
        )
        .ok();
        Some(TiktokShopApi {
            http: reqwest::Client::new(),
            api_base: settings.tiktok_shop_api_base.clone(),
            auth_base: settings.tiktok_shop_auth_base.clone(),
            app_key: settings.tiktok_shop_app_key.clone()?,
            app_secret: settings.tiktok_shop_app_secrets.first()?.clone(),
            budget,
        })
    }

    /// One signed call: `app_key`, `timestamp`, the shop's `shop_cipher` (when the call is
    /// for a shop) and `params` in the query, the `sign` over them and `body`, the access
    /// token in its header. The answer's bytes when it is a 2xx with `code` 0.
    pub(crate) async fn call(
        &self,
        token: &SecretString,
        cipher: Option<&str>,
        (method, path): (Method, &str),
        params: &[(&str, &str)],
        body: Option<Vec<u8>>,
        what: &str,
    ) -> Result<Vec<u8>, ApiError> {
        // Budget first: the signed timestamp must be fresh when the request leaves.
        if let Some(budget) = &self.budget {
            budget.take().await?;
        }
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let mut query = vec![
            ("app_key", self.app_key.as_str()),
            ("timestamp", timestamp.as_str()),
        ];
        if let Some(cipher) = cipher {
            query.push(("shop_cipher", cipher));
        }
        query.extend_from_slice(params);
        let sign = sign::sign(
            self.app_secret.expose_secret(),
            path,
            &query,
            body.as_deref().unwrap_or_default(),
        );
        let mut url = reqwest::Url::parse(&format!("{}{path}", self.api_base)).map_err(|e| {
            ApiError::Permanent(format!("TIKTOK_SHOP_API_BASE is not a usable URL: {e}"))
        })?;
        url.query_pairs_mut()
            .extend_pairs(&query)
            .append_pair("sign", &sign);
        let mut token = HeaderValue::from_str(token.expose_secret()).map_err(|_| {
            ApiError::Permanent("the TikTok Shop access token is not a valid header value".into())
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
        let answer = answer_of(response, what).await;
        if let (
            Err(ApiError::Transient {
                retry_after: Some(wait),
                ..
            }),
            Some(budget),
        ) = (&answer, &self.budget)
        {
            // TikTok asked us to slow down: every process waits, not only this call.
            budget.pause(*wait).await;
        }
        answer
    }
}

/// The body of a 2xx answer whose `code` is 0; any other answer as an [`ApiError`].
pub(crate) async fn answer_of(
    response: reqwest::Response,
    what: &str,
) -> Result<Vec<u8>, ApiError> {
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
        let message = format!(
            "TikTok Shop API refused {what}: code {} ({})",
            answer.code, answer.message
        );
        return Err(if CREDENTIAL_CODES.contains(&answer.code) {
            ApiError::Credentials(message)
        } else {
            ApiError::Permanent(message)
        });
    }
    Ok(body.to_vec())
}

/// The `code` and `message` every TikTok Shop API answer carries; `code` 0 is success.
#[derive(serde::Deserialize)]
struct Answer {
    code: i64,
    #[serde(default)]
    message: String,
}

pub(crate) fn unreadable(e: serde_json::Error) -> ApiError {
    ApiError::Permanent(format!("TikTok Shop API answered unreadable JSON: {e}"))
}

pub(crate) fn transient(message: String) -> ApiError {
    ApiError::Transient {
        message,
        retry_after: None,
    }
}

/// A non-2xx answer: 408, 429 and 5xx are transient (429 and 503 with their
/// `Retry-After`), 401 or a credentials code is [`ApiError::Credentials`], anything else
/// permanent.
fn refused(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ApiError {
    let answer = serde_json::from_slice::<Answer>(body).ok();
    let detail = answer
        .as_ref()
        .map(|e| format!(": code {} ({})", e.code, e.message))
        .unwrap_or_default();
    let message = format!("TikTok Shop API answered {}{detail}", status.as_u16());
    let credentials = answer.is_some_and(|a| CREDENTIAL_CODES.contains(&a.code));
    if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
        ApiError::Transient {
            message,
            retry_after: retry_after(headers).map(|d| d.min(MAX_RETRY_AFTER)),
        }
    } else if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
        transient(message)
    } else if credentials || status == StatusCode::UNAUTHORIZED {
        ApiError::Credentials(message)
    } else {
        ApiError::Permanent(message)
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    shopwire_core::retry_after::parse(value, chrono::Utc::now())
}

#[cfg(test)]
mod tests {
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
        for code in [400, 403, 404, 422] {
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
            other => panic!("{code} is transient, not {other:?}"),
        };
        assert_eq!(delay(429), Some(Duration::from_secs(7)));
        assert_eq!(delay(503), Some(Duration::from_secs(7)));
        assert_eq!(delay(500), None);
        let asked = headers("999999");
        let capped = match refused(StatusCode::TOO_MANY_REQUESTS, &asked, b"") {
            ApiError::Transient { retry_after, .. } => retry_after,
            other => panic!("429 is transient, not {other:?}"),
        };
        assert_eq!(capped, Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn an_expired_or_invalid_token_is_a_credentials_refusal_naming_tiktoks_code() {
        let body =
            br#"{"code":105002,"message":"Expired credentials","request_id":"x","data":null}"#;
        let err = refused(StatusCode::UNAUTHORIZED, &HeaderMap::new(), body);
        assert_eq!(
            err,
            ApiError::Credentials(
                "TikTok Shop API answered 401: code 105002 (Expired credentials)".into()
            )
        );
        let bad_sign = br#"{"code":106001,"message":"Invalid signature"}"#;
        assert!(matches!(
            refused(StatusCode::FORBIDDEN, &HeaderMap::new(), bad_sign),
            ApiError::Permanent(_)
        ));
        let invalid = br#"{"code":105001,"message":"Invalid credentials"}"#;
        assert!(matches!(
            refused(StatusCode::FORBIDDEN, &HeaderMap::new(), invalid),
            ApiError::Credentials(_)
        ));
    }

    #[test]
    fn debug_output_never_shows_the_secret_or_token() {
        let settings = Settings::from_lookup(|k| {
            match k {
                "DATABASE_URL" => Some("postgres://localhost/x"),
                "TIKTOK_SHOP_APP_KEY" => Some("key"),
                "TIKTOK_SHOP_APP_SECRETS" => Some("app-secret-value"),
                _ => None,
            }
            .map(str::to_owned)
        })
        .expect("settings");
        let api = TiktokShopApi::from_settings(&settings).expect("configured");
        let call = ShopCall {
            cipher: "ROW_x".into(),
            access_token: SecretString::from("access-token-value"),
        };
        let printed = format!("{api:?} {call:?}");
        assert!(!printed.contains("app-secret-value"), "{printed}");
        assert!(!printed.contains("access-token-value"), "{printed}");
    }

    #[test]
    fn without_the_app_key_and_secret_there_is_no_api() {
        let settings = Settings::from_lookup(|k| {
            (k == "DATABASE_URL").then(|| "postgres://localhost/x".to_owned())
        })
        .expect("settings");
        assert!(TiktokShopApi::from_settings(&settings).is_none());
    }
}
