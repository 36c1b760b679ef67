//! Idle connections held open against a server, the way slow or hostile clients hold them:
//! some never send a byte, the others trickle a request header one byte per second and never
//! finish it. Each slot notes when the server closed its connection and, while re-opening
//! is on, opens another at once, so the server keeps facing the same number.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

/// A trickling connection sends its next header byte this often.
pub const TRICKLE_EVERY: Duration = Duration::from_secs(1);

/// How long one connect may take before it counts as an error (and is tried again).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The start of the header a trickling connection sends; after it, `a` for ever: the header
/// line never ends and the blank line that would end the header never comes.
const TRICKLE_HEAD: &[u8] = b"POST /webhooks/comments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Trickle: ";

/// What an idle connection does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Connects and never sends a byte.
    Silent,
    /// Sends a request header one byte every [`TRICKLE_EVERY`], never finishing it.
    Trickle,
}

/// One idle connection's life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// What it did.
    pub kind: Kind,
    /// The first connection of its slot (opened before the measurement), not a re-open.
    pub first: bool,
    /// How long after it opened the server closed it (end of stream or reset); `None`: still
    /// open when the harness let it go.
    pub closed_after: Option<Duration>,
}

/// The `i`-th byte a trickling connection sends.
pub fn trickle_byte(i: u64) -> u8 {
    usize::try_from(i)
        .ok()
        .and_then(|i| TRICKLE_HEAD.get(i))
        .copied()
        .unwrap_or(b'a')
}

/// Counts over a set of [`Record`]s, against the deadline a server had to close each.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Connections opened.
    pub opened: u64,
    /// Of them, closed by the server.
    pub closed: u64,
    /// Of those, closed within the deadline of their opening.
    pub in_time: u64,
    /// Still open when the harness let go.
    pub still_open: u64,
}

impl Tally {
    /// Counts `records` against `deadline`.
    pub fn of<'a>(records: impl IntoIterator<Item = &'a Record>, deadline: Duration) -> Tally {
        records.into_iter().fold(Tally::default(), |mut t, r| {
            t.opened += 1;
            match r.closed_after {
                Some(after) => {
                    t.closed += 1;
                    t.in_time += u64::from(after <= deadline);
                }
                None => t.still_open += 1,
            }
            t
        })
    }
}

/// The held connections: one task per slot.
pub struct Holders {
    open: Arc<AtomicUsize>,
    reopen: Arc<AtomicBool>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    records: mpsc::UnboundedReceiver<Record>,
    connect_errors: Arc<AtomicU64>,
    slots: usize,
}

impl Holders {
    /// Starts `silent` + `trickle` slots against `addr`, each connecting at once and
    /// re-opening whenever the server closes its connection, until
    /// [`Holders::stop_reopening`].
    pub fn open(addr: SocketAddr, silent: usize, trickle: usize) -> Holders {
        let open = Arc::new(AtomicUsize::new(0));
        let reopen = Arc::new(AtomicBool::new(true));
        let connect_errors = Arc::new(AtomicU64::new(0));
        let (stop, stopped) = watch::channel(false);
        let (tx, records) = mpsc::unbounded_channel();
        let mut tasks = JoinSet::new();
        let kinds = std::iter::repeat_n(Kind::Silent, silent)
            .chain(std::iter::repeat_n(Kind::Trickle, trickle));
        for kind in kinds {
            let slot = Slot {
                addr,
                kind,
                open: open.clone(),
                reopen: reopen.clone(),
                stop: stopped.clone(),
                records: tx.clone(),
                connect_errors: connect_errors.clone(),
            };
            tasks.spawn(slot.run());
        }
        Holders {
            open,
            reopen,
            stop,
            tasks,
            records,
            connect_errors,
            slots: silent + trickle,
        }
    }

    /// How many connections are open right now (as the harness sees them).
    pub fn open_now(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// The live count [`Holders::open_now`] reads, for a sampler of its own.
    pub fn counter(&self) -> Arc<AtomicUsize> {
        self.open.clone()
    }

    /// Waits until every slot holds an open connection, at most `within`; whether they do.
    pub async fn wait_all_open(&self, within: Duration) -> bool {
        let until = Instant::now() + within;
        while self.open_now() < self.slots {
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// From now on a connection the server closes stays closed.
    pub fn stop_reopening(&self) {
        self.reopen.store(false, Ordering::Relaxed);
    }

    /// Once re-opening is off: waits until the server has closed every connection (each
    /// slot's task ends then), at most `within`; whether it did.
    pub async fn wait_closed(&mut self, within: Duration) -> bool {
        let until = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(until, self.tasks.join_next()).await {
                Ok(Some(_)) => {}
                Ok(None) => return true,
                Err(_) => return false,
            }
        }
    }

    /// Closes whatever is still open and returns every connection's record and how many
    /// connects failed.
    pub async fn release(mut self) -> (Vec<Record>, u64) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
        let mut records = Vec::new();
        while let Ok(record) = self.records.try_recv() {
            records.push(record);
        }
        (records, self.connect_errors.load(Ordering::Relaxed))
    }
}

/// One slot: a connection at a time, re-opened while re-opening is on.
struct Slot {
    addr: SocketAddr,
    kind: Kind,
    open: Arc<AtomicUsize>,
    reopen: Arc<AtomicBool>,
    stop: watch::Receiver<bool>,
    records: mpsc::UnboundedSender<Record>,
    connect_errors: Arc<AtomicU64>,
}

impl Slot {
    async fn run(mut self) {
        let mut first = true;
        loop {
            if *self.stop.borrow() {
                return;
            }
            let connect = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(self.addr));
            let stream = match connect.await {
                Ok(Ok(stream)) => stream,
                _ => {
                    self.connect_errors.fetch_add(1, Ordering::Relaxed);
                    if !first && !self.reopen.load(Ordering::Relaxed) {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            };
            self.open.fetch_add(1, Ordering::Relaxed);
            let closed_after = hold(stream, self.kind, &mut self.stop).await;
            self.open.fetch_sub(1, Ordering::Relaxed);
            let _ = self.records.send(Record {
                kind: self.kind,
                first,
                closed_after,
            });
            first = false;
            if closed_after.is_none() || !self.reopen.load(Ordering::Relaxed) {
                return;
            }
        }
    }
}

/// Holds `stream` until the server closes it (how long after opening) or `stop` (`None`).
async fn hold(
    mut stream: TcpStream,
    kind: Kind,
    stop: &mut watch::Receiver<bool>,
) -> Option<Duration> {
    let opened = Instant::now();
    let mut buf = [0u8; 1024];
    let mut tick = tokio::time::interval_at((opened + TRICKLE_EVERY).into(), TRICKLE_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut sent = 0u64;
    loop {
        tokio::select! {
            // The `Ref` wait_for returns is not Send: drop it inside.
            _ = async { drop(stop.wait_for(|&stop| stop).await) } => return None,
            read = stream.read(&mut buf) => match read {
                // A 408 or other answer may come first; the close follows it.
                Ok(n) if n > 0 => {}
                _ => return Some(opened.elapsed()),
            },
            _ = tick.tick(), if kind == Kind::Trickle => {
                if stream.write_all(&[trickle_byte(sent)]).await.is_err() {
                    return Some(opened.elapsed());
                }
                sent += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use tokio::net::TcpListener;

    #[test]
    fn a_trickled_header_never_ends_however_long_it_runs() {
        let sent: Vec<u8> = (0..10_000).map(trickle_byte).collect();
        assert!(sent.starts_with(b"POST /webhooks/comments HTTP/1.1\r\n"));
        assert!(!sent.windows(4).any(|w| w == b"\r\n\r\n"));
        assert!(sent.ends_with(b"aaaa"));
    }

    #[test]
    fn a_tally_counts_closes_within_the_deadline_late_ones_and_those_left_open() {
        let record = |secs: Option<u64>| Record {
            kind: Kind::Silent,
            first: true,
            closed_after: secs.map(Duration::from_secs),
        };
        let records = [
            record(Some(3)),
            record(Some(7)),
            record(Some(9)),
            record(None),
        ];
        assert_eq!(
            Tally::of(&records, Duration::from_secs(7)),
            Tally {
                opened: 4,
                closed: 3,
                in_time: 2,
                still_open: 1
            }
        );
    }

    #[tokio::test]
    async fn a_connection_the_server_drops_is_recorded_closed_and_opened_again() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let accepted = Arc::new(AtomicUsize::new(0));
        let counted = accepted.clone();
        let server = tokio::spawn(async move {
            // The first four are closed at once, later ones kept.
            let mut kept = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                if counted.fetch_add(1, Ordering::SeqCst) >= 4 {
                    kept.push(stream);
                }
            }
        });
        let holders = Holders::open(addr, 2, 2);
        for _ in 0..1500 {
            if accepted.load(Ordering::SeqCst) == 8 && holders.open_now() == 4 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (records, errors) = holders.release().await;
        server.abort();
        assert_eq!(errors, 0);
        let closed: Vec<&Record> = records
            .iter()
            .filter(|r| r.closed_after.is_some())
            .collect();
        let open: Vec<&Record> = records
            .iter()
            .filter(|r| r.closed_after.is_none())
            .collect();
        assert_eq!((closed.len(), open.len()), (4, 4), "{records:?}");
        // Each slot's first connection is recorded once, whichever it was.
        assert_eq!(records.iter().filter(|r| r.first).count(), 4);
    }

    #[tokio::test]
    async fn without_reopening_a_dropped_connection_stays_closed() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                drop(stream);
            }
        });
        let mut holders = Holders::open(addr, 3, 3);
        holders.stop_reopening();
        assert!(holders.wait_closed(Duration::from_secs(30)).await);
        let (records, _) = holders.release().await;
        server.abort();
        let tally = Tally::of(&records, Duration::from_secs(3600));
        assert_eq!(
            tally,
            Tally {
                opened: 6,
                closed: 6,
                in_time: 6,
                still_open: 0
            }
        );
    }

    #[tokio::test]
    async fn connections_a_server_keeps_are_recorded_as_still_open() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let mut kept = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                kept.push(stream);
            }
        });
        let holders = Holders::open(addr, 3, 3);
        assert!(holders.wait_all_open(Duration::from_secs(30)).await);
        let (records, errors) = holders.release().await;
        server.abort();
        assert_eq!(errors, 0);
        let tally = Tally::of(&records, Duration::from_secs(7));
        assert_eq!(
            tally,
            Tally {
                opened: 6,
                closed: 0,
                in_time: 0,
                still_open: 6
            }
        );
    }
}
