//! A stateful fake of TikTok Shop: one in-process HTTP server playing both its auth host
//! (`/api/v2/token/get`, `/api/v2/token/refresh`) and its Open API host, so a client's
//! integration tests meet the real protocol — signed requests, a 300 s timestamp window,
//! single-use auth codes, strictly rotating refresh tokens, expiring access tokens, shop
//! ciphers and a rate limit — instead of a mock that accepts whatever it is sent. Besides
//! the shop list and orders by id, it takes inventory pushes (recorded per SKU, with
//! failures and latency on demand), searches orders by update time, page by page, and
//! serves a shop's catalog through Search Products.
//!
//! ```no_run
//! # use shopwire_testkit::fake_tiktok_shop::{FakeShop, FakeTiktokShop};
//! # async fn example(shop: FakeShop) {
//! let fake = FakeTiktokShop::start("app-key", "app-secret").await;
//! fake.add_seller("auth-code", "open-id", "Seller", vec![shop]);
//! // point the client at fake.uri(), exchange "auth-code", call the Open API…
//! assert_eq!(fake.token_grants(), 1);
//! # }
//! ```

mod server;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// A handle on a running fake; clones share its state, and the server stops when the last
/// clone is dropped (it runs on a task of the test's runtime).
#[derive(Clone)]
pub struct FakeTiktokShop {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    _server: Arc<ServerTask>,
}

/// Aborts the server's task when the last handle goes, so tests don't leak listeners.
struct ServerTask(tokio::task::JoinHandle<()>);

impl Drop for ServerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A shop a seller authorised, as `/authorization/202309/shops` lists it; `cipher` is what
/// shop-scoped calls must send as `shop_cipher`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeShop {
    /// The shop's id, which [`FakeTiktokShop::add_order`] files orders under.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its region, e.g. `GB`; the first shop's is the seller's `seller_base_region`.
    pub region: String,
    /// The opaque `shop_cipher` that scopes Open API calls to this shop.
    pub cipher: String,
    /// Its short shop code.
    pub code: String,
}

/// One request the fake answered, in arrival order, so tests can check what the client
/// sent and what it was told. Its `Debug` hides credentials (they must never reach a
/// panic message); the fields keep them for tests that compare.
#[derive(Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The HTTP method, e.g. `GET`.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The decoded query parameters, in the order sent.
    pub query: Vec<(String, String)>,
    /// The HTTP status answered.
    pub status: u16,
    /// The TikTok `code` answered (0 for success).
    pub code: i64,
}

/// Query parameters whose values [`Recorded`]'s `Debug` hides.
const SECRET_PARAMS: [&str; 4] = ["app_secret", "auth_code", "refresh_token", "access_token"];

impl fmt::Debug for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let query: Vec<(&str, &str)> = (self.query.iter())
            .map(|(k, v)| match SECRET_PARAMS.contains(&k.as_str()) {
                true => (k.as_str(), "<redacted>"),
                false => (k.as_str(), v.as_str()),
            })
            .collect();
        f.debug_struct("Recorded")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &query)
            .field("status", &self.status)
            .field("code", &self.code)
            .finish()
    }
}

/// One SKU's stock as an Update Inventory call set it, in arrival order, so a test can
/// check what a client pushed to which shop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventoryUpdate {
    /// The id of the shop whose `shop_cipher` the call sent.
    pub shop_id: String,
    /// The TikTok product id from the call's path.
    pub product_id: String,
    /// The TikTok SKU id from the body.
    pub sku_id: String,
    /// The SKU's quantity: the sum over the body's `inventory` entries (one per warehouse).
    pub quantity: i64,
    /// When the fake recorded it (after any [`FakeTiktokShop::set_inventory_delay`]).
    pub at: Instant,
}

/// An issued access or refresh token and when it stops working (since the Unix epoch).
struct Token {
    value: String,
    expires_at: Duration,
}

impl Token {
    fn issue(lifetime: Duration) -> Token {
        let value = format!("{:032x}", rand::random::<u128>());
        Token {
            value,
            expires_at: unix_now() + lifetime,
        }
    }

    fn is(&self, presented: Option<&str>) -> bool {
        presented == Some(self.value.as_str())
    }

    fn live(&self) -> bool {
        unix_now() < self.expires_at
    }
}

/// A seller who can authorise the app once with `auth_code`; only the latest tokens work.
struct Seller {
    auth_code: String,
    code_used: bool,
    open_id: String,
    name: String,
    shops: Vec<FakeShop>,
    access: Option<Token>,
    refresh: Option<Token>,
}

impl Seller {
    /// Replace both tokens (so the old ones stop working) and answer as token/get does.
    fn issue(&mut self, access: Duration, refresh: Duration) -> Value {
        let (access, refresh) = (Token::issue(access), Token::issue(refresh));
        let region = self.shops.first().map_or("", |s| s.region.as_str());
        let data = json!({
            "access_token": access.value,
            "access_token_expire_in": access.expires_at.as_secs(),
            "refresh_token": refresh.value,
            "refresh_token_expire_in": refresh.expires_at.as_secs(),
            "open_id": self.open_id,
            "seller_name": self.name,
            "seller_base_region": region,
            "user_type": 0,
            "granted_scopes": ["seller.order.info"],
        });
        (self.access, self.refresh) = (Some(access), Some(refresh));
        data
    }
}

/// Everything the fake knows, behind one mutex: each request is handled under the lock,
/// which is what makes refresh-token rotation strict under concurrent refreshes.
#[derive(Default)]
struct State {
    app_key: String,
    app_secret: String,
    access_lifetime: Duration,
    refresh_lifetime: Duration,
    sellers: Vec<Seller>,
    /// `(shop id, order)`; at most one per shop and order id (see `add_order`).
    orders: Vec<(String, Value)>,
    /// `(shop id, product)`; at most one per shop and product id (see `add_product`).
    products: Vec<(String, Value)>,
    inventory_updates: Vec<InventoryUpdate>,
    /// How many more otherwise-valid inventory updates to answer with a 500.
    failing_inventory_updates: usize,
    inventory_delay: Duration,
    order_searches: usize,
    product_searches: usize,
    requests_per_minute: Option<u32>,
    /// When each Open API request of the last 60 s arrived (kept only under a limit).
    window: VecDeque<Instant>,
    token_grants: usize,
    refreshes: usize,
    failed_refreshes: usize,
    recorded: Vec<Recorded>,
}

/// The time since the Unix epoch, as TikTok's timestamps and expiry times count it.
fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// The state even if a test panicked while holding it: a poisoned fake still answers.
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FakeTiktokShop {
    /// Serve a fake for the app `app_key`/`app_secret` on 127.0.0.1 (a free port), with
    /// no sellers, access tokens living 7 days, refresh tokens 30 days and no rate limit.
    pub async fn start(app_key: &str, app_secret: &str) -> FakeTiktokShop {
        let state = Arc::new(Mutex::new(State {
            app_key: app_key.to_owned(),
            app_secret: app_secret.to_owned(),
            access_lifetime: Duration::from_secs(7 * 24 * 3600),
            refresh_lifetime: Duration::from_secs(30 * 24 * 3600),
            ..State::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the fake TikTok Shop binds a port on 127.0.0.1");
        let addr = listener.local_addr().expect("the fake has an address");
        let router = server::router(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        FakeTiktokShop {
            addr,
            state,
            _server: Arc::new(ServerTask(task)),
        }
    }

    /// The base URL of both hosts, e.g. `http://127.0.0.1:40123` (no trailing slash).
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Register a seller who authorises the app once with `auth_code`, owning `shops`.
    pub fn add_seller(
        &self,
        auth_code: &str,
        open_id: &str,
        seller_name: &str,
        shops: Vec<FakeShop>,
    ) {
        lock(&self.state).sellers.push(Seller {
            auth_code: auth_code.to_owned(),
            code_used: false,
            open_id: open_id.to_owned(),
            name: seller_name.to_owned(),
            shops,
            access: None,
            refresh: None,
        });
    }

    /// How long tokens issued from now on live (already issued ones keep their expiry).
    pub fn set_token_lifetimes(&self, access: Duration, refresh: Duration) {
        let mut state = lock(&self.state);
        (state.access_lifetime, state.refresh_lifetime) = (access, refresh);
    }

    /// Expire every issued access token now: calls with one get 401, code 105002, until
    /// the client refreshes (refresh tokens are untouched).
    pub fn expire_access_tokens(&self) {
        let now = unix_now();
        for seller in &mut lock(&self.state).sellers {
            if let Some(token) = &mut seller.access {
                token.expires_at = now;
            }
        }
    }

    /// Allow at most `limit` Open API calls (auth calls are free) in any 60 s; `None` for
    /// no limit. Calls past it get 429, code 36009004, `Retry-After: 1`.
    pub fn set_requests_per_minute(&self, limit: Option<u32>) {
        lock(&self.state).requests_per_minute = limit;
    }

    /// File `order` (opaque; `order["id"]` is its id) under the shop whose id is `shop_id`,
    /// replacing that shop's order with the same id if there is one — so a test "updates"
    /// an order by adding it again, e.g. with a later `"update_time"` for search to find.
    pub fn add_order(&self, shop_id: &str, order: Value) {
        let mut state = lock(&self.state);
        let id = server::order_id(&order);
        let stored = (state.orders.iter_mut()).find(|(shop, stored)| {
            shop.as_str() == shop_id && id.is_some() && server::order_id(stored) == id
        });
        match stored {
            Some(stored) => stored.1 = order,
            None => state.orders.push((shop_id.to_owned(), order)),
        }
    }

    /// File `product` (opaque, as Search Products lists it: `product["id"]` is its id,
    /// `"status"` what a search's `status` filter matches, `"skus"` its SKUs) under the
    /// shop whose id is `shop_id`, replacing that shop's product with the same id in place —
    /// so a test changes a product's price or stock by adding it again.
    pub fn add_product(&self, shop_id: &str, product: Value) {
        let mut state = lock(&self.state);
        // A product's `"id"`, string or number, reads as an order's does.
        let id = server::order_id(&product);
        let stored = (state.products.iter_mut()).find(|(shop, stored)| {
            shop.as_str() == shop_id && id.is_some() && server::order_id(stored) == id
        });
        match stored {
            Some(stored) => stored.1 = product,
            None => state.products.push((shop_id.to_owned(), product)),
        }
    }

    /// Answer the next `n` otherwise-valid inventory updates with 500, code 1, recording
    /// none of their SKUs — as TikTok does now and then, so a client's retry is tested.
    pub fn fail_next_inventory_updates(&self, n: usize) {
        lock(&self.state).failing_inventory_updates = n;
    }

    /// Make each valid inventory update take `delay` before it is recorded and answered
    /// (the fake keeps serving other calls meanwhile), to test a client's timeouts.
    pub fn set_inventory_delay(&self, delay: Duration) {
        lock(&self.state).inventory_delay = delay;
    }

    /// Every SKU update recorded so far, oldest first.
    pub fn inventory_updates(&self) -> Vec<InventoryUpdate> {
        lock(&self.state).inventory_updates.clone()
    }

    /// How many Search Orders calls succeeded.
    pub fn order_searches(&self) -> usize {
        lock(&self.state).order_searches
    }

    /// How many Search Products calls succeeded.
    pub fn product_searches(&self) -> usize {
        lock(&self.state).product_searches
    }

    /// The access token currently issued to the seller `open_id`, if any (expired or not).
    pub fn current_access_token(&self, open_id: &str) -> Option<String> {
        let state = lock(&self.state);
        let seller = state.sellers.iter().find(|s| s.open_id == open_id)?;
        seller.access.as_ref().map(|t| t.value.clone())
    }

    /// How many token/get exchanges succeeded.
    pub fn token_grants(&self) -> usize {
        lock(&self.state).token_grants
    }

    /// How many token/refresh calls succeeded.
    pub fn refreshes(&self) -> usize {
        lock(&self.state).refreshes
    }

    /// How many token/refresh calls were refused (bad app, grant type or refresh token).
    pub fn failed_refreshes(&self) -> usize {
        lock(&self.state).failed_refreshes
    }

    /// Every request answered so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.state).recorded.clone()
    }
}
