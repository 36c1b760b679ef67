//! `App::build` wires settings into a router and a listener; `main` and the tests both
//! start the app through it, so tests exercise the real wiring.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, StatusCode};
use axum::response::IntoResponse;
use shopwire_core::config::Settings;
use shopwire_core::domain::Provider;
use shopwire_http::{ReadyProbe, ServeOptions};
use shopwire_queue::QueueClient;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::error::ApiError;
use crate::state::AppState;
use crate::{routes, shed};

/// A built, bound, not yet serving web app.
pub struct App {
    listener: TcpListener,
    router: Router,
    serve: ServeOptions,
    ready: Arc<ReadyProbe>,
}

impl App {
    /// Connect (lazily: the process starts while Postgres or Redis are down), check the
    /// webhook secrets, bind `PORT`.
    pub async fn build(settings: Settings) -> anyhow::Result<App> {
        // Install the metrics recorder before anything records.
        shopwire_core::telemetry::metrics::handle();
        let pool = shopwire_core::db::lazy_pool(&settings)
            .context("DATABASE_URL is not a valid Postgres URL")?;
        let queue = QueueClient::lazy(
            &settings.redis_url,
            &settings.queue_prefix,
            settings.orphan_timeout,
        )
        .context("REDIS_URL is not a valid Redis URL")?;
        let ready = shopwire_http::ReadyProbe::new("web", &settings, queue.clone())
            .context("DATABASE_URL is not a valid Postgres URL")?;
        let state = AppState::new(&settings, pool, queue, ready);
        for provider in Provider::ALL {
            if !state.verifiers.contains_key(&provider) {
                tracing::warn!(
                    provider = provider.as_str(),
                    "no webhook secret configured: this route refuses every delivery"
                );
            }
        }
        let listener = shopwire_http::bind(SocketAddr::from(([0, 0, 0, 0], settings.port)))
            .with_context(|| format!("failed to bind PORT {}", settings.port))?;
        Ok(App {
            listener,
            ready: state.ready.clone(),
            router: router(state),
            serve: ServeOptions::from(&settings.edge),
        })
    }

    /// The bound port (tests bind port 0).
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    /// Serve until `shutdown` resolves, then finish in-flight requests and return.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(port = self.port(), "shopwire-web listening");
        let served = shopwire_http::serve(self.listener, self.router, self.serve, shutdown).await;
        self.ready.close().await;
        served.context("server error")
    }
}

/// The full router with its middleware.
pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(
            routes::webhooks::router()
                .route_layer(axum::middleware::from_fn_with_state(state.clone(), shed::shed)),
        )
        .merge(routes::health::router())
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(state)
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("handler panicked");
            (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(serde_json::json!({"error": "internal"}))).into_response()
        }))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    tracing::info_span!("http", method = %req.method(), path = %req.uri().path())
                })
                // A 5xx is logged once where it is decided, at the level it deserves (shed
                // load is not an error; Postgres refusing a delivery is): not again here at
                // ERROR, which Sentry would receive for every shed delivery.
                .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(sentry::integrations::tower::SentryHttpLayer::new().enable_transaction())
        .layer(sentry::integrations::tower::NewSentryLayer::<Request>::new_from_top())
}
