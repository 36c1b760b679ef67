//! The outbound sender against receivers on this machine: wiremock for answers, a bare
//! HTTP/1.1 receiver where a test must see connections or a body that stalls. Every target
//! is on loopback; with the address guard on, none of them may be reached.

pub(crate) mod python_verifier;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use secrecy::SecretString;
use shopwire_worker::outbound::client::{MAX_BODY_EXCERPT, MAX_RETRY_AFTER, USER_AGENT};
use shopwire_worker::outbound::sign::signature_header;
use shopwire_worker::outbound::{Delivered, OutboundClient, SendError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A timeout no answer from this machine comes near, so only a stall reaches it.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The timeout of the tests that wait for it.
const SHORT_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a stalling receiver stalls: far past [`SHORT_TIMEOUT`].
const STALL: Duration = Duration::from_secs(60);
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_2Yp1eXbbmP0e7kQ3";
const BODY: &str = r#"{"type":"order.paid","timestamp":"2026-12-02T10:00:00Z","data":{"order":"ORD-20261202-00001"}}"#;

fn client(allow_private: bool) -> OutboundClient {
    OutboundClient::new(TIMEOUT, allow_private).expect("a client")
}

/// Sign [`BODY`] as [`ID`] now and send it to `url`.
async fn send(client: &OutboundClient, url: &str) -> Result<Delivered, SendError> {
    let secret = SecretString::from(SECRET.to_owned());
    let timestamp = chrono::Utc::now().timestamp();
    let signature = signature_header(&[&secret], ID, timestamp, BODY.as_bytes()).expect("signs");
    client
        .send(
            url,
            ID,
            timestamp,
            &signature,
            Bytes::from_static(BODY.as_bytes()),
        )
        .await
}

async fn answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_2xx_is_delivered_with_the_standard_webhooks_headers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/shopwire"))
        .and(header("content-type", "application/json"))
        .and(header("user-agent", USER_AGENT))
        .and(header("webhook-id", ID))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let url = format!("{}/hooks/shopwire", server.uri());

    let delivered = send(&client(true), &url).await.expect("delivered");

    assert_eq!(delivered.status, 204);
    let received = server.received_requests().await.expect("recorded");
    let request = &received[0];
    assert_eq!(request.body, BODY.as_bytes());
    let timestamp: i64 = request.headers["webhook-timestamp"]
        .to_str()
        .expect("text")
        .parse()
        .expect("unix seconds");
    assert!((chrono::Utc::now().timestamp() - timestamp).abs() < 60);
    let signature = request.headers["webhook-signature"].to_str().expect("text");
    assert!(signature.starts_with("v1,"), "{signature}");
}

#[tokio::test]
async fn a_410_means_the_endpoint_is_gone() {
    let server = answering(ResponseTemplate::new(410)).await;
    let err = send(&client(true), &server.uri()).await.unwrap_err();
    assert_eq!(err, SendError::Gone);
    assert_eq!(err.status(), Some(410));
}

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after() {
    let server = answering(ResponseTemplate::new(429).insert_header("retry-after", "7")).await;
    match send(&client(true), &server.uri()).await {
        Err(SendError::Failed {
            status: Some(429),
            retry_after,
            ..
        }) => assert_eq!(retry_after, Some(Duration::from_secs(7))),
        other => panic!("expected a 429 failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_503_asking_for_too_long_a_wait_is_capped() {
    let server =
        answering(ResponseTemplate::new(503).insert_header("retry-after", "31536000")).await;
    match send(&client(true), &server.uri()).await {
        Err(SendError::Failed {
            status: Some(503),
            retry_after,
            ..
        }) => assert_eq!(retry_after, Some(MAX_RETRY_AFTER)),
        other => panic!("expected a 503 failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_500_is_a_failure_quoting_only_the_start_of_its_body() {
    let body = format!("database on fire {}", "x".repeat(100_000));
    let server = answering(
        ResponseTemplate::new(500)
            .insert_header("retry-after", "7")
            .set_body_string(body),
    )
    .await;
    match send(&client(true), &server.uri()).await {
        Err(SendError::Failed {
            status: Some(500),
            retry_after: None,
            message,
        }) => {
            assert!(
                message.starts_with("the endpoint answered 500: database on fire"),
                "{message}"
            );
            assert!(message.len() < MAX_BODY_EXCERPT + 100, "{}", message.len());
        }
        other => panic!("expected a 500 failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_redirect_is_a_failure_and_is_not_followed() {
    let server = MockServer::start().await;
    Mock::given(path("/moved"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(path("/hook"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", format!("{}/moved", server.uri())),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = send(&client(true), &format!("{}/hook", server.uri()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SendError::Failed {
                status: Some(302),
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_receiver_that_stalls_fails_the_attempt_at_the_timeout() {
    let server = answering(ResponseTemplate::new(200).set_delay(STALL)).await;
    let client = OutboundClient::new(SHORT_TIMEOUT, true).expect("a client");

    let started = Instant::now();
    let err = send(&client, &server.uri()).await.unwrap_err();

    // A bound far below the stall, not a measure of speed: the attempt did not wait for it.
    assert!(started.elapsed() < SHORT_TIMEOUT + Duration::from_secs(5));
    assert!(
        matches!(&err, SendError::Failed { status: None, message, .. } if message.contains("500 ms")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_body_that_stalls_after_the_status_is_cut_off_at_the_timeout() {
    let answer = b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 100000\r\n\r\nupstream";
    let (url, _) = bare_receiver(answer).await;
    let client = OutboundClient::new(SHORT_TIMEOUT, true).expect("a client");

    let started = Instant::now();
    let err = send(&client, &url).await.unwrap_err();

    assert!(started.elapsed() < SHORT_TIMEOUT + Duration::from_secs(5));
    assert!(
        matches!(
            err,
            SendError::Failed {
                status: Some(502),
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn private_addresses_are_refused_and_receive_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let port = server.address().port();
    let guarded = client(false);
    for url in [
        server.uri(),
        format!("http://localhost:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://2130706433:{port}/"),
    ] {
        match send(&guarded, &url).await {
            Err(SendError::Refused { reason }) => assert!(!reason.is_empty()),
            other => panic!("{url}: expected a refusal, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn private_addresses_are_delivered_to_when_allowed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .expect(2)
        .mount(&server)
        .await;
    let port = server.address().port();
    let open = client(true);
    for url in [server.uri(), format!("http://localhost:{port}/")] {
        let delivered = send(&open, &url).await;
        assert!(
            matches!(delivered, Ok(Delivered { status: 200, .. })),
            "{url}: {delivered:?}"
        );
    }
}

#[tokio::test]
async fn what_is_not_an_http_url_is_refused() {
    for url in ["not a url", "ftp://127.0.0.1/", "file:///etc/passwd"] {
        let err = send(&client(true), url).await.unwrap_err();
        assert!(matches!(err, SendError::Refused { .. }), "{url}: {err:?}");
    }
}

#[tokio::test]
async fn sequential_sends_reuse_one_kept_alive_connection() {
    let (url, connections) = bare_receiver(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
    let client = client(true);
    for _ in 0..5 {
        send(&client, &url).await.expect("delivered");
    }
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

/// A bare HTTP/1.1 receiver on loopback: it answers every request with `answer` and keeps
/// the connection open; it counts the connections it accepted.
async fn bare_receiver(answer: &'static [u8]) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("address"));
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(answer_each_request(stream, answer));
        }
    });
    (url, accepted)
}

/// Read each request (head and `content-length` body) and write `answer` after it.
async fn answer_each_request(mut stream: TcpStream, answer: &'static [u8]) {
    let mut buffer = Vec::new();
    loop {
        let Some(head_end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
            continue;
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let end = head_end + 4 + length;
        while buffer.len() < end {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        buffer.drain(..end);
        if stream.write_all(answer).await.is_err() {
            return;
        }
    }
}
