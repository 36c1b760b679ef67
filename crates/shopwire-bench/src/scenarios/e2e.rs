//! `e2e`: buy comments for a product with ample stock, sent open loop at a fixed rate
//! (default 200/s); each is timed from its scheduled send until its hold exists (the order
//! row, written with its reservation by the allocator `CLAIM_ORDER_WINDOW_MS` after the
//! comment's time, so the window is part of every figure).

use std::sync::Arc;

use shopwire_core::domain::Provider;

use crate::args::E2eArgs;
use crate::load::{Engine, Mode};
use crate::payloads::{self, Signers};
use crate::report::{Report, round3};
use crate::scenarios::ingest::pacing;
use crate::{db, follow};

/// Open-loop rate when `--rate` is not given.
pub const DEFAULT_RATE: f64 = 200.0;

/// Runs `e2e`.
pub async fn run(args: E2eArgs) -> anyhow::Result<()> {
    let signers = Arc::new(Signers::new(&args.signing));
    signers.require(&[Provider::Comments])?;
    let load = &args.load;
    let pool = db::connect(&args.db.database_url).await?;
    let run = payloads::run_id();
    let sku = format!("E2E-{run}");
    let (_, budget) = pacing(load);
    let rate = load.rate.unwrap_or(DEFAULT_RATE);
    let stock = match budget {
        crate::load::Budget::Requests(n) => n,
        crate::load::Budget::For(d) => (d.as_secs_f64() * rate).ceil() as u64,
    } + 1000;
    db::add_products(&pool, std::slice::from_ref(&sku), stock).await?;

    let source = {
        let sku = sku.clone();
        payloads::buy_comments(signers.clone(), run.clone(), "e2e", move |_| sku.clone())
    };
    let engine = Engine::new(&load.url, load.timeout(), load.concurrency)?;
    let mode = Mode::Open { rate };
    let mut report = Report::new("e2e", &load.target);
    let follow::FollowedRun {
        sent,
        followed,
        ack,
        secs,
    } = follow::run(
        &engine,
        (mode, budget),
        source,
        &pool,
        &args.db,
        &mut report.errors,
    )
    .await?;
    let orders = followed.finished.iter().filter(|f| f.ordered).count() as u64;
    for f in followed.finished.iter().filter(|f| !f.ordered) {
        report.errors.add(format!("no_order_{}", f.status));
    }
    let throughput = orders as f64 / secs.max(1e-9);
    report
        .field("mode", mode.name())
        .field("rate", rate)
        .field("requests", sent.outcomes.len() as u64)
        .field("orders", orders)
        .field("elapsed_s", round3(secs))
        .field("throughput", round3(throughput))
        .field("poll_ms", args.db.poll_ms)
        .field("window_ms", args.claims.window_ms)
        .note(format!(
            "open loop at {rate:.0}/s: {} buy comments, {orders} holds in {secs:.2} s = {throughput:.0} holds/s (polled every {} ms; window {} ms)",
            sent.outcomes.len(),
            args.db.poll_ms,
            args.claims.window_ms
        ))
        .latency("", "send → hold exists", &followed.latency.summary())
        .latency("ack_", "send → 200", &ack.summary());
    report.finish(load.allow_errors)
}
