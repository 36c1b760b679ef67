//! Signing in and out, the session cookie, CSRF, and the limit on guessing.

use reqwest::StatusCode;
use shopwire_console::startup::App;
use sqlx::PgPool;

use crate::helpers::{Browser, PASSWORD, base_env, location, settings, spawn_console};

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_page_without_a_session_sends_you_to_sign_in(pool: PgPool) {
    let console = spawn_console(&pool).await;
    let browser = Browser::new(&console);

    let response = browser.get("/live/anna").await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/signin?next=%2Flive%2Fanna");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn forms_and_the_event_stream_without_a_session_are_refused_outright(pool: PgPool) {
    let console = spawn_console(&pool).await;
    let browser = Browser::new(&console);

    let pin = browser
        .client
        .post(browser.url("/live/anna/pin"))
        .form(&[("csrf", "x"), ("sku", "A")])
        .send()
        .await
        .expect("answered");
    let stream = browser
        .client
        .get(browser.url("/live/anna/events"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .expect("answered");

    assert_eq!(pin.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(stream.status(), StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_right_password_opens_a_session_in_an_http_only_same_site_strict_cookie(pool: PgPool) {
    let console = spawn_console(&pool).await;
    let browser = Browser::new(&console);

    let response = browser.sign_in(PASSWORD).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/");
    let cookie = response
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("a session cookie")
        .to_owned();
    assert!(cookie.starts_with("shopwire_console="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "development serves plain http: {cookie}"
    );
    assert!(browser.page("/live").await.contains("Lives"));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_wrong_password_is_a_401_that_says_so_and_keeps_you_out(pool: PgPool) {
    let console = spawn_console(&pool).await;
    let browser = Browser::new(&console);

    let response = browser.sign_in("not the password").await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .is_none()
    );
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("That is not the password.")
    );
    assert_eq!(browser.get("/live").await.status(), StatusCode::SEE_OTHER);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn guessing_is_limited_even_when_the_guess_finally_is_right(pool: PgPool) {
    let console = spawn_console(&pool).await;
    let browser = Browser::new(&console);

    for _ in 0..5 {
        assert_eq!(
            browser.sign_in("guess").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = browser.sign_in(PASSWORD).await;

    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key(reqwest::header::RETRY_AFTER));
    assert_eq!(browser.get("/live").await.status(), StatusCode::SEE_OTHER);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn after_sign_in_the_console_never_sends_you_to_another_site(pool: PgPool) {
    let console = spawn_console(&pool).await;
    let browser = Browser::new(&console);

    let response = browser
        .client
        .post(browser.url("/signin"))
        .form(&[("password", PASSWORD), ("next", "//evil.example/")])
        .send()
        .await
        .expect("answered");

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn signing_out_ends_the_session_for_good(pool: PgPool) {
    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;
    let stolen_cookie = browser
        .client
        .get(browser.url("/live"))
        .send()
        .await
        .expect("answered");
    assert_eq!(stolen_cookie.status(), StatusCode::OK);

    let out = browser.submit("/live", "/signout", &[]).await;

    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&out), "/signin");
    assert_eq!(browser.get("/live").await.status(), StatusCode::SEE_OTHER);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_form_with_another_sessions_token_changes_nothing(pool: PgPool) {
    let console = spawn_console(&pool).await;
    let mallory = Browser::signed_in(&console).await;
    let seller = Browser::signed_in(&console).await;
    let mallorys_token = mallory.csrf("/live").await;

    let response = seller
        .client
        .post(seller.url("/signout"))
        .form(&[("csrf", mallorys_token.as_str())])
        .send()
        .await
        .expect("answered");

    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("reload the page"));
    assert_eq!(
        seller.get("/live").await.status(),
        StatusCode::OK,
        "still signed in"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_console_refuses_to_start_without_a_password(pool: PgPool) {
    let mut env = base_env(&pool);
    env.remove("CONSOLE_PASSWORD");

    let error = match App::build(settings(&env)).await {
        Ok(_) => panic!("the console started without CONSOLE_PASSWORD"),
        Err(e) => e.to_string(),
    };

    assert!(
        error.starts_with("CONSOLE_PASSWORD: is required"),
        "{error}"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_short_password_is_refused_at_startup_naming_the_rule(pool: PgPool) {
    let mut env = base_env(&pool);
    env.insert("CONSOLE_PASSWORD".into(), "1234".into());

    let error = match App::build(settings(&env)).await {
        Ok(_) => panic!("the console started with a 4-character password"),
        Err(e) => e.to_string(),
    };

    assert_eq!(error, "CONSOLE_PASSWORD: must be at least 8 characters");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn health_and_readiness_answer_without_a_session(pool: PgPool) {
    let console = spawn_console(&pool).await;
    let browser = Browser::new(&console);

    let health = browser.get("/health").await;
    let ready = browser.get("/ready").await;

    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(ready.status(), StatusCode::OK);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["postgres"], "ok");
    assert_eq!(body["live_feed"], "ok");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_console_whose_database_is_away_is_not_ready(pool: PgPool) {
    let mut env = base_env(&pool);
    env.insert(
        "DATABASE_URL".into(),
        "postgres://postgres@127.0.0.1:1/nowhere".into(),
    );
    let app = App::build(settings(&env)).await.expect("starts lazily");
    let address = format!("http://127.0.0.1:{}", app.port());
    let server = tokio::spawn(app.run_until(std::future::pending()));

    let ready = reqwest::get(format!("{address}/ready"))
        .await
        .expect("answered");

    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["postgres"], "unavailable");
    assert_eq!(body["live_feed"], "unavailable");
    server.abort();
}
