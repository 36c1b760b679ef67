//! The web binary refuses settings it cannot serve with, in one line naming the variable.

/// Stripe refuses a hosted Checkout Session without `success_url`: with a Stripe key and
/// no `CHECKOUT_SUCCESS_URL` the web does not start (the worker, reading the same
/// settings, neither).
#[test]
fn a_stripe_key_without_a_success_url_stops_startup_naming_the_variable() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_shopwire-web"))
        .env_clear()
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("REDIS_URL", "redis://127.0.0.1:1")
        .env("PORT", "0")
        .env("STRIPE_SECRET_KEY", "sk_test_web_startup")
        .output()
        .expect("the binary runs");
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
