//! Job handlers, one file per job.

pub mod apply_delivery;
pub mod create_checkout;
pub mod process_delivery;
pub mod reply_to_buyer;
pub mod run_job;
pub mod score_trends;
