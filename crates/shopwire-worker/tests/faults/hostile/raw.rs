//! Requests no HTTP client library would send, written to a raw TCP socket.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Write `request` (stopping after `send` bytes when set, as a client that dies mid-body),
/// close the write side and read the answer's status, if the server sent one.
pub async fn exchange(port: u16, request: &[u8], send: Option<usize>) -> Option<u16> {
    let attempt = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        let bytes = &request[..send.unwrap_or(request.len()).min(request.len())];
        // The server may answer (and close) before taking all of a huge request.
        let _ = stream.write_all(bytes).await;
        let _ = stream.shutdown().await;
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        // Bounded: at most 64 KiB, then the status line is long read.
        while answer.len() < 64 * 1024 {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
        status_of(&answer)
    };
    tokio::time::timeout(Duration::from_secs(15), attempt)
        .await
        .ok()
        .flatten()
}

fn status_of(answer: &[u8]) -> Option<u16> {
    let line = answer.strip_prefix(b"HTTP/1.1 ")?;
    std::str::from_utf8(line.get(..3)?).ok()?.parse().ok()
}
