//! The real web app (`App::build`) in-process on port 0, and a signing client for it.

use std::collections::HashMap;
use std::future::pending;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use shopwire_core::config::Settings;
use shopwire_core::domain::Provider;
use shopwire_web::startup::App;
use tokio::task::JoinHandle;

use super::support::redis_url;

/// A running web app; its server task is aborted when dropped.
pub struct Web {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// What the app was built with (its verifiers sign the test's deliveries).
    pub settings: Settings,
    /// A client with a deadline, so a hung server fails the test instead of stalling it.
    pub client: reqwest::Client,
    server: JoinHandle<anyhow::Result<()>>,
}

/// Start the web on `database_url`, the shared Redis under `prefix`, every route signed.
pub async fn start(database_url: &str, prefix: &str) -> Web {
    let env: HashMap<&str, String> = [
        ("DATABASE_URL", database_url.to_owned()),
        ("DATABASE_MAX_CONNECTIONS", "8".into()),
        ("REDIS_URL", redis_url()),
        ("QUEUE_PREFIX", prefix.to_owned()),
        ("PORT", "0".into()),
        ("STRIPE_WEBHOOK_SECRETS", "whsec_faults_stripe".into()),
        ("TIKTOK_SHOP_APP_KEY", "faults_app_key".into()),
        ("TIKTOK_SHOP_APP_SECRETS", "faults_app_secret".into()),
        ("TIKTOK_WEBHOOK_SECRETS", "faults_tiktok_secret".into()),
        ("COMMENTS_WEBHOOK_SECRETS", "faults_comments_secret".into()),
    ]
    .into_iter()
    .collect();
    let settings = Settings::from_lookup(|k| env.get(k).cloned()).expect("test settings are valid");
    let app = App::build(settings.clone()).await.expect("the web builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let server = tokio::spawn(app.run_until(pending()));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("client builds");
    Web {
        address,
        settings,
        client,
        server,
    }
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .expect("clock after 1970")
}

impl Web {
    /// `(header name, value)` signing `body` for `provider` now, as the provider would.
    pub fn signature(&self, provider: Provider, body: &[u8]) -> (&'static str, String) {
        let verifier = self
            .settings
            .verifier(provider)
            .expect("every route has a secret");
        let value = verifier
            .sign(body, unix_now())
            .expect("a configured verifier signs");
        (verifier.header_name(), value)
    }

    /// The path of `provider`'s webhook route.
    pub fn url(&self, provider: Provider) -> String {
        format!("{}/webhooks/{}", self.address, provider.route_slug())
    }

    /// POST `body` signed for `provider`; the status and the JSON answer.
    pub async fn deliver(&self, provider: Provider, body: &[u8]) -> reqwest::Result<(u16, Value)> {
        let (name, value) = self.signature(provider, body);
        let response = self
            .client
            .post(self.url(provider))
            .header(name, value)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// The status of `GET path`.
    pub async fn get_status(&self, path: &str) -> reqwest::Result<u16> {
        let response = self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await?;
        Ok(response.status().as_u16())
    }
}

impl Drop for Web {
    fn drop(&mut self) {
        self.server.abort();
    }
}
