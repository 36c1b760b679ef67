//! The fake's one handler: it answers every request under the state's lock, records it,
//! and checks Open API calls in TikTok Shop's order — rate limit, route, app key,
//! timestamp, signature, access token, shop cipher, then the endpoint's own parameters.
//! Only a delayed inventory update leaves the lock: it sleeps unlocked, then records.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::Query;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{FakeShop, InventoryUpdate, Recorded, State, lock, unix_now};

type Shared = Arc<Mutex<State>>;
type Params = [(String, String)];

/// The server for `state`: every path goes through [`handle`].
pub(super) fn router(state: Shared) -> Router {
    Router::new().fallback(handle).with_state(state)
}

/// The `sign` TikTok Shop expects: lowercase hex HMAC-SHA256, keyed with the app secret,
/// of `secret + path + (key + value, sorted by key, without sign/access_token) + body +
/// secret`.
pub(super) fn sign(app_secret: &str, path: &str, query: &Params, body: &[u8]) -> String {
    let mut params: Vec<&(String, String)> = (query.iter())
        .filter(|(k, _)| k != "sign" && k != "access_token")
        .collect();
    params.sort_by(|a, b| a.0.cmp(&b.0));
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(app_secret.as_bytes());
    mac.update(path.as_bytes());
    for (key, value) in params {
        mac.update(key.as_bytes());
        mac.update(value.as_bytes());
    }
    mac.update(body);
    mac.update(app_secret.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// An answer before it is recorded and sent: TikTok's envelope around `data`.
struct Answer {
    status: StatusCode,
    code: i64,
    message: &'static str,
    data: Value,
}

impl Answer {
    fn success(message: &'static str, data: Value) -> Answer {
        Answer {
            status: StatusCode::OK,
            code: 0,
            message,
            data,
        }
    }

    fn error(status: StatusCode, code: i64, message: &'static str) -> Answer {
        Answer {
            status,
            code,
            message,
            data: Value::Null,
        }
    }

    /// The auth host refuses with HTTP 200 and a non-zero code.
    fn refused(code: i64, message: &'static str) -> Answer {
        Answer::error(StatusCode::OK, code, message)
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let body = axum::Json(json!({
            "code": self.code, "message": self.message, "request_id": "fake", "data": self.data,
        }));
        match self.status {
            StatusCode::TOO_MANY_REQUESTS => {
                (self.status, [(RETRY_AFTER, "1")], body).into_response()
            }
            status => (status, body).into_response(),
        }
    }
}

/// The first value of the query parameter `key`.
fn param<'a>(query: &'a Params, key: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Every request: answered (and recorded) by [`handle_locked`], then, for an inventory
/// update held back by [`super::FakeTiktokShop::set_inventory_delay`], slept on without
/// the lock and recorded.
async fn handle(
    axum::extract::State(shared): axum::extract::State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query =
        Query::<Vec<(String, String)>>::try_from_uri(&uri).map_or_else(|_| Vec::new(), |q| q.0);
    let request = Recorded {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query,
        status: 0,
        code: 0,
    };
    let (answer, deferred) = handle_locked(&shared, &method, request, &headers, &body);
    if let Some(Deferred {
        delay,
        pending,
        request,
    }) = deferred
    {
        tokio::time::sleep(delay).await;
        let mut state = lock(&shared);
        pending.record(&mut state);
        state.recorded.push(request);
    }
    answer.into_response()
}

/// A valid inventory update's SKUs, `(sku id, quantity)`, not yet recorded.
struct Pending {
    shop_id: String,
    product_id: String,
    skus: Vec<(String, i64)>,
}

impl Pending {
    /// Record each SKU as an [`InventoryUpdate`] stamped now.
    fn record(self, state: &mut State) {
        let at = Instant::now();
        let (shop_id, product_id) = (self.shop_id, self.product_id);
        let updates = self
            .skus
            .into_iter()
            .map(|(sku_id, quantity)| InventoryUpdate {
                shop_id: shop_id.clone(),
                product_id: product_id.clone(),
                sku_id,
                quantity,
                at,
            });
        state.inventory_updates.extend(updates);
    }
}

/// An inventory update answered under the lock but recorded (request and SKUs) only after
/// `delay`, slept without the lock so the fake serves other calls meanwhile.
struct Deferred {
    delay: Duration,
    pending: Pending,
    request: Recorded,
}

/// Answer `request` and record it under one hold of the lock — except a valid inventory
/// update while a delay is set, which is handed back to be recorded after its sleep.
fn handle_locked(
    shared: &Shared,
    method: &Method,
    mut request: Recorded,
    headers: &HeaderMap,
    body: &[u8],
) -> (Answer, Option<Deferred>) {
    let mut state = lock(shared);
    let (path, query) = (request.path.as_str(), request.query.as_slice());
    let (answer, pending) = match (*method == Method::GET, path) {
        (true, "/api/v2/token/get") => (token_get(&mut state, query), None),
        (true, "/api/v2/token/refresh") => (token_refresh(&mut state, query), None),
        _ => open_api(&mut state, method, path, query, headers, body),
    };
    (request.status, request.code) = (answer.status.as_u16(), answer.code);
    let delay = state.inventory_delay;
    match pending {
        Some(pending) if !delay.is_zero() => {
            let deferred = Deferred {
                delay,
                pending,
                request,
            };
            return (answer, Some(deferred));
        }
        Some(pending) => pending.record(&mut state),
        None => {}
    }
    state.recorded.push(request);
    (answer, None)
}

/// The app's key and secret, then the grant type, as both auth endpoints check them.
fn check_app(state: &State, query: &Params, grant_type: &str) -> Option<Answer> {
    if param(query, "app_key") != Some(state.app_key.as_str())
        || param(query, "app_secret") != Some(state.app_secret.as_str())
    {
        return Some(Answer::refused(36004004, "invalid app_key or app_secret"));
    }
    (param(query, "grant_type") != Some(grant_type))
        .then(|| Answer::refused(36004001, "invalid grant_type"))
}

/// `token/get`: a registered auth code, once, buys its seller a fresh pair of tokens.
fn token_get(state: &mut State, query: &Params) -> Answer {
    if let Some(refused) = check_app(state, query, "authorized_code") {
        return refused;
    }
    let code = param(query, "auth_code");
    let (access, refresh) = (state.access_lifetime, state.refresh_lifetime);
    let Some(seller) =
        (state.sellers.iter_mut()).find(|s| !s.code_used && code == Some(s.auth_code.as_str()))
    else {
        return Answer::refused(36004009, "invalid auth_code");
    };
    seller.code_used = true;
    let data = seller.issue(access, refresh);
    state.token_grants += 1;
    Answer::success("success", data)
}

/// `token/refresh`: only a seller's current, live refresh token works, and it is spent.
fn token_refresh(state: &mut State, query: &Params) -> Answer {
    let presented = param(query, "refresh_token");
    let (access, refresh) = (state.access_lifetime, state.refresh_lifetime);
    let answer = check_app(state, query, "refresh_token").unwrap_or_else(|| {
        let current = |t: &super::Token| t.is(presented) && t.live();
        match (state.sellers.iter_mut()).find(|s| s.refresh.as_ref().is_some_and(current)) {
            Some(seller) => Answer::success("success", seller.issue(access, refresh)),
            None => Answer::refused(36004010, "invalid refresh_token"),
        }
    });
    match answer.code {
        0 => state.refreshes += 1,
        _ => state.failed_refreshes += 1,
    }
    answer
}

/// Count this call against the per-minute budget; `false` when it is over.
fn within_rate_limit(state: &mut State) -> bool {
    let Some(limit) = state.requests_per_minute else {
        return true;
    };
    let now = Instant::now();
    while (state.window.front()).is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
    {
        state.window.pop_front();
    }
    if state.window.len() >= limit as usize {
        return false;
    }
    state.window.push_back(now);
    true
}

/// An Open API endpoint the fake serves.
enum Route {
    /// `GET /authorization/202309/shops`: the token's seller's shops.
    Shops,
    /// `GET /order/202309/orders?ids=…`: a shop's orders by id.
    Orders,
    /// `POST /order/202309/orders/search`: a shop's orders by update time, paginated.
    SearchOrders,
    /// `POST /product/202309/products/search`: a shop's products, paginated.
    SearchProducts,
    /// `POST /product/202309/products/{product_id}/inventory/update`.
    UpdateInventory(String),
}

/// The endpoint `method` and `path` name, if the fake serves it.
fn route(method: &Method, path: &str) -> Option<Route> {
    let product = (path.strip_prefix("/product/202309/products/"))
        .and_then(|rest| rest.strip_suffix("/inventory/update"))
        .filter(|id| !id.is_empty() && !id.contains('/'));
    match (method.as_str(), path, product) {
        ("GET", "/authorization/202309/shops", _) => Some(Route::Shops),
        ("GET", "/order/202309/orders", _) => Some(Route::Orders),
        ("POST", "/order/202309/orders/search", _) => Some(Route::SearchOrders),
        ("POST", "/product/202309/products/search", _) => Some(Route::SearchProducts),
        ("POST", _, Some(product)) => Some(Route::UpdateInventory(product.to_owned())),
        _ => None,
    }
}

/// A signed, token-checked Open API call, with the SKUs to record if it is a valid
/// inventory update.
fn open_api(
    state: &mut State,
    method: &Method,
    path: &str,
    query: &Params,
    headers: &HeaderMap,
    body: &[u8],
) -> (Answer, Option<Pending>) {
    use StatusCode as S;
    let refuse = |status, code, message| (Answer::error(status, code, message), None);
    if !within_rate_limit(state) {
        return refuse(S::TOO_MANY_REQUESTS, 36009004, "Too many requests");
    }
    let Some(route) = route(method, path) else {
        return refuse(S::NOT_FOUND, 40400, "not found");
    };
    if param(query, "app_key") != Some(state.app_key.as_str()) {
        return refuse(S::UNAUTHORIZED, 106011, "invalid app_key");
    }
    let unix = unix_now().as_secs() as i64;
    let timestamp = param(query, "timestamp").and_then(|t| t.parse::<i64>().ok());
    if timestamp.is_none_or(|t| (t - unix).abs() > 300) {
        return refuse(S::UNAUTHORIZED, 106002, "timestamp expired");
    }
    if param(query, "sign") != Some(sign(&state.app_secret, path, query, body).as_str()) {
        return refuse(S::UNAUTHORIZED, 106001, "Invalid signature");
    }
    let token = headers
        .get("x-tts-access-token")
        .and_then(|v| v.to_str().ok());
    let Some((seller, access)) = (state.sellers.iter())
        .find_map(|s| s.access.as_ref().filter(|t| t.is(token)).map(|t| (s, t)))
    else {
        return refuse(S::UNAUTHORIZED, 105001, "Invalid credentials");
    };
    if !access.live() {
        return refuse(S::UNAUTHORIZED, 105002, "Expired credentials");
    }
    if let Route::Shops = route {
        let shops: Vec<Value> = seller.shops.iter().map(shop_json).collect();
        return (Answer::success("Success", json!({ "shops": shops })), None);
    }
    let cipher = param(query, "shop_cipher");
    let Some(shop) = seller
        .shops
        .iter()
        .find(|s| cipher == Some(s.cipher.as_str()))
    else {
        return refuse(S::FORBIDDEN, 106004, "shop_cipher mismatch");
    };
    let shop_id = shop.id.clone();
    match route {
        Route::Shops | Route::Orders => (orders_by_id(state, &shop_id, query), None),
        Route::SearchOrders => (search_orders(state, &shop_id, query, body), None),
        Route::SearchProducts => (search_products(state, &shop_id, query, body), None),
        Route::UpdateInventory(product_id) => update_inventory(state, shop_id, product_id, body),
    }
}

/// Get Order Detail: the shop's orders among the comma-separated `ids`, in filing order.
fn orders_by_id(state: &State, shop_id: &str, query: &Params) -> Answer {
    let ids: Vec<&str> = param(query, "ids").unwrap_or_default().split(',').collect();
    let orders: Vec<&Value> = (state.orders.iter())
        .filter(|(shop, order)| {
            shop == shop_id && order_id(order).is_some_and(|id| ids.contains(&id.as_str()))
        })
        .map(|(_, order)| order)
        .collect();
    Answer::success("Success", json!({ "orders": orders }))
}

/// Update Inventory: a well-formed body is accepted (and its SKUs returned to record)
/// unless a test asked for failures, which answer 500 and record nothing.
fn update_inventory(
    state: &mut State,
    shop_id: String,
    product_id: String,
    body: &[u8],
) -> (Answer, Option<Pending>) {
    let Some(skus) = inventory_skus(body) else {
        let invalid = Answer::error(StatusCode::BAD_REQUEST, 12019007, "invalid inventory");
        return (invalid, None);
    };
    if state.failing_inventory_updates > 0 {
        state.failing_inventory_updates -= 1;
        let failed = Answer::error(StatusCode::INTERNAL_SERVER_ERROR, 1, "Internal error");
        return (failed, None);
    }
    let pending = Pending {
        shop_id,
        product_id,
        skus,
    };
    (Answer::success("Success", json!({})), Some(pending))
}

/// `(sku id, quantity)` for each SKU of an Update Inventory body, or `None` unless it is
/// `{"skus":[{"id":"…","inventory":[{"quantity":n,"warehouse_id":"…"}…]}…]}` with at
/// least one SKU, each with a non-empty string id and at least one inventory entry, each
/// with an integer quantity ≥ 0 and, if it names one, a string warehouse id. A SKU's
/// quantity is the sum over its warehouses.
fn inventory_skus(body: &[u8]) -> Option<Vec<(String, i64)>> {
    let body: Value = serde_json::from_slice(body).ok()?;
    let skus = body
        .get("skus")?
        .as_array()
        .filter(|skus| !skus.is_empty())?;
    (skus.iter())
        .map(|sku| {
            let id = sku.get("id")?.as_str().filter(|id| !id.is_empty())?;
            let entries = (sku.get("inventory")?.as_array()).filter(|e| !e.is_empty())?;
            let quantity = entries.iter().try_fold(0i64, |sum, entry| {
                let warehouse = entry.get("warehouse_id").is_none_or(Value::is_string);
                let quantity = entry.get("quantity")?.as_i64().filter(|q| *q >= 0);
                sum.checked_add(quantity.filter(|_| warehouse)?)
            })?;
            Some((id.to_owned(), quantity))
        })
        .collect()
}

/// Search Orders: the shop's orders with `update_time_ge <= update_time < update_time_lt`
/// (either bound optional), by `(update_time, id)`, `page_size` (1 to 100) at a time from
/// `page_token` (an offset; empty or absent for the first page). Other body fields, which
/// TikTok would filter by, are ignored.
fn search_orders(state: &mut State, shop_id: &str, query: &Params, body: &[u8]) -> Answer {
    let invalid = |message| Answer::error(StatusCode::BAD_REQUEST, 36009003, message);
    let page_size = (param(query, "page_size").and_then(|n| n.parse::<usize>().ok()))
        .filter(|n| (1..=100).contains(n));
    let Some(page_size) = page_size else {
        return invalid("invalid page_size");
    };
    let Some(offset) = (match param(query, "page_token").unwrap_or_default() {
        "" => Some(0),
        token => token.parse::<usize>().ok(),
    }) else {
        return invalid("invalid page_token");
    };
    let Some((ge, lt)) = update_time_window(body) else {
        return invalid("invalid search body");
    };
    let mut matching: Vec<(i64, String, &Value)> = (state.orders.iter())
        .filter(|(shop, _)| shop == shop_id)
        .map(|(_, order)| {
            (
                update_time(order),
                order_id(order).unwrap_or_default(),
                order,
            )
        })
        .filter(|(time, ..)| ge.is_none_or(|ge| *time >= ge) && lt.is_none_or(|lt| *time < lt))
        .collect();
    matching.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let total = matching.len();
    let page: Vec<&Value> = (matching.iter().skip(offset).take(page_size))
        .map(|(.., order)| *order)
        .collect();
    let next = offset.saturating_add(page_size);
    let next_page_token = match next < total {
        true => next.to_string(),
        false => String::new(),
    };
    let data = json!({
        "orders": page, "next_page_token": next_page_token, "total_count": total,
    });
    state.order_searches += 1;
    Answer::success("Success", data)
}

/// Search Products: the shop's products in filing order whose `"status"` is the body's
/// `status` (every product when the body names none), `page_size` (1 to 100) at a time
/// from `page_token` (an offset, as Search Orders pages). Other body fields are ignored.
fn search_products(state: &mut State, shop_id: &str, query: &Params, body: &[u8]) -> Answer {
    let invalid = |message| Answer::error(StatusCode::BAD_REQUEST, 36009003, message);
    let Some((offset, page_size)) = paging(query) else {
        return invalid("invalid page_size or page_token");
    };
    let Some(status) = status_filter(body) else {
        return invalid("invalid search body");
    };
    let matching: Vec<&Value> = (state.products.iter())
        .filter(|(shop, product)| {
            shop == shop_id && status.as_ref().is_none_or(|s| product["status"] == *s)
        })
        .map(|(_, product)| product)
        .collect();
    let total = matching.len();
    let page: Vec<&Value> = matching.into_iter().skip(offset).take(page_size).collect();
    let next = offset.saturating_add(page_size);
    let next_page_token = match next < total {
        true => next.to_string(),
        false => String::new(),
    };
    let data = json!({
        "products": page, "next_page_token": next_page_token, "total_count": total,
    });
    state.product_searches += 1;
    Answer::success("Success", data)
}

/// `(offset, page_size)` from a search's query: `page_size` 1 to 100, `page_token` an
/// offset (empty or absent for the first page).
fn paging(query: &Params) -> Option<(usize, usize)> {
    let page_size = (param(query, "page_size").and_then(|n| n.parse::<usize>().ok()))
        .filter(|n| (1..=100).contains(n))?;
    let offset = match param(query, "page_token").unwrap_or_default() {
        "" => 0,
        token => token.parse::<usize>().ok()?,
    };
    Some((offset, page_size))
}

/// A Search Products body's `status` filter: it must be a JSON object whose `status`,
/// where present, is a string.
fn status_filter(body: &[u8]) -> Option<Option<Value>> {
    let body: Value = serde_json::from_slice(body).ok()?;
    match body.as_object()?.get("status") {
        None => Some(None),
        Some(status) => status.is_string().then(|| Some(status.clone())),
    }
}

/// A Search Orders body's `(update_time_ge, update_time_lt)`: it must be a JSON object
/// whose bounds, where present, are integers (Unix seconds).
fn update_time_window(body: &[u8]) -> Option<(Option<i64>, Option<i64>)> {
    let body: Value = serde_json::from_slice(body).ok()?;
    let body = body.as_object()?;
    let bound = |key| match body.get(key) {
        None => Some(None),
        Some(value) => value.as_i64().map(Some),
    };
    Some((bound("update_time_ge")?, bound("update_time_lt")?))
}

/// An order's `"update_time"`, 0 when it has none (or not an integer).
fn update_time(order: &Value) -> i64 {
    order["update_time"].as_i64().unwrap_or(0)
}

/// An order's `"id"`, whether the test wrote it as a string or a number.
pub(super) fn order_id(order: &Value) -> Option<String> {
    match &order["id"] {
        Value::String(id) => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

/// A shop as `/authorization/202309/shops` lists it.
fn shop_json(shop: &FakeShop) -> Value {
    json!({
        "id": shop.id, "name": shop.name, "region": shop.region,
        "seller_type": "LOCAL", "cipher": shop.cipher, "code": shop.code,
    })
}
