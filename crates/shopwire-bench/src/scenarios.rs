//! One module per load scenario.

pub mod console;
pub mod e2e;
pub mod hot_sku;
pub mod idle;
pub mod ingest;
pub mod outbound;
pub mod tiktok_shop;
