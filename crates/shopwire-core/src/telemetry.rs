//! One telemetry setup for every binary: JSON logs in production, pretty in development,
//! `RUST_LOG` respected (default `info`), and Sentry when `SENTRY_DSN` is set.

pub mod metrics;

use secrecy::ExposeSecret;
use sentry::integrations::tracing::{ErrorLayer, SpanLayer};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry, fmt, layer::SubscriberExt};

use crate::config::{AppEnv, Settings};

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// Start logging and Sentry. Keep the returned guard alive for the life of the process
/// so queued Sentry events are flushed on exit. Later calls only re-init Sentry.
pub fn init(settings: &Settings) -> Option<sentry::ClientInitGuard> {
    let guard = settings.sentry_dsn.as_ref().map(|dsn| {
        let mut options = sentry::ClientOptions::default();
        options.release = sentry::release_name!();
        options.environment = Some(environment(settings.app_env).into());
        // No buyer data leaves for Sentry: no request bodies, no IPs, no cookies.
        options.send_default_pii = false;
        sentry::init((dsn.expose_secret(), options))
    });
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let format: BoxedLayer = match settings.app_env {
        AppEnv::Production => fmt::layer()
            .with_writer(std::io::stderr)
            .json()
            .with_current_span(true)
            .with_filter(filter)
            .boxed(),
        AppEnv::Development => fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(false)
            .with_filter(filter)
            .boxed(),
    };
    let mut layers = vec![format];
    if guard.is_some() {
        layers.push(SpanLayer::new().with_filter(LevelFilter::INFO).boxed());
        layers.push(ErrorLayer::new().with_filter(LevelFilter::ERROR).boxed());
    }
    let _ = tracing_subscriber::registry().with(layers).try_init();
    guard
}

fn environment(app_env: AppEnv) -> &'static str {
    match app_env {
        AppEnv::Production => "production",
        AppEnv::Development => "development",
    }
}
