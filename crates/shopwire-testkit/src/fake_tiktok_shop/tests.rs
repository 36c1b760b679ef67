//! The fake driven over HTTP, with requests signed by the test's own helper (not the
//! fake's), so each test checks the protocol rather than the fake against itself.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{FakeShop, FakeTiktokShop};

const KEY: &str = "app-key";
const SECRET: &str = "app-secret";
const SHOPS: &str = "/authorization/202309/shops";
const ORDERS: &str = "/order/202309/orders";

fn shop(id: &str, cipher: &str) -> FakeShop {
    let (name, region, code) = (format!("Shop {id}"), "GB".into(), "GBCODE".into());
    let (id, cipher) = (id.into(), cipher.into());
    FakeShop {
        id,
        name,
        region,
        cipher,
        code,
    }
}

/// A fake with one seller, `open-1` (code `code-1`, shop `shop-1`/`ROW_one`).
async fn fake() -> FakeTiktokShop {
    let fake = FakeTiktokShop::start(KEY, SECRET).await;
    fake.add_seller(
        "code-1",
        "open-1",
        "Seller",
        vec![shop("shop-1", "ROW_one")],
    );
    fake
}

fn now() -> u64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH);
    since_epoch.expect("after 1970").as_secs()
}

/// What the fake answered.
struct Reply {
    status: u16,
    body: Value,
    retry_after: Option<String>,
}

impl Reply {
    /// The HTTP status and TikTok code together, as tests compare them.
    fn answer(&self) -> (u16, i64) {
        (self.status, self.body["code"].as_i64().expect("a code"))
    }

    fn token(&self, which: &str) -> String {
        let token = self.body["data"][which].as_str();
        token.expect("a token was issued").to_owned()
    }
}

async fn get(url: &str, query: &[(&str, &str)], token: Option<&str>) -> Reply {
    let url = url::Url::parse_with_params(url, query).expect("a valid URL");
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.header("x-tts-access-token", token);
    }
    let response = request.send().await.expect("the fake answers");
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after");
    let retry_after = retry_after.map(|v| v.to_str().expect("ascii").to_owned());
    let body = response.json().await.expect("a JSON body");
    Reply {
        status,
        body,
        retry_after,
    }
}

/// `/api/v2/token/{endpoint}` with the app key, `secret` and `grant`'s parameters.
async fn auth(
    fake: &FakeTiktokShop,
    endpoint: &str,
    secret: &str,
    grant: &[(&str, &str)],
) -> Reply {
    let mut query = vec![("app_key", KEY), ("app_secret", secret)];
    query.extend_from_slice(grant);
    get(
        &format!("{}/api/v2/token/{endpoint}", fake.uri()),
        &query,
        None,
    )
    .await
}

async fn exchange(fake: &FakeTiktokShop, code: &str) -> Reply {
    let grant = [("auth_code", code), ("grant_type", "authorized_code")];
    auth(fake, "get", SECRET, &grant).await
}

async fn refresh(fake: &FakeTiktokShop, refresh_token: &str) -> Reply {
    let grant = [
        ("refresh_token", refresh_token),
        ("grant_type", "refresh_token"),
    ];
    auth(fake, "refresh", SECRET, &grant).await
}

/// The test's own signer: the documented string, built with a sorted map.
fn test_sign(secret: &str, path: &str, query: &[(&str, &str)]) -> String {
    let sorted: BTreeMap<&str, &str> = (query.iter().copied())
        .filter(|(k, _)| *k != "sign" && *k != "access_token")
        .collect();
    let joined: String = sorted.iter().map(|(k, v)| format!("{k}{v}")).collect();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{secret}{path}{joined}{secret}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// An Open API GET of `path` with `extra` parameters, signed with `secret` at `timestamp`.
async fn signed(
    fake: &FakeTiktokShop,
    path: &str,
    extra: &[(&str, &str)],
    token: &str,
    secret: &str,
    timestamp: u64,
) -> Reply {
    let timestamp = timestamp.to_string();
    let mut query = vec![("app_key", KEY), ("timestamp", &timestamp)];
    query.extend_from_slice(extra);
    let sign = test_sign(secret, path, &query);
    query.push(("sign", &sign));
    get(&format!("{}{path}", fake.uri()), &query, Some(token)).await
}

/// An Open API GET signed as a correct client signs it.
async fn call(fake: &FakeTiktokShop, path: &str, extra: &[(&str, &str)], token: &str) -> Reply {
    signed(fake, path, extra, token, SECRET, now()).await
}

#[test]
fn the_sign_matches_an_independently_computed_example() {
    let query = [
        ("timestamp", "1718309211"),
        ("ids", "576653688135258178"),
        ("app_key", "abcdef"),
        ("shop_cipher", "ROW_x"),
        ("access_token", "ignored"),
        ("sign", "ignored"),
    ];
    // python3: hmac.new(b"123", b"123/order/202309/ordersapp_keyabcdefids576653688135258178"
    //   b"shop_cipherROW_xtimestamp1718309211123", hashlib.sha256).hexdigest()
    let expected = "91524d3ecadeb7d2b0d304698921a6c1e08548d11e75ce51e68e95591dc872b5";
    let owned: Vec<(String, String)> = query.map(|(k, v)| (k.into(), v.into())).to_vec();
    assert_eq!(super::server::sign("123", ORDERS, &owned, b""), expected);
    assert_eq!(test_sign("123", ORDERS, &query), expected);
}

#[tokio::test]
async fn an_auth_code_is_exchanged_once_then_refused() {
    let fake = fake().await;
    let first = exchange(&fake, "code-1").await;
    assert_eq!(
        (first.answer(), &first.body["data"]["open_id"]),
        ((200, 0), &json!("open-1"))
    );
    let expires = first.body["data"]["access_token_expire_in"].as_u64();
    assert!(
        expires.expect("a unix time") > now() + 6 * 24 * 3600,
        "a time, not a duration"
    );
    assert_eq!(
        fake.current_access_token("open-1"),
        Some(first.token("access_token"))
    );
    assert_eq!(exchange(&fake, "code-1").await.answer(), (200, 36004009));
    assert_eq!(exchange(&fake, "unknown").await.answer(), (200, 36004009));
    let grant = [("auth_code", "code-1"), ("grant_type", "authorized_code")];
    assert_eq!(
        auth(&fake, "get", "wrong", &grant).await.answer(),
        (200, 36004004)
    );
    let grant = [("auth_code", "code-1"), ("grant_type", "x")];
    assert_eq!(
        auth(&fake, "get", SECRET, &grant).await.answer(),
        (200, 36004001)
    );
    assert_eq!(fake.token_grants(), 1);
    let log = format!("{:?}", fake.requests());
    assert!(
        !log.contains(SECRET) && log.contains("<redacted>"),
        "no credentials in Debug"
    );
}

#[tokio::test]
async fn a_refresh_rotates_both_tokens_and_the_old_ones_stop_working() {
    let fake = fake().await;
    let first = exchange(&fake, "code-1").await;
    let second = refresh(&fake, &first.token("refresh_token")).await;
    assert_eq!(second.answer(), (200, 0));
    assert_ne!(second.token("access_token"), first.token("access_token"));
    assert_ne!(second.token("refresh_token"), first.token("refresh_token"));
    let again = refresh(&fake, &first.token("refresh_token")).await;
    assert_eq!(again.answer(), (200, 36004010));
    let old = call(&fake, SHOPS, &[], &first.token("access_token")).await;
    assert_eq!(old.answer(), (401, 105001));
    let new = call(&fake, SHOPS, &[], &second.token("access_token")).await;
    assert_eq!(new.answer(), (200, 0));
    let latest = second.token("refresh_token");
    let (a, b) = tokio::join!(refresh(&fake, &latest), refresh(&fake, &latest));
    let mut codes = [a.answer().1, b.answer().1];
    codes.sort();
    assert_eq!(
        codes,
        [0, 36004010],
        "of two concurrent refreshes with one token, one wins"
    );
    assert_eq!((fake.refreshes(), fake.failed_refreshes()), (2, 2));
}

#[tokio::test]
async fn an_expired_access_token_is_401_105002_until_refreshed() {
    let fake = fake().await;
    let first = exchange(&fake, "code-1").await;
    fake.expire_access_tokens();
    let expired = call(&fake, SHOPS, &[], &first.token("access_token")).await;
    assert_eq!(
        (expired.answer(), &expired.body["data"]),
        ((401, 105002), &Value::Null)
    );
    let second = refresh(&fake, &first.token("refresh_token")).await;
    let fresh = call(&fake, SHOPS, &[], &second.token("access_token")).await;
    assert_eq!(fresh.answer(), (200, 0));
    fake.set_token_lifetimes(Duration::ZERO, Duration::ZERO);
    let third = refresh(&fake, &second.token("refresh_token")).await;
    let born_expired = call(&fake, SHOPS, &[], &third.token("access_token")).await;
    assert_eq!(born_expired.answer(), (401, 105002));
    let late = refresh(&fake, &third.token("refresh_token")).await;
    assert_eq!(
        late.answer(),
        (200, 36004010),
        "an expired refresh token is refused"
    );
}

#[tokio::test]
async fn a_bad_sign_app_key_or_timestamp_is_401_with_its_code() {
    let fake = fake().await;
    let access = exchange(&fake, "code-1").await.token("access_token");
    let bad_sign = signed(&fake, SHOPS, &[], &access, "wrong-secret", now()).await;
    assert_eq!(bad_sign.answer(), (401, 106001));
    assert_eq!(bad_sign.body["message"], "Invalid signature");
    let stale = signed(&fake, SHOPS, &[], &access, SECRET, now() - 301).await;
    assert_eq!(stale.answer(), (401, 106002));
    let timestamp = now().to_string();
    let query = [
        ("app_key", "other"),
        ("timestamp", &timestamp),
        ("sign", "x"),
    ];
    let other_app = get(&format!("{}{SHOPS}", fake.uri()), &query, Some(&access)).await;
    assert_eq!(other_app.answer(), (401, 106011));
    assert_eq!(
        call(&fake, "/nothing", &[], &access).await.answer(),
        (404, 40400)
    );
    let last = fake.requests().pop().expect("requests are recorded");
    assert_eq!(
        (last.path.as_str(), last.status, last.code),
        ("/nothing", 404, 40400)
    );
}

#[tokio::test]
async fn a_valid_token_lists_its_sellers_shops() {
    let fake = fake().await;
    let access = exchange(&fake, "code-1").await.token("access_token");
    let shops = call(&fake, SHOPS, &[], &access).await;
    assert_eq!(
        (shops.answer(), &shops.body["message"]),
        ((200, 0), &json!("Success"))
    );
    let shop = json!({"id": "shop-1", "name": "Shop shop-1", "region": "GB",
        "seller_type": "LOCAL", "cipher": "ROW_one", "code": "GBCODE"});
    assert_eq!(shops.body["data"]["shops"], json!([shop]));
}

#[tokio::test]
async fn orders_are_served_only_with_the_sellers_own_cipher() {
    let fake = fake().await;
    fake.add_seller("code-2", "open-2", "Other", vec![shop("shop-2", "ROW_two")]);
    fake.add_order("shop-1", json!({"id": "o1", "status": "AWAITING_SHIPMENT"}));
    fake.add_order("shop-1", json!({"id": "o2"}));
    fake.add_order("shop-2", json!({"id": "o3"}));
    let access = exchange(&fake, "code-1").await.token("access_token");
    let own = [("ids", "o1,o3"), ("shop_cipher", "ROW_one")];
    let orders = call(&fake, ORDERS, &own, &access).await;
    assert_eq!(orders.answer(), (200, 0));
    let o1 = json!({"id": "o1", "status": "AWAITING_SHIPMENT"});
    assert_eq!(orders.body["data"]["orders"], json!([o1]));
    let others = [("ids", "o3"), ("shop_cipher", "ROW_two")];
    assert_eq!(
        call(&fake, ORDERS, &others, &access).await.answer(),
        (403, 106004)
    );
    let none = call(&fake, ORDERS, &[("ids", "o1")], &access).await;
    assert_eq!(none.answer(), (403, 106004), "no cipher at all");
}

#[tokio::test]
async fn past_the_rate_limit_open_api_calls_get_429_with_retry_after() {
    let fake = fake().await;
    fake.set_requests_per_minute(Some(2));
    let first = exchange(&fake, "code-1").await;
    let access = first.token("access_token");
    for _ in 0..2 {
        let within = call(&fake, SHOPS, &[], &access).await;
        assert_eq!(within.answer(), (200, 0), "auth calls are not counted");
    }
    let over = call(&fake, SHOPS, &[], &access).await;
    assert_eq!(
        (over.answer(), over.retry_after.as_deref()),
        ((429, 36009004), Some("1"))
    );
    let refreshed = refresh(&fake, &first.token("refresh_token")).await;
    assert_eq!(refreshed.answer(), (200, 0), "auth calls are not limited");
    fake.set_requests_per_minute(None);
    let access = refreshed.token("access_token");
    assert_eq!(call(&fake, SHOPS, &[], &access).await.answer(), (200, 0));
}
