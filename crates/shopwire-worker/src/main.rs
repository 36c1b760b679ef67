//! `shopwire-worker`: telemetry → config → build → drain queues until SIGTERM.

use shopwire_core::config::Settings;
use shopwire_core::telemetry;
use shopwire_worker::startup::Worker;

#[tokio::main]
async fn main() {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("shopwire-worker: configuration error: {e}");
            std::process::exit(1);
        }
    };
    let _sentry = telemetry::init(&settings);
    let result = async {
        Worker::build(settings)
            .await?
            .run_until(shopwire_core::shutdown::signal())
            .await
    }
    .await;
    if let Err(e) = result {
        tracing::error!(error = ?e, "shopwire-worker stopped");
        eprintln!("shopwire-worker: {e:#}");
        std::process::exit(1);
    }
}
