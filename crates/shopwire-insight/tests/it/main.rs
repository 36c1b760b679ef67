//! Integration tests: trend scoring runs against a fresh Postgres database per test
//! (`#[sqlx::test]`), with the scorer and thresholds the default settings give.

mod trends;
