//! Integration tests: the real `shopwire-admin` binary against a fresh Postgres database
//! per test (`#[sqlx::test]`).

mod buyers;
mod claim_data;
mod claims;
mod claims_parse;
mod classify;
mod dlq;
mod endpoints;
mod events;
mod forget;
mod helpers;
mod inbox;
mod inventory;
mod lineup;
mod live;
mod migrate;
mod orders;
mod outbox;
mod queues;
mod replay;
mod seed;
mod tiktok_import;
mod tiktok_orders;
mod tiktok_shop;
mod trends;
