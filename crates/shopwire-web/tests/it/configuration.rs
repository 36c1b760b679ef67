//! The web binary refuses settings it cannot serve with, in one line naming the variable.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Run `command` to its end; a binary still running after 15 s has started despite
/// the settings, and is killed.
fn run_to_refusal(command: &mut Command) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let deadline = Instant::now() + Duration::from_secs(15);
    while child.try_wait().expect("wait works").is_none() {
        if Instant::now() > deadline {
            child.kill().expect("kill works");
            let output = child.wait_with_output().expect("output");
            panic!("the binary started instead of refusing: {output:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// Stripe refuses a hosted Checkout Session without `success_url`: with a Stripe key and
/// no `CHECKOUT_SUCCESS_URL` the web does not start (the worker, reading the same
/// settings, neither).
#[test]
fn a_stripe_key_without_a_success_url_stops_startup_naming_the_variable() {
    let output = run_to_refusal(
        Command::new(env!("CARGO_BIN_EXE_shopwire-web"))
            .env_clear()
            .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
            .env("REDIS_URL", "redis://127.0.0.1:1")
            .env("PORT", "0")
            .env("STRIPE_SECRET_KEY", "sk_test_web_startup"),
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    let line = stderr.strip_suffix('\n').unwrap_or(&stderr);
    assert!(!line.contains('\n'), "one line: {stderr}");
    assert!(
        line.starts_with("shopwire-web: configuration error: CHECKOUT_SUCCESS_URL: "),
        "{stderr}"
    );
    assert!(!line.contains("sk_test_web_startup"), "{stderr}");
}

/// Get Order Detail (202309) requires `shop_cipher`: with the TikTok Shop API configured
/// and no `TIKTOK_SHOP_SHOP_CIPHER` the web does not start.
#[test]
fn the_tiktok_shop_api_without_a_shop_cipher_stops_startup_naming_the_variable() {
    let output = run_to_refusal(
        Command::new(env!("CARGO_BIN_EXE_shopwire-web"))
            .env_clear()
            .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
            .env("REDIS_URL", "redis://127.0.0.1:1")
            .env("PORT", "0")
            .env("TIKTOK_SHOP_APP_KEY", "app_key_web_startup")
            .env("TIKTOK_SHOP_APP_SECRETS", "app_secret_web_startup")
            .env("TIKTOK_SHOP_ACCESS_TOKEN", "access_token_web_startup"),
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    let line = stderr.strip_suffix('\n').unwrap_or(&stderr);
    assert!(!line.contains('\n'), "one line: {stderr}");
    assert!(
        line.starts_with("shopwire-web: configuration error: TIKTOK_SHOP_SHOP_CIPHER: "),
        "{stderr}"
    );
    for secret in ["app_secret_web_startup", "access_token_web_startup"] {
        assert!(!line.contains(secret), "{stderr}");
    }
}
