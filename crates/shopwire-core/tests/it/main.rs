//! Integration tests of shopwire-core's Postgres queries against a real database, one
//! fresh database per test (`#[sqlx::test]`).

mod allocator;
mod functions;
mod helpers;
mod inbox;
mod inbox_batch;
mod outbox_events;
mod retention;
mod sweep;
mod tiktok_orders;
