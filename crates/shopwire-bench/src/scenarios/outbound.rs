//! `outbound`: events delivered to an in-process receiver registered as the one endpoint
//! (subscribed to every type), with the worker running and `OUTBOUND_ALLOW_PRIVATE=true`.
//!
//! 1. Latency: buy comments open loop at `--rate` (200/s) on one product with ample stock;
//!    each claim's `claim.reserved` event is timed from its commit to its arrival. The commit
//!    time is the event's `occurred_at` (read back from `outbox_events`, µs): `now()` of the
//!    allocator's transaction, i.e. its *start*, so the figure over-states commit → receipt
//!    by that transaction's length — it is the time the event itself states and needs no
//!    clock of ours. Two more figures per event: from the moment this process heard the
//!    commit's NOTIFY (Postgres delivers it at commit, to the worker at the same time), and
//!    from the comment's scheduled send (the claim window included).
//! 2. Drain: with the worker still running, one statement calls `emit_event` `--backlog`
//!    (10,000) times; commit NOTIFYs them all at once. Timed from the statement's return
//!    (commit) until the last delivery arrived: deliveries/s. The reference is the receiver's
//!    own rate under plain HTTP load from this process at the worker's concurrency.
//! 3. The worker's VmHWM and VmRSS at the end of each part (`--worker-pid`).

mod receiver;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use shopwire_core::config::AppEnv;
use shopwire_core::db::endpoints;
use shopwire_core::domain::Provider;
use shopwire_core::outbound::{EndpointSecret, Subscription, UrlPolicy, check_url};
use sqlx::PgPool;

use self::receiver::{Commits, Receipts};
use crate::args::OutboundArgs;
use crate::db;
use crate::load::{Budget, Engine, Mode, Source};
use crate::payloads::{self, Prepared, Signers};
use crate::report::{Latency, Report, round3};
use crate::scenarios::e2e::DEFAULT_RATE;
use crate::scenarios::ingest::pacing;

/// How often to look whether the expected deliveries have all arrived.
const POLL: Duration = Duration::from_millis(5);

/// Runs `outbound`.
pub async fn run(args: OutboundArgs) -> anyhow::Result<()> {
    let signers = Arc::new(Signers::new(&args.signing));
    signers.require(&[Provider::Comments])?;
    let pool = db::connect(&args.db.database_url).await?;
    let run = payloads::run_id();
    let (url, receipts) = receiver::start().await?;
    let commits = receiver::listen(&args.db.database_url).await?;
    let endpoint = check_url(&url, UrlPolicy::for_env(AppEnv::Development, true))
        .context("the receiver's URL is not a valid endpoint URL")?;
    endpoints::add(
        &pool,
        &endpoint,
        Some("shopwire-bench receiver"),
        &Subscription::All,
        &EndpointSecret::generate(),
    )
    .await
    .context("failed to register the receiver as an endpoint")?;

    let mut report = Report::new("outbound", &args.load.target);
    report.note(format!("receiver at {url}"));
    let part = Part {
        args: &args,
        pool: &pool,
        run: &run,
        receipts: &receipts,
    };
    part.latency(signers, &commits, &mut report).await?;
    worker_memory(args.worker_pid, "latency", &mut report);
    part.reference(&url, &mut report).await?;
    part.drain(&mut report).await?;
    worker_memory(args.worker_pid, "drain", &mut report);
    report.finish(args.load.allow_errors)
}

/// What both parts share.
struct Part<'a> {
    args: &'a OutboundArgs,
    pool: &'a PgPool,
    run: &'a str,
    receipts: &'a Receipts,
}

impl Part<'_> {
    /// Part 1: claim events at `--rate` comments per second.
    async fn latency(
        &self,
        signers: Arc<Signers>,
        commits: &Commits,
        report: &mut Report,
    ) -> anyhow::Result<()> {
        let load = &self.args.load;
        let rate = load.rate.unwrap_or(DEFAULT_RATE);
        let (_, budget) = pacing(load);
        let total = match budget {
            Budget::Requests(n) => n,
            Budget::For(d) => (d.as_secs_f64() * rate).ceil() as u64,
        };
        let sku = format!("OUT-{}", self.run);
        db::add_products(self.pool, std::slice::from_ref(&sku), total + 1000).await?;
        let source = payloads::buy_comments(signers, self.run.to_owned(), "outbound", move |_| {
            sku.clone()
        });
        let engine = Engine::new(&load.url, load.timeout(), load.concurrency)?;
        let sent = engine.run(Mode::Open { rate }, budget, source, None).await;
        let mut sent_at: HashMap<u64, Instant> = HashMap::new();
        for outcome in &sent.outcomes {
            match &outcome.result {
                Ok(_) => {
                    sent_at.insert(outcome.index, outcome.scheduled);
                }
                Err(kind) => report.errors.add(kind.clone()),
            }
        }

        let is_claim = |r: &receiver::Receipt| r.event_type.starts_with("claim.");
        let expected = sent_at.len();
        self.wait_for(|| self.receipts.count(is_claim) >= expected)
            .await;
        let received = self.receipts.take();
        let claims: Vec<_> = received.iter().filter(|r| is_claim(r)).collect();
        for _ in claims.len()..expected {
            report.errors.add("claim_event_not_received");
        }
        let ids: Vec<i64> = claims.iter().filter_map(|r| r.event_id).collect();
        let occurred: HashMap<i64, DateTime<Utc>> =
            sqlx::query_as("SELECT id, occurred_at FROM outbox_events WHERE id = ANY($1)")
                .bind(&ids)
                .fetch_all(self.pool)
                .await
                .context("failed to read the events' occurred_at")?
                .into_iter()
                .collect();
        let marker = format!("bench-{}-", self.run);
        let (mut commit, mut notify, mut comment) =
            (Latency::default(), Latency::default(), Latency::default());
        for r in &claims {
            let Some(id) = r.event_id else {
                report.errors.add("delivery_without_webhook_id");
                continue;
            };
            if let Some(at) = occurred.get(&id) {
                commit.record((r.wall - *at).to_std().unwrap_or_default());
            }
            if let Some(heard) = commits.get(id) {
                notify.record(r.at.saturating_duration_since(heard));
            }
            let index = r.comment_id.as_deref().and_then(|c| {
                let (_, n) = c.rsplit_once(marker.as_str())?;
                n.parse::<u64>().ok()
            });
            if let Some(sent) = index.and_then(|n| sent_at.get(&n)) {
                comment.record(r.at.saturating_duration_since(*sent));
            }
        }
        report
            .field("mode", "open")
            .field("rate", rate)
            .field("requests", sent.outcomes.len() as u64)
            .field("claim_events", claims.len() as u64)
            .field("other_events", (received.len() - claims.len()) as u64)
            .note(format!(
                "latency part: {} buy comments at {rate:.0}/s, {} claim events received ({} other)",
                sent.outcomes.len(),
                claims.len(),
                received.len() - claims.len()
            ))
            .latency("", "commit (occurred_at) → receipt", &commit.summary())
            .latency("notify_", "NOTIFY heard → receipt", &notify.summary())
            .latency("comment_", "comment send → receipt", &comment.summary());
        Ok(())
    }

    /// The receiver alone: `--backlog` plain POSTs closed loop at the worker's concurrency.
    async fn reference(&self, url: &str, report: &mut Report) -> anyhow::Result<()> {
        let concurrency = self.args.worker_concurrency.max(1);
        let body =
            br#"{"type":"claim.sold_out","timestamp":"2026-01-01T00:00:00.000Z","data":{"n":1}}"#;
        let source: Source = Arc::new(move |_| {
            Ok(Prepared {
                path: "/",
                header: "webhook-signature",
                signature: "v1,reference".into(),
                body: body.to_vec(),
            })
        });
        let engine = Engine::new(url, self.args.load.timeout(), concurrency)?;
        let mode = Mode::Closed { concurrency };
        let sent = engine
            .run(mode, Budget::Requests(self.args.backlog), source, None)
            .await;
        self.receipts.take();
        let ok = sent.outcomes.iter().filter(|o| o.result.is_ok()).count();
        for kind in sent.outcomes.iter().filter_map(|o| o.result.as_ref().err()) {
            report.errors.add(format!("reference_{kind}"));
        }
        let per_s = ok as f64 / sent.elapsed.as_secs_f64().max(1e-9);
        report
            .field("reference_per_s", round3(per_s))
            .field("reference_concurrency", concurrency as u64)
            .note(format!(
                "reference: the receiver alone, {ok} POSTs at {concurrency} connections: {per_s:.0}/s"
            ));
        Ok(())
    }

    /// Part 2: `--backlog` events in one statement, drained by the running worker.
    async fn drain(&self, report: &mut Report) -> anyhow::Result<()> {
        let backlog = i64::try_from(self.args.backlog).context("--backlog is too large")?;
        let started = Instant::now();
        let ids: Vec<Option<i64>> = sqlx::query_scalar(
            "SELECT emit_event('claim.sold_out', $1::text || g, $2::text || g, NULL, NULL,
                               jsonb_build_object('n', g))
               FROM generate_series(1, $3::bigint) g",
        )
        .bind(format!("bench-{}-", self.run))
        .bind(format!("bench:{}:", self.run))
        .bind(backlog)
        .fetch_all(self.pool)
        .await
        .context("failed to insert the backlog")?;
        let committed = Instant::now();
        let ids: HashSet<i64> = ids.into_iter().flatten().collect();
        let mine = |r: &receiver::Receipt| r.event_id.is_some_and(|id| ids.contains(&id));
        self.wait_for(|| self.receipts.count(mine) >= ids.len())
            .await;
        let mut first: HashMap<i64, Instant> = HashMap::new();
        let mut duplicates = 0u64;
        for r in self.receipts.take().iter().filter(|r| mine(r)) {
            let id = r.event_id.unwrap_or_default();
            match first.get(&id) {
                Some(_) => duplicates += 1,
                None => {
                    first.insert(id, r.at);
                }
            }
        }
        let received = first.len();
        for _ in received..ids.len() {
            report.errors.add("drain_event_not_received");
        }
        let last = first.values().max().copied().unwrap_or(committed);
        let earliest = first.values().min().copied().unwrap_or(committed);
        let secs = last.saturating_duration_since(committed).as_secs_f64();
        let per_s = received as f64 / secs.max(1e-9);
        let processed = self.processed(&ids).await?;
        report
            .field("backlog", ids.len() as u64)
            .field("drain_received", received as u64)
            .field("drain_duplicates", duplicates)
            .field("drain_processed", processed)
            .field(
                "drain_ok",
                received == ids.len() && processed == ids.len() as u64,
            )
            .field(
                "insert_s",
                round3(committed.saturating_duration_since(started).as_secs_f64()),
            )
            .field(
                "drain_first_ms",
                round3(earliest.saturating_duration_since(committed).as_secs_f64() * 1000.0),
            )
            .field("drain_s", round3(secs))
            .field("drain_per_s", round3(per_s))
            .note(format!(
                "drain part: {} events inserted in {:.2} s; {received} received ({duplicates} twice), {processed} processed, last {secs:.2} s after commit = {per_s:.0} deliveries/s (first after {:.0} ms)",
                ids.len(),
                committed.saturating_duration_since(started).as_secs_f64(),
                earliest.saturating_duration_since(committed).as_secs_f64() * 1000.0,
            ));
        Ok(())
    }

    /// How many of `events`' deliveries are `processed` (their row is updated just after
    /// the POST answers, so a few more polls may be needed after the last arrival).
    async fn processed(&self, events: &HashSet<i64>) -> anyhow::Result<u64> {
        let ids: Vec<i64> = events.iter().copied().collect();
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM outbound_deliveries
                  WHERE event_id = ANY($1) AND status = 'processed'",
            )
            .bind(&ids)
            .fetch_one(self.pool)
            .await
            .context("failed to count processed deliveries")?;
            if n as usize >= ids.len() || Instant::now() >= until {
                return Ok(n as u64);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls `done` until it holds or `--settle-secs` have passed.
    async fn wait_for(&self, done: impl Fn() -> bool) {
        let until = Instant::now() + Duration::from_secs(self.args.db.settle_secs);
        while !done() && Instant::now() < until {
            tokio::time::sleep(POLL).await;
        }
    }
}

/// Adds the worker's `VmHWM` (peak) and `VmRSS` in MiB as `<part>_hwm_mib`/`<part>_rss_mib`.
fn worker_memory(pid: Option<u32>, part: &str, report: &mut Report) {
    let Some(pid) = pid else { return };
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        report.errors.add("worker_not_running");
        return;
    };
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
    };
    let (hwm, rss) = (kib("VmHWM:"), kib("VmRSS:"));
    if let (Some(hwm), Some(rss)) = (hwm, rss) {
        let (hwm, rss) = (hwm / 1024.0, rss / 1024.0);
        report
            .field(&format!("{part}_hwm_mib"), round3(hwm))
            .field(&format!("{part}_rss_mib"), round3(rss))
            .note(format!(
                "worker after the {part} part: VmHWM {hwm:.1} MiB, VmRSS {rss:.1} MiB"
            ));
    }
}
