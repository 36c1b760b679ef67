//! The seller console (docs/contract.md §11): one web app for the people running a live —
//! the lineup and its claims as they happen, the stock, one order's whole story, the queues
//! and the dead-letter queue, the trends.
//!
//! Pages are rendered on the server ([`maud`]) and read and write through `shopwire-core`
//! (the same functions the admin CLI calls); the browser's only script keeps the live page
//! current from a server-sent event stream and counts holds down.

pub mod assets;
pub mod auth;
pub mod error;
pub mod feed;
pub mod health;
pub mod layout;
pub mod live_view;
pub mod pages;
pub mod routes;
pub mod startup;
pub mod state;
