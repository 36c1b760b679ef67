//! Postgres down: 503, never a 2xx. Redis down: still 200, the inbox keeps it `queued`.

use serde_json::json;
use shopwire_core::domain::Provider;
use sqlx::PgPool;

use crate::helpers::{fixture, json, spawn_app, spawn_app_with};

const CLOSED_POSTGRES: &str = "postgres://postgres@127.0.0.1:1/none";
const CLOSED_REDIS: &str = "redis://127.0.0.1:1";

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn delivery_is_503_when_postgres_is_unreachable(pool: PgPool) {
    let app = spawn_app_with(pool, |env| {
        env.insert("DATABASE_URL".into(), CLOSED_POSTGRES.into());
    })
    .await;
    let body = fixture("stripe/charge.refunded.json");

    let (status, answer) = json(app.post_signed(Provider::Stripe, &body).await).await;

    assert_eq!(
        (status.as_u16(), answer),
        (503, json!({"error": "unavailable"}))
    );
    assert_eq!(
        app.total_queue_depth().await,
        0,
        "nothing is enqueued for an unrecorded delivery"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn malformed_delivery_is_503_not_400_when_postgres_is_unreachable(pool: PgPool) {
    let app = spawn_app_with(pool, |env| {
        env.insert("DATABASE_URL".into(), CLOSED_POSTGRES.into());
    })
    .await;
    let (status, answer) = json(app.post_signed(Provider::Stripe, b"not json").await).await;
    assert_eq!(
        (status.as_u16(), answer),
        (503, json!({"error": "unavailable"}))
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn ready_names_postgres_when_it_is_unreachable_while_health_stays_up(pool: PgPool) {
    let app = spawn_app_with(pool, |env| {
        env.insert("DATABASE_URL".into(), CLOSED_POSTGRES.into());
    })
    .await;

    let (status, answer) = json(app.get("/ready").await).await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["postgres"], "unavailable");
    assert_eq!(answer["redis"], "ok");

    let (status, _) = json(app.get("/health").await).await;
    assert_eq!(status, 200);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn delivery_is_accepted_and_stays_queued_when_redis_is_unreachable(pool: PgPool) {
    let app = spawn_app_with(pool, |env| {
        env.insert("REDIS_URL".into(), CLOSED_REDIS.into());
    })
    .await;
    let body = fixture("stripe/checkout.session.expired.json");

    let (status, answer) = json(app.post_signed(Provider::Stripe, &body).await).await;

    assert_eq!(status, 200, "{answer}");
    let rows = app.inbox_rows().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        answer,
        json!({"status": "accepted", "id": rows[0].id.to_string()})
    );
    assert_eq!(
        rows[0].status, "queued",
        "the sweeper will enqueue it once Redis is back"
    );
    assert_eq!(rows[0].body, body);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn ready_names_redis_when_it_is_unreachable(pool: PgPool) {
    let app = spawn_app_with(pool, |env| {
        env.insert("REDIS_URL".into(), CLOSED_REDIS.into());
    })
    .await;

    let (status, answer) = json(app.get("/ready").await).await;

    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["redis"], "unavailable");
    assert_eq!(answer["postgres"], "ok");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn ready_is_200_when_postgres_and_redis_answer(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (status, answer) = json(app.get("/ready").await).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({"status": "ok", "postgres": "ok", "redis": "ok"})
    );
}
