//! Postgres access: the pool and one module of query functions per table.
//!
//! Queries are runtime-checked (`sqlx::query_as`), not `query!` macros: the build then needs
//! no database and no committed `.sqlx/` cache, and every query here is exercised by an
//! integration test against a real Postgres.

pub mod buyers;
pub mod carts;
pub mod claims;
pub mod dead_letters;
pub mod deliveries;
pub mod endpoints;
pub mod feed;
pub mod inbox;
pub mod jobs;
pub mod lease;
pub mod lineup;
pub mod live_pins;
pub mod messages;
pub mod orders;
pub mod outbox;
pub mod payments;
pub mod products;
pub mod reminders;
pub mod retention;
pub mod tiktok_inventory;
pub mod tiktok_orders;
pub mod tiktok_shops;
pub mod trends;

use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::config::Settings;

/// Pool options shared by the three binaries.
pub fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        // Fail fast when Postgres is away: the web answers 503 and the provider retries.
        .acquire_timeout(Duration::from_secs(2))
        // A ping per checkout costs a round trip on the hot path; broken connections
        // surface as errors on use and are replaced.
        .test_before_acquire(false)
}

/// Connect options from `DATABASE_URL`, with the statement timeout that keeps a stuck
/// query from holding a request or a job forever.
pub fn connect_options(settings: &Settings) -> Result<PgConnectOptions, sqlx::Error> {
    let options: PgConnectOptions = settings.database_url.expose_secret().parse()?;
    Ok(options
        .application_name("shopwire")
        .options([("statement_timeout", "30s")]))
}

/// A lazily connecting pool: the process starts even while Postgres is down.
pub fn lazy_pool(settings: &Settings) -> Result<PgPool, sqlx::Error> {
    Ok(pool_options(settings.database_max_connections)
        .connect_lazy_with(connect_options(settings)?))
}

/// A lazily connecting pool of `max_connections` whose commits do not wait for the WAL
/// flush (`synchronous_commit=off`): only for writes whose loss in a Postgres crash means
/// doing them again, never for business state. The outbound deliveries' claims and results
/// use it: a lost claim is claimed again, a lost "delivered" mark re-sends the event under
/// the same `webhook-id`, which at-least-once delivery allows (docs/outbound.md).
pub fn lazy_relaxed_pool(settings: &Settings, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    Ok(pool_options(max_connections)
        .connect_lazy_with(connect_options(settings)?.options([("synchronous_commit", "off")])))
}
