//! Raw TCP clients for tests of a server's connection handling: whether the server hung
//! up, and one keep-alive request on a connection the test keeps.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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
