//! `console`: the seller console's live page under load (issue #14: "the live page with 50
//! open viewers and 200 claims/s keeps each claim's time-to-screen p99 under 1 s; the
//! console's RSS under 64 MiB").
//!
//! 1. A streamer with `--skus` (10) lineup items of `--stock` (100) units each.
//! 2. One sign-in (`POST /signin`, the session cookie); then `--viewers` (50) viewers each
//!    `GET /live/{streamer}` (its `data-after`) and open `/live/{streamer}/events?after=…`,
//!    each on its own connection; every one must get `hello` and a `panel`.
//! 3. `--warmup` (20) unmeasured claims, until every viewer shows them.
//! 4. Claims at `--rate` (200/s) for `--duration` (20 s), written by the bench through the
//!    core's claim and allocator functions (see [`claims`]): each claim's commit instant is
//!    when the allocator's call returned to the bench (after its COMMIT, so the figure
//!    under-states by that reply's trip over loopback, well under a millisecond).
//! 5. Time-to-screen of each claim at each viewer: its commit instant → the instant the
//!    viewer read the chunk that completed the claim's `event: claim` (its row HTML, parsed
//!    for `data-claim-id`). Over every viewer × claim: p50/p99/max. Also commit → the bench's
//!    own `LISTEN shopwire_events` heard the event (Postgres' part) and commit → the first
//!    viewer to show it. Every viewer must show every claim once: a claim a viewer never
//!    showed, showed twice, a `reload`, or an ended stream is an error.
//! 6. The console's VmRSS sampled every 100 ms during the run, its VmHWM (peak since it
//!    started, Argon2 sign-in included) at the end, and the CPU it used.

mod claims;
mod sse;
mod viewer;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context;
use shopwire_core::db::claims::AllocationRules;
use shopwire_core::db::{feed, lineup};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use tokio::sync::watch;

use self::claims::{Driven, Sale};
use self::viewer::{Console, ViewerLog, lock};
use crate::args::ConsoleArgs;
use crate::db;
use crate::payloads;
use crate::report::{Latency, Report, round3};

/// How often the console's VmRSS is read.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);
/// How often to look whether every viewer has what it should.
const POLL: Duration = Duration::from_millis(10);
/// How long the viewers have to connect, and the warm-up to show.
const CONNECT_WITHIN: Duration = Duration::from_secs(30);

/// Runs `console`.
pub async fn run(args: ConsoleArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.viewers > 0, "--viewers must be at least 1");
    anyhow::ensure!(
        args.rate > 0.0 && args.duration > 0.0,
        "--rate and --duration must be positive"
    );
    anyhow::ensure!(args.skus > 0, "--skus must be at least 1");
    let mut report = Report::new("console", "console");
    let run = payloads::run_id();
    let streamer = format!("bench_console_{run}");
    let setup = db::connect(&args.database_url).await?;
    let skus: Vec<String> = (1..=args.skus).map(|k| format!("CON-{run}-{k}")).collect();
    let products = db::add_products(&setup, &skus, args.stock).await?;
    for sku in &skus {
        lineup::add(&setup, &streamer, sku, None)
            .await
            .map_err(|e| anyhow::anyhow!("failed to add {sku} to the lineup: {e}"))?;
    }
    let mut options = PgConnectOptions::from_str(&args.database_url)
        .context("DATABASE_URL is not a valid Postgres URL")?;
    if !args.durable_commits {
        options = options.options([("synchronous_commit", "off")]);
    }
    let pool = PgPoolOptions::new()
        .max_connections(args.db_connections.max(1))
        .connect_with(options)
        .await
        .context("failed to connect the claim writer")?;
    let sale = Arc::new(Sale {
        pool,
        streamer: streamer.clone(),
        run: run.clone(),
        products,
        rules: AllocationRules {
            hold: Duration::from_secs(args.hold_secs),
            checkout: None,
            waitlist_max: args.waitlist_max,
            waitlist_ttl: Duration::from_secs(86_400),
            max_open_holds: 10,
            order_window: Duration::ZERO,
        },
    });
    let heard = listen(&args.database_url).await?;

    let memory = Memory::start(args.console_pid);
    let cpu_start = cpu_secs(args.console_pid);
    let console = Console::sign_in(&args.url, &args.password).await?;
    let after_sign_in = memory.status();

    // The viewers: each loads the page, then opens its stream.
    let (stop, stopped) = watch::channel(false);
    let logs: Vec<Arc<Mutex<ViewerLog>>> = (0..args.viewers)
        .map(|_| Arc::new(Mutex::new(ViewerLog::default())))
        .collect();
    let opened = Instant::now();
    let mut streams = tokio::task::JoinSet::new();
    for log in &logs {
        let after = console.open_page(&streamer).await?;
        streams.spawn(
            console
                .clone()
                .watch(streamer.clone(), after, log.clone(), stopped.clone()),
        );
    }
    let connected = wait_until(CONNECT_WITHIN, || {
        logs.iter().all(|l| {
            let l = lock(l);
            (l.hello.is_some() && l.panels > 0) || l.ended.is_some()
        })
    })
    .await;
    let connect_s = opened.elapsed().as_secs_f64();
    let not_connected = logs
        .iter()
        .filter(|l| lock(l).hello.is_none() || lock(l).panels == 0)
        .count();
    for _ in 0..not_connected {
        report.errors.add("viewer_not_connected");
    }
    if not_connected == args.viewers {
        anyhow::bail!("no viewer connected within {CONNECT_WITHIN:?}");
    }
    if !connected {
        eprintln!("console: {not_connected} viewers did not connect; going on without them");
    }

    // Warm-up: the console's LISTEN is up and every path warm once every viewer shows these.
    let warm = sale.drive(0, args.warmup, args.rate).await;
    report.errors.merge(&warm.errors);
    let warm_ids: Vec<i64> = warm.committed.keys().copied().collect();
    if !wait_until(CONNECT_WITHIN, || every_viewer_has(&logs, &warm_ids)).await {
        report.errors.add("warmup_not_shown");
    }
    // Statistics, as a database in use has them (a freshly created or emptied one has none,
    // and the planner's defaults for the panel's joins are far off).
    if !args.no_analyze {
        sqlx::query("ANALYZE")
            .execute(&setup)
            .await
            .context("failed to ANALYZE")?;
    }
    let before_load = memory.status();
    memory.reset_peak();
    let cpu_load = cpu_secs(args.console_pid);

    // The measured claims.
    let total = (args.rate * args.duration).round() as u64;
    let mut driven = sale.drive(args.warmup, total, args.rate).await;
    let swept = sale.sweep().await;
    let started = driven.start.unwrap_or_else(Instant::now);
    merge(&mut driven, swept);
    let last_commit = driven.committed.values().max().copied().unwrap_or(started);
    let load_s = last_commit.saturating_duration_since(started).as_secs_f64();
    let ids: Vec<i64> = driven.committed.keys().copied().collect();
    let settle = Duration::from_secs(args.settle_secs);
    let settled = wait_until(settle, || every_viewer_has(&logs, &ids)).await;
    let settle_s = last_commit.elapsed().as_secs_f64();
    let cpu_end = cpu_secs(args.console_pid);
    let during_load = memory.peak();
    let _ = stop.send(true);
    while streams.join_next().await.is_some() {}
    let end = memory.status();
    let bench_cpu = cpu_secs(Some(std::process::id()));

    // Every viewer × claim.
    let (mut screen, mut first, mut notify, mut schedule) = (
        Latency::default(),
        Latency::default(),
        Latency::default(),
        Latency::default(),
    );
    let heard = heard.snapshot();
    let logs: Vec<ViewerLog> = logs.iter().map(|l| std::mem::take(&mut *lock(l))).collect();
    let (mut missed, mut missed_claims, mut unknown, mut unheard) = (0u64, 0u64, 0u64, 0u64);
    for (&claim, &committed) in &driven.committed {
        let mut earliest: Option<Instant> = None;
        let mut event = None;
        let mut missing = false;
        for log in &logs {
            match log.rows.get(&claim) {
                Some(&(event_id, at)) => {
                    screen.record(at.saturating_duration_since(committed));
                    earliest = Some(earliest.map_or(at, |e| e.min(at)));
                    event = Some(event_id);
                }
                None => {
                    missing = true;
                    missed += 1;
                    report.errors.add("claim_not_shown");
                }
            }
        }
        missed_claims += u64::from(missing);
        if let Some(at) = earliest {
            first.record(at.saturating_duration_since(committed));
        }
        match event.map(|id| heard.get(&id)) {
            Some(Some(at)) => notify.record(at.saturating_duration_since(committed)),
            Some(None) => unheard += 1,
            None => {}
        }
        if let Some(due) = driven.scheduled.get(&claim) {
            schedule.record(committed.saturating_duration_since(*due));
        }
    }
    let warm_set: std::collections::HashSet<i64> = warm_ids.iter().copied().collect();
    for log in &logs {
        unknown += log
            .rows
            .keys()
            .filter(|c| !driven.committed.contains_key(c) && !warm_set.contains(c))
            .count() as u64;
        for _ in 0..log.repeated {
            report.errors.add("claim_shown_twice");
        }
        for _ in 0..log.reloads {
            report.errors.add("reload");
        }
        for _ in 0..log.unreadable {
            report.errors.add("claim_row_unreadable");
        }
        if let Some(why) = &log.ended {
            report.errors.add(why.clone());
        }
    }
    let pairs = (driven.committed.len() * logs.len()) as u64;
    let claims_per_s = driven.committed.len() as f64 / load_s.max(1e-9);
    let bytes: u64 = logs.iter().map(|l| l.bytes).sum();
    let panels: u64 = logs.iter().map(|l| l.panels).sum();
    report.errors.merge(&driven.errors);

    let mut outcomes: Vec<(String, u64)> = driven.outcomes.into_iter().collect();
    outcomes.sort();
    let outcome_line = outcomes
        .iter()
        .map(|(o, n)| format!("{o} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    report
        .field("viewers", args.viewers as u64)
        .field("rate", args.rate)
        .field("duration_s", args.duration)
        .field("skus", args.skus)
        .field("stock", args.stock)
        .field("warmup", args.warmup)
        .field("analyzed", !args.no_analyze)
        .field("durable_commits", args.durable_commits)
        .field("db_connections", args.db_connections)
        .field("claims", driven.committed.len() as u64)
        .field("load_s", round3(load_s))
        .field("claims_per_s", round3(claims_per_s))
        .field("throughput", round3(claims_per_s))
        .field("pairs", pairs)
        .field("missed", missed)
        .field("missed_claims", missed_claims)
        .field("settled", settled)
        .field("settle_s", round3(settle_s))
        .field("unknown_rows", unknown)
        .field("notify_unheard", unheard)
        .field("connect_s", round3(connect_s))
        .field(
            "outcomes",
            serde_json::Value::Object(
                outcomes
                    .iter()
                    .map(|(o, n)| (o.clone(), serde_json::json!(n)))
                    .collect(),
            ),
        )
        .field("panels_per_viewer", round3(panels as f64 / logs.len() as f64))
        .field(
            "stream_mib_per_s",
            round3(bytes as f64 / MIB / (settle_s + load_s).max(1e-9)),
        )
        .note(format!(
            "{} viewers of {streamer} connected in {connect_s:.2} s; {} claims at {:.0}/s offered over {} SKUs × {} units: {} committed in {load_s:.2} s = {claims_per_s:.1}/s ({outcome_line})",
            args.viewers,
            total,
            args.rate,
            args.skus,
            args.stock,
            driven.committed.len(),
        ))
        .note(format!(
            "shown: {} of {pairs} viewer × claim rows ({missed} missing, over {missed_claims} claims); {unknown} rows of other claims; every viewer had every claim {} ({settle_s:.2} s after the last commit); {:.1} panels per viewer; {:.1} MiB/s of streams; {unheard} events unheard by the bench's own LISTEN",
            pairs - missed,
            if settled { "yes" } else { "NO" },
            panels as f64 / logs.len() as f64,
            bytes as f64 / MIB / (settle_s + load_s).max(1e-9),
        ))
        .latency("", "commit → screen", &screen.summary())
        .latency("first_", "commit → first viewer", &first.summary())
        .latency("notify_", "commit → NOTIFY heard", &notify.summary())
        .latency("schedule_", "due → commit", &schedule.summary());

    let mib = |s: &Option<Status>, f: fn(&Status) -> f64| s.as_ref().map(f);
    if args.console_pid.is_some() {
        let fields = [
            ("rss_after_signin_mib", mib(&after_sign_in, |s| s.rss)),
            ("rss_before_load_mib", mib(&before_load, |s| s.rss)),
            ("rss_peak_mib", during_load),
            ("rss_end_mib", mib(&end, |s| s.rss)),
            ("hwm_mib", mib(&end, |s| s.hwm)),
        ];
        for (key, value) in fields {
            match value {
                Some(v) => {
                    report.field(key, round3(v));
                }
                None => report.errors.add("console_not_running"),
            }
        }
        let part = |v: Option<f64>| v.map_or("?".into(), |v| format!("{v:.1}"));
        report.note(format!(
            "console memory (MiB): VmRSS after sign-in {}, before the load {}, peak during it {} (sampled every {} ms), at the end {}; VmHWM {}",
            part(fields[0].1),
            part(fields[1].1),
            part(fields[2].1),
            SAMPLE_EVERY.as_millis(),
            part(fields[3].1),
            part(fields[4].1),
        ));
        if let (Some(a), Some(b)) = (cpu_load, cpu_end) {
            let cores = (b - a) / (load_s + settle_s).max(1e-9);
            report.field("console_cpu_cores", round3(cores));
            report.note(format!(
                "console CPU during the load: {cores:.2} cores (since start {:.1} s)",
                b - cpu_start.unwrap_or(0.0)
            ));
        }
    }
    if let Some(cpu) = bench_cpu {
        report.field("bench_cpu_s", round3(cpu));
    }
    report.finish(args.allow_errors)
}

const MIB: f64 = 1024.0 * 1024.0;

/// Adds what the sweep decided (normally nothing).
fn merge(driven: &mut Driven, swept: Driven) {
    for (id, at) in swept.committed {
        driven.committed.entry(id).or_insert(at);
    }
    for (outcome, n) in swept.outcomes {
        *driven.outcomes.entry(outcome).or_default() += n;
    }
    driven.errors.merge(&swept.errors);
}

fn every_viewer_has(logs: &[Arc<Mutex<ViewerLog>>], claims: &[i64]) -> bool {
    logs.iter().all(|l| {
        let l = lock(l);
        l.ended.is_some() || claims.iter().all(|c| l.rows.contains_key(c))
    })
}

/// Polls `done` until it holds (true) or `within` has passed (false).
async fn wait_until(within: Duration, done: impl Fn() -> bool) -> bool {
    let until = Instant::now() + within;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// When the bench's own LISTEN heard each event id.
#[derive(Clone, Default)]
struct Heard(Arc<Mutex<HashMap<i64, Instant>>>);

impl Heard {
    fn snapshot(&self) -> HashMap<i64, Instant> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// `LISTEN shopwire_events` (the console's channel) until the process ends.
async fn listen(database_url: &str) -> anyhow::Result<Heard> {
    let mut listener = PgListener::connect(database_url)
        .await
        .context("failed to connect the bench's listener")?;
    listener
        .listen(feed::CHANNEL)
        .await
        .context("failed to LISTEN shopwire_events")?;
    let heard = Heard::default();
    let into = heard.clone();
    tokio::spawn(async move {
        while let Ok(n) = listener.recv().await {
            let at = Instant::now();
            if let Ok(id) = n.payload().parse() {
                into.0
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry(id)
                    .or_insert(at);
            }
        }
    });
    Ok(heard)
}

/// `VmRSS` and `VmHWM` of a process, in MiB.
#[derive(Debug, Clone, Copy)]
struct Status {
    rss: f64,
    hwm: f64,
}

impl Status {
    fn read(pid: u32) -> Option<Status> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kib = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        };
        Some(Status {
            rss: kib("VmRSS:")? / 1024.0,
            hwm: kib("VmHWM:")? / 1024.0,
        })
    }
}

/// The console's VmRSS, sampled every [`SAMPLE_EVERY`] on a task of its own.
struct Memory {
    pid: Option<u32>,
    peak: Arc<Mutex<Option<f64>>>,
}

impl Memory {
    fn start(pid: Option<u32>) -> Memory {
        let peak = Arc::new(Mutex::new(None));
        if let Some(pid) = pid {
            let into = peak.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(SAMPLE_EVERY);
                loop {
                    tick.tick().await;
                    let Some(s) = Status::read(pid) else { return };
                    let mut peak = into.lock().unwrap_or_else(PoisonError::into_inner);
                    *peak = Some(peak.map_or(s.rss, |p: f64| p.max(s.rss)));
                }
            });
        }
        Memory { pid, peak }
    }

    fn status(&self) -> Option<Status> {
        self.pid.and_then(Status::read)
    }

    /// The highest VmRSS sampled since the last reset.
    fn peak(&self) -> Option<f64> {
        let sampled = *self.peak.lock().unwrap_or_else(PoisonError::into_inner);
        let now = self.status().map(|s| s.rss);
        match (sampled, now) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    fn reset_peak(&self) {
        *self.peak.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// CPU seconds (user + system) a process has used, from `/proc/<pid>/stat` (fields 14
/// and 15, in USER_HZ: 100 ticks per second).
fn cpu_secs(pid: Option<u32>) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid?)).ok()?;
    // The command name may hold spaces: fields are counted after its closing ')'.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    // `rest` starts at field 3 (state): utime is field 14, stime 15.
    Some((ticks(11)? + ticks(12)?) / 100.0)
}
