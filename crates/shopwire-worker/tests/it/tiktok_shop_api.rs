//! The TikTok Shop API as the order sync uses it, against wiremock: every request is
//! signed and carries the access token; 5xx and 429 are transient, other 4xx permanent.

use std::collections::HashMap;
use std::time::Duration;

use shopwire_core::db::inbox;
use shopwire_core::domain::{Delivery, Provider};
use shopwire_worker::jobs::JobError;
use shopwire_worker::jobs::process_delivery;
use shopwire_worker::tiktok_shop::{
    ACCESS_TOKEN_HEADER, ORDER_DETAIL_PATH, SEARCH_RETURNS_PATH, sign,
};
use sqlx::PgPool;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::{TestWorker, spawn_worker_with};
use crate::tiktok_shop::{ORDER_ID, add_product, fixture, stock};

const APP_KEY: &str = "test_app_key";
const APP_SECRET: &str = "test_app_secret";
const ACCESS_TOKEN: &str = "test_access_token";
const SHOP_CIPHER: &str = "ROW_test_cipher";

/// Configure the worker's TikTok Shop API to be `server`.
pub fn with_api(server: &MockServer) -> impl FnOnce(&mut HashMap<String, String>) + use<> {
    let base = server.uri();
    move |env| {
        for (k, v) in [
            ("TIKTOK_SHOP_APP_KEY", APP_KEY),
            ("TIKTOK_SHOP_APP_SECRETS", APP_SECRET),
            ("TIKTOK_SHOP_ACCESS_TOKEN", ACCESS_TOKEN),
            ("TIKTOK_SHOP_SHOP_CIPHER", SHOP_CIPHER),
            ("TIKTOK_SHOP_API_BASE", base.as_str()),
        ] {
            env.insert(k.into(), v.into());
        }
    }
}

/// Matches a request whose `sign` is right for its path, other parameters and body.
struct SignedCorrectly;

impl Match for SignedCorrectly {
    fn matches(&self, request: &Request) -> bool {
        let pairs: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
        let Some((_, given)) = pairs.iter().find(|(k, _)| k == "sign") else {
            return false;
        };
        let query: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        sign::sign(APP_SECRET, request.url.path(), &query, &request.body) == *given
    }
}

/// Get Order Detail for [`ORDER_ID`] as a properly signed request.
fn order_detail() -> wiremock::MockBuilder {
    Mock::given(method("GET"))
        .and(path(ORDER_DETAIL_PATH))
        .and(query_param("ids", ORDER_ID))
        .and(query_param("app_key", APP_KEY))
        .and(query_param("shop_cipher", SHOP_CIPHER))
        .and(header(ACCESS_TOKEN_HEADER, ACCESS_TOKEN))
        .and(SignedCorrectly)
}

/// Serve [`ORDER_ID`] with `lines` (seller SKU, units; one line item per unit, as 202309
/// does), $19.99 each, buyer `7021436810468230477`.
pub async fn mount_order(server: &MockServer, lines: &[(&str, usize)]) {
    let items: Vec<serde_json::Value> = lines
        .iter()
        .enumerate()
        .flat_map(|(n, (sku, units))| {
            (0..*units).map(move |u| {
                serde_json::json!({"id": format!("{n}{u}"), "sku_id": format!("17{n}"), "seller_sku": sku,
                                   "product_name": format!("Item {sku}"), "sale_price": "19.99", "currency": "USD"})
            })
        })
        .collect();
    let total = format!("{:.2}", 19.99 * items.len() as f64);
    order_detail()
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "code": 0, "message": "Success", "request_id": "202406140000",
            "data": {"orders": [{"id": ORDER_ID, "status": "AWAITING_SHIPMENT", "user_id": "7021436810468230477",
                                 "payment": {"currency": "USD", "total_amount": total}, "line_items": items}]}
        })))
        .mount(server)
        .await;
}

/// Serve Search Returns for `return_id` of [`ORDER_ID`] as TikTok lists it: `return_type`,
/// whether the buyer keeps the items, and one return line item per unit of each
/// (seller SKU, TikTok SKU id, units). Expects exactly `calls` signed requests.
pub async fn mount_return(
    server: &MockServer,
    return_id: &str,
    return_type: &str,
    buyer_keeps: bool,
    lines: &[(&str, &str, usize)],
    calls: u64,
) {
    let items: Vec<serde_json::Value> = lines
        .iter()
        .enumerate()
        .flat_map(|(n, (sku, sku_id, units))| {
            (0..*units).map(move |u| {
                serde_json::json!({"return_line_item_id": format!("9{n}{u}"), "order_line_item_id": format!("{n}{u}"),
                                   "sku_id": sku_id, "seller_sku": sku, "sku_name": "Default", "product_name": format!("Item {sku}"),
                                   "refund_amount": {"currency": "USD", "refund_total": "19.99"}})
            })
        })
        .collect();
    Mock::given(method("POST"))
        .and(path(SEARCH_RETURNS_PATH))
        .and(query_param("app_key", APP_KEY))
        .and(query_param("shop_cipher", SHOP_CIPHER))
        .and(header(ACCESS_TOKEN_HEADER, ACCESS_TOKEN))
        .and(header("content-type", "application/json"))
        .and(body_json(serde_json::json!({"return_ids": [return_id]})))
        .and(SignedCorrectly)
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "code": 0, "message": "Success", "request_id": "202406170000",
            "data": {"return_orders": [{"return_id": return_id, "order_id": ORDER_ID, "return_type": return_type,
                                        "return_status": "RETURN_OR_REFUND_REQUEST_COMPLETE", "role": "BUYER",
                                        "can_buyer_keep_item": buyer_keeps, "return_line_items": items}],
                     "total_count": 1, "next_page_token": ""}
        })))
        .expect(calls)
        .mount(server)
        .await;
}

/// Claim the awaiting-shipment delivery and apply it once, returning what `apply` did.
async fn apply_awaiting_shipment(worker: &TestWorker) -> Result<(), JobError> {
    let body = fixture("order_status_change.awaiting_shipment");
    let delivery = Delivery::parse(Provider::TiktokShop, &body).expect("valid body");
    let id = match inbox::record(&worker.pool, Provider::TiktokShop, &delivery, &body)
        .await
        .expect("recorded")
    {
        inbox::Recorded::New(id) | inbox::Recorded::Duplicate(id) => id,
    };
    let ctx = worker.context();
    let claimed = inbox::claim(&worker.pool, id, &ctx.instance, ctx.lease)
        .await
        .expect("claim works")
        .expect("due and free");
    process_delivery::apply(&ctx, &claimed).await.map(|_| ())
}

async fn no_order_was_made(pool: &PgPool) {
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(pool)
        .await
        .expect("query works");
    assert_eq!(orders, 0, "a failed attempt commits nothing");
}

fn assert_no_secrets(message: &str) {
    for secret in [APP_SECRET, ACCESS_TOKEN] {
        assert!(!message.contains(secret), "{message}");
    }
    assert!(!message.contains("sign="), "{message}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn requests_are_signed_and_carry_the_access_token(pool: PgPool) {
    add_product(&pool, "MUG-1", 5).await;
    let server = MockServer::start().await;
    mount_order(&server, &[("MUG-1", 1)]).await;
    // Anything not matching the signed, tokened request above gets a 401.
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    let mut worker = spawn_worker_with(pool, with_api(&server)).await;

    apply_awaiting_shipment(&worker).await.expect("applied");

    assert_eq!(stock(&worker.pool, "MUG-1").await, 4);
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_api_500_is_a_transient_error(pool: PgPool) {
    let server = MockServer::start().await;
    order_detail()
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;
    let mut worker = spawn_worker_with(pool, with_api(&server)).await;

    let err = apply_awaiting_shipment(&worker).await.expect_err("fails");

    assert!(!err.is_permanent(), "{err}");
    assert!(err.to_string().contains("500"), "{err}");
    assert_no_secrets(&err.to_string());
    no_order_was_made(&worker.pool).await;
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_api_429_is_transient_and_honours_retry_after(pool: PgPool) {
    let server = MockServer::start().await;
    order_detail()
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "7"))
        .mount(&server)
        .await;
    let mut worker = spawn_worker_with(pool, with_api(&server)).await;

    let err = apply_awaiting_shipment(&worker).await.expect_err("fails");

    assert!(!err.is_permanent(), "{err}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    worker.stop().await.expect("clean shutdown");
}

/// The static token cannot be refreshed, but an operator may replace it: TikTok refusing it
/// is retried after a minute, not dead-lettered (connected shops refresh theirs:
/// `tiktok_shop_connected`).
#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_expired_static_token_is_retried_after_a_minute(pool: PgPool) {
    let server = MockServer::start().await;
    order_detail()
        .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "code": 105002, "message": "Expired credentials", "request_id": "x", "data": null
        })))
        .mount(&server)
        .await;
    let mut worker = spawn_worker_with(pool, with_api(&server)).await;

    let err = apply_awaiting_shipment(&worker).await.expect_err("fails");

    assert!(!err.is_permanent(), "{err}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
    assert!(err.to_string().contains("105002"), "{err}");
    assert_no_secrets(&err.to_string());
    no_order_was_made(&worker.pool).await;
    worker.stop().await.expect("clean shutdown");
}

/// A token TikTok refuses (401) may be replaced (a refresh, an operator): the delivery is
/// retried later, not dead-lettered at once, and the error names no secret.
#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_api_401_is_retried_later_not_dead_lettered_at_once(pool: PgPool) {
    let server = MockServer::start().await;
    order_detail()
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let mut worker = spawn_worker_with(pool, with_api(&server)).await;

    let id =
        crate::tiktok_shop::deliver(&worker, &fixture("order_status_change.awaiting_shipment"))
            .await;

    let row = worker.row(id).await;
    assert_eq!((row.status.as_str(), row.attempts), ("failed", 1));
    assert_no_secrets(row.last_error.as_deref().unwrap_or_default());
    worker.stop().await.expect("clean shutdown");
}

/// Any other refusal (403, 404, …) cannot be fixed by retrying: dead at once.
#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_api_403_sends_the_delivery_to_the_dead_letter_queue(pool: PgPool) {
    let server = MockServer::start().await;
    order_detail()
        .respond_with(ResponseTemplate::new(403))
        .mount(&server)
        .await;
    let mut worker = spawn_worker_with(pool, with_api(&server)).await;

    let id =
        crate::tiktok_shop::deliver(&worker, &fixture("order_status_change.awaiting_shipment"))
            .await;

    let row = worker.row(id).await;
    assert_eq!((row.status.as_str(), row.attempts), ("dead", 1));
    assert_no_secrets(row.last_error.as_deref().unwrap_or_default());
    worker.stop().await.expect("clean shutdown");
}

/// Get Order Detail (202309) requires `shop_cipher`: the worker binary refuses to start
/// with the API configured and no `TIKTOK_SHOP_SHOP_CIPHER`, in one line naming it.
#[test]
fn the_worker_binary_refuses_to_start_with_the_api_and_no_shop_cipher() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_shopwire-worker"))
        .env_clear()
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("REDIS_URL", "redis://127.0.0.1:1")
        .env("WORKER_PORT", "0")
        .env("TIKTOK_SHOP_APP_KEY", APP_KEY)
        .env("TIKTOK_SHOP_APP_SECRETS", APP_SECRET)
        .env("TIKTOK_SHOP_ACCESS_TOKEN", ACCESS_TOKEN)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // A worker still running after 15 s started despite the settings.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while child.try_wait().expect("wait works").is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().expect("kill works");
            let output = child.wait_with_output().expect("output");
            panic!("the worker started instead of refusing: {output:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    let line = stderr.strip_suffix('\n').unwrap_or(&stderr);
    assert!(!line.contains('\n'), "one line: {stderr}");
    assert!(
        line.starts_with("shopwire-worker: configuration error: TIKTOK_SHOP_SHOP_CIPHER: "),
        "{stderr}"
    );
    assert_no_secrets(line);
}
