//! The worker's integration tests: the real worker from `Worker::build`, real Postgres
//! (a database per test), real Redis (a key prefix per test, or a private server).

mod helpers;
mod lifecycle;
mod private_redis;
mod processing;
mod resilience;
mod sweeping;
