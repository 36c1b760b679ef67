//! `App::build` wires settings into the console's router and listener; `main` and the
//! tests both start the console through it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use shopwire_core::config::{AppEnv, Settings};
use shopwire_http::{ReadyProbe, ServeOptions};
use shopwire_queue::QueueClient;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::auth::Auth;
use crate::feed::Feed;
use crate::state::ConsoleState;

/// A built, bound, not yet serving console.
pub struct App {
    listener: TcpListener,
    router: Router,
    state: ConsoleState,
    serve: ServeOptions,
}

impl App {
    /// Check `CONSOLE_PASSWORD`, connect (lazily: the console starts while Postgres or
    /// Redis are down), start the live feed, bind `CONSOLE_PORT`.
    pub async fn build(settings: Settings) -> anyhow::Result<App> {
        let password = settings.console.required_password()?;
        let auth = Auth::new(
            password,
            settings.console.session_ttl,
            settings.app_env == AppEnv::Production,
        )?;
        let pool = shopwire_core::db::lazy_pool(&settings)
            .context("DATABASE_URL is not a valid Postgres URL")?;
        let queue = QueueClient::lazy(
            &settings.redis_url,
            &settings.queue_prefix,
            settings.orphan_timeout,
        )
        .context("REDIS_URL is not a valid Redis URL")?;
        let ready = ReadyProbe::new("console", &settings, queue.clone())
            .context("DATABASE_URL is not a valid Postgres URL")?;
        let state = ConsoleState {
            feed: Feed::start(pool.clone()),
            pool,
            queue,
            auth: Arc::new(auth),
            ready: Arc::new(ready),
        };
        let port = settings.console.port;
        let listener = shopwire_http::bind(SocketAddr::from(([0, 0, 0, 0], port)))
            .with_context(|| format!("failed to bind CONSOLE_PORT {port}"))?;
        Ok(App {
            listener,
            router: router(state.clone()),
            state,
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

    /// The shared state (tests wait on the feed).
    pub fn state(&self) -> &ConsoleState {
        &self.state
    }

    /// Serve until `shutdown` resolves, then finish in-flight requests and return.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(port = self.port(), "shopwire-console listening");
        // Each request carries `ConnectInfo<SocketAddr>` (the sign-in limiter keys on it).
        let served = shopwire_http::serve(self.listener, self.router, self.serve, shutdown).await;
        self.state.ready.close().await;
        served.context("server error")
    }
}

/// The routes with their middleware.
pub fn router(state: ConsoleState) -> Router {
    crate::routes::router(state)
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("console handler panicked");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                crate::layout::error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the console hit a bug on this page; it has been logged",
                ),
            )
                .into_response()
        }))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path())
        }))
}
