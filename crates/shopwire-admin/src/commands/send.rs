//! `send PROVIDER FILE`: sign a file's exact bytes with the configured secret and POST
//! it to the provider's webhook route, for demos and smoke tests.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use reqwest::header::CONTENT_TYPE;
use shopwire_core::config::Settings;
use shopwire_core::domain::Provider;

use crate::output::clip;

/// `send` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which route: stripe, tiktok-shop, tiktok or comments.
    provider: Provider,
    /// The body to send, byte for byte.
    file: PathBuf,
    /// Base URL of shopwire-web [default: http://127.0.0.1:$PORT].
    #[arg(long)]
    url: Option<String>,
}

/// The variable holding `provider`'s signing secrets.
pub fn secret_var(provider: Provider) -> &'static str {
    match provider {
        Provider::Stripe => "STRIPE_WEBHOOK_SECRETS",
        Provider::TiktokShop => "TIKTOK_SHOP_APP_KEY and TIKTOK_SHOP_APP_SECRETS",
        Provider::Tiktok => "TIKTOK_WEBHOOK_SECRETS",
        Provider::Comments => "COMMENTS_WEBHOOK_SECRETS",
    }
}

/// `base_url` + `/webhooks/<slug>`.
pub fn webhook_url(base_url: &str, provider: Provider) -> String {
    format!(
        "{}/webhooks/{}",
        base_url.trim_end_matches('/'),
        provider.route_slug()
    )
}

/// A POST of `body` to `provider`'s route under `base_url`, signed at unix time `now`
/// with the first configured secret, in the header that route checks. Fails, naming
/// the variable, when the route has no secret configured. When unsigned deliveries are
/// allowed (development) and no secret is set, the request carries no signature.
pub fn signed_request(
    settings: &Settings,
    provider: Provider,
    body: Vec<u8>,
    base_url: &str,
    now: i64,
) -> anyhow::Result<reqwest::RequestBuilder> {
    let verifier = settings.verifier(provider).with_context(|| {
        format!(
            "no webhook secret configured for {provider}: set {}",
            secret_var(provider)
        )
    })?;
    let url = webhook_url(base_url, provider);
    let url = reqwest::Url::parse(&url).with_context(|| format!("`{url}` is not a valid URL"))?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .context("failed to build the HTTP client")?;
    let mut request = client.post(url).header(CONTENT_TYPE, "application/json");
    if let Some(signature) = verifier.sign(&body, now) {
        request = request.header(verifier.header_name(), signature);
    }
    Ok(request.body(body))
}

/// Sign, send, print the answer; a non-2xx answer is a failure.
pub async fn run(args: Args, ctx: &super::Ctx) -> anyhow::Result<()> {
    let body = tokio::fs::read(&args.file)
        .await
        .with_context(|| format!("failed to read {}", args.file.display()))?;
    let base_url = args
        .url
        .unwrap_or_else(|| format!("http://127.0.0.1:{}", ctx.settings.port));
    let url = webhook_url(&base_url, args.provider);
    let now = chrono::Utc::now().timestamp();
    let response = signed_request(&ctx.settings, args.provider, body, &base_url, now)?
        .send()
        .await
        .with_context(|| format!("failed to POST to {url}"))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .with_context(|| format!("failed to read the response from {url}"))?;
    if !status.is_success() {
        bail!("{url} answered {status}: {}", clip(&text, 200));
    }
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    ctx.out.either(&json, || match &json {
        serde_json::Value::String(s) => format!("{status}\n{s}"),
        other => format!("{status}\n{other}"),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const NOW: i64 = 1_752_667_200;

    fn settings(vars: &[(&str, &str)]) -> Settings {
        let map: HashMap<String, String> = vars
            .iter()
            .chain(&[("DATABASE_URL", "postgres://localhost/x")])
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned()).expect("valid settings")
    }

    #[test]
    fn signed_request_carries_a_signature_the_route_accepts() {
        let settings = settings(&[
            ("STRIPE_WEBHOOK_SECRETS", "whsec_new,whsec_old"),
            ("TIKTOK_SHOP_APP_KEY", "appkey"),
            ("TIKTOK_SHOP_APP_SECRETS", "shopsecret"),
            ("TIKTOK_WEBHOOK_SECRETS", "tt"),
            ("COMMENTS_WEBHOOK_SECRETS", "cm"),
        ]);
        let body = br#"{"id":"evt_1","type":"charge.refunded"}"#.to_vec();
        for provider in Provider::ALL {
            let request = signed_request(
                &settings,
                provider,
                body.clone(),
                "http://127.0.0.1:9/",
                NOW,
            )
            .expect("builds")
            .build()
            .expect("valid request");
            let verifier = settings.verifier(provider).expect("configured");
            assert_eq!(request.method(), reqwest::Method::POST);
            assert_eq!(
                request.url().as_str(),
                format!("http://127.0.0.1:9/webhooks/{}", provider.route_slug())
            );
            assert_eq!(
                request.headers().get(CONTENT_TYPE).map(|v| v.as_bytes()),
                Some(&b"application/json"[..])
            );
            let sent = request
                .body()
                .and_then(|b| b.as_bytes())
                .expect("buffered body");
            assert_eq!(sent, &body[..]);
            let header = request
                .headers()
                .get(verifier.header_name())
                .expect("signature header");
            assert_eq!(
                verifier.verify(Some(header.as_bytes()), sent, NOW),
                Ok(()),
                "{provider}"
            );
        }
    }

    #[test]
    fn signed_request_without_a_secret_names_the_variable() {
        let settings = settings(&[]);
        let e = signed_request(&settings, Provider::Stripe, b"{}".to_vec(), "http://x", NOW)
            .expect_err("no secret");
        assert!(e.to_string().contains("STRIPE_WEBHOOK_SECRETS"), "{e}");
    }

    #[test]
    fn signed_request_refuses_an_invalid_base_url() {
        let settings = settings(&[("COMMENTS_WEBHOOK_SECRETS", "cm")]);
        assert!(
            signed_request(
                &settings,
                Provider::Comments,
                b"{}".to_vec(),
                "not a url",
                NOW
            )
            .is_err()
        );
    }
}
