//! Job handlers, one file per job.

pub mod apply_delivery;
pub mod process_delivery;
