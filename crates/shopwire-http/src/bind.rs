//! Binding a server's port with a listen backlog deep enough for a crowd.
//!
//! `TcpListener::bind` asks the kernel for a backlog of 1,024. When more connections arrive
//! at once than the backlog holds, Linux (with `tcp_abort_on_overflow` off, its default)
//! drops the client's final handshake ACK: the client believes it is connected, the server
//! never sees the connection, and a client that then sends nothing waits forever — no
//! header timeout can close a connection the server never accepted. The benchmark's 1,500
//! simultaneous idle connections left about a hundred such ghosts per run.

use std::io;
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket};

/// The backlog asked for; the kernel caps it at `net.core.somaxconn` (4,096 by default
/// since Linux 5.4).
pub const LISTEN_BACKLOG: u32 = 4_096;

/// Bind `addr` (with `SO_REUSEADDR`, as `TcpListener::bind` sets it) and listen with
/// [`LISTEN_BACKLOG`].
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn more_simultaneous_connections_than_the_default_backlog_all_wait_to_be_accepted() {
        let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0))).expect("binds");
        let addr = listener.local_addr().expect("bound");
        // Nobody accepts yet: every connection must fit in the kernel's queue.
        let mut clients = Vec::new();
        for _ in 0..1_500 {
            clients.push(
                tokio::net::TcpStream::connect(addr)
                    .await
                    .expect("connects"),
            );
        }
        let mut accepted = 0;
        while accepted < clients.len() {
            let next = tokio::time::timeout(std::time::Duration::from_secs(5), listener.accept());
            next.await
                .expect("a queued connection is there to accept")
                .expect("accepts");
            accepted += 1;
        }
        assert_eq!(accepted, 1_500);
    }
}
