//! The fake driven over HTTP, with requests signed by the test's own helper (not the
//! fake's), so each test checks the protocol rather than the fake against itself.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{FakeShop, FakeTiktokShop};

const KEY: &str = "app-key";
const SECRET: &str = "app-secret";
const SHOPS: &str = "/authorization/202309/shops";
const ORDERS: &str = "/order/202309/orders";
const SEARCH: &str = "/order/202309/orders/search";

/// The Update Inventory path of `product`.
fn inventory(product: &str) -> String {
    format!("/product/202309/products/{product}/inventory/update")
}

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
    reply(request).await
}

/// Send `request` and read the fake's answer.
async fn reply(request: reqwest::RequestBuilder) -> Reply {
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
fn test_sign(secret: &str, path: &str, query: &[(&str, &str)], body: &str) -> String {
    let sorted: BTreeMap<&str, &str> = (query.iter().copied())
        .filter(|(k, _)| *k != "sign" && *k != "access_token")
        .collect();
    let joined: String = sorted.iter().map(|(k, v)| format!("{k}{v}")).collect();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{secret}{path}{joined}{body}{secret}").as_bytes());
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
    let sign = test_sign(secret, path, &query, "");
    query.push(("sign", &sign));
    get(&format!("{}{path}", fake.uri()), &query, Some(token)).await
}

/// An Open API POST of `path` with `extra` parameters, signed over `signed_body` as a
/// correct client signs it, sending `sent_body` (the same, unless a test tampers).
async fn post_signed(
    fake: &FakeTiktokShop,
    path: &str,
    extra: &[(&str, &str)],
    (signed_body, sent_body): (&str, &str),
    token: &str,
) -> Reply {
    let timestamp = now().to_string();
    let mut query = vec![("app_key", KEY), ("timestamp", &timestamp)];
    query.extend_from_slice(extra);
    let sign = test_sign(SECRET, path, &query, signed_body);
    query.push(("sign", &sign));
    let url = format!("{}{path}", fake.uri());
    let url = url::Url::parse_with_params(&url, &query).expect("a valid URL");
    let request = (reqwest::Client::new().post(url))
        .header("x-tts-access-token", token)
        .header("content-type", "application/json")
        .body(sent_body.to_owned());
    reply(request).await
}

/// An Open API POST of `body`, signed as a correct client signs it.
async fn post(
    fake: &FakeTiktokShop,
    path: &str,
    extra: &[(&str, &str)],
    body: &str,
    token: &str,
) -> Reply {
    post_signed(fake, path, extra, (body, body), token).await
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
    assert_eq!(test_sign("123", ORDERS, &query, ""), expected);
    // A POST's body goes between the parameters and the closing secret:
    // python3: hmac.new(b"123", b"123/product/202309/products/p1/inventory/update"
    //   b"app_keyabcdefshop_cipherROW_xtimestamp1718309211" b'{"skus":[]}' b"123", …)
    let expected = "8a8b8a0f427f5b38238f49db3f92765062cb88865b144119ae53471d6ab2a5d6";
    let (path, body) = (inventory("p1"), r#"{"skus":[]}"#);
    let owned: Vec<(String, String)> = (owned.into_iter()).filter(|(k, _)| k != "ids").collect();
    let query: Vec<(&str, &str)> = query.into_iter().filter(|(k, _)| *k != "ids").collect();
    let server = super::server::sign("123", &path, &owned, body.as_bytes());
    assert_eq!(server, expected);
    assert_eq!(test_sign("123", &path, &query, body), expected);
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

/// The fake's inventory updates without their times, as tests compare them.
fn updates(fake: &FakeTiktokShop) -> Vec<(String, String, String, i64)> {
    (fake.inventory_updates().into_iter())
        .map(|u| (u.shop_id, u.product_id, u.sku_id, u.quantity))
        .collect()
}

const STOCK: &str = r#"{"skus":[{"id":"sku-1","inventory":[{"quantity":7}]}]}"#;

#[tokio::test]
async fn an_inventory_update_is_recorded_per_sku_with_its_shop_and_quantity() {
    let fake = fake().await;
    fake.add_seller("code-2", "open-2", "Other", vec![shop("shop-2", "ROW_two")]);
    let access = exchange(&fake, "code-1").await.token("access_token");
    let body = json!({"skus": [
        {"id": "sku-1", "inventory": [{"quantity": 5, "warehouse_id": "wh-1"}]},
        {"id": "sku-2", "inventory": [{"quantity": 0}]},
        {"id": "sku-3", "inventory": [{"quantity": 2, "warehouse_id": "wh-1"},
            {"quantity": 3, "warehouse_id": "wh-2"}]},
    ]});
    let cipher = [("shop_cipher", "ROW_one")];
    let path = inventory("p-9");
    let answered = post(&fake, &path, &cipher, &body.to_string(), &access).await;
    assert_eq!(answered.answer(), (200, 0));
    assert_eq!(
        (&answered.body["message"], &answered.body["data"]),
        (&json!("Success"), &json!({}))
    );
    let expected = [("sku-1", 5), ("sku-2", 0), ("sku-3", 5)]
        .map(|(sku, n)| ("shop-1".into(), "p-9".into(), sku.into(), n));
    assert_eq!(updates(&fake), expected, "one per SKU, warehouses summed");
    let last = fake.requests().pop().expect("requests are recorded");
    assert_eq!((last.method.as_str(), last.status), ("POST", 200));
}

#[tokio::test]
async fn an_invalid_inventory_body_is_400_12019007_and_records_nothing() {
    let fake = fake().await;
    let access = exchange(&fake, "code-1").await.token("access_token");
    let cipher = [("shop_cipher", "ROW_one")];
    for body in [
        "not json",
        "",
        "[]",
        "{}",
        r#"{"skus":[]}"#,
        r#"{"skus":{"id":"sku-1"}}"#,
        r#"{"skus":[{"inventory":[{"quantity":1}]}]}"#,
        r#"{"skus":[{"id":7,"inventory":[{"quantity":1}]}]}"#,
        r#"{"skus":[{"id":"sku-1"}]}"#,
        r#"{"skus":[{"id":"sku-1","inventory":[]}]}"#,
        r#"{"skus":[{"id":"sku-1","inventory":[{"warehouse_id":"wh"}]}]}"#,
        r#"{"skus":[{"id":"sku-1","inventory":[{"quantity":-1}]}]}"#,
        r#"{"skus":[{"id":"sku-1","inventory":[{"quantity":1.5}]}]}"#,
        r#"{"skus":[{"id":"sku-1","inventory":[{"quantity":"3"}]}]}"#,
        r#"{"skus":[{"id":"sku-1","inventory":[{"quantity":1,"warehouse_id":3}]}]}"#,
        r#"{"skus":[{"id":"ok","inventory":[{"quantity":1}]},{"id":"bad","inventory":[]}]}"#,
    ] {
        let answered = post(&fake, &inventory("p-1"), &cipher, body, &access).await;
        assert_eq!(answered.answer(), (400, 12019007), "{body}");
        assert_eq!(answered.body["message"], "invalid inventory", "{body}");
    }
    assert_eq!(updates(&fake), [], "no SKU of an invalid body is recorded");
}

#[tokio::test]
async fn failed_inventory_updates_answer_500_and_record_nothing_then_recover() {
    let fake = fake().await;
    let access = exchange(&fake, "code-1").await.token("access_token");
    let cipher = [("shop_cipher", "ROW_one")];
    let path = inventory("p-1");
    fake.fail_next_inventory_updates(2);
    let invalid = post(&fake, &path, &cipher, "{}", &access).await;
    assert_eq!(
        invalid.answer(),
        (400, 12019007),
        "invalid bodies spend no failure"
    );
    for _ in 0..2 {
        let failed = post(&fake, &path, &cipher, STOCK, &access).await;
        assert_eq!(failed.answer(), (500, 1));
        assert_eq!(failed.body["message"], "Internal error");
    }
    assert_eq!(updates(&fake), []);
    let recovered = post(&fake, &path, &cipher, STOCK, &access).await;
    assert_eq!(recovered.answer(), (200, 0));
    let expected = [("shop-1".into(), "p-1".into(), "sku-1".into(), 7)];
    assert_eq!(updates(&fake), expected);
}

#[tokio::test]
async fn inventory_updates_need_the_sellers_own_cipher_and_a_sign_over_the_body() {
    let fake = fake().await;
    fake.add_seller("code-2", "open-2", "Other", vec![shop("shop-2", "ROW_two")]);
    let access = exchange(&fake, "code-1").await.token("access_token");
    let path = inventory("p-1");
    for cipher in [
        &[("shop_cipher", "ROW_two")][..],
        &[("shop_cipher", "nope")],
        &[],
    ] {
        let refused = post(&fake, &path, cipher, STOCK, &access).await;
        assert_eq!(refused.answer(), (403, 106004), "{cipher:?}");
    }
    let cipher = [("shop_cipher", "ROW_one")];
    let tampered = STOCK.replace('7', "9");
    let unsigned = post_signed(&fake, &path, &cipher, (STOCK, &tampered), &access).await;
    assert_eq!(unsigned.answer(), (401, 106001), "the sign covers the body");
    let as_get = call(&fake, &path, &cipher, &access).await;
    assert_eq!(as_get.answer(), (404, 40400), "Update Inventory is a POST");
    let no_product = post(&fake, &inventory(""), &cipher, STOCK, &access).await;
    assert_eq!(no_product.answer(), (404, 40400));
    assert_eq!(updates(&fake), []);
    fake.set_requests_per_minute(Some(0));
    let limited = post(&fake, &path, &cipher, STOCK, &access).await;
    assert_eq!(
        limited.answer(),
        (429, 36009004),
        "updates count toward the limit"
    );
}

#[tokio::test]
async fn a_delayed_inventory_update_is_recorded_after_its_sleep_without_blocking_others() {
    let fake = fake().await;
    let access = exchange(&fake, "code-1").await.token("access_token");
    let delay = Duration::from_millis(400);
    fake.set_inventory_delay(delay);
    let started = Instant::now();
    let cipher = [("shop_cipher", "ROW_one")];
    let path = inventory("p-1");
    let update = post(&fake, &path, &cipher, STOCK, &access);
    let meanwhile = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let shops = call(&fake, SHOPS, &[], &access).await;
        (shops.answer(), started.elapsed(), updates(&fake).len())
    };
    let (update, (shops, shops_at, seen)) = tokio::join!(update, meanwhile);
    assert_eq!(shops, (200, 0));
    assert!(
        shops_at < delay,
        "other calls are served during the sleep ({shops_at:?})"
    );
    assert_eq!(seen, 0, "nothing is recorded before the sleep ends");
    assert_eq!(update.answer(), (200, 0));
    assert!(started.elapsed() >= delay);
    let recorded = fake.inventory_updates();
    assert_eq!(recorded.len(), 1);
    assert!(
        recorded[0].at >= started + delay,
        "recorded after the sleep"
    );
    let last = fake.requests().pop().expect("requests are recorded");
    assert_eq!((last.method.as_str(), last.status), ("POST", 200));
}

/// The ids of a search answer's orders and its `next_page_token`.
fn page(reply: &Reply) -> (Vec<String>, String) {
    let orders = reply.body["data"]["orders"].as_array().expect("orders");
    let ids = orders
        .iter()
        .map(|o| o["id"].as_str().expect("an id").to_owned());
    let token = reply.body["data"]["next_page_token"].as_str();
    (ids.collect(), token.expect("a next_page_token").to_owned())
}

#[tokio::test]
async fn search_filters_by_update_time_sorts_and_pages_until_the_token_is_empty() {
    let fake = fake().await;
    for (id, time) in [
        ("o-d", 200),
        ("o-a", 100),
        ("o-f", 300),
        ("o-b", 200),
        ("o-c", 150),
    ] {
        fake.add_order(
            "shop-1",
            json!({"id": id, "update_time": time, "status": "X"}),
        );
    }
    fake.add_order("shop-1", json!({"id": "o-e"}));
    fake.add_order("shop-2", json!({"id": "o-z", "update_time": 150}));
    let access = exchange(&fake, "code-1").await.token("access_token");
    let window = r#"{"update_time_ge":100,"update_time_lt":300}"#;
    let (mut token, mut seen, mut pages) = (String::new(), Vec::new(), 0);
    loop {
        let query = [
            ("page_size", "1"),
            ("page_token", token.as_str()),
            ("shop_cipher", "ROW_one"),
        ];
        let reply = post(&fake, SEARCH, &query, window, &access).await;
        assert_eq!(reply.answer(), (200, 0));
        assert_eq!(reply.body["data"]["total_count"], 4);
        let (ids, next) = page(&reply);
        (seen, token, pages) = ([seen, ids].concat(), next, pages + 1);
        if token.is_empty() {
            break;
        }
        assert!(pages < 10, "pagination ends");
    }
    assert_eq!(seen, ["o-a", "o-c", "o-b", "o-d"], "by (update_time, id)");
    assert_eq!((pages, fake.order_searches()), (4, 4));
    let query = [("page_size", "100"), ("shop_cipher", "ROW_one")];
    let all = post(&fake, SEARCH, &query, "{}", &access).await;
    let (ids, next) = page(&all);
    assert_eq!(
        ids,
        ["o-e", "o-a", "o-c", "o-b", "o-d", "o-f"],
        "no update_time is 0"
    );
    assert_eq!(next, "", "one page holds them all");
    let full = json!({"id": "o-e"});
    assert_eq!(all.body["data"]["orders"][0], full, "whole orders");
    let from = post(&fake, SEARCH, &query, r#"{"update_time_ge":200}"#, &access).await;
    assert_eq!(page(&from).0, ["o-b", "o-d", "o-f"]);
    let first = [("page_size", "2"), ("shop_cipher", "ROW_one")];
    let (ids, next) = page(&post(&fake, SEARCH, &first, window, &access).await);
    assert_eq!(ids, ["o-a", "o-c"]);
    assert!(!next.is_empty(), "more pages follow");
}

#[tokio::test]
async fn search_rejects_a_page_size_outside_1_to_100_a_bad_body_and_others_ciphers() {
    let fake = fake().await;
    fake.add_seller("code-2", "open-2", "Other", vec![shop("shop-2", "ROW_two")]);
    let access = exchange(&fake, "code-1").await.token("access_token");
    for size in [
        &[("page_size", "0")][..],
        &[("page_size", "101")],
        &[("page_size", "x")],
        &[],
    ] {
        let query = [size, &[("shop_cipher", "ROW_one")]].concat();
        let refused = post(&fake, SEARCH, &query, "{}", &access).await;
        assert_eq!(refused.answer(), (400, 36009003), "{size:?}");
        assert_eq!(refused.body["message"], "invalid page_size");
    }
    for body in ["", "not json", "[]", r#"{"update_time_ge":"1"}"#] {
        let query = [("page_size", "10"), ("shop_cipher", "ROW_one")];
        let refused = post(&fake, SEARCH, &query, body, &access).await;
        assert_eq!(refused.answer(), (400, 36009003), "{body}");
    }
    let query = [("page_size", "10"), ("shop_cipher", "ROW_two")];
    let others = post(&fake, SEARCH, &query, "{}", &access).await;
    assert_eq!(others.answer(), (403, 106004));
    let query = [("page_size", "10"), ("shop_cipher", "ROW_one")];
    let tampered = post_signed(&fake, SEARCH, &query, ("{}", "{ }"), &access).await;
    assert_eq!(tampered.answer(), (401, 106001));
    assert_eq!(fake.order_searches(), 0, "only successful searches count");
}

#[tokio::test]
async fn add_order_replaces_the_shops_order_with_the_same_id() {
    let fake = fake().await;
    fake.add_seller("code-2", "open-2", "Other", vec![shop("shop-2", "ROW_two")]);
    fake.add_order(
        "shop-1",
        json!({"id": "o1", "update_time": 100, "status": "UNPAID"}),
    );
    fake.add_order(
        "shop-2",
        json!({"id": "o1", "update_time": 100, "status": "OTHER"}),
    );
    let updated = json!({"id": "o1", "update_time": 500, "status": "AWAITING_SHIPMENT"});
    fake.add_order("shop-1", updated.clone());
    let one = exchange(&fake, "code-1").await.token("access_token");
    let query = [("page_size", "10"), ("shop_cipher", "ROW_one")];
    let search = post(&fake, SEARCH, &query, "{}", &one).await;
    assert_eq!(search.body["data"]["orders"], json!([updated]));
    assert_eq!(search.body["data"]["total_count"], 1);
    let by_id = [("ids", "o1"), ("shop_cipher", "ROW_one")];
    let by_id = call(&fake, ORDERS, &by_id, &one).await;
    assert_eq!(by_id.body["data"]["orders"], json!([updated]));
    let two = exchange(&fake, "code-2").await.token("access_token");
    let query = [("page_size", "10"), ("shop_cipher", "ROW_two")];
    let other = post(&fake, SEARCH, &query, "{}", &two).await;
    let untouched = json!({"id": "o1", "update_time": 100, "status": "OTHER"});
    assert_eq!(
        other.body["data"]["orders"],
        json!([untouched]),
        "other shops keep theirs"
    );
}

const SEARCH_PRODUCTS: &str = "/product/202309/products/search";

/// A product with one SKU per `(sku id, seller sku)`.
fn product(id: &str, status: &str, skus: &[(&str, &str)]) -> Value {
    let skus: Vec<Value> = (skus.iter())
        .map(|(sku, seller_sku)| {
            json!({"id": sku, "seller_sku": seller_sku,
                   "price": {"currency": "USD", "tax_exclusive_price": "9.99"},
                   "inventory": [{"quantity": 1, "warehouse_id": "w1"}]})
        })
        .collect();
    json!({"id": id, "title": format!("Product {id}"), "status": status, "skus": skus})
}

/// The ids of a Search Products answer's products and its `next_page_token`.
fn product_page(reply: &Reply) -> (Vec<String>, String) {
    let products = reply.body["data"]["products"].as_array().expect("products");
    let ids = products
        .iter()
        .map(|p| p["id"].as_str().expect("an id").to_owned());
    let token = reply.body["data"]["next_page_token"].as_str();
    (ids.collect(), token.expect("a next_page_token").to_owned())
}

#[tokio::test]
async fn search_products_filters_by_status_pages_and_keeps_each_shop_its_own() {
    let fake = fake().await;
    fake.add_seller("code-2", "open-2", "Other", vec![shop("shop-2", "ROW_two")]);
    for id in ["p1", "p2", "p3"] {
        fake.add_product("shop-1", product(id, "ACTIVATE", &[("s1", "A")]));
    }
    fake.add_product("shop-1", product("p4", "DRAFT", &[("s4", "D")]));
    fake.add_product("shop-2", product("p9", "ACTIVATE", &[("s9", "Z")]));
    let changed = product("p2", "ACTIVATE", &[("s2a", "B-1"), ("s2b", "B-2")]);
    fake.add_product("shop-1", changed.clone());
    let access = exchange(&fake, "code-1").await.token("access_token");
    let live = r#"{"status":"ACTIVATE"}"#;
    let (mut token, mut seen, mut pages) = (String::new(), Vec::new(), 0);
    loop {
        let query = [
            ("page_size", "2"),
            ("page_token", token.as_str()),
            ("shop_cipher", "ROW_one"),
        ];
        let reply = post(&fake, SEARCH_PRODUCTS, &query, live, &access).await;
        assert_eq!(reply.answer(), (200, 0));
        assert_eq!(reply.body["data"]["total_count"], 3);
        let (ids, next) = product_page(&reply);
        (seen, token, pages) = ([seen, ids].concat(), next, pages + 1);
        if token.is_empty() {
            break;
        }
        assert!(pages < 10, "pagination ends");
    }
    assert_eq!(seen, ["p1", "p2", "p3"], "filing order, replaced in place");
    assert_eq!((pages, fake.product_searches()), (2, 2));
    let query = [("page_size", "100"), ("shop_cipher", "ROW_one")];
    let all = post(&fake, SEARCH_PRODUCTS, &query, "{}", &access).await;
    assert_eq!(product_page(&all).0, ["p1", "p2", "p3", "p4"], "no filter");
    assert_eq!(all.body["data"]["products"][1], changed, "whole products");
    for body in ["", "[]", r#"{"status":1}"#] {
        let refused = post(&fake, SEARCH_PRODUCTS, &query, body, &access).await;
        assert_eq!(refused.answer(), (400, 36009003), "{body}");
    }
    let too_big = [("page_size", "101"), ("shop_cipher", "ROW_one")];
    let refused = post(&fake, SEARCH_PRODUCTS, &too_big, live, &access).await;
    assert_eq!(refused.answer(), (400, 36009003));
    let others = [("page_size", "10"), ("shop_cipher", "ROW_two")];
    let refused = post(&fake, SEARCH_PRODUCTS, &others, live, &access).await;
    assert_eq!(refused.answer(), (403, 106004), "another seller's shop");
    let tampered = post_signed(&fake, SEARCH_PRODUCTS, &query, (live, "{}"), &access).await;
    assert_eq!(tampered.answer(), (401, 106001), "the sign covers the body");
    assert_eq!(fake.product_searches(), 3, "only successful searches count");
}
