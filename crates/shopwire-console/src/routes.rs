//! Every route of the console, and which need a session.

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};

use crate::assets;
use crate::auth::require_session;
use crate::error::PageError;
use crate::health;
use crate::pages::{home, inventory, live, orders, queues, signin, trends};
use crate::state::ConsoleState;

/// The routes with their state.
pub fn router(state: ConsoleState) -> Router {
    let signed_in = Router::new()
        .route("/", get(home::index))
        .route("/signout", post(signin::sign_out))
        .route("/live", get(live::index))
        .route("/live/open", get(live::open))
        .route("/live/{streamer}", get(live::show))
        .route("/live/{streamer}/events", get(live::events))
        .route("/live/{streamer}/pin", post(live::pin))
        .route("/live/{streamer}/unpin", post(live::unpin))
        .route("/live/{streamer}/lineup", post(live::lineup_add))
        .route("/live/{streamer}/lineup/remove", post(live::lineup_remove))
        .merge(inventory::routes())
        .merge(orders::routes())
        .merge(queues::routes())
        .merge(trends::routes())
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_session,
        ));
    Router::new()
        .route("/signin", get(signin::form).post(signin::submit))
        .route("/assets/console.css", get(assets::stylesheet))
        .route("/assets/console.js", get(assets::script))
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .merge(signed_in)
        .fallback(|| async { PageError::NotFound("no such page".into()) })
        .with_state(state)
}
