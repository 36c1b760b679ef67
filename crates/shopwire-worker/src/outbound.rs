//! Sending outbound events to the endpoints sellers register, as Standard Webhooks
//! (docs/contract.md §10): the signature header, the address guard and the HTTP client. The
//! job that claims a delivery row decides what a result means for the row and the endpoint.

pub mod client;
pub mod resolve;
pub mod sign;
pub mod wake;

pub use client::{Delivered, OutboundClient, SendError};
