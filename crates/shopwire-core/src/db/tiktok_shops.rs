//! Connected TikTok Shop sellers and their shops (SPEC §12, `docs/tiktok-shop.md`).
//!
//! A seller's authorization is a *grant*: one access token and one refresh token, covering
//! every shop the seller runs. Each shop has its own `shop_cipher` and status. Tokens are
//! read into [`SecretString`]s and never appear in `Debug` output or logs.
//!
//! Refreshing is serialised per grant by its row lock: [`lock_due_grant`] skips a grant
//! another worker is refreshing, [`lock_grant`] waits for it. TikTok may rotate the refresh
//! token on every refresh, so two concurrent refreshes with the same token would leave one of
//! them holding a dead token.

use chrono::{DateTime, Duration, Utc};
use secrecy::SecretString;
use sqlx::PgConnection;

/// A grant's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GrantId(pub i64);

impl std::fmt::Display for GrantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Whether Shopwire may act for a shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShopStatus {
    /// Authorized: its grant's tokens are used for it.
    Connected,
    /// The seller revoked the app, or a later connection no longer lists the shop.
    Disconnected,
}

impl ShopStatus {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            ShopStatus::Connected => "connected",
            ShopStatus::Disconnected => "disconnected",
        }
    }

    fn parse(s: &str) -> Result<ShopStatus, sqlx::Error> {
        match s {
            "connected" => Ok(ShopStatus::Connected),
            "disconnected" => Ok(ShopStatus::Disconnected),
            other => Err(sqlx::Error::Decode(
                format!("unknown TikTok Shop status `{other}`").into(),
            )),
        }
    }
}

/// A token pair as TikTok issued it.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// Sent as `x-tts-access-token`.
    pub access_token: SecretString,
    /// When the access token stops working.
    pub access_expires_at: DateTime<Utc>,
    /// Exchanged for a new pair at `/api/v2/token/refresh`.
    pub refresh_token: SecretString,
    /// When the refresh token stops working (then the seller must connect again).
    pub refresh_expires_at: DateTime<Utc>,
}

/// A seller's authorization, as a token exchange returns it.
#[derive(Debug, Clone)]
pub struct NewGrant {
    /// The seller's id for this app.
    pub open_id: String,
    /// The seller's name.
    pub seller_name: String,
    /// The seller's base region.
    pub seller_base_region: String,
    /// The tokens.
    pub tokens: Tokens,
}

/// A shop the grant covers, as Get Authorized Shops lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewShop {
    /// TikTok's shop id (the `shop_id` of its webhooks).
    pub shop_id: String,
    /// Its `shop_cipher`.
    pub cipher: String,
    /// Its name.
    pub name: String,
    /// Its region.
    pub region: String,
    /// Its shop code.
    pub code: String,
}

/// What a connection changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    /// The grant stored (new or updated).
    pub grant: GrantId,
    /// Shops of this seller connected before that the new grant no longer lists.
    pub dropped: Vec<String>,
}

/// Store a seller's grant and its shops in the caller's transaction: the same seller
/// connecting again replaces the tokens (and clears refresh failures), listed shops are
/// (re)connected to this grant, the seller's other shops are disconnected.
pub async fn save_connection(
    conn: &mut PgConnection,
    grant: &NewGrant,
    shops: &[NewShop],
) -> Result<Connected, sqlx::Error> {
    use secrecy::ExposeSecret;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO tiktok_shop_grants (open_id, seller_name, seller_base_region, access_token,
                                         access_token_expires_at, refresh_token, refresh_token_expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (open_id) DO UPDATE SET
             seller_name = EXCLUDED.seller_name,
             seller_base_region = EXCLUDED.seller_base_region,
             access_token = EXCLUDED.access_token,
             access_token_expires_at = EXCLUDED.access_token_expires_at,
             refresh_token = EXCLUDED.refresh_token,
             refresh_token_expires_at = EXCLUDED.refresh_token_expires_at,
             connected_at = now(), refresh_failures = 0, last_refresh_error = NULL,
             retry_refresh_at = NULL
         RETURNING id",
    )
    .bind(&grant.open_id)
    .bind(&grant.seller_name)
    .bind(&grant.seller_base_region)
    .bind(grant.tokens.access_token.expose_secret())
    .bind(grant.tokens.access_expires_at)
    .bind(grant.tokens.refresh_token.expose_secret())
    .bind(grant.tokens.refresh_expires_at)
    .fetch_one(&mut *conn)
    .await?;
    for shop in shops {
        sqlx::query(
            "INSERT INTO tiktok_shops (shop_id, grant_id, shop_cipher, name, region, code)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (shop_id) DO UPDATE SET
                 grant_id = EXCLUDED.grant_id, shop_cipher = EXCLUDED.shop_cipher,
                 name = EXCLUDED.name, region = EXCLUDED.region, code = EXCLUDED.code,
                 status = 'connected', connected_at = now(), disconnected_at = NULL",
        )
        .bind(&shop.shop_id)
        .bind(id)
        .bind(&shop.cipher)
        .bind(&shop.name)
        .bind(&shop.region)
        .bind(&shop.code)
        .execute(&mut *conn)
        .await?;
    }
    let listed: Vec<&str> = shops.iter().map(|s| s.shop_id.as_str()).collect();
    let dropped: Vec<(String,)> = sqlx::query_as(
        "UPDATE tiktok_shops SET status = 'disconnected', disconnected_at = now()
         WHERE grant_id = $1 AND status = 'connected' AND NOT (shop_id = ANY($2))
         RETURNING shop_id",
    )
    .bind(id)
    .bind(&listed)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Connected {
        grant: GrantId(id),
        dropped: dropped.into_iter().map(|(s,)| s).collect(),
    })
}

/// What a call for one shop needs: its cipher and its grant's current access token.
#[derive(Debug, Clone)]
pub struct ShopAccess {
    /// TikTok's shop id.
    pub shop_id: String,
    /// The shop's `shop_cipher`.
    pub cipher: String,
    /// Connected or not.
    pub status: ShopStatus,
    /// The grant whose token it uses.
    pub grant: GrantId,
    /// The grant's access token.
    pub access_token: SecretString,
    /// When it expires.
    pub access_expires_at: DateTime<Utc>,
}

/// The stored access for `shop_id`, connected or not; `None` for a shop never connected.
pub async fn access(
    conn: &mut PgConnection,
    shop_id: &str,
) -> Result<Option<ShopAccess>, sqlx::Error> {
    let row: Option<(String, String, String, i64, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT s.shop_id, s.shop_cipher, s.status, g.id, g.access_token, g.access_token_expires_at
         FROM tiktok_shops s JOIN tiktok_shop_grants g ON g.id = s.grant_id
         WHERE s.shop_id = $1",
    )
    .bind(shop_id)
    .fetch_optional(conn)
    .await?;
    row.map(|(shop_id, cipher, status, grant, token, expires)| {
        Ok(ShopAccess {
            shop_id,
            cipher,
            status: ShopStatus::parse(&status)?,
            grant: GrantId(grant),
            access_token: SecretString::from(token),
            access_expires_at: expires,
        })
    })
    .transpose()
}

/// A grant locked for refreshing.
#[derive(Debug, Clone)]
pub struct LockedGrant {
    /// Its id.
    pub id: GrantId,
    /// The seller's id.
    pub open_id: String,
    /// The current access token and its expiry.
    pub access_token: SecretString,
    /// When the access token expires.
    pub access_expires_at: DateTime<Utc>,
    /// The refresh token to exchange.
    pub refresh_token: SecretString,
    /// When the refresh token expires.
    pub refresh_expires_at: DateTime<Utc>,
}

type GrantRow = (i64, String, String, DateTime<Utc>, String, DateTime<Utc>);

fn locked((id, open_id, access, access_exp, refresh, refresh_exp): GrantRow) -> LockedGrant {
    LockedGrant {
        id: GrantId(id),
        open_id,
        access_token: SecretString::from(access),
        access_expires_at: access_exp,
        refresh_token: SecretString::from(refresh),
        refresh_expires_at: refresh_exp,
    }
}

/// Lock one grant that is due: it has a connected shop and its access token expires within
/// `ahead`, or has passed half the lifetime it was issued with (so short-lived tokens are
/// not refreshed on every sweep). Skips grants another transaction holds, those waiting out
/// a failed refresh (`retry_refresh_at` ahead) and those whose refresh token is dead.
pub async fn lock_due_grant(
    conn: &mut PgConnection,
    ahead: Duration,
) -> Result<Option<LockedGrant>, sqlx::Error> {
    let row: Option<GrantRow> = sqlx::query_as(
        "SELECT id, open_id, access_token, access_token_expires_at, refresh_token, refresh_token_expires_at FROM tiktok_shop_grants g
         WHERE access_token_expires_at < now() + LEAST($1::interval,
                   (access_token_expires_at - GREATEST(refreshed_at, connected_at)) / 2)
           AND refresh_token_expires_at > now()
           AND (retry_refresh_at IS NULL OR retry_refresh_at <= now())
           AND EXISTS (SELECT 1 FROM tiktok_shops s WHERE s.grant_id = g.id AND s.status = 'connected')
         ORDER BY access_token_expires_at
         LIMIT 1
         FOR UPDATE SKIP LOCKED",
    )
    .bind(ahead)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(locked))
}

/// Lock grant `id`, waiting for a refresh another transaction is making.
pub async fn lock_grant(
    conn: &mut PgConnection,
    id: GrantId,
) -> Result<Option<LockedGrant>, sqlx::Error> {
    let row: Option<GrantRow> = sqlx::query_as(
        "SELECT id, open_id, access_token, access_token_expires_at, refresh_token, refresh_token_expires_at FROM tiktok_shop_grants WHERE id = $1 FOR UPDATE",
    )
    .bind(id.0)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(locked))
}

/// Store a refreshed token pair on a locked grant and clear its failures.
pub async fn store_refreshed(
    conn: &mut PgConnection,
    id: GrantId,
    tokens: &Tokens,
) -> Result<(), sqlx::Error> {
    use secrecy::ExposeSecret;
    sqlx::query(
        "UPDATE tiktok_shop_grants SET access_token = $2, access_token_expires_at = $3,
                refresh_token = $4, refresh_token_expires_at = $5, refreshed_at = now(),
                refresh_failures = 0, last_refresh_error = NULL, retry_refresh_at = NULL
         WHERE id = $1",
    )
    .bind(id.0)
    .bind(tokens.access_token.expose_secret())
    .bind(tokens.access_expires_at)
    .bind(tokens.refresh_token.expose_secret())
    .bind(tokens.refresh_expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Record a refresh TikTok refused or could not be reached for: try again after `retry_in`.
/// `error` must name TikTok's answer, never a token.
pub async fn refresh_failed(
    conn: &mut PgConnection,
    id: GrantId,
    error: &str,
    retry_in: Duration,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE tiktok_shop_grants SET refresh_failures = refresh_failures + 1,
                last_refresh_error = $2, retry_refresh_at = now() + $3
         WHERE id = $1",
    )
    .bind(id.0)
    .bind(error)
    .bind(retry_in)
    .execute(conn)
    .await?;
    Ok(())
}

/// Mark a shop disconnected (the seller revoked the app). False when it was not connected.
pub async fn disconnect(conn: &mut PgConnection, shop_id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE tiktok_shops SET status = 'disconnected', disconnected_at = now()
         WHERE shop_id = $1 AND status = 'connected'",
    )
    .bind(shop_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A shop leased for one reconciliation run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconcileLease {
    /// TikTok's shop id.
    pub shop_id: String,
    /// Search orders updated from here (unix seconds): the last run's end, or `lookback`
    /// before the shop was connected on its first run.
    pub from: i64,
}

/// Lease one connected shop due for reconciliation (not reconciled within `every`, not
/// leased by another worker) for `lease`.
pub async fn lease_reconcile(
    conn: &mut PgConnection,
    every: Duration,
    lease: Duration,
    lookback: Duration,
) -> Result<Option<ReconcileLease>, sqlx::Error> {
    let row: Option<(String, i64)> = sqlx::query_as(
        "UPDATE tiktok_shops SET reconciling_until = now() + $2::interval
         WHERE shop_id = (
             SELECT shop_id FROM tiktok_shops
             WHERE status = 'connected'
               AND (reconciling_until IS NULL OR reconciling_until < now())
               AND (reconciled_at IS NULL OR reconciled_at <= now() - $1::interval)
             ORDER BY reconciled_at NULLS FIRST, shop_id
             LIMIT 1
             FOR UPDATE SKIP LOCKED)
         RETURNING shop_id,
                   coalesce(reconciled_to, extract(epoch FROM connected_at - $3::interval)::bigint)",
    )
    .bind(every)
    .bind(lease)
    .bind(lookback)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(shop_id, from)| ReconcileLease { shop_id, from }))
}

/// A run searched up to `until`: the next starts there (never earlier than before).
pub async fn reconciled(
    conn: &mut PgConnection,
    shop_id: &str,
    until: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE tiktok_shops SET reconciled_to = GREATEST(coalesce(reconciled_to, $2), $2),
                reconciled_at = now(), reconciling_until = NULL, last_reconcile_error = NULL
         WHERE shop_id = $1",
    )
    .bind(shop_id)
    .bind(until)
    .execute(conn)
    .await?;
    Ok(())
}

/// A run failed (`error` names TikTok's answer, never a token): the shop keeps its
/// watermark and is tried again after `retry_in`.
pub async fn reconcile_failed(
    conn: &mut PgConnection,
    shop_id: &str,
    error: &str,
    retry_in: Duration,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE tiktok_shops SET reconciling_until = now() + $3, last_reconcile_error = $2
         WHERE shop_id = $1",
    )
    .bind(shop_id)
    .bind(error)
    .bind(retry_in)
    .execute(conn)
    .await?;
    Ok(())
}

/// A shop and its grant's token state, for `tiktok-shop shops` (no tokens).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ShopHealth {
    /// TikTok's shop id.
    pub shop_id: String,
    /// Its name.
    pub name: String,
    /// Its region.
    pub region: String,
    /// Its `shop_cipher` (not a secret: it names the shop in API calls).
    pub cipher: String,
    /// `connected` or `disconnected`.
    pub status: &'static str,
    /// The seller.
    pub seller_name: String,
    /// When the access token expires.
    pub access_expires_at: DateTime<Utc>,
    /// When the refresh token expires.
    pub refresh_expires_at: DateTime<Utc>,
    /// The last successful refresh.
    pub refreshed_at: Option<DateTime<Utc>>,
    /// Refreshes refused in a row.
    pub refresh_failures: i32,
    /// The last refusal.
    pub last_refresh_error: Option<String>,
    /// What an operator should read from the above.
    pub health: TokenHealth,
}

/// A shop's token health at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenHealth {
    /// The access token is valid and not yet due for refreshing.
    Ok,
    /// Within the refresh window: the worker refreshes it on its next sweep.
    RefreshDue,
    /// The last refresh failed; the worker tries again.
    RefreshFailing,
    /// The access token has expired (is the worker running?).
    Expired,
    /// The refresh token has expired: the seller must connect again.
    ReconnectNeeded,
    /// The seller revoked the app.
    Disconnected,
}

impl TokenHealth {
    /// The value printed.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenHealth::Ok => "ok",
            TokenHealth::RefreshDue => "refresh_due",
            TokenHealth::RefreshFailing => "refresh_failing",
            TokenHealth::Expired => "expired",
            TokenHealth::ReconnectNeeded => "reconnect_needed",
            TokenHealth::Disconnected => "disconnected",
        }
    }

    /// The health of a shop with this state at `now`, refreshing `ahead` of expiry.
    pub fn judge(
        status: ShopStatus,
        access_expires_at: DateTime<Utc>,
        refresh_expires_at: DateTime<Utc>,
        refresh_failures: i32,
        now: DateTime<Utc>,
        ahead: Duration,
    ) -> TokenHealth {
        if status == ShopStatus::Disconnected {
            TokenHealth::Disconnected
        } else if refresh_expires_at <= now {
            TokenHealth::ReconnectNeeded
        } else if access_expires_at <= now {
            TokenHealth::Expired
        } else if refresh_failures > 0 {
            TokenHealth::RefreshFailing
        } else if access_expires_at <= now + ahead {
            TokenHealth::RefreshDue
        } else {
            TokenHealth::Ok
        }
    }
}

type HealthRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    i32,
    Option<String>,
);

/// Every shop ever connected, connected first, with its token health at `now`.
pub async fn list(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    ahead: Duration,
) -> Result<Vec<ShopHealth>, sqlx::Error> {
    let rows: Vec<HealthRow> = sqlx::query_as(
        "SELECT s.shop_id, s.name, s.region, s.shop_cipher, s.status, g.seller_name,
                g.access_token_expires_at, g.refresh_token_expires_at, g.refreshed_at,
                g.refresh_failures, g.last_refresh_error
         FROM tiktok_shops s JOIN tiktok_shop_grants g ON g.id = s.grant_id
         ORDER BY s.status, s.shop_id",
    )
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            let status = ShopStatus::parse(&r.4)?;
            Ok(ShopHealth {
                health: TokenHealth::judge(status, r.6, r.7, r.9, now, ahead),
                shop_id: r.0,
                name: r.1,
                region: r.2,
                cipher: r.3,
                status: status.as_str(),
                seller_name: r.5,
                access_expires_at: r.6,
                refresh_expires_at: r.7,
                refreshed_at: r.8,
                refresh_failures: r.9,
                last_refresh_error: r.10,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + hours * 3600, 0).expect("valid time")
    }

    #[test]
    fn token_health_reads_the_most_urgent_problem_first() {
        let now = at(0);
        let ahead = Duration::hours(24);
        let judge = |status, access, refresh, failures| {
            TokenHealth::judge(status, at(access), at(refresh), failures, now, ahead)
        };
        use ShopStatus::*;
        assert_eq!(judge(Connected, 100, 1000, 0), TokenHealth::Ok);
        assert_eq!(judge(Connected, 10, 1000, 0), TokenHealth::RefreshDue);
        assert_eq!(judge(Connected, 10, 1000, 2), TokenHealth::RefreshFailing);
        assert_eq!(judge(Connected, -1, 1000, 2), TokenHealth::Expired);
        assert_eq!(judge(Connected, -1, -1, 0), TokenHealth::ReconnectNeeded);
        assert_eq!(judge(Disconnected, 100, 1000, 0), TokenHealth::Disconnected);
    }
}
