//! The console's integration tests: the real app over HTTP, real Postgres, real Redis.

mod helpers;
mod inventory;
mod live;
mod orders;
mod queues;
mod signin;
mod trends;
