//! `shopwire-web`: telemetry → config → build → serve until SIGTERM.

use shopwire_core::config::Settings;
use shopwire_core::telemetry;
use shopwire_web::startup::App;

#[tokio::main]
async fn main() {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("shopwire-web: configuration error: {e}");
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
        tracing::error!(error = ?e, "shopwire-web stopped");
        eprintln!("shopwire-web: {e:#}");
        std::process::exit(1);
    }
}
