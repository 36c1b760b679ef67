//! `queues`: per queue, what Redis holds (pending, scheduled, running) and what Postgres
//! calls dead; the inbox by status and the age of the oldest delivery still waiting.
//!
//! Postgres is the truth and is always read; when Redis does not answer, its counts are
//! `null` and `redis_error` says why, so the command stays useful during an incident.

use std::time::Duration;

use anyhow::Context;
use clap::Args as ClapArgs;
use serde::Serialize;
use shopwire_core::db::{dead_letters, inbox};
use shopwire_core::domain::InboxStatus;
use shopwire_core::jobs::Queue;

use crate::output::{or_dash, table};

/// How long one Redis depth read may take.
const REDIS_DEADLINE: Duration = Duration::from_secs(5);

/// `queues` arguments (none).
#[derive(Debug, ClapArgs)]
pub struct Args {}

/// One queue's counts.
#[derive(Debug, Serialize)]
struct QueueLine {
    queue: &'static str,
    pending: Option<u64>,
    scheduled: Option<u64>,
    running: Option<u64>,
    dead: i64,
}

/// The one document `queues` prints.
#[derive(Debug, Serialize)]
struct Report {
    queues: Vec<QueueLine>,
    inbox: serde_json::Map<String, serde_json::Value>,
    oldest_pending_age_secs: Option<i64>,
    redis_error: Option<String>,
}

/// Print the queues.
pub async fn run(_args: Args, ctx: &super::Ctx) -> anyhow::Result<()> {
    let pool = ctx.pool().await?;
    let dead = dead_letters::open_counts_by_queue(&pool)
        .await
        .context("failed to count dead jobs")?;
    let by_status = inbox::count_by_status(&pool)
        .await
        .context("failed to count inbox rows")?;
    let oldest_pending_age_secs = inbox::oldest_pending_age_secs(&pool)
        .await
        .context("failed to read the oldest pending delivery")?;

    let client = ctx.queue()?;
    let mut redis_error = None;
    let mut queues = Vec::with_capacity(Queue::ALL.len());
    for queue in Queue::ALL {
        let depth = if redis_error.is_some() {
            None
        } else {
            match tokio::time::timeout(REDIS_DEADLINE, client.depth(queue)).await {
                Ok(Ok(depth)) => Some(depth),
                Ok(Err(e)) => {
                    redis_error = Some(e.to_string());
                    None
                }
                Err(_) => {
                    redis_error = Some(format!("no answer within {REDIS_DEADLINE:?}"));
                    None
                }
            }
        };
        queues.push(QueueLine {
            queue: queue.as_str(),
            pending: depth.map(|d| d.pending),
            scheduled: depth.map(|d| d.scheduled),
            running: depth.map(|d| d.running),
            dead: count_of(&dead, queue.as_str()),
        });
    }
    let inbox = InboxStatus::ALL
        .iter()
        .map(|s| {
            (
                s.as_str().to_owned(),
                count_of(&by_status, s.as_str()).into(),
            )
        })
        .collect();
    let report = Report {
        queues,
        inbox,
        oldest_pending_age_secs,
        redis_error,
    };
    ctx.out.either(&report, || human(&report))
}

fn count_of(counts: &[(String, i64)], key: &str) -> i64 {
    counts.iter().find(|(k, _)| k == key).map_or(0, |(_, n)| *n)
}

fn human(report: &Report) -> String {
    let rows: Vec<Vec<String>> = report
        .queues
        .iter()
        .map(|q| {
            vec![
                q.queue.to_owned(),
                or_dash(q.pending),
                or_dash(q.scheduled),
                or_dash(q.running),
                q.dead.to_string(),
            ]
        })
        .collect();
    let mut text = table(&["QUEUE", "PENDING", "SCHEDULED", "RUNNING", "DEAD"], &rows);
    if let Some(error) = &report.redis_error {
        text.push_str(&format!("redis: unavailable ({error})\n"));
    }
    let statuses: Vec<String> = report
        .inbox
        .iter()
        .map(|(status, n)| format!("{status} {n}"))
        .collect();
    text.push_str(&format!("\ninbox: {}\n", statuses.join(", ")));
    text.push_str(&format!(
        "oldest pending delivery: {}\n",
        report
            .oldest_pending_age_secs
            .map_or_else(|| "none".to_owned(), |s| format!("{s} s old"))
    ));
    text
}
