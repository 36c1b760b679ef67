//! Shopwire core: what the web, the worker and the admin CLI must agree on.
//!
//! Domain types, configuration, Postgres access, signature verification and job
//! payloads. Nothing here knows about axum, apalis workers or clap.

pub mod claims;
pub mod config;
pub mod db;
pub mod domain;
pub mod jobs;
pub mod outbound;
pub mod retry_after;
pub mod shutdown;
pub mod signature;
pub mod telemetry;
pub mod trends;

/// The schema migrations in `migrations/`, embedded at compile time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");
