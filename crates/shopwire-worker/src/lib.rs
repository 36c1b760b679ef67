//! Shopwire's worker: drains the apalis queues on Redis and applies each delivery once,
//! with Postgres holding every job's state (docs/contract.md §3, §4).

pub mod attempt;
pub mod claim_watch;
pub mod context;
pub mod health;
pub mod http;
pub mod jobs;
pub mod outbound;
pub mod pipeline;
pub mod poll;
pub mod promoter;
pub mod retry;
pub mod startup;
pub mod stripe;
pub mod supervisor;
pub mod sweeper;
pub mod tiktok_inventory;
pub mod tiktok_messaging;
pub mod tiktok_reconcile;
pub mod tiktok_shop;
pub mod trends;
