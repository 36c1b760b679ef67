//! The ingest server's integration tests: the real app over HTTP, real Postgres, real Redis.

mod accepted;
mod body_limits;
mod concurrency;
mod configuration;
mod connections;
mod duplicates;
mod group_commit;
mod helpers;
mod hostile;
mod log_levels;
mod malformed;
mod outages;
mod raw;
mod ready_flood;
mod routing;
mod shedding;
mod signatures;
