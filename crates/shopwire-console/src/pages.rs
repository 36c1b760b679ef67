//! One module per page (or group of pages), each with its handlers.

pub mod home;
pub mod inventory;
pub mod live;
pub mod orders;
pub mod queues;
pub mod signin;
pub mod trends;
