//! `shopwire-console`: telemetry → config → build → serve until SIGTERM.

use shopwire_console::startup::App;
use shopwire_core::config::Settings;
use shopwire_core::telemetry;

#[tokio::main]
async fn main() {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("shopwire-console: configuration error: {e}");
            std::process::exit(1);
        }
    };
    let _sentry = telemetry::init(&settings);
    let result = async {
        App::build(settings)
            .await?
            .run_until(shopwire_core::shutdown::signal())
            .await
    }
    .await;
    if let Err(e) = result {
        tracing::error!(error = ?e, "shopwire-console stopped");
        eprintln!("shopwire-console: {e:#}");
        std::process::exit(1);
    }
}
