//! Integration tests: the real `shopwire-admin` binary against a fresh Postgres database
//! per test (`#[sqlx::test]`).

mod classify;
mod events;
mod helpers;
mod inventory;
mod live;
mod migrate;
mod seed;
