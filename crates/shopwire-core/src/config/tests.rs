use std::collections::HashMap;

use secrecy::ExposeSecret;

use super::*;

fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let mut map: HashMap<String, String> = HashMap::from([(
        "DATABASE_URL".to_owned(),
        "postgres://u:pw@localhost/db".to_owned(),
    )]);
    for (k, v) in vars {
        map.insert((*k).to_owned(), (*v).to_owned());
    }
    Settings::from_lookup(|k| map.get(k).cloned())
}

#[test]
fn defaults_match_the_spec() {
    let s = settings(&[]).expect("defaults are valid");
    assert_eq!(s.app_env, AppEnv::Development);
    assert_eq!(s.port, 8080);
    assert_eq!(s.worker_port, 9091);
    assert_eq!(s.webhook_max_body_bytes, 1 << 20);
    assert_eq!(s.signature_tolerance_secs, 300);
    assert_eq!(s.job_max_attempts, 8);
    assert_eq!(s.job_backoff_base, Duration::from_millis(1000));
    assert_eq!(s.job_backoff_max, Duration::from_millis(600_000));
    assert_eq!(s.orphan_timeout, Duration::from_secs(60));
    assert_eq!(s.sweep_after, Duration::from_secs(60));
    assert_eq!(s.shutdown_grace, Duration::from_secs(25));
    assert_eq!(s.reservation_ttl, Duration::from_secs(3600));
    assert!((s.buy_intent_threshold - 0.5).abs() < f32::EPSILON);
    assert_eq!(s.redis_url.expose_secret(), "redis://127.0.0.1:6379");
}

#[test]
fn missing_database_url_names_the_variable() {
    let err = Settings::from_lookup(|_| None).expect_err("DATABASE_URL is required");
    assert_eq!(err.var(), "DATABASE_URL");
    assert!(err.to_string().starts_with("DATABASE_URL"));
}

#[test]
fn a_bad_number_names_the_variable_and_value() {
    let err = settings(&[("PORT", "eighty")]).expect_err("not a number");
    assert_eq!(err.to_string(), "PORT: `eighty` is not a number");
    let err = settings(&[("BUY_INTENT_THRESHOLD", "1.5")]).expect_err("out of range");
    assert_eq!(err.var(), "BUY_INTENT_THRESHOLD");
}

#[test]
fn production_refuses_unsigned_webhooks() {
    let err = settings(&[
        ("APP_ENV", "production"),
        ("ALLOW_UNSIGNED_WEBHOOKS", "true"),
    ])
    .expect_err("unsafe in production");
    assert_eq!(err.var(), "ALLOW_UNSIGNED_WEBHOOKS");
    let dev = settings(&[
        ("APP_ENV", "development"),
        ("ALLOW_UNSIGNED_WEBHOOKS", "true"),
    ])
    .expect("fine in development");
    assert!(dev.accepts_unsigned());
}

#[test]
fn unsigned_webhooks_need_app_env_named_not_merely_defaulted() {
    let err = settings(&[("ALLOW_UNSIGNED_WEBHOOKS", "true")])
        .expect_err("APP_ENV unset is not development enough");
    assert_eq!(err.var(), "ALLOW_UNSIGNED_WEBHOOKS");
    assert!(err.to_string().contains("APP_ENV"), "{err}");
    let unset = settings(&[]).expect("APP_ENV unset is fine when everything is signed");
    assert_eq!(unset.app_env, AppEnv::Development);
    assert!(!unset.accepts_unsigned());
}

#[test]
fn the_edge_has_safe_defaults_and_names_bad_values() {
    let s = settings(&[]).expect("defaults are valid");
    assert_eq!(s.edge.header_timeout, Duration::from_secs(10));
    assert_eq!(s.edge.max_connections, 10_000);
    assert!(!s.edge.allow_http2);
    assert_eq!(s.edge.webhook_max_in_flight, 512);
    assert_eq!(s.edge.ready_cache, Duration::from_millis(1000));
    assert_eq!(s.edge.message_max_chars, 2000);
    assert_eq!(s.edge.inbox_retention_days, None);
    let s =
        settings(&[("INBOX_RETENTION_DAYS", "30"), ("HTTP_ALLOW_HTTP2", "true")]).expect("valid");
    assert_eq!(s.edge.inbox_retention_days, Some(30));
    assert!(s.edge.allow_http2);
    for (var, bad) in [
        ("INBOX_RETENTION_DAYS", "0"),
        ("INBOX_RETENTION_DAYS", "a month"),
        ("HTTP_HEADER_TIMEOUT_SECS", "0"),
        ("HTTP_MAX_CONNECTIONS", "0"),
        ("WEBHOOK_MAX_IN_FLIGHT", "-1"),
        ("MESSAGE_MAX_CHARS", "3"),
    ] {
        let err = settings(&[(var, bad)]).expect_err(bad);
        assert_eq!(err.var(), var, "{err}");
    }
}

#[test]
fn holds_last_a_minute_to_a_day_with_or_without_stripe() {
    let stripe = [
        ("STRIPE_SECRET_KEY", "sk_test_x"),
        ("CHECKOUT_SUCCESS_URL", "https://shop.example.com/thanks"),
    ];
    for ttl in ["60", "600", "86400"] {
        let with_stripe = [stripe[0], stripe[1], ("RESERVATION_TTL_SECS", ttl)];
        let s = settings(&with_stripe).expect("shorter than a Stripe session is fine");
        assert_eq!(s.reservation_ttl.as_secs().to_string(), ttl);
        settings(&[("RESERVATION_TTL_SECS", ttl)]).expect("fine without Stripe too");
    }
    for ttl in ["59", "86401", "0"] {
        let err = settings(&[stripe[0], stripe[1], ("RESERVATION_TTL_SECS", ttl)])
            .expect_err("outside 60..=86400");
        assert_eq!(err.var(), "RESERVATION_TTL_SECS");
        assert_eq!(
            settings(&[("RESERVATION_TTL_SECS", ttl)])
                .expect_err("outside 60..=86400")
                .var(),
            "RESERVATION_TTL_SECS"
        );
    }
}

#[test]
fn stripe_checkout_needs_a_success_url() {
    // Stripe refuses a hosted Checkout Session without `success_url` (400), so every
    // checkout job would be dead-lettered: refuse to start instead.
    for blank in [None, Some(""), Some("   ")] {
        let mut vars = vec![("STRIPE_SECRET_KEY", "sk_test_x")];
        if let Some(value) = blank {
            vars.push(("CHECKOUT_SUCCESS_URL", value));
        }
        let err = settings(&vars).expect_err("no success URL");
        assert_eq!(err.var(), "CHECKOUT_SUCCESS_URL", "{blank:?}");
        let line = err.to_string();
        assert!(line.starts_with("CHECKOUT_SUCCESS_URL: "), "{line}");
        assert!(line.contains("STRIPE_SECRET_KEY"), "{line}");
        assert!(!line.contains('\n'), "{line}");
    }
    let s = settings(&[
        ("STRIPE_SECRET_KEY", "sk_test_x"),
        (
            "CHECKOUT_SUCCESS_URL",
            "https://shop.example.com/thanks?session_id={CHECKOUT_SESSION_ID}",
        ),
    ])
    .expect("with a success URL");
    assert_eq!(
        s.checkout_success_url.as_deref(),
        Some("https://shop.example.com/thanks?session_id={CHECKOUT_SESSION_ID}")
    );
    assert_eq!(s.checkout_cancel_url, None, "the cancel URL stays optional");
    // Without Stripe checkout, no redirect is needed.
    settings(&[]).expect("no Stripe key, no success URL");
    let err = settings(&[
        ("STRIPE_SECRET_KEY", "sk_test_x"),
        ("CHECKOUT_SUCCESS_URL", "shop.example.com/thanks"),
    ])
    .expect_err("not a URL");
    assert_eq!(err.var(), "CHECKOUT_SUCCESS_URL");
}

#[test]
fn secrets_never_appear_in_debug_output() {
    let s = settings(&[
        (
            "STRIPE_WEBHOOK_SECRETS",
            "whsec_supersecret1,whsec_supersecret2",
        ),
        ("STRIPE_SECRET_KEY", "sk_live_supersecret3"),
        ("CHECKOUT_SUCCESS_URL", "https://shop.example.com/thanks"),
    ])
    .expect("valid");
    let debug = format!("{s:?}");
    assert!(!debug.contains("supersecret"), "{debug}");
    assert!(!debug.contains("pw@"), "{debug}");
}

#[test]
fn a_route_without_secrets_has_no_verifier_unless_unsigned_is_allowed() {
    let s = settings(&[("STRIPE_WEBHOOK_SECRETS", "whsec_a")]).expect("valid");
    assert!(s.verifier(Provider::Stripe).is_some());
    assert!(s.verifier(Provider::Comments).is_none());
    let dev = settings(&[
        ("APP_ENV", "development"),
        ("ALLOW_UNSIGNED_WEBHOOKS", "true"),
    ])
    .expect("valid");
    assert!(matches!(
        dev.verifier(Provider::Comments),
        Some(Verifier::Unsigned)
    ));
}

#[test]
fn tiktok_shop_key_and_secrets_come_together() {
    let err = settings(&[("TIKTOK_SHOP_APP_SECRETS", "s")]).expect_err("key missing");
    assert_eq!(err.var(), "TIKTOK_SHOP_APP_KEY");
}

#[test]
fn the_tiktok_shop_api_needs_a_shop_cipher() {
    // Get Order Detail (202309) requires `shop_cipher`.
    let api = [
        ("TIKTOK_SHOP_APP_KEY", "key"),
        ("TIKTOK_SHOP_APP_SECRETS", "secret"),
        ("TIKTOK_SHOP_ACCESS_TOKEN", "token"),
    ];
    for cipher in [None, Some(""), Some("  ")] {
        let mut vars = api.to_vec();
        if let Some(value) = cipher {
            vars.push(("TIKTOK_SHOP_SHOP_CIPHER", value));
        }
        let err = settings(&vars).expect_err("no shop cipher");
        assert_eq!(err.var(), "TIKTOK_SHOP_SHOP_CIPHER", "{cipher:?}");
        let line = err.to_string();
        assert!(line.starts_with("TIKTOK_SHOP_SHOP_CIPHER: "), "{line}");
        assert!(!line.contains('\n'), "{line}");
    }
    let mut vars = api.to_vec();
    vars.push(("TIKTOK_SHOP_SHOP_CIPHER", "ROW_abc"));
    let s = settings(&vars).expect("with a cipher");
    assert!(s.tiktok_shop_api_configured());
    assert_eq!(s.tiktok_shop_shop_cipher.as_deref(), Some("ROW_abc"));
    // The app key and secret alone (connected shops bring their own tokens and ciphers)
    // need no static cipher.
    let s = settings(&api[..2]).expect("connections only");
    assert!(s.tiktok_shop_api_configured());
    assert_eq!(s.tiktok_shop_auth_base, "https://auth.tiktok-shops.com");
    let s = settings(&[]).expect("no TikTok Shop at all");
    assert!(!s.tiktok_shop_api_configured());
}

#[test]
fn trend_settings_have_defaults_and_name_their_variable() {
    let s = settings(&[]).expect("defaults are valid");
    assert_eq!(s.trends_interval, Duration::from_secs(300));
    assert_eq!(s.trends_fetch_interval, Duration::from_secs(900));
    assert_eq!(s.trends_scorer, TrendScorerKind::Formula);
    assert_eq!(s.rapidapi_host, "tiktok-scraper2.p.rapidapi.com");
    assert_eq!(s.rapidapi_requests_per_minute, 30);
    assert_eq!(
        s.stock_alerts,
        AlertThresholds {
            critical_hours: 6.0,
            low_hours: 24.0,
            medium_hours: 72.0,
        }
    );
    let err = settings(&[("TRENDS_INTERVAL_SECS", "0")]).expect_err("out of range");
    assert_eq!(err.var(), "TRENDS_INTERVAL_SECS");
    let err = settings(&[("STOCK_ALERT_CRITICAL_HOURS", "soon")]).expect_err("not a number");
    assert_eq!(
        err.to_string(),
        "STOCK_ALERT_CRITICAL_HOURS: `soon` is not a number"
    );
    let err = settings(&[("TRENDS_SCORER", "anthropic")]).expect_err("needs an LLM");
    assert_eq!(err.var(), "TRENDS_SCORER");
    let err = settings(&[("TRENDS_SCORER", "magic")]).expect_err("unknown scorer");
    assert_eq!(err.var(), "TRENDS_SCORER");
}

#[test]
fn stock_alert_thresholds_must_increase() {
    let err = settings(&[("STOCK_ALERT_CRITICAL_HOURS", "30")]).expect_err("above low");
    assert_eq!(err.var(), "STOCK_ALERT_CRITICAL_HOURS");
    let err = settings(&[("STOCK_ALERT_MEDIUM_HOURS", "12")]).expect_err("below low");
    assert_eq!(err.var(), "STOCK_ALERT_LOW_HOURS");
    let s = settings(&[
        ("STOCK_ALERT_CRITICAL_HOURS", "1.5"),
        ("STOCK_ALERT_LOW_HOURS", "4"),
        ("STOCK_ALERT_MEDIUM_HOURS", "8"),
    ])
    .expect("valid");
    assert_eq!(s.stock_alerts.critical_hours, 1.5);
}

#[test]
fn claim_settings_default_as_documented_and_name_a_bad_variable() {
    let s = settings(&[]).expect("defaults are valid");
    assert_eq!(s.claims.max_quantity, 5);
    assert_eq!(s.claims.order_window, Duration::from_millis(300));
    assert_eq!(s.claims.waitlist_max, 50);
    assert_eq!(s.claims.waitlist_ttl, Duration::from_secs(86_400));
    assert_eq!(s.claims.buyer_max_open_holds, 10);
    assert!(!s.claims.lineup_only);
    let off = settings(&[("CLAIM_ORDER_WINDOW_MS", "0"), ("WAITLIST_MAX", "0")])
        .expect("0 turns the window and waitlists off");
    assert_eq!(
        (off.claims.order_window, off.claims.waitlist_max),
        (Duration::ZERO, 0)
    );
    for (var, value) in [
        ("MAX_CLAIM_QUANTITY", "0"),
        ("MAX_CLAIM_QUANTITY", "21"),
        ("CLAIM_ORDER_WINDOW_MS", "soon"),
        ("WAITLIST_TTL_SECS", "10"),
        ("BUYER_MAX_OPEN_HOLDS", "0"),
        ("LIVE_LINEUP_ONLY", "maybe"),
    ] {
        assert_eq!(settings(&[(var, value)]).expect_err(var).var(), var);
    }
}

#[test]
fn the_console_needs_its_own_password_but_the_other_processes_do_not() {
    let s = settings(&[]).expect("web and worker start without CONSOLE_PASSWORD");
    assert_eq!(s.console.port, 8081);
    assert_eq!(s.console.session_ttl, Duration::from_secs(12 * 3600));
    assert_eq!(
        s.console.required_password().expect_err("none set").var(),
        "CONSOLE_PASSWORD"
    );
    let short = settings(&[("CONSOLE_PASSWORD", "seven77")]).expect("read");
    assert_eq!(
        short
            .console
            .required_password()
            .expect_err("too short")
            .to_string(),
        "CONSOLE_PASSWORD: must be at least 8 characters"
    );
    let good =
        settings(&[("CONSOLE_PASSWORD", "eight888"), ("CONSOLE_PORT", "9000")]).expect("read");
    assert_eq!(
        good.console
            .required_password()
            .expect("long enough")
            .expose_secret(),
        "eight888"
    );
    assert_eq!(good.console.port, 9000);
    for (var, value) in [("CONSOLE_PORT", "70000"), ("CONSOLE_SESSION_HOURS", "0")] {
        assert_eq!(settings(&[(var, value)]).expect_err(var).var(), var);
    }
    let debug = format!("{:?}", good.console);
    assert!(!debug.contains("eight888"), "{debug}");
}
