//! Health, readiness, metrics and shutdown of the worker process (docs/contract.md §3, §8.5).

use serde_json::{Value, json};
use sqlx::PgPool;

use shopwire_testkit::raw::{closed_by_server, get_keep_alive};

use crate::helpers::spawn_worker;

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn health_ready_and_metrics_answer_on_the_worker_port(pool: PgPool) {
    let mut worker = spawn_worker(pool).await;
    let id = worker.deliver("evt_metrics").await;
    worker.wait_for_status(id, "processed").await;

    let health = worker.get("/health").await.expect("health answers");
    assert_eq!(health.status(), 200);
    let ready = worker.get("/ready").await.expect("ready answers");
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.expect("ready answers JSON");
    assert_eq!(
        body,
        json!({"status": "ok", "postgres": "ok", "redis": "ok"})
    );
    let metrics = worker.get("/metrics").await.expect("metrics answer");
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.expect("metrics are text");
    assert!(text.contains("shopwire_jobs_total"), "{text}");
    worker.stop().await.expect("clean shutdown");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn ready_names_redis_when_it_is_unreachable_while_health_stays_up(pool: PgPool) {
    let mut worker = crate::helpers::spawn_worker_with(pool, |env| {
        env.insert("REDIS_URL".into(), "redis://127.0.0.1:1".into());
    })
    .await;

    let ready = worker.get("/ready").await.expect("ready answers");
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.expect("ready answers JSON");
    assert_eq!(
        (body["postgres"].as_str(), body["redis"].as_str()),
        (Some("ok"), Some("unavailable"))
    );
    assert_eq!(
        worker
            .get("/health")
            .await
            .expect("health answers")
            .status(),
        200
    );
    worker
        .stop()
        .await
        .expect("clean shutdown even without redis");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn shutdown_returns_ok_within_the_grace_period_and_closes_the_health_port(pool: PgPool) {
    let mut worker = spawn_worker(pool).await;
    let id = worker.deliver("evt_before_shutdown").await;
    worker.wait_for_status(id, "processed").await;
    let port = worker.port();
    assert_eq!(
        worker
            .get("/health")
            .await
            .expect("health answers")
            .status(),
        200
    );

    // `stop` bounds the wait by SHUTDOWN_GRACE_SECS plus a margin.
    worker.stop().await.expect("run_until returns Ok");

    let after = worker
        .client
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .await;
    assert!(after.is_err(), "the health port still answers: {after:?}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_health_port_closes_silent_and_idle_keep_alive_connections(pool: PgPool) {
    use std::time::Duration;
    // The cap is the same serve loop's, tested on the web (connections.rs); the harness's
    // own pooled client holds health-port connections, so counting slots here would be
    // counting its connections too.
    let header_timeout = Duration::from_secs(2);
    let mut worker = crate::helpers::spawn_worker_with(pool, |env| {
        env.insert("HTTP_HEADER_TIMEOUT_SECS".into(), "2".into());
    })
    .await;
    let addr = format!("127.0.0.1:{}", worker.port());

    let silent = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connects");
    let opened = tokio::time::Instant::now();
    let mut kept = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connects");
    let head = get_keep_alive(&mut kept, "/health").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let slack = Duration::from_secs(4);
    for stream in [silent, kept] {
        let closed = closed_by_server(stream, header_timeout + slack).await;
        assert!(
            closed.is_some(),
            "a silent or idle connection is closed by the server"
        );
    }
    assert!(
        opened.elapsed() + Duration::from_millis(500) >= header_timeout,
        "not before the header timeout: {:?}",
        opened.elapsed()
    );
    let health = worker.get("/health").await.expect("health answers");
    assert_eq!(health.status(), 200);
    worker.stop().await.expect("clean shutdown");
}
