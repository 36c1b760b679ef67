//! Shopwire's ingest server: verify each webhook over its raw bytes, record it in the
//! Postgres inbox, enqueue its id, answer in milliseconds.

pub mod error;
pub mod metrics;
pub mod recorder;
pub mod routes;
pub mod shed;
pub mod startup;
pub mod state;
