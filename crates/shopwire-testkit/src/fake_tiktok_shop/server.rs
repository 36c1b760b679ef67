//! The fake's one handler: it answers every request under the state's lock, records it,
//! and checks Open API calls in TikTok Shop's order — rate limit, route, app key,
//! timestamp, signature, access token, shop cipher.

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

use super::{FakeShop, Recorded, State, lock, unix_now};

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

fn param<'a>(query: &'a Params, key: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

async fn handle(
    axum::extract::State(shared): axum::extract::State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query =
        Query::<Vec<(String, String)>>::try_from_uri(&uri).map_or_else(|_| Vec::new(), |q| q.0);
    let path = uri.path().to_owned();
    let mut state = lock(&shared);
    let answer = match (method == Method::GET, path.as_str()) {
        (true, "/api/v2/token/get") => token_get(&mut state, &query),
        (true, "/api/v2/token/refresh") => token_refresh(&mut state, &query),
        _ => open_api(&mut state, &method, &path, &query, &headers, &body),
    };
    let (status, code) = (answer.status.as_u16(), answer.code);
    let method = method.to_string();
    state.recorded.push(Recorded {
        method,
        path,
        query,
        status,
        code,
    });
    answer.into_response()
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

/// A signed, token-checked Open API call.
fn open_api(
    state: &mut State,
    method: &Method,
    path: &str,
    query: &Params,
    headers: &HeaderMap,
    body: &[u8],
) -> Answer {
    use StatusCode as S;
    if !within_rate_limit(state) {
        return Answer::error(S::TOO_MANY_REQUESTS, 36009004, "Too many requests");
    }
    let orders = match (method == Method::GET, path) {
        (true, "/authorization/202309/shops") => false,
        (true, "/order/202309/orders") => true,
        _ => return Answer::error(S::NOT_FOUND, 40400, "not found"),
    };
    if param(query, "app_key") != Some(state.app_key.as_str()) {
        return Answer::error(S::UNAUTHORIZED, 106011, "invalid app_key");
    }
    let now = unix_now().as_secs() as i64;
    let timestamp = param(query, "timestamp").and_then(|t| t.parse::<i64>().ok());
    if timestamp.is_none_or(|t| (t - now).abs() > 300) {
        return Answer::error(S::UNAUTHORIZED, 106002, "timestamp expired");
    }
    if param(query, "sign") != Some(sign(&state.app_secret, path, query, body).as_str()) {
        return Answer::error(S::UNAUTHORIZED, 106001, "Invalid signature");
    }
    let token = headers
        .get("x-tts-access-token")
        .and_then(|v| v.to_str().ok());
    let Some((seller, access)) = (state.sellers.iter())
        .find_map(|s| s.access.as_ref().filter(|t| t.is(token)).map(|t| (s, t)))
    else {
        return Answer::error(S::UNAUTHORIZED, 105001, "Invalid credentials");
    };
    if !access.live() {
        return Answer::error(S::UNAUTHORIZED, 105002, "Expired credentials");
    }
    if !orders {
        let shops: Vec<Value> = seller.shops.iter().map(shop_json).collect();
        return Answer::success("Success", json!({ "shops": shops }));
    }
    let cipher = param(query, "shop_cipher");
    let Some(shop) = seller
        .shops
        .iter()
        .find(|s| cipher == Some(s.cipher.as_str()))
    else {
        return Answer::error(S::FORBIDDEN, 106004, "shop_cipher mismatch");
    };
    let ids: Vec<&str> = param(query, "ids").unwrap_or_default().split(',').collect();
    let orders: Vec<&Value> = (state.orders.iter())
        .filter(|(shop_id, order)| {
            *shop_id == shop.id && order_id(order).is_some_and(|id| ids.contains(&id.as_str()))
        })
        .map(|(_, order)| order)
        .collect();
    Answer::success("Success", json!({ "orders": orders }))
}

/// An order's `"id"`, whether the test wrote it as a string or a number.
fn order_id(order: &Value) -> Option<String> {
    match &order["id"] {
        Value::String(id) => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

fn shop_json(shop: &FakeShop) -> Value {
    json!({
        "id": shop.id, "name": shop.name, "region": shop.region,
        "seller_type": "LOCAL", "cipher": shop.cipher, "code": shop.code,
    })
}
