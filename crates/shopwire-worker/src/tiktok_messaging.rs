//! TikTok Business Messaging: send a text reply into a buyer's conversation.
//!
//! `POST {TIKTOK_MESSAGING_API_BASE}/open_api/v1.3/business/message/send/` with the
//! `Access-Token` header; TikTok answers HTTP 200 with `{"code": 0}` on success. The path
//! and body follow open-source integrations of the Business Messaging API
//! (`docs/protocols.md` §5); the base URL is configurable, so a deployment can point at
//! a relay if TikTok's shape differs for its account.

use std::time::Duration;

use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MessagingError {
    /// Network failure or timeout.
    #[error("tiktok messaging unreachable: {0}")]
    Transport(String),
    /// An HTTP error status.
    #[error("tiktok messaging answered {status}")]
    Status {
        /// The status.
        status: StatusCode,
        /// `Retry-After`, if sent.
        retry_after: Option<Duration>,
    },
    /// HTTP 200 with a non-zero API code.
    #[error("tiktok messaging refused the message: code {code}")]
    Refused {
        /// TikTok's code.
        code: i64,
    },
    /// HTTP 200 whose JSON has no integer `code`: not TikTok's answer to a send (a relay, a
    /// wrong `TIKTOK_MESSAGING_API_BASE`), so not a success; retrying would not change it.
    #[error("tiktok messaging answered without a code; the message is not known to be sent")]
    NoCode,
}

impl MessagingError {
    /// True when trying again later could help.
    pub fn is_transient(&self) -> bool {
        match self {
            MessagingError::Transport(_) => true,
            MessagingError::Status { status, .. } => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            MessagingError::Refused { .. } | MessagingError::NoCode => false,
        }
    }

    /// The delay TikTok asked for.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            MessagingError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// A client for the messaging API.
#[derive(Clone)]
pub struct MessagingClient {
    http: reqwest::Client,
    base: String,
    token: SecretString,
}

impl std::fmt::Debug for MessagingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessagingClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl MessagingClient {
    /// A client for `base` with `token`; requests time out after 10 s.
    pub fn new(base: &str, token: SecretString) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token,
        })
    }

    /// Send `text` into `conversation` on behalf of `business` (the account's open id).
    pub async fn send_text(
        &self,
        business: Option<&str>,
        conversation: &str,
        text: &str,
    ) -> Result<(), MessagingError> {
        let body = json!({
            "business_id": business,
            "recipient_type": "CONVERSATION",
            "recipient": conversation,
            "message_type": "TEXT",
            "text": { "body": text },
        });
        let mut token = reqwest::header::HeaderValue::from_str(self.token.expose_secret())
            .map_err(|_| {
                MessagingError::Transport(
                    "TIKTOK_MESSAGING_TOKEN is not a valid header value".into(),
                )
            })?;
        token.set_sensitive(true);
        let response = self
            .http
            .post(format!(
                "{}/open_api/v1.3/business/message/send/",
                self.base
            ))
            .header("Access-Token", token)
            .json(&body)
            .send()
            .await
            .map_err(|e| MessagingError::Transport(e.without_url().to_string()))?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = crate::http::retry_after(response.headers());
            return Err(MessagingError::Status {
                status,
                retry_after,
            });
        }
        let answer: serde_json::Value = response
            .json()
            .await
            .map_err(|e| MessagingError::Transport(e.without_url().to_string()))?;
        match answer.get("code").and_then(serde_json::Value::as_i64) {
            Some(0) => Ok(()),
            Some(code) => Err(MessagingError::Refused { code }),
            None => Err(MessagingError::NoCode),
        }
    }
}

#[cfg(test)]
mod tests {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;

    async fn send_answered(answer: serde_json::Value) -> Result<(), MessagingError> {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/open_api/v1.3/business/message/send/"))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer))
            .mount(&server)
            .await;
        let client =
            MessagingClient::new(&server.uri(), SecretString::from("token")).expect("client");
        client.send_text(Some("biz"), "conv-1", "hello").await
    }

    #[tokio::test]
    async fn only_code_zero_is_a_success() {
        send_answered(json!({"code": 0, "message": "OK", "data": {}}))
            .await
            .expect("code 0 is sent");
        let refused = send_answered(json!({"code": 40100, "message": "rate limited"})).await;
        assert!(
            matches!(refused, Err(MessagingError::Refused { code: 40100 })),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn an_answer_without_a_code_is_not_a_success() {
        for answer in [
            json!({}),
            json!({"message": "OK"}),
            json!({"code": null}),
            json!({"code": "0"}),
        ] {
            let got = send_answered(answer.clone()).await;
            assert!(
                matches!(got, Err(MessagingError::NoCode)),
                "{answer}: {got:?}"
            );
            assert!(!got.expect_err("an error").is_transient());
        }
    }
}
