//! What the web, the worker's health port and the console share at the HTTP edge
//! (docs/edge.md):
//!
//! - [`bind`]: a listening socket with a backlog deep enough for a crowd of connections.
//! - [`serve`]: an accept loop with a header-read timeout that also bounds idle keep-alive
//!   connections, a cap on open connections, HTTP/1.1 only unless configured, and graceful
//!   shutdown; `axum::serve` has none of the first three knobs.
//! - [`ready`]: a readiness probe on its own Postgres connection whose answer is cached, so a
//!   flood of `GET /ready` costs at most one probe per `READY_CACHE_MS` and never takes a
//!   connection from the pool that records webhooks.

pub mod bind;
pub mod ready;
pub mod serve;

pub use bind::bind;
pub use ready::{Check, Readiness, ReadyProbe, answer};
pub use serve::{ServeOptions, serve};
