//! Job handlers, one file per job, and the one runner they all run under.

pub mod allocate_claims;
pub mod create_cart_checkout;
pub mod create_checkout;
pub mod deliver_event;
pub mod expire_checkout;
pub mod process_delivery;
pub mod refund_payment;
pub mod reply_to_buyer;
pub mod run_job;
pub mod runner;
pub mod score_trends;

pub use crate::attempt::JobError;
