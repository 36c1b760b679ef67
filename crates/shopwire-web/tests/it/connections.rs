//! Connection hygiene (issue #11): a header-read timeout that also bounds idle keep-alive
//! connections, a cap on open connections, and HTTP/1.1 only unless configured.

use std::time::Duration;

use futures::future::join_all;
use shopwire_core::domain::Provider;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, json, spawn_app_with};
use crate::raw::{addr, allow_many_sockets, idle, trickling};
use shopwire_testkit::raw::{closed_by_server, get_keep_alive};

const HEADER_TIMEOUT: Duration = Duration::from_secs(3);
/// How late after the header timeout a close still counts (a loaded CI machine).
const SLACK: Duration = Duration::from_secs(4);

async fn app_with(pool: PgPool, extra: &[(&str, &str)]) -> TestApp {
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    spawn_app_with(pool, move |env| {
        env.insert(
            "HTTP_HEADER_TIMEOUT_SECS".into(),
            HEADER_TIMEOUT.as_secs().to_string(),
        );
        env.extend(extra);
    })
    .await
}

fn stripe_event(id: &str) -> Vec<u8> {
    format!(r#"{{"id":"{id}","object":"event","type":"charge.refunded","data":{{"object":{{}}}}}}"#)
        .into_bytes()
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn with_1500_idle_and_trickling_connections_open_a_delivery_is_answered_and_the_server_closes_them(
    pool: PgPool,
) {
    allow_many_sockets();
    let app = app_with(pool, &[]).await;
    let addr = addr(&app);
    let mut silent = Vec::new();
    for _ in 0..750 {
        silent.push(idle(addr).await);
    }
    let mut trickles = Vec::new();
    for _ in 0..750 {
        trickles
            .push(trickling(addr, Duration::from_millis(250), HEADER_TIMEOUT + SLACK * 2).await);
    }

    let (status, answer) = json(
        app.post_signed(Provider::Stripe, &stripe_event("evt_busy"))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "accepted");
    assert_eq!(app.inbox_rows().await.len(), 1, "the delivery is recorded");

    let bound = HEADER_TIMEOUT + SLACK;
    let silent = join_all(silent.into_iter().map(|s| closed_by_server(s, bound))).await;
    let never_closed = silent.iter().filter(|closed| closed.is_none()).count();
    assert_eq!(
        never_closed, 0,
        "silent connections still open after {bound:?}"
    );
    let trickled = join_all(trickles).await;
    let lived: Vec<Duration> = trickled
        .into_iter()
        .map(|t| {
            t.expect("the trickle task ran")
                .expect("the server closed a trickling connection")
        })
        .collect();
    assert!(
        lived.iter().all(|l| *l <= bound),
        "a trickling connection outlived the header timeout: {:?}",
        lived.iter().max()
    );
    assert!(
        lived
            .iter()
            .all(|l| *l + Duration::from_millis(500) >= HEADER_TIMEOUT),
        "closed before its header timeout: {:?}",
        lived.iter().min()
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_keep_alive_connection_left_idle_after_its_response_is_closed_by_the_server(
    pool: PgPool,
) {
    let app = app_with(pool, &[]).await;
    let mut stream = TcpStream::connect(addr(&app)).await.expect("connects");
    let head = get_keep_alive(&mut stream, "/health").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let head = get_keep_alive(&mut stream, "/health").await;
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "kept alive for a second request: {head}"
    );
    let closed = closed_by_server(stream, HEADER_TIMEOUT + SLACK).await;
    let closed = closed.expect("the server closes an idle keep-alive connection");
    assert!(
        closed + Duration::from_millis(500) >= HEADER_TIMEOUT,
        "closed too early: {closed:?}"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_connection_past_the_cap_is_closed_at_once_and_one_more_fits_when_another_leaves(
    pool: PgPool,
) {
    let app = app_with(pool, &[("HTTP_MAX_CONNECTIONS", "3")]).await;
    let addr = addr(&app);
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = TcpStream::connect(addr).await.expect("connects");
        // A served request proves the server counted this connection.
        get_keep_alive(&mut stream, "/health").await;
        held.push(stream);
    }
    let fourth = TcpStream::connect(addr).await.expect("the kernel accepts");
    let closed = closed_by_server(fourth, HEADER_TIMEOUT).await;
    assert!(
        closed.expect("the fourth is closed") < HEADER_TIMEOUT,
        "closed at once"
    );

    drop(held.pop());
    shopwire_testkit::wait_until(
        "a freed slot serves a delivery",
        Duration::from_secs(5),
        || async {
            let body = stripe_event("evt_after_cap");
            let (name, value) = app.sign_at(Provider::Stripe, &body, crate::helpers::unix_now());
            let sent = app
                .client
                .post(format!("{}/webhooks/stripe", app.address))
                .header(name, value)
                .body(body)
                .send()
                .await;
            matches!(sent, Ok(r) if r.status() == 200)
        },
    )
    .await;
}

/// The client connection preface of HTTP/2 over cleartext (RFC 9113 §3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn cleartext_http2_is_refused_unless_configured(pool: PgPool) {
    let app = app_with(pool, &[]).await;
    let mut stream = TcpStream::connect(addr(&app)).await.expect("connects");
    stream.write_all(H2_PREFACE).await.expect("preface sent");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(HEADER_TIMEOUT + SLACK, stream.read_to_end(&mut answer)).await;
    // An HTTP/2 server answers the preface with a SETTINGS frame (type 0x4 at byte 3).
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 "),
        "spoke HTTP/2: {answer:?}"
    );
    let h1 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("client");
    assert!(
        h1.get(format!("{}/health", app.address))
            .send()
            .await
            .is_err()
    );

    let pool = app.pool.clone();
    drop(app);
    let app = app_with(pool, &[("HTTP_ALLOW_HTTP2", "true")]).await;
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("client");
    let response = h2
        .get(format!("{}/health", app.address))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    let silent = idle(addr(&app)).await;
    assert!(
        closed_by_server(silent, HEADER_TIMEOUT + SLACK)
            .await
            .is_some(),
        "a silent connection is closed when HTTP/2 is allowed too"
    );
}
