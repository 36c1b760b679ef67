//! The queue transport: apalis-redis, configured once for the web, the worker and the CLI.
//!
//! Redis only carries inbox ids; Postgres holds every job's state (docs/contract.md §4). This crate
//! builds the connection, the per-queue apalis `Config`, pushes jobs (a replayed row's too:
//! [`replay`]) and reads depths.
//! It works around apalis-redis 1.0.0's known defects: a lazy `ConnectionManager` with
//! sane timeouts (not the 500 ms default), explicit queue names, short heartbeats so the
//! orphan timeout matches ours, and no use of `vacuum`.

mod client;
mod delayed;
mod depth;
mod once;
pub mod replay;
mod wakeups;

pub use client::{QueueClient, QueueError};
pub use depth::Depth;
pub use wakeups::Wakeup;
