//! `idle`: signed deliveries with and without idle connections held open (issue #11).
//!
//! 1. Without idle connections: deliveries at `--rate` for `--duration`, open loop, each on a
//!    new connection (as providers deliver), then a saturation burst (closed loop,
//!    `--burst-concurrency` senders, again a new connection per delivery).
//! 2. `--idle` connections opened (half never send a byte, half trickle a request header one
//!    byte per second) and held: a connection the server closes is opened again at once, so
//!    the server keeps facing them all through the second measurement.
//! 3. The same two measurements with them held.
//! 4. Re-opening stops; the harness waits up to the header timeout plus `--grace-secs` for the
//!    server to close the rest, then lets go. Every idle connection (first or re-opened) must
//!    have been closed by the server within that long of its opening.
//! 5. The measurement without idle connections once more (`after_*`): on a shared 2-core box
//!    either one may be the noisier, and the table compares against the better of the two.
//!
//! The web's open file descriptors (`/proc/PID/fd`) are sampled throughout, its VmHWM read at
//! the end (`--web-pid`).

mod holders;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use shopwire_core::domain::Provider;

use self::holders::{Holders, Kind, Record, Tally};
use crate::args::IdleArgs;
use crate::load::{Budget, Engine, Mode, Run, Source};
use crate::payloads::{self, Signers};
use crate::report::{Latency, Report, round3};

/// How often the held count and the web's descriptors are sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// How long the idle connections may take to open before the measurement starts anyway.
const OPEN_WITHIN: Duration = Duration::from_secs(60);

/// Unmeasured deliveries before the first measurement.
const WARMUP: u64 = 50;

/// Runs `idle`.
pub async fn run(args: IdleArgs) -> anyhow::Result<()> {
    let signers = Arc::new(Signers::new(&args.signing));
    signers.require(&Provider::ALL)?;
    let addr = socket_addr(&args.url).await?;
    let engine = Engine::new_connection_each(&args.url, Duration::from_millis(args.timeout_ms))?;
    let trickle = args.trickle.unwrap_or(args.idle / 2).min(args.idle);
    let silent = args.idle - trickle;
    let deadline = Duration::from_secs(args.header_timeout_secs + args.grace_secs);
    let run = payloads::run_id();
    let fds_before = web_fds(args.web_pid);

    let warm = source(&signers, format!("{run}w"));
    let closed = Mode::Closed { concurrency: 4 };
    engine
        .run(closed, Budget::Requests(WARMUP), warm, None)
        .await;
    eprintln!("idle: without idle connections");
    let without = Phases::measure(&engine, &signers, &run, "b", &args).await;

    eprintln!("idle: opening {silent} silent and {trickle} trickling connections");
    let mut holders = Holders::open(addr, silent, trickle);
    let all_open = holders.wait_all_open(OPEN_WITHIN).await;
    // Let the server accept what the kernel has queued for it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let sampler = Sampler::start(holders.counter(), args.web_pid);
    eprintln!(
        "idle: with {} idle connections open (web descriptors: {})",
        holders.open_now(),
        web_fds(args.web_pid).map_or("?".into(), |n| n.to_string())
    );
    let with = Phases::measure(&engine, &signers, &run, "i", &args).await;
    holders.stop_reopening();
    let held = sampler.stop();

    eprintln!(
        "idle: waiting up to {} s for the server to close the rest",
        deadline.as_secs()
    );
    let all_closed = holders.wait_closed(deadline).await;
    let fds_after = web_fds(args.web_pid);
    let (records, connect_errors) = holders.release().await;
    eprintln!("idle: without idle connections again");
    let after = Phases::measure(&engine, &signers, &run, "a", &args).await;

    let mut report = Report::new("idle", "web");
    report
        .field("idle", args.idle as u64)
        .field("silent", silent as u64)
        .field("trickle", trickle as u64)
        .field("rate", args.rate)
        .field("duration_s", args.duration)
        .field("burst_concurrency", args.burst_concurrency as u64)
        .field("burst_s", args.burst_secs)
        .field("header_timeout_s", args.header_timeout_secs)
        .field("grace_s", args.grace_secs)
        .field("all_opened", all_open);
    without.report(&mut report, "base_", "without idle");
    with.report(&mut report, "idle_", "with idle held");
    after.report(&mut report, "after_", "without, after");
    connections(&mut report, &records, deadline, all_closed);
    report
        .field("held_min", held.min.map(|v| v as u64))
        .field("held_mean", held.mean.map(round3))
        .field("web_fds_before", fds_before)
        .field("web_fds_max", held.fds_max)
        .field("web_fds_after", fds_after)
        .field(
            "web_hwm_mib",
            args.web_pid.and_then(vm_hwm_mib).map(round3),
        )
        .note(format!(
            "held during the measurement: at least {} (mean {:.0}); web descriptors before {}, at most {} during, {} after the wait",
            held.min.map_or("?".into(), |v| v.to_string()),
            held.mean.unwrap_or(0.0),
            fds_before.map_or("?".into(), |n| n.to_string()),
            held.fds_max.map_or("?".into(), |n| n.to_string()),
            fds_after.map_or("?".into(), |n| n.to_string()),
        ));
    report.errors.add_n("idle_connect", connect_errors);
    if !all_open {
        report.errors.add("idle_not_all_opened");
    }
    report.finish(args.allow_errors)
}

/// The paced deliveries and the burst, one measurement.
struct Phases {
    paced: Run,
    burst: Run,
}

impl Phases {
    async fn measure(
        engine: &Engine,
        signers: &Arc<Signers>,
        run: &str,
        tag: &str,
        args: &IdleArgs,
    ) -> Phases {
        let paced = engine
            .run(
                Mode::Open { rate: args.rate },
                Budget::For(Duration::from_secs_f64(args.duration)),
                source(signers, format!("{run}{tag}p")),
                None,
            )
            .await;
        let burst = engine
            .run(
                Mode::Closed {
                    concurrency: args.burst_concurrency,
                },
                Budget::For(Duration::from_secs_f64(args.burst_secs)),
                source(signers, format!("{run}{tag}s")),
                None,
            )
            .await;
        Phases { paced, burst }
    }

    /// `<prefix>p50_ms`… for the paced part, `<prefix>burst_p50_ms`… and
    /// `<prefix>burst_per_s` for the burst; errors as `<prefix><kind>`.
    fn report(&self, report: &mut Report, prefix: &str, label: &str) {
        for (part, run) in [("", &self.paced), ("burst_", &self.burst)] {
            let mut latency = Latency::default();
            let mut ok = 0u64;
            for outcome in &run.outcomes {
                match &outcome.result {
                    Ok(ack) if ack.status == "accepted" => {
                        ok += 1;
                        latency.record(outcome.latency);
                    }
                    Ok(ack) => report
                        .errors
                        .add(format!("{prefix}{part}answered_{}", ack.status)),
                    Err(kind) => report.errors.add(format!("{prefix}{part}{kind}")),
                }
            }
            let secs = run.elapsed.as_secs_f64().max(1e-9);
            let what = match part {
                "" => "paced",
                _ => "burst",
            };
            report
                .field(
                    &format!("{prefix}{part}requests"),
                    run.outcomes.len() as u64,
                )
                .field(&format!("{prefix}{part}ok"), ok)
                .field(&format!("{prefix}{part}per_s"), round3(ok as f64 / secs))
                .latency(
                    &format!("{prefix}{part}"),
                    &format!("{what}, {label}"),
                    &latency.summary(),
                );
        }
    }
}

/// The idle connections' counts: all of them, the first of each slot, silent and trickling
/// apart, and how long the server took to close them.
fn connections(report: &mut Report, records: &[Record], deadline: Duration, all_closed: bool) {
    let all = Tally::of(records, deadline);
    let first = Tally::of(records.iter().filter(|r| r.first), deadline);
    let mut closes = Latency::default();
    for after in records.iter().filter_map(|r| r.closed_after) {
        closes.record(after);
    }
    let closes = closes.summary();
    for (prefix, tally) in [("held_", all), ("held_first_", first)] {
        report
            .field(&format!("{prefix}opened"), tally.opened)
            .field(&format!("{prefix}closed"), tally.closed)
            .field(&format!("{prefix}in_time"), tally.in_time)
            .field(&format!("{prefix}still_open"), tally.still_open);
    }
    let mut kinds = Vec::new();
    for (name, kind) in [("silent", Kind::Silent), ("trickle", Kind::Trickle)] {
        let t = Tally::of(records.iter().filter(|r| r.kind == kind), deadline);
        report
            .field(&format!("held_{name}_opened"), t.opened)
            .field(&format!("held_{name}_closed"), t.closed)
            .field(&format!("held_{name}_in_time"), t.in_time);
        kinds.push(format!("{name} {} of {}", t.in_time, t.opened));
    }
    report
        .field("held_all_closed", all_closed)
        .field("held_close_p50_s", round3(closes.p50_ms / 1000.0))
        .field("held_close_max_s", round3(closes.max_ms / 1000.0))
        .note(format!(
            "idle connections: {} opened ({} first, {} re-opened), {} closed by the server, {} within {} s of opening ({}), {} still open at the end; close after p50 {:.2} s, max {:.2} s",
            all.opened,
            first.opened,
            all.opened - first.opened,
            all.closed,
            all.in_time,
            deadline.as_secs(),
            kinds.join(", "),
            all.still_open,
            closes.p50_ms / 1000.0,
            closes.max_ms / 1000.0,
        ));
}

/// Samples how many idle connections are held and how many descriptors the web has open.
struct Sampler {
    task: tokio::task::JoinHandle<()>,
    min: Arc<AtomicUsize>,
    sum: Arc<AtomicU64>,
    samples: Arc<AtomicU64>,
    fds_max: Arc<AtomicU64>,
}

/// What the sampler saw.
struct Held {
    min: Option<usize>,
    mean: Option<f64>,
    fds_max: Option<u64>,
}

impl Sampler {
    fn start(open: Arc<AtomicUsize>, web_pid: Option<u32>) -> Sampler {
        let min = Arc::new(AtomicUsize::new(usize::MAX));
        let sum = Arc::new(AtomicU64::new(0));
        let samples = Arc::new(AtomicU64::new(0));
        let fds_max = Arc::new(AtomicU64::new(0));
        let (m, s, n, f) = (min.clone(), sum.clone(), samples.clone(), fds_max.clone());
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(SAMPLE_EVERY);
            loop {
                tick.tick().await;
                let now = open.load(Ordering::Relaxed);
                m.fetch_min(now, Ordering::Relaxed);
                s.fetch_add(now as u64, Ordering::Relaxed);
                n.fetch_add(1, Ordering::Relaxed);
                if let Some(fds) = web_fds(web_pid) {
                    f.fetch_max(fds, Ordering::Relaxed);
                }
            }
        });
        Sampler {
            task,
            min,
            sum,
            samples,
            fds_max,
        }
    }

    fn stop(self) -> Held {
        self.task.abort();
        let samples = self.samples.load(Ordering::Relaxed);
        let fds = self.fds_max.load(Ordering::Relaxed);
        Held {
            min: (samples > 0).then(|| self.min.load(Ordering::Relaxed)),
            mean: (samples > 0).then(|| self.sum.load(Ordering::Relaxed) as f64 / samples as f64),
            fds_max: (fds > 0).then_some(fds),
        }
    }
}

/// The deliveries of one part: the ingest mix, each signed when sent.
fn source(signers: &Arc<Signers>, run: String) -> Source {
    let signers = signers.clone();
    Arc::new(move |n| {
        let provider = payloads::mix(n);
        signers.prepare(provider, payloads::body(provider, &run, n))
    })
}

/// The address the idle connections go to: the host and port of `url`.
async fn socket_addr(url: &str) -> anyhow::Result<SocketAddr> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("--url {url} is not a URL"))?;
    let host = parsed.host_str().context("--url has no host")?;
    let port = parsed
        .port_or_known_default()
        .context("--url has no port")?;
    tokio::net::lookup_host((host, port))
        .await
        .with_context(|| format!("cannot resolve {host}"))?
        .next()
        .with_context(|| format!("{host} has no address"))
}

/// How many file descriptors process `pid` has open.
fn web_fds(pid: Option<u32>) -> Option<u64> {
    let entries = std::fs::read_dir(format!("/proc/{}/fd", pid?)).ok()?;
    Some(entries.count() as u64)
}

/// `VmHWM` of process `pid`, in MiB.
fn vm_hwm_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    let kib: f64 = kib.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib / 1024.0)
}
