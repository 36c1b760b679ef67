//! Connecting a seller: an authorization code, then refresh tokens, exchanged for access
//! tokens at `TIKTOK_SHOP_AUTH_BASE` (`docs/tiktok-shop.md`). These calls are not signed:
//! the app's secret travels as a query parameter, so no URL of theirs is ever logged.

use chrono::{DateTime, Utc};
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use shopwire_core::db::tiktok_shops::{NewGrant, Tokens};

use crate::api::{ApiError, REQUEST_TIMEOUT, TiktokShopApi, answer_of, transient, unreadable};

/// Exchanges an authorization code for a grant.
pub const TOKEN_GET_PATH: &str = "/api/v2/token/get";
/// Exchanges a refresh token for a new token pair.
pub const TOKEN_REFRESH_PATH: &str = "/api/v2/token/refresh";

impl TiktokShopApi {
    /// Exchange the authorization code a seller's consent produced for their grant.
    pub async fn exchange_code(&self, auth_code: &str) -> Result<NewGrant, ApiError> {
        self.token(
            TOKEN_GET_PATH,
            &[("auth_code", auth_code), ("grant_type", "authorized_code")],
            "the authorization code",
        )
        .await
    }

    /// Exchange a grant's refresh token for a new token pair (TikTok may rotate the
    /// refresh token too: store both).
    pub async fn refresh_tokens(&self, refresh_token: &SecretString) -> Result<NewGrant, ApiError> {
        self.token(
            TOKEN_REFRESH_PATH,
            &[
                ("refresh_token", refresh_token.expose_secret()),
                ("grant_type", "refresh_token"),
            ],
            "the token refresh",
        )
        .await
    }

    async fn token(
        &self,
        path: &str,
        params: &[(&str, &str)],
        what: &str,
    ) -> Result<NewGrant, ApiError> {
        let mut url = Url::parse(&format!("{}{path}", self.auth_base)).map_err(|e| {
            ApiError::Permanent(format!("TIKTOK_SHOP_AUTH_BASE is not a usable URL: {e}"))
        })?;
        url.query_pairs_mut()
            .append_pair("app_key", &self.app_key)
            .append_pair("app_secret", self.app_secret.expose_secret())
            .extend_pairs(params);
        let response = self
            .http
            .get(url)
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(|e| transient(format!("TikTok Shop auth unreachable: {}", e.without_url())))?;
        let body = answer_of(response, what).await.map_err(|e| match e {
            // Auth answers never concern an access token: a refusal is final.
            ApiError::Credentials(message) => ApiError::Permanent(message),
            other => other,
        })?;
        let envelope: Envelope = serde_json::from_slice(&body).map_err(unreadable)?;
        envelope
            .data
            .ok_or_else(|| {
                ApiError::Permanent(format!("TikTok Shop answered {what} without data"))
            })?
            .into_grant()
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    data: Option<TokenData>,
}

#[derive(Deserialize)]
struct TokenData {
    access_token: String,
    /// A unix time in seconds, not a duration.
    access_token_expire_in: i64,
    refresh_token: String,
    /// A unix time in seconds.
    refresh_token_expire_in: i64,
    #[serde(default)]
    open_id: String,
    #[serde(default)]
    seller_name: String,
    #[serde(default)]
    seller_base_region: String,
}

impl TokenData {
    fn into_grant(self) -> Result<NewGrant, ApiError> {
        let at = |unix: i64, name: &str| {
            DateTime::<Utc>::from_timestamp(unix, 0).ok_or_else(|| {
                ApiError::Permanent(format!("TikTok Shop sent an unreadable {name}"))
            })
        };
        if self.open_id.is_empty() {
            return Err(ApiError::Permanent(
                "TikTok Shop sent a token without the seller's open_id".into(),
            ));
        }
        Ok(NewGrant {
            tokens: Tokens {
                access_expires_at: at(self.access_token_expire_in, "access_token_expire_in")?,
                refresh_expires_at: at(self.refresh_token_expire_in, "refresh_token_expire_in")?,
                access_token: SecretString::from(self.access_token),
                refresh_token: SecretString::from(self.refresh_token),
            },
            open_id: self.open_id,
            seller_name: self.seller_name,
            seller_base_region: self.seller_base_region,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries_are_unix_times_not_durations() {
        let data: TokenData = serde_json::from_str(
            r#"{"access_token":"a","access_token_expire_in":1800000000,"refresh_token":"r",
                "refresh_token_expire_in":1900000000,"open_id":"o","seller_name":"S",
                "seller_base_region":"US","user_type":0,"granted_scopes":[]}"#,
        )
        .expect("TikTok's shape");
        let grant = data.into_grant().expect("a grant");
        assert_eq!(grant.tokens.access_expires_at.timestamp(), 1_800_000_000);
        assert_eq!(grant.tokens.refresh_expires_at.timestamp(), 1_900_000_000);
        assert_eq!(grant.open_id, "o");
    }
}
