//! The trends clock: enqueue the scoring job every `TRENDS_INTERVAL_SECS`, and with
//! `RAPIDAPI_KEY` fetch every followed signal every `TRENDS_FETCH_INTERVAL_SECS` (first
//! round at startup), then enqueue a scoring run for what arrived.
//!
//! The job's idempotency key names its period, so several worker processes schedule one
//! job per period between them.

use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, SubsecRound, Utc};
use shopwire_core::db::trends::{self, SnapshotSource};
use shopwire_core::trends::SignalKind;
use shopwire_insight::trends::enqueue_scoring;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

use crate::context::JobContext;

/// Run the clock until `stop` turns true.
pub async fn run(ctx: Arc<JobContext>, mut stop: watch::Receiver<bool>) {
    let every = ctx.trends_interval;
    let mut score_tick = tokio::time::interval_at(Instant::now() + every, every);
    score_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut fetch_tick = tokio::time::interval(ctx.trends_fetch_interval);
    fetch_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let fetching = ctx.rapidapi.is_some();
    loop {
        let tick = tokio::select! {
            _ = score_tick.tick() => Tick::Score,
            _ = fetch_tick.tick(), if fetching => Tick::Fetch,
            _ = stop.wait_for(|stop| *stop) => Tick::Stop,
        };
        match tick {
            Tick::Score => {
                let period = Utc::now().timestamp() / every.as_secs().max(1) as i64;
                let key = format!("trends:score:{period}");
                if let Err(e) = enqueue_scoring(&ctx.pool, &ctx.queue, &key).await {
                    tracing::warn!(error = %e, "could not schedule trend scoring; next period will");
                }
            }
            Tick::Fetch => {
                let round = tokio::select! {
                    result = fetch_round(&ctx) => Some(result),
                    _ = stop.wait_for(|stop| *stop) => None,
                };
                match round {
                    Some(Ok(n)) => tracing::info!(snapshots = n, "trend fetch round done"),
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "trend fetch round failed; next round retries")
                    }
                    None => return,
                }
            }
            Tick::Stop => return,
        }
    }
}

enum Tick {
    Score,
    Fetch,
    Stop,
}

/// Fetch every followed signal once; returns how many new snapshots were stored.
pub async fn fetch_round(ctx: &JobContext) -> anyhow::Result<usize> {
    let Some(client) = &ctx.rapidapi else {
        return Ok(0);
    };
    let signals = trends::followed(&ctx.pool)
        .await
        .context("failed to list followed signals")?;
    let mut stored = 0;
    let mut last: Option<DateTime<Utc>> = None;
    for signal in signals {
        let Some(kind) = SignalKind::parse(&signal.kind) else {
            continue;
        };
        let now = Utc::now().trunc_subsecs(0);
        match client.fetch(kind, &signal.key, now).await {
            Ok(snapshot) => {
                let mut conn = ctx.pool.acquire().await?;
                if trends::insert_snapshot(
                    &mut conn,
                    signal.id,
                    &snapshot,
                    SnapshotSource::RapidApi,
                )
                .await?
                {
                    stored += 1;
                    last = Some(now);
                }
            }
            Err(e) => {
                tracing::warn!(kind = %signal.kind, signal = %signal.key, error = %e, "trend fetch failed; next round retries");
            }
        }
    }
    if let Some(at) = last {
        enqueue_scoring(
            &ctx.pool,
            &ctx.queue,
            &format!("trends:fetch:{}", at.timestamp()),
        )
        .await?;
    }
    Ok(stored)
}
