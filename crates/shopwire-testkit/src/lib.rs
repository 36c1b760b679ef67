//! What every crate's integration tests need to reach the services a test owns: its own
//! `#[sqlx::test]` database, the shared Redis, waiting for a condition with a deadline
//! instead of sleeping, the repository's `fixtures/`, and a [`SlowProxy`] to slow a
//! service down. [`fake_tiktok_shop`] is a stateful fake of TikTok Shop's auth and Open
//! API hosts that checks signatures and expires tokens the way TikTok Shop does.

pub mod fake_tiktok_shop;
pub mod raw;
mod slow_proxy;

pub use slow_proxy::SlowProxy;

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use sqlx::PgPool;

/// The suite's `DATABASE_URL`, pointed at the database `#[sqlx::test]` made for `pool`
/// (credentials, host and query string kept).
pub fn database_url(pool: &PgPool) -> String {
    let database = pool
        .connect_options()
        .get_database()
        .expect("sqlx::test names its database")
        .to_owned();
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for #[sqlx::test]");
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url.as_str(), String::new()),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority..].find('/') {
        Some(slash) => &base[..authority + slash],
        None => base,
    };
    format!("{root}/{database}{query}")
}

/// The `host:port` part of a Postgres URL (after any `user:password@`).
fn host_port(url: &str) -> (usize, usize) {
    let authority = url.find("://").map_or(0, |i| i + 3);
    let end = url[authority..]
        .find(['/', '?'])
        .map_or(url.len(), |i| authority + i);
    let start = url[authority..end]
        .rfind('@')
        .map_or(authority, |i| authority + i + 1);
    (start, end)
}

/// The address of the suite's Postgres (from `DATABASE_URL`; port 5432 when it names none).
pub fn postgres_addr() -> std::net::SocketAddr {
    use std::net::ToSocketAddrs;
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for #[sqlx::test]");
    let (start, end) = host_port(&url);
    let authority = &url[start..end];
    let authority = match authority.contains(':') {
        true => authority.to_owned(),
        false => format!("{authority}:5432"),
    };
    authority
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .unwrap_or_else(|| panic!("DATABASE_URL's host {authority} does not resolve"))
}

/// [`database_url`] for `pool`, reaching Postgres through `proxy` (a [`SlowProxy`]).
pub fn database_url_through(pool: &PgPool, proxy: std::net::SocketAddr) -> String {
    let url = database_url(pool);
    let (start, end) = host_port(&url);
    format!("{}{proxy}{}", &url[..start], &url[end..])
}

/// The Redis every test shares (each under its own key prefix).
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Poll `condition` every 20 ms until it holds; panic naming `what` after `within`.
pub async fn wait_until<F, Fut>(what: &str, within: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if condition().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {within:?} waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The repository's `fixtures/` folder (see `fixtures/README.md`).
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures"))
}

/// The exact bytes of a fixture, named by its path under `fixtures/`, e.g.
/// `stripe/charge.refunded.json`. Signatures in `test-vectors.json` are over these bytes.
pub fn fixture(path: &str) -> Vec<u8> {
    let full = fixtures_dir().join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("reading fixture {}: {e}", full.display()))
}

/// A fixture parsed as JSON, e.g. `test-vectors.json` or an event a test edits.
pub fn fixture_json(path: &str) -> serde_json::Value {
    serde_json::from_slice(&fixture(path))
        .unwrap_or_else(|e| panic!("fixture {path} is not JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::host_port;

    #[test]
    fn the_host_and_port_of_a_postgres_url_are_found_past_its_credentials() {
        for (url, expected) in [
            ("postgres://postgres@127.0.0.1:5432/test", "127.0.0.1:5432"),
            ("postgres://u:p@db.local/test?sslmode=disable", "db.local"),
            ("postgres://127.0.0.1:6543", "127.0.0.1:6543"),
        ] {
            let (start, end) = host_port(url);
            assert_eq!(&url[start..end], expected, "{url}");
        }
    }
}
