//! Job handlers, one file per job.

pub mod apply_delivery;
pub mod create_checkout;
pub mod process_delivery;
