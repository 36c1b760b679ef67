//! The worker's integration tests: the real worker from `Worker::build`, real Postgres
//! (a database per test), real Redis (a key prefix per test, or a private server).

mod carts;
mod checkout;
mod claims;
mod dead_letters;
mod helpers;
mod lifecycle;
mod ordering;
mod outbound_events;
mod outbound_sender;
mod prices;
mod private_redis;
mod processing;
mod replies;
mod resilience;
mod retention;
mod retry_timing;
mod stripe_events;
mod stripe_lifecycle;
mod stripe_support;
mod sweeping;
mod tiktok_inventory;
mod tiktok_oversell;
mod tiktok_reconcile;
mod tiktok_shop;
mod tiktok_shop_api;
mod tiktok_shop_connected;
mod trends;
