//! Which token a call for a shop uses, and keeping it fresh (`docs/tiktok-shop.md`).
//!
//! A notification names its `shop_id`; that shop's grant in Postgres supplies the token.
//! A shop never connected falls back to `TIKTOK_SHOP_ACCESS_TOKEN` / `TIKTOK_SHOP_SHOP_CIPHER`
//! when those are set (one static shop, as before connections existed). A token that expires
//! within [`EXPIRY_MARGIN`] is refreshed before the call, and a call TikTok refuses for its
//! credentials is retried once with a refreshed token, so a shop keeps working past its
//! token's expiry whether or not the periodic refresh ([`TiktokShop::refresh_due`]) ran.
//!
//! Refreshes of one grant are serialised by its row lock, held across TikTok's answer (at
//! most one request timeout): TikTok rotates refresh tokens, so two concurrent refreshes
//! with the same one would leave the loser with a dead token.

use std::future::Future;

use chrono::{Duration, Utc};
use secrecy::{ExposeSecret, SecretString};
use shopwire_core::config::Settings;
use shopwire_core::db::tiktok_orders::Details;
use shopwire_core::db::tiktok_shops::{self, Connected, GrantId, LockedGrant, NewShop, ShopStatus};
use sqlx::PgPool;

use crate::api::{ApiError, ShopCall, TiktokShopApi};
use crate::returns::ReturnDetail;

/// Refresh a grant this long before its access token expires (or at half its lifetime,
/// whichever comes later): TikTok's access tokens last about a week.
pub const REFRESH_AHEAD: Duration = Duration::hours(24);
/// A token this close to expiry is refreshed before a call rather than risk it.
pub const EXPIRY_MARGIN: Duration = Duration::seconds(60);
/// After a refresh TikTok refused, wait this long before the periodic refresh tries again.
const RETRY_REFUSED_REFRESH: Duration = Duration::minutes(15);
/// After a refresh that could not reach TikTok, wait this long.
const RETRY_UNREACHED_REFRESH: Duration = Duration::minutes(1);
/// At most this many grants are refreshed per [`TiktokShop::refresh_due`].
const REFRESH_BATCH: usize = 20;

/// Why a call for a shop could not be made or failed.
#[derive(Debug, thiserror::Error)]
pub enum ShopError {
    /// TikTok's answer.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// Postgres.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// No connection for the shop and no static token.
    #[error(
        "TikTok Shop {0} is not connected: run `shopwire-admin tiktok-shop connect --auth-code CODE` \
         (or set TIKTOK_SHOP_ACCESS_TOKEN and TIKTOK_SHOP_SHOP_CIPHER for a single shop)"
    )]
    NotConnected(String),
    /// The seller revoked the app.
    #[error("TikTok Shop {0} is disconnected (the seller revoked the app): connect it again")]
    Disconnected(String),
}

/// The TikTok Shop API with its connected shops. `Debug` shows no token or secret.
#[derive(Debug, Clone)]
pub struct TiktokShop {
    api: TiktokShopApi,
    pool: PgPool,
    fallback: Option<ShopCall>,
}

/// A seller just connected.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The seller.
    pub seller_name: String,
    /// Their shops, now connected.
    pub shops: Vec<NewShop>,
    /// What the store changed.
    pub stored: Connected,
    /// When the access token expires.
    pub access_expires_at: chrono::DateTime<Utc>,
}

/// What one periodic refresh did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Refreshed {
    /// Grants refreshed.
    pub refreshed: usize,
    /// Refreshes that failed (recorded on the grant, retried later).
    pub failed: usize,
}

impl TiktokShop {
    /// The API when `TIKTOK_SHOP_APP_KEY` and `TIKTOK_SHOP_APP_SECRETS` are set; the static
    /// token and cipher, when set too, serve shops that were never connected.
    pub fn from_settings(settings: &Settings, pool: PgPool) -> Option<TiktokShop> {
        let api = TiktokShopApi::from_settings(settings)?;
        let fallback = match (
            &settings.tiktok_shop_access_token,
            &settings.tiktok_shop_shop_cipher,
        ) {
            (Some(token), Some(cipher)) => Some(ShopCall {
                cipher: cipher.clone(),
                access_token: token.clone(),
            }),
            _ => None,
        };
        Some(TiktokShop {
            api,
            pool,
            fallback,
        })
    }

    /// The app's API.
    pub fn api(&self) -> &TiktokShopApi {
        &self.api
    }

    /// Exchange a seller's authorization code, list their shops and store the grant and
    /// shops in one transaction.
    pub async fn connect(&self, auth_code: &str) -> Result<Connection, ShopError> {
        let grant = self.api.exchange_code(auth_code).await?;
        let shops = self
            .api
            .authorized_shops(&grant.tokens.access_token)
            .await?;
        let mut tx = self.pool.begin().await?;
        let stored = tiktok_shops::save_connection(&mut tx, &grant, &shops).await?;
        tx.commit().await?;
        Ok(Connection {
            seller_name: grant.seller_name,
            shops,
            stored,
            access_expires_at: grant.tokens.access_expires_at,
        })
    }

    /// Get Order Detail for an order of `shop_id`.
    pub async fn order_detail(
        &self,
        shop_id: Option<&str>,
        order_id: &str,
    ) -> Result<Details, ShopError> {
        self.for_shop(shop_id, |call| async move {
            self.api.order_detail(&call, order_id).await
        })
        .await
    }

    /// Search Returns for a return of `shop_id`.
    pub async fn return_detail(
        &self,
        shop_id: Option<&str>,
        return_id: &str,
    ) -> Result<ReturnDetail, ShopError> {
        self.for_shop(shop_id, |call| async move {
            self.api.return_detail(&call, return_id).await
        })
        .await
    }

    /// Run `call` with `shop_id`'s token: refreshed first when about to expire, refreshed
    /// and retried once when TikTok refuses it.
    pub(crate) async fn for_shop<T, F, Fut>(
        &self,
        shop_id: Option<&str>,
        call: F,
    ) -> Result<T, ShopError>
    where
        F: Fn(ShopCall) -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let stored = match shop_id {
            Some(id) => tiktok_shops::access(&mut *self.pool.acquire().await?, id).await?,
            None => None,
        };
        let Some(stored) = stored else {
            return match &self.fallback {
                Some(fallback) => Ok(call(fallback.clone()).await?),
                None => Err(ShopError::NotConnected(
                    shop_id.unwrap_or("(no shop_id)").to_owned(),
                )),
            };
        };
        if stored.status == ShopStatus::Disconnected {
            return Err(ShopError::Disconnected(stored.shop_id));
        }
        let mut token = stored.access_token;
        if stored.access_expires_at <= Utc::now() + EXPIRY_MARGIN {
            token = self.refresh_now(stored.grant, &token).await?;
        }
        let first = ShopCall {
            cipher: stored.cipher.clone(),
            access_token: token.clone(),
        };
        match call(first).await {
            Err(ApiError::Credentials(message)) => {
                tracing::info!(shop = %stored.shop_id, error = %message, "TikTok Shop refused the access token; refreshing it");
                let token = self.refresh_now(stored.grant, &token).await?;
                let again = ShopCall {
                    cipher: stored.cipher,
                    access_token: token,
                };
                Ok(call(again).await?)
            }
            other => Ok(other?),
        }
    }

    /// A fresh access token for `grant`, which was `used`: waits for a refresh another
    /// worker is making and takes its result, else refreshes.
    async fn refresh_now(
        &self,
        grant: GrantId,
        used: &SecretString,
    ) -> Result<SecretString, ShopError> {
        let mut tx = self.pool.begin().await?;
        let Some(locked) = tiktok_shops::lock_grant(&mut tx, grant).await? else {
            return Err(ShopError::NotConnected(format!("grant {grant}")));
        };
        let replaced = locked.access_token.expose_secret() != used.expose_secret();
        if replaced && locked.access_expires_at > Utc::now() + EXPIRY_MARGIN {
            tx.commit().await?;
            return Ok(locked.access_token);
        }
        let token = self.refresh_locked(&mut tx, &locked).await;
        tx.commit().await?;
        token
    }

    /// Refresh a grant locked by `tx`, recording the outcome on it (committed by the caller).
    async fn refresh_locked(
        &self,
        tx: &mut sqlx::PgConnection,
        locked: &LockedGrant,
    ) -> Result<SecretString, ShopError> {
        match self.api.refresh_tokens(&locked.refresh_token).await {
            Ok(fresh) => {
                tiktok_shops::store_refreshed(&mut *tx, locked.id, &fresh.tokens).await?;
                tracing::info!(grant = %locked.id, seller = %locked.open_id,
                    expires_at = %fresh.tokens.access_expires_at, "TikTok Shop token refreshed");
                metrics::counter!(TOKEN_REFRESHES_TOTAL, "outcome" => "refreshed").increment(1);
                Ok(fresh.tokens.access_token)
            }
            Err(e) => {
                let retry_in = match e {
                    ApiError::Transient { .. } => RETRY_UNREACHED_REFRESH,
                    _ => RETRY_REFUSED_REFRESH,
                };
                tiktok_shops::refresh_failed(&mut *tx, locked.id, &e.to_string(), retry_in).await?;
                tracing::warn!(grant = %locked.id, seller = %locked.open_id, error = %e,
                    "TikTok Shop token refresh failed; will retry");
                metrics::counter!(TOKEN_REFRESHES_TOTAL, "outcome" => "failed").increment(1);
                Err(e.into())
            }
        }
    }

    /// Refresh every grant due (its access token expires within [`REFRESH_AHEAD`], or past
    /// half its lifetime), up to a batch; grants another worker is refreshing are skipped.
    pub async fn refresh_due(&self) -> Result<Refreshed, sqlx::Error> {
        let mut done = Refreshed::default();
        for _ in 0..REFRESH_BATCH {
            let mut tx = self.pool.begin().await?;
            let Some(locked) = tiktok_shops::lock_due_grant(&mut tx, REFRESH_AHEAD).await? else {
                break;
            };
            match self.refresh_locked(&mut tx, &locked).await {
                Ok(_) => done.refreshed += 1,
                Err(ShopError::Database(e)) => return Err(e),
                Err(_) => done.failed += 1,
            }
            tx.commit().await?;
        }
        Ok(done)
    }
}

/// Token refreshes, by outcome (`refreshed`, `failed`).
pub const TOKEN_REFRESHES_TOTAL: &str = "shopwire_tiktok_shop_token_refreshes_total";
