//! What every handler shares.

use std::sync::Arc;

use shopwire_http::ReadyProbe;
use shopwire_queue::QueueClient;
use sqlx::PgPool;

use crate::auth::Auth;
use crate::feed::Feed;

/// The console's shared state (cheap to clone).
#[derive(Clone)]
pub struct ConsoleState {
    /// Postgres, through which every page reads and writes.
    pub pool: PgPool,
    /// Redis, for queue depths and pushing replayed jobs.
    pub queue: QueueClient,
    /// The password check, sessions and the sign-in limiter.
    pub auth: Arc<Auth>,
    /// The live feed: committed events, fanned out to every open live page.
    pub feed: Feed,
    /// `/ready`'s cached probe, on its own connection.
    pub ready: Arc<ReadyProbe>,
}
