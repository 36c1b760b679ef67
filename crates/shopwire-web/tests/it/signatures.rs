//! Every way a signature can fail is a 401 with a stable code, and records nothing.

use serde_json::{Value, json};
use shopwire_core::domain::Provider;
use sqlx::PgPool;

use crate::helpers::{
    STRIPE_SECRET, TestApp, fixture, json, route, sign_with_test_secrets, spawn_app,
    spawn_app_with, unix_now,
};

/// Nothing reached the inbox or a queue.
async fn assert_nothing_recorded(app: &TestApp) {
    assert!(
        app.inbox_rows().await.is_empty(),
        "a refused delivery was recorded"
    );
    assert_eq!(
        app.total_queue_depth().await,
        0,
        "a refused delivery was enqueued"
    );
}

async fn post(
    app: &TestApp,
    provider: Provider,
    headers: &[(&str, &[u8])],
    body: &[u8],
) -> (u16, Value) {
    let (status, answer) = json(app.post_raw(&route(provider), headers, body.to_vec()).await).await;
    (status.as_u16(), answer)
}

fn invalid() -> (u16, Value) {
    (401, json!({"error": "invalid_signature"}))
}

fn out_of_tolerance() -> (u16, Value) {
    (401, json!({"error": "timestamp_out_of_tolerance"}))
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn missing_signature_header_is_refused_on_every_route(pool: PgPool) {
    let app = spawn_app(pool).await;
    let body = fixture("stripe/charge.refunded.json");
    for provider in Provider::ALL {
        assert_eq!(
            post(&app, provider, &[], &body).await,
            invalid(),
            "{provider}"
        );
    }
    assert_nothing_recorded(&app).await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn garbage_signature_headers_are_refused(pool: PgPool) {
    let app = spawn_app(pool).await;
    let body = fixture("stripe/charge.refunded.json");
    let now = unix_now();
    let sig = "ab".repeat(32);
    let garbage = [
        String::new(),
        "garbage".into(),
        "t=,v1=".into(),
        format!("t={now}"),
        format!("t={now},v1=zz"),
        format!("t={now},v1={sig}"),
        // v0 is ignored, so a header with only v0 has no signature of our scheme.
        format!("t={now},v0={sig}"),
        format!("t={now},t={now},v1={sig}"),
        format!("t=9999999999999999999999,v1={sig}"),
    ];
    for header in &garbage {
        let answer = post(
            &app,
            Provider::Stripe,
            &[("Stripe-Signature", header.as_bytes())],
            &body,
        )
        .await;
        assert_eq!(answer, invalid(), "{header}");
    }
    assert_nothing_recorded(&app).await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn signature_made_with_another_secret_is_refused(pool: PgPool) {
    // The app knows only a secret the sender does not have.
    let app = spawn_app_with(pool, |env| {
        env.insert(
            "STRIPE_WEBHOOK_SECRETS".into(),
            "whsec_somebody_else".into(),
        );
        env.insert("COMMENTS_WEBHOOK_SECRETS".into(), "another_relay".into());
        env.insert("TIKTOK_WEBHOOK_SECRETS".into(), "another_client".into());
    })
    .await;
    let body = fixture("stripe/charge.refunded.json");
    // The fixture's own header is a valid signature under the fixture secret.
    let stripe_vector =
        b"t=1752667200,v1=9faa607465999ba7bc61e5422ca38f0cd2b1ccc12bdac2b3f5561a3d8c605fbe";
    let answer = post(
        &app,
        Provider::Stripe,
        &[("Stripe-Signature", stripe_vector)],
        &body,
    )
    .await;
    assert_eq!(answer, invalid());
    for provider in [Provider::Stripe, Provider::Comments, Provider::Tiktok] {
        // Fresh, so only the secret is wrong.
        let (name, value) = sign_with_test_secrets(provider, &body, unix_now());
        let answer = post(&app, provider, &[(name, value.as_bytes())], &body).await;
        assert_eq!(answer, invalid(), "{provider}");
    }
    assert_nothing_recorded(&app).await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn tampered_body_is_refused(pool: PgPool) {
    let app = spawn_app(pool).await;
    let body = fixture("stripe/checkout.session.completed.json");
    let (name, value) = app.sign_at(Provider::Stripe, &body, unix_now());
    let tampered = String::from_utf8(body)
        .expect("utf-8")
        .replace("\"amount_total\": 4999", "\"amount_total\": 1");
    let answer = post(
        &app,
        Provider::Stripe,
        &[(name, value.as_bytes())],
        tampered.as_bytes(),
    )
    .await;
    assert_eq!(answer, invalid());

    // One byte more (a trailing newline a proxy might add) is tampering too.
    let body = fixture("stripe/charge.refunded.json");
    let (name, value) = app.sign_at(Provider::Stripe, &body, unix_now());
    let mut longer = body.clone();
    longer.push(b'\n');
    assert_eq!(
        post(&app, Provider::Stripe, &[(name, value.as_bytes())], &longer).await,
        invalid()
    );
    assert_nothing_recorded(&app).await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn stale_and_future_timestamps_are_out_of_tolerance(pool: PgPool) {
    let app = spawn_app(pool).await;
    let stripe = fixture("stripe/charge.refunded.json");
    let tiktok = fixture("tiktok/developers.authorization_removed.json");
    let comment = br#"{"comment_id":"c1","streamer":"s","client":"c","message":"m","timestamp":"2026-11-22T10:00:00Z"}"#;
    for (provider, body) in [
        (Provider::Stripe, &stripe[..]),
        (Provider::Tiktok, &tiktok[..]),
        (Provider::Comments, comment),
    ] {
        for skew in [-301, 301] {
            let (status, answer) =
                json(app.post_signed_at(provider, body, unix_now() + skew).await).await;
            assert_eq!(
                (status.as_u16(), answer),
                out_of_tolerance(),
                "{provider} at now{skew:+}"
            );
        }
    }
    // The fixture's own old header is correctly signed, but years stale.
    let vector =
        b"t=1752667200,v1=9faa607465999ba7bc61e5422ca38f0cd2b1ccc12bdac2b3f5561a3d8c605fbe";
    assert_eq!(
        post(
            &app,
            Provider::Stripe,
            &[("Stripe-Signature", vector)],
            &stripe
        )
        .await,
        out_of_tolerance()
    );
    assert_nothing_recorded(&app).await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn timestamps_just_inside_the_tolerance_are_accepted(pool: PgPool) {
    let app = spawn_app(pool).await;
    let a = br#"{"id":"evt_inside_past","type":"x"}"#;
    let b = br#"{"id":"evt_inside_future","type":"x"}"#;
    // 290 s, not 300: the server reads its clock a moment after we read ours.
    let (past, _) = json(
        app.post_signed_at(Provider::Stripe, a, unix_now() - 290)
            .await,
    )
    .await;
    let (future, _) = json(
        app.post_signed_at(Provider::Stripe, b, unix_now() + 290)
            .await,
    )
    .await;
    assert_eq!((past.as_u16(), future.as_u16()), (200, 200));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn route_without_a_configured_secret_refuses_even_valid_signatures(pool: PgPool) {
    let app = spawn_app_with(pool, |env| {
        env.remove("STRIPE_WEBHOOK_SECRETS");
        env.remove("TIKTOK_SHOP_APP_KEY");
        env.remove("TIKTOK_SHOP_APP_SECRETS");
    })
    .await;
    let stripe = fixture("stripe/charge.refunded.json");
    let shop = fixture("tiktok/shop.order_status_change.doc_vector.json");
    // `post_signed` falls back to the default test secrets for unconfigured routes.
    let (status, answer) = json(app.post_signed(Provider::Stripe, &stripe).await).await;
    assert_eq!((status.as_u16(), answer), invalid());
    let (status, answer) = json(app.post_signed(Provider::TiktokShop, &shop).await).await;
    assert_eq!((status.as_u16(), answer), invalid());
    assert_nothing_recorded(&app).await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn tiktok_shop_wrong_authorization_is_refused(pool: PgPool) {
    let app = spawn_app(pool).await;
    let body = fixture("tiktok/shop.order_status_change.doc_vector.json");
    let right = "5dec0f11ec2f6783b8deee53c9ffbf8d024302f7c7e7fa55a35d17629031ac05";
    let cases = [
        format!("{}0", &right[..63]),
        format!("Bearer {right}"),
        "not-hex".into(),
        right[..32].to_owned(),
        // A Stripe-style header on the TikTok Shop route.
        format!("t={},v1={right}", unix_now()),
    ];
    for header in &cases {
        let answer = post(
            &app,
            Provider::TiktokShop,
            &[("Authorization", header.as_bytes())],
            &body,
        )
        .await;
        assert_eq!(answer, invalid(), "{header}");
    }
    // The right signature in the wrong header.
    assert_eq!(
        post(
            &app,
            Provider::TiktokShop,
            &[("Stripe-Signature", right.as_bytes())],
            &body
        )
        .await,
        invalid()
    );
    assert_nothing_recorded(&app).await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn any_of_several_rotated_secrets_verifies(pool: PgPool) {
    let app = spawn_app_with(pool, |env| {
        let both = format!("whsec_new_one,{}", STRIPE_SECRET);
        env.insert("STRIPE_WEBHOOK_SECRETS".into(), both);
    })
    .await;
    let body = fixture("stripe/charge.refunded.json");
    // Signed with the second (old) secret only.
    let (name, value) = sign_with_test_secrets(Provider::Stripe, &body, unix_now());
    let (status, answer) = json(
        app.post_raw(&route(Provider::Stripe), &[(name, value.as_bytes())], body)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "accepted");
}
