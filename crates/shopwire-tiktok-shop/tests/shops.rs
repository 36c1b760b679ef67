//! Connected shops against a fake TikTok Shop that checks every signature, issues each
//! auth code once, rotates refresh tokens strictly and expires access tokens: a connected
//! shop keeps working past its token's expiry with no one touching it, and two workers
//! never spend one refresh token twice.

use std::time::Duration;

use shopwire_core::config::Settings;
use shopwire_core::db::tiktok_shops;
use shopwire_testkit::fake_tiktok_shop::{FakeShop, FakeTiktokShop};
use shopwire_tiktok_shop::{AUTHORIZED_SHOPS_PATH, ORDER_DETAIL_PATH, ShopError, TiktokShop};
use sqlx::PgPool;

const APP_KEY: &str = "app-key";
const APP_SECRET: &str = "app-secret";
const CODE: &str = "auth-code-1";
const SELLER: &str = "open-id-1";
const SHOP: &str = "7495540735365777507";
const CIPHER: &str = "ROW_shop_one";
const ORDER: &str = "576653688135258178";

fn shop(id: &str, cipher: &str) -> FakeShop {
    FakeShop {
        id: id.into(),
        name: format!("Shop {id}"),
        region: "US".into(),
        cipher: cipher.into(),
        code: "USCODE".into(),
    }
}

fn settings(fake: &FakeTiktokShop, extra: &[(&str, &str)]) -> Settings {
    let uri = fake.uri();
    Settings::from_lookup(|k| {
        let fixed = match k {
            "DATABASE_URL" => Some("postgres://localhost/unused"),
            "TIKTOK_SHOP_APP_KEY" => Some(APP_KEY),
            "TIKTOK_SHOP_APP_SECRETS" => Some(APP_SECRET),
            "TIKTOK_SHOP_API_BASE" | "TIKTOK_SHOP_AUTH_BASE" => Some(uri.as_str()),
            _ => None,
        };
        fixed
            .or_else(|| extra.iter().find(|(name, _)| *name == k).map(|(_, v)| *v))
            .map(str::to_owned)
    })
    .expect("settings")
}

/// A fake with one seller of one shop holding [`ORDER`], and the client for it.
async fn fake_and_client(pool: &PgPool) -> (FakeTiktokShop, TiktokShop) {
    let fake = FakeTiktokShop::start(APP_KEY, APP_SECRET).await;
    fake.add_seller(CODE, SELLER, "Thrift Queen", vec![shop(SHOP, CIPHER)]);
    fake.add_order(SHOP, order_json());
    let client =
        TiktokShop::from_settings(&settings(&fake, &[]), pool.clone()).expect("configured");
    (fake, client)
}

fn order_json() -> serde_json::Value {
    serde_json::json!({"id": ORDER, "status": "AWAITING_SHIPMENT", "user_id": "buyer-1",
        "payment": {"currency": "USD", "total_amount": "19.99"},
        "line_items": [{"id": "1", "sku_id": "17", "seller_sku": "SKU-1", "product_name": "Tee",
                        "sale_price": "19.99", "currency": "USD"}]})
}

async fn stored_token(pool: &PgPool) -> String {
    let (token,): (String,) = sqlx::query_as("SELECT access_token FROM tiktok_shop_grants")
        .fetch_one(pool)
        .await
        .expect("one grant");
    token
}

fn calls_to(fake: &FakeTiktokShop, path: &str) -> Vec<(u16, i64)> {
    fake.requests()
        .into_iter()
        .filter(|r| r.path == path)
        .map(|r| (r.status, r.code))
        .collect()
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn connecting_stores_the_sellers_tokens_and_every_shop_with_its_cipher(pool: PgPool) {
    let (fake, client) = fake_and_client(&pool).await;
    let connection = client.connect(CODE).await.expect("connected");

    assert_eq!(connection.seller_name, "Thrift Queen");
    assert_eq!(connection.shops.len(), 1);
    assert_eq!(connection.shops[0].cipher, CIPHER);
    assert_eq!(
        Some(stored_token(&pool).await),
        fake.current_access_token(SELLER),
        "the token TikTok issued is the one stored"
    );
    let mut conn = pool.acquire().await.expect("conn");
    let access = tiktok_shops::access(&mut conn, SHOP)
        .await
        .expect("read")
        .expect("the shop is connected");
    assert_eq!(access.cipher, CIPHER);
    assert_eq!(access.status, tiktok_shops::ShopStatus::Connected);
    // Get Authorized Shops was signed and accepted.
    assert_eq!(calls_to(&fake, AUTHORIZED_SHOPS_PATH), vec![(200, 0)]);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_authorization_code_used_twice_is_refused_with_tiktoks_reason(pool: PgPool) {
    let (_fake, client) = fake_and_client(&pool).await;
    client.connect(CODE).await.expect("first use");
    let err = client.connect(CODE).await.expect_err("second use");
    assert!(err.to_string().contains("36004009"), "{err}");
    assert!(!err.to_string().contains(APP_SECRET), "{err}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_call_past_the_tokens_expiry_refreshes_it_and_succeeds(pool: PgPool) {
    let (fake, client) = fake_and_client(&pool).await;
    client.connect(CODE).await.expect("connected");
    fake.expire_access_tokens();

    let details = client
        .order_detail(Some(SHOP), ORDER)
        .await
        .expect("still works");

    assert_eq!(details.lines.len(), 1);
    assert_eq!(fake.refreshes(), 1);
    assert_eq!(
        calls_to(&fake, ORDER_DETAIL_PATH),
        vec![(401, 105002), (200, 0)],
        "refused once for its expired token, then answered with the refreshed one"
    );
    assert_eq!(
        Some(stored_token(&pool).await),
        fake.current_access_token(SELLER)
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_token_about_to_expire_is_refreshed_before_the_call(pool: PgPool) {
    let (fake, client) = fake_and_client(&pool).await;
    fake.set_token_lifetimes(Duration::from_secs(30), Duration::from_secs(86_400));
    client.connect(CODE).await.expect("connected");

    client.order_detail(Some(SHOP), ORDER).await.expect("works");

    assert_eq!(fake.refreshes(), 1);
    assert_eq!(calls_to(&fake, ORDER_DETAIL_PATH), vec![(200, 0)]);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_periodic_refresh_renews_a_grant_ahead_of_expiry_once(pool: PgPool) {
    let (fake, client) = fake_and_client(&pool).await;
    fake.set_token_lifetimes(Duration::from_secs(7_200), Duration::from_secs(86_400));
    client.connect(CODE).await.expect("connected");
    assert_eq!(
        client.refresh_due().await.expect("sweep").refreshed,
        0,
        "fresh tokens are not due"
    );

    // Ninety minutes on, past half its two-hour life: due.
    sqlx::query(
        "UPDATE tiktok_shop_grants SET connected_at = now() - interval '90 minutes',
                access_token_expires_at = now() + interval '30 minutes'",
    )
    .execute(&pool)
    .await
    .expect("age the grant");
    let done = client.refresh_due().await.expect("sweep");

    assert_eq!((done.refreshed, done.failed), (1, 0));
    assert_eq!(fake.refreshes(), 1);
    assert_eq!(
        Some(stored_token(&pool).await),
        fake.current_access_token(SELLER)
    );
    assert_eq!(
        client.refresh_due().await.expect("sweep").refreshed,
        0,
        "not due again"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn two_workers_refreshing_at_once_spend_the_refresh_token_once(pool: PgPool) {
    let (fake, client) = fake_and_client(&pool).await;
    client.connect(CODE).await.expect("connected");
    fake.expire_access_tokens();
    sqlx::query(
        "UPDATE tiktok_shop_grants SET access_token_expires_at = now() - interval '1 second'",
    )
    .execute(&pool)
    .await
    .expect("expire the stored token");
    let other = client.clone();

    let (a, b, c) = tokio::join!(
        client.order_detail(Some(SHOP), ORDER),
        other.order_detail(Some(SHOP), ORDER),
        client.refresh_due(),
    );

    a.expect("first call");
    b.expect("second call");
    c.expect("sweep");
    assert_eq!(fake.refreshes(), 1, "one refresh for three callers");
    assert_eq!(
        fake.failed_refreshes(),
        0,
        "nobody presented a spent refresh token"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_refused_refresh_is_recorded_on_the_grant_and_shown_as_its_health(pool: PgPool) {
    let (fake, client) = fake_and_client(&pool).await;
    client.connect(CODE).await.expect("connected");
    // Someone else spent the refresh token: TikTok refuses ours from now on.
    let mut conn = pool.acquire().await.expect("conn");
    sqlx::query("UPDATE tiktok_shop_grants SET refresh_token = 'spent', access_token_expires_at = now() + interval '1 hour', \
                   connected_at = now() - interval '7 days'")
        .execute(&mut *conn)
        .await
        .expect("spend it");

    let done = client.refresh_due().await.expect("sweep");

    assert_eq!((done.refreshed, done.failed), (0, 1));
    assert_eq!(fake.failed_refreshes(), 1);
    let shops = tiktok_shops::list(&mut conn, chrono::Utc::now(), chrono::Duration::hours(24))
        .await
        .expect("list");
    assert_eq!(shops[0].health, tiktok_shops::TokenHealth::RefreshFailing);
    assert!(
        shops[0]
            .last_refresh_error
            .as_deref()
            .unwrap_or_default()
            .contains("36004010")
    );
    assert_eq!(
        client.refresh_due().await.expect("sweep").failed,
        0,
        "waits before retrying"
    );
    let secret = fake.current_access_token(SELLER).expect("token");
    assert!(
        !format!("{shops:?}").contains(&secret),
        "no token in the health rows"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn shops_are_told_apart_by_their_id_and_a_revoked_one_is_refused(pool: PgPool) {
    let (fake, client) = fake_and_client(&pool).await;
    fake.add_seller(
        "code-2",
        "open-id-2",
        "Sneaker Sam",
        vec![shop("222", "ROW_two")],
    );
    fake.add_order("222", serde_json::json!({"id": "999", "line_items": []}));
    client.connect(CODE).await.expect("first seller");
    client.connect("code-2").await.expect("second seller");

    client
        .order_detail(Some(SHOP), ORDER)
        .await
        .expect("shop one's order with its cipher");
    client
        .order_detail(Some("222"), "999")
        .await
        .expect("shop two's order with its cipher");

    let mut conn = pool.acquire().await.expect("conn");
    assert!(
        tiktok_shops::disconnect(&mut conn, "222")
            .await
            .expect("disconnect")
    );
    let err = client
        .order_detail(Some("222"), "999")
        .await
        .expect_err("revoked");
    assert!(matches!(err, ShopError::Disconnected(_)), "{err:?}");
    let err = client
        .order_detail(Some("333"), "1")
        .await
        .expect_err("never connected");
    assert!(matches!(err, ShopError::NotConnected(_)), "{err:?}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_shop_never_connected_uses_the_static_token_when_one_is_set(pool: PgPool) {
    let (fake, _) = fake_and_client(&pool).await;
    // A token issued outside Shopwire, configured by hand.
    let outside =
        TiktokShop::from_settings(&settings(&fake, &[]), pool.clone()).expect("configured");
    outside.connect(CODE).await.expect("to mint a token");
    let token = fake.current_access_token(SELLER).expect("token");
    sqlx::query("DELETE FROM tiktok_shops")
        .execute(&pool)
        .await
        .expect("forget the shop");
    let with_static = TiktokShop::from_settings(
        &settings(
            &fake,
            &[
                ("TIKTOK_SHOP_ACCESS_TOKEN", &token),
                ("TIKTOK_SHOP_SHOP_CIPHER", CIPHER),
            ],
        ),
        pool.clone(),
    )
    .expect("configured");

    with_static
        .order_detail(Some(SHOP), ORDER)
        .await
        .expect("the static token works");
    assert_eq!(fake.refreshes(), 0);
    assert!(
        !format!("{with_static:?}").contains(&token),
        "Debug never shows the token"
    );
}
