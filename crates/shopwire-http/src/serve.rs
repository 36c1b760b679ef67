//! The accept loop every Shopwire HTTP server runs.
//!
//! `axum::serve` gives hyper no timer, so hyper's header-read timeout never fires: an idle
//! or one-byte-a-second connection stays open until file descriptors run out. Here:
//! - every connection must deliver a request's headers within `header_timeout` of opening,
//!   and again within `header_timeout` of each response (hyper starts the same timer while
//!   a keep-alive connection waits for its next request), else the server closes it;
//! - at most `max_connections` are open at once: one more is closed as soon as it is
//!   accepted, so the kernel's backlog never fills with connections nobody serves;
//! - HTTP/1.1 only, unless `allow_http2` (providers deliver webhooks over HTTP/1.1; a
//!   cleartext HTTP/2 connection multiplexes many requests past the connection cap);
//! - graceful shutdown: stop accepting, close idle connections, finish in-flight requests.
//!
//! Slow request bodies and oversize bodies stay the handlers' business (the web answers
//! 408 and 413 as before). Each request carries `ConnectInfo<SocketAddr>`, as
//! `into_make_service_with_connect_info` would give it.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use shopwire_core::config::EdgeSettings;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

/// Open connections refused because the server was at `HTTP_MAX_CONNECTIONS`.
pub const CONNECTIONS_REFUSED_TOTAL: &str = "shopwire_http_connections_refused_total";
/// Connections open now.
pub const CONNECTIONS_OPEN: &str = "shopwire_http_connections_open";

/// How a server treats its connections (from [`EdgeSettings`]).
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// `HTTP_HEADER_TIMEOUT_SECS`.
    pub header_timeout: Duration,
    /// `HTTP_MAX_CONNECTIONS`.
    pub max_connections: usize,
    /// `HTTP_ALLOW_HTTP2`.
    pub allow_http2: bool,
}

impl From<&EdgeSettings> for ServeOptions {
    fn from(edge: &EdgeSettings) -> Self {
        Self {
            header_timeout: edge.header_timeout,
            max_connections: edge.max_connections,
            allow_http2: edge.allow_http2,
        }
    }
}

/// Serve `router` on `listener` until `shutdown` resolves; then stop accepting, let open
/// connections finish their requests, and return.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    // hyper-util's auto builder ignores `http1_only` for upgradable connections and reads
    // the protocol preface with no deadline, so HTTP/1.1-only serving uses hyper's own
    // HTTP/1 builder.
    let http1 = http1_builder(options);
    let auto = options.allow_http2.then(|| auto_builder(options));
    let permits = Arc::new(Semaphore::new(options.max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            metrics::counter!(CONNECTIONS_REFUSED_TOTAL).increment(1);
            tracing::debug!(%remote, "at HTTP_MAX_CONNECTIONS; connection closed");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone().map_request(
            move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(remote));
                request
            },
        ));
        let io = TokioIo::new(stream);
        match &auto {
            None => {
                let connection = http1.serve_connection(io, service);
                spawn_watched(graceful.watch(connection), permit, remote);
            }
            Some(auto) => {
                // The auto builder waits for the protocol preface with no deadline: a
                // connection that sends nothing within the header timeout is closed here.
                let (auto, watcher) = (auto.clone(), graceful.watcher());
                let header_timeout = options.header_timeout;
                spawn_watched(
                    async move {
                        let mut first = [0u8; 1];
                        let spoke =
                            tokio::time::timeout(header_timeout, io.inner().peek(&mut first)).await;
                        if !matches!(spoke, Ok(Ok(n)) if n > 0) {
                            return Ok(());
                        }
                        let connection = auto
                            .serve_connection_with_upgrades(io, service)
                            .into_owned();
                        watcher.watch(connection).await
                    },
                    permit,
                    remote,
                );
            }
        }
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Run one connection to its end, counted and holding its slot.
fn spawn_watched<C, E>(connection: C, permit: OwnedSemaphorePermit, remote: SocketAddr)
where
    C: Future<Output = Result<(), E>> + Send + 'static,
    E: std::fmt::Display,
{
    metrics::gauge!(CONNECTIONS_OPEN).increment(1.0);
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            // Header timeouts, resets and half-sent requests: the client's doing.
            tracing::debug!(%remote, error = %e, "connection ended with an error");
        }
        metrics::gauge!(CONNECTIONS_OPEN).decrement(1.0);
        drop(permit);
    });
}

/// HTTP/1.1 with hyper's timer, so the header timeout runs from the connection's first
/// moment and again after every response.
fn http1_builder(options: ServeOptions) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout);
    builder
}

/// With `HTTP_ALLOW_HTTP2`: either protocol, told apart by the first bytes. HTTP/2 pings
/// an idle connection and closes it when a ping goes unanswered for the header timeout.
fn auto_builder(options: ServeOptions) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(options.header_timeout))
        .keep_alive_timeout(options.header_timeout);
    builder
}

/// Accept errors other than a connection that died in the backlog mean the process is out
/// of file descriptors (or similar): wait a moment for connections to close, as hyper 0.14
/// did, instead of spinning.
async fn accept_failed(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::warn!(error = %e, "accept failed; pausing for a moment");
    tokio::time::sleep(Duration::from_millis(100)).await;
}
