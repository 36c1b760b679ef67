//! Bodies over `WEBHOOK_MAX_BODY_BYTES` are refused with 413 before anything else happens.

use bytes::Bytes;
use futures::stream;
use serde_json::json;
use shopwire_core::domain::Provider;
use sqlx::PgPool;

use crate::helpers::{TestApp, json, route, spawn_app_with, unix_now};

const LIMIT: usize = 1024;

async fn small_limit_app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, |env| {
        env.insert("WEBHOOK_MAX_BODY_BYTES".into(), LIMIT.to_string());
    })
    .await
}

/// A validly signed Stripe event of exactly `len` bytes.
fn stripe_event_of_len(id: &str, len: usize) -> Vec<u8> {
    let head = format!(r#"{{"id":"{id}","type":"x","pad":""#);
    let tail = r#""}"#;
    let pad = len - head.len() - tail.len();
    format!("{head}{}{tail}", "a".repeat(pad)).into_bytes()
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn body_over_the_limit_with_honest_content_length_is_413_and_not_recorded(pool: PgPool) {
    let app = small_limit_app(pool).await;
    let body = stripe_event_of_len("evt_big", LIMIT + 1);
    let (status, answer) = json(app.post_signed(Provider::Stripe, &body).await).await;
    assert_eq!(
        (status.as_u16(), answer),
        (413, json!({"error": "payload_too_large"}))
    );
    assert!(app.inbox_rows().await.is_empty());
    assert_eq!(app.total_queue_depth().await, 0);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn body_of_exactly_the_limit_is_accepted(pool: PgPool) {
    let app = small_limit_app(pool).await;
    let body = stripe_event_of_len("evt_at_limit", LIMIT);
    let (status, answer) = json(app.post_signed(Provider::Stripe, &body).await).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(app.inbox_rows().await[0].body, body);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn streamed_body_without_content_length_over_the_limit_is_413(pool: PgPool) {
    let app = small_limit_app(pool).await;
    let body = stripe_event_of_len("evt_chunked", 4 * LIMIT);
    let (name, value) = app.sign_at(Provider::Stripe, &body, unix_now());
    let chunks: Vec<Result<Bytes, std::io::Error>> = body
        .chunks(256)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let streamed = reqwest::Body::wrap_stream(stream::iter(chunks));

    let response = app
        .post_raw(
            &route(Provider::Stripe),
            &[(name, value.as_bytes())],
            streamed,
        )
        .await;
    let (status, answer) = json(response).await;

    assert_eq!(
        (status.as_u16(), answer),
        (413, json!({"error": "payload_too_large"}))
    );
    assert!(app.inbox_rows().await.is_empty());
    assert_eq!(app.total_queue_depth().await, 0);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn streamed_body_within_the_limit_is_accepted_byte_exact(pool: PgPool) {
    let app = small_limit_app(pool).await;
    let body = stripe_event_of_len("evt_chunked_ok", LIMIT - 10);
    let (name, value) = app.sign_at(Provider::Stripe, &body, unix_now());
    let chunks: Vec<Result<Bytes, std::io::Error>> = body
        .chunks(100)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let streamed = reqwest::Body::wrap_stream(stream::iter(chunks));

    let response = app
        .post_raw(
            &route(Provider::Stripe),
            &[(name, value.as_bytes())],
            streamed,
        )
        .await;
    let (status, answer) = json(response).await;

    assert_eq!(status, 200, "{answer}");
    assert_eq!(app.inbox_rows().await[0].body, body);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn oversized_body_is_refused_before_its_signature_is_checked(pool: PgPool) {
    let app = small_limit_app(pool).await;
    let (status, answer) = json(
        app.post_raw(&route(Provider::Comments), &[], vec![b'x'; LIMIT * 2])
            .await,
    )
    .await;
    assert_eq!(
        (status.as_u16(), answer),
        (413, json!({"error": "payload_too_large"}))
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn huge_declared_content_length_is_413_before_any_body_is_sent(pool: PgPool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = small_limit_app(pool).await;
    let addr = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    let head =
        "POST /webhooks/stripe HTTP/1.1\r\nHost: test\r\nContent-Length: 99999999999\r\n\r\n";
    stream.write_all(head.as_bytes()).await.expect("writes");

    // No body follows: the answer must come from the header alone, not after a read.
    let mut answer = Vec::new();
    let read = async {
        let mut buf = [0u8; 1024];
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.expect("reads");
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), read)
        .await
        .expect("the server answered without waiting for the body");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}
