//! Raw TCP clients for the connection-hygiene tests: connections that never speak, that
//! trickle a header, that hold a body half-sent, and a check that the server hung up.

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

/// Wait until the server closes `stream` (EOF or reset), reading and dropping anything it
/// sends; `Some(elapsed)` when it did within `within`.
pub async fn closed_by_server(mut stream: TcpStream, within: Duration) -> Option<Duration> {
    let started = tokio::time::Instant::now();
    let mut buf = [0u8; 1024];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
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

/// One complete `GET path` on `stream`, keeping the connection open; the response head.
pub async fn get_keep_alive(stream: &mut TcpStream, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: shopwire\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("the request is sent");
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    // `/health` answers a small JSON body with a Content-Length: read until it is whole.
    loop {
        let n = stream.read(&mut buf).await.expect("the server answers");
        assert!(n > 0, "the server hung up before answering");
        response.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&response).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .and_then(|v| v.trim().parse::<usize>().ok())
                .expect("a Content-Length");
            if body.len() >= length {
                return head.to_owned();
            }
        }
    }
}
