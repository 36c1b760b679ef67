//! Raw TCP clients for the connection-hygiene tests: connections that never speak, that
//! trickle a header and that hold a body half-sent (whether the server hung up, and a
//! keep-alive request: `shopwire_testkit::raw`).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::helpers::TestApp;

/// The app's listening address.
pub fn addr(app: &TestApp) -> SocketAddr {
    app.address
        .trim_start_matches("http://")
        .parse()
        .expect("the app listens on ip:port")
}

/// Make sure this test process may hold a few thousand sockets (both ends of each idle
/// connection live in it).
pub fn allow_many_sockets() {
    let wanted = 8_192;
    let got = rlimit::increase_nofile_limit(wanted).expect("RLIMIT_NOFILE is readable");
    assert!(
        got >= 4_000,
        "this test needs ~3,100 file descriptors; the hard limit allows only {got} (raise `ulimit -Hn`)"
    );
}

/// A connection that never sends a byte.
pub async fn idle(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.expect("the server accepts")
}

/// A connection that sends a request header one byte every `every`, forever; the task ends
/// with how long the server let it live when the server hangs up, `None` if it never did
/// within `within`.
pub async fn trickling(
    addr: SocketAddr,
    every: Duration,
    within: Duration,
) -> JoinHandle<Option<Duration>> {
    let mut stream = TcpStream::connect(addr).await.expect("the server accepts");
    tokio::spawn(async move {
        let started = tokio::time::Instant::now();
        let header = b"POST /webhooks/stripe HTTP/1.1\r\nHost: shopwire\r\nX-Padding: ";
        let mut sent = 0usize;
        let mut buf = [0u8; 256];
        let mut tick = tokio::time::interval(every);
        while started.elapsed() < within {
            tokio::select! {
                read = stream.read(&mut buf) => match read {
                    Ok(0) | Err(_) => return Some(started.elapsed()),
                    Ok(_) => {}
                },
                _ = tick.tick() => {
                    let byte = header.get(sent).copied().unwrap_or(b'a');
                    if stream.write_all(&[byte]).await.is_err() {
                        return Some(started.elapsed());
                    }
                    sent += 1;
                }
            }
        }
        None
    })
}

/// A signed `POST path` whose headers and first half of `body` are sent, the rest held
/// back: a delivery in flight for as long as the test keeps it. [`finish`] sends the rest.
pub async fn half_sent(
    addr: SocketAddr,
    path: &str,
    signature: (&str, &str),
    body: &[u8],
) -> (TcpStream, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).await.expect("the server accepts");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: shopwire\r\nContent-Type: application/json\r\n{}: {}\r\nContent-Length: {}\r\n\r\n",
        signature.0,
        signature.1,
        body.len()
    );
    let (first, rest) = body.split_at(body.len() / 2);
    stream
        .write_all(head.as_bytes())
        .await
        .expect("the head is sent");
    stream
        .write_all(first)
        .await
        .expect("half the body is sent");
    (stream, rest.to_vec())
}

/// Send the rest of a [`half_sent`] delivery; the response's status line and body.
pub async fn finish(mut stream: TcpStream, rest: &[u8]) -> (String, String) {
    stream.write_all(rest).await.expect("the rest is sent");
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await.expect("the server answers");
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&response);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length: ")
                    .and_then(|v| v.trim().parse::<usize>().ok())
            });
            if length.is_some_and(|length| body.len() >= length) {
                let status = head.lines().next().unwrap_or_default().to_owned();
                return (status, body.to_owned());
            }
        }
    }
    let text = String::from_utf8_lossy(&response).into_owned();
    panic!("the server hung up before a whole answer: {text:?}");
}
