//! Load shedding (issue #11): past `WEBHOOK_MAX_IN_FLIGHT` deliveries in flight, one more
//! is answered 503 with `Retry-After` before any work, so nothing of it is recorded; the
//! provider's retry is accepted once a slot is free.

use std::time::Duration;

use shopwire_core::domain::Provider;
use sqlx::PgPool;

use crate::helpers::{TestApp, json, route, spawn_app_with, unix_now};
use crate::raw::{addr, finish, half_sent};

fn stripe_event(id: &str) -> Vec<u8> {
    format!(r#"{{"id":"{id}","object":"event","type":"charge.refunded","data":{{"object":{{}}}}}}"#)
        .into_bytes()
}

/// Wait until the server sheds: a delivery with a bad signature is answered 503 instead of
/// 401 only when every slot is taken (shedding comes before the signature check, so the
/// probe itself can never be recorded).
async fn wait_until_shedding(app: &TestApp) {
    shopwire_testkit::wait_until(
        "both slots are held by the half-sent deliveries",
        Duration::from_secs(5),
        || async {
            let probe = app
                .post_raw(
                    &route(Provider::Stripe),
                    &[("Stripe-Signature", b"t=1,v1=00")],
                    stripe_event("evt_probe"),
                )
                .await;
            probe.status() == 503
        },
    )
    .await;
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn past_the_in_flight_limit_a_delivery_is_shed_with_retry_after_and_its_retry_is_accepted(
    pool: PgPool,
) {
    let app = spawn_app_with(pool, |env| {
        env.insert("WEBHOOK_MAX_IN_FLIGHT".into(), "2".into());
    })
    .await;
    let mut held = Vec::new();
    for id in ["evt_held_1", "evt_held_2"] {
        let body = stripe_event(id);
        let (name, value) = app.sign_at(Provider::Stripe, &body, unix_now());
        held.push(half_sent(addr(&app), &route(Provider::Stripe), (name, &value), &body).await);
    }
    wait_until_shedding(&app).await;

    let shed_body = stripe_event("evt_shed");
    let shed = app.post_signed(Provider::Stripe, &shed_body).await;
    let retry_after = shed
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (status, answer) = json(shed).await;
    assert_eq!(status, 503);
    assert_eq!(answer, serde_json::json!({"error": "overloaded"}));
    let seconds: u64 = retry_after
        .expect("a shed delivery says when to retry")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&seconds), "Retry-After: {seconds}");
    assert!(
        app.inbox_rows().await.is_empty(),
        "nothing is recorded for a shed delivery (nor for the held ones, not yet whole)"
    );
    assert_eq!(app.total_queue_depth().await, 0, "and nothing is enqueued");
    let metrics = app
        .get("/metrics")
        .await
        .text()
        .await
        .expect("metrics are text");
    let shed_count: f64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("shopwire_deliveries_shed_total "))
        .unwrap_or_else(|| panic!("shed deliveries are counted: {metrics}"))
        .trim()
        .parse()
        .expect("a number");
    assert!(
        shed_count >= 2.0,
        "the probe and the delivery: {shed_count}"
    );

    for (stream, rest) in held {
        let (status, body) = finish(stream, &rest).await;
        assert!(status.starts_with("HTTP/1.1 200"), "{status} {body}");
        assert!(body.contains(r#""status":"accepted""#), "{body}");
    }
    let (status, answer) = json(app.post_signed(Provider::Stripe, &shed_body).await).await;
    assert_eq!(status, 200, "the provider's retry is accepted: {answer}");
    assert_eq!(answer["status"], "accepted");
    let recorded: Vec<String> = app
        .inbox_rows()
        .await
        .into_iter()
        .map(|row| row.dedupe_key)
        .collect();
    assert_eq!(recorded.len(), 3, "{recorded:?}");
    assert!(
        recorded
            .iter()
            .all(|key| key.starts_with("evt_held") || key == "evt_shed"),
        "the bad-signature probes left no row: {recorded:?}"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn health_and_ready_are_not_shed_when_the_webhook_routes_are_full(pool: PgPool) {
    let app = spawn_app_with(pool, |env| {
        env.insert("WEBHOOK_MAX_IN_FLIGHT".into(), "1".into());
    })
    .await;
    let body = stripe_event("evt_held");
    let (name, value) = app.sign_at(Provider::Stripe, &body, unix_now());
    let (stream, rest) =
        half_sent(addr(&app), &route(Provider::Stripe), (name, &value), &body).await;
    wait_until_shedding(&app).await;

    assert_eq!(app.get("/health").await.status(), 200);
    let (status, answer) = json(app.get("/ready").await).await;
    assert_eq!(
        status, 200,
        "a full webhook route is not unreadiness: {answer}"
    );

    let (status, _) = finish(stream, &rest).await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
}
