//! `dlq list|show|replay|purge`: the dead-letter queue (`dead_jobs` in Postgres).
//!
//! A replay moves each dead job back to its queue at most once: the ids are snapshotted
//! first (jobs that die again meanwhile are not picked up again by the same call), and
//! each one is claimed with `replayed_at IS NULL` in its own transaction, so two replays
//! running at once never enqueue a job twice.

pub mod age;
pub mod replay;
mod show;

use anyhow::{Context, bail};
use clap::Subcommand;
use serde::Serialize;
use shopwire_core::db::dead_letters::{self, DeadJob, DeadJobId, Replay};
use shopwire_core::db::inbox::InboxId;
use shopwire_core::jobs::Queue;
use shopwire_core::outbound::DeliveryId;

use self::age::Age;
use self::replay::{Item, Outcome, Pusher, Report};
use crate::output::{Tabular, clip, or_dash, time};

/// `dlq` and its subcommands.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: DlqCommand,
}

#[derive(Debug, Subcommand)]
enum DlqCommand {
    /// Dead jobs not yet replayed, newest first.
    List {
        /// Only this queue: messages, stripe-events, tiktok-shop or checkout.
        #[arg(long, value_parser = parse_queue)]
        queue: Option<Queue>,
        /// At most this many rows.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        limit: i64,
    },
    /// One dead job with its inbox row and job row.
    Show {
        /// The dead job's id.
        id: DeadJobId,
    },
    /// Move dead jobs back to their queue with attempts reset, each at most once.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["id", "all"])))]
    Replay {
        /// The dead job's id.
        id: Option<DeadJobId>,
        /// Every dead job not yet replayed (oldest first).
        #[arg(long)]
        all: bool,
        /// With --all: only this queue.
        #[arg(long, conflicts_with = "id", value_parser = parse_queue)]
        queue: Option<Queue>,
        /// With --all: at most this many.
        #[arg(long, conflicts_with = "id", value_parser = clap::value_parser!(i64).range(1..))]
        limit: Option<i64>,
        /// List what would be replayed and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Delete dead jobs that died before a cutoff, replayed or not (their inbox and job
    /// rows stay `dead`, so `events replay` can still bring them back).
    Purge {
        /// The cutoff's age: 30d, 12h, 90m, …
        #[arg(long)]
        older_than: Age,
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
    },
}

fn parse_queue(name: &str) -> Result<Queue, String> {
    Queue::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Queue::ALL.iter().map(|q| q.as_str()).collect();
        format!("unknown queue `{name}` (expected {})", names.join(", "))
    })
}

/// Run a `dlq` subcommand.
pub async fn run(args: Args, ctx: &super::Ctx) -> anyhow::Result<()> {
    match args.command {
        DlqCommand::List { queue, limit } => {
            let pool = ctx.pool().await?;
            let rows = dead_letters::list_open(&pool, queue, limit)
                .await
                .context("failed to list dead jobs")?;
            let rows: Vec<Listed> = rows.into_iter().map(Listed::from).collect();
            ctx.out.list(&rows)
        }
        DlqCommand::Show { id } => show::run(id, ctx).await,
        DlqCommand::Replay {
            id,
            all: _,
            queue,
            limit,
            dry_run,
        } => replay_dead(ctx, id, queue, limit, dry_run).await,
        DlqCommand::Purge { older_than, yes } => purge(ctx, older_than, yes).await,
    }
}

/// A dead job as `dlq list` prints it:
/// `{id,queue,inbox_id,outbound_delivery_id,attempts,last_error,died_at}`.
#[derive(Debug, Serialize)]
struct Listed {
    id: DeadJobId,
    queue: String,
    inbox_id: Option<InboxId>,
    outbound_delivery_id: Option<DeliveryId>,
    attempts: i32,
    last_error: String,
    died_at: chrono::DateTime<chrono::Utc>,
}

impl From<DeadJob> for Listed {
    fn from(d: DeadJob) -> Self {
        Listed {
            id: d.id,
            queue: d.queue,
            inbox_id: d.inbox_id,
            outbound_delivery_id: d.outbound_delivery_id,
            attempts: d.attempts,
            last_error: d.last_error,
            died_at: d.died_at,
        }
    }
}

impl Tabular for Listed {
    const HEADERS: &'static [&'static str] = &[
        "ID",
        "QUEUE",
        "INBOX_ID",
        "DELIVERY_ID",
        "ATTEMPTS",
        "DIED_AT",
        "LAST_ERROR",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.queue.clone(),
            or_dash(self.inbox_id),
            or_dash(self.outbound_delivery_id),
            self.attempts.to_string(),
            time(&self.died_at),
            clip(&self.last_error, 80),
        ]
    }
}

async fn replay_dead(
    ctx: &super::Ctx,
    id: Option<DeadJobId>,
    queue: Option<Queue>,
    limit: Option<i64>,
    dry_run: bool,
) -> anyhow::Result<()> {
    let pool = ctx.pool().await?;
    let snapshot = match id {
        Some(id) => {
            let dead = dead_letters::get(&pool, id)
                .await
                .context("failed to read the dead job")?
                .with_context(|| format!("no dead job {id}"))?;
            vec![dead]
        }
        None => dead_letters::snapshot_open(&pool, queue, limit)
            .await
            .context("failed to list dead jobs")?,
    };
    let item = |dead: &DeadJob, outcome: Outcome, detail: Option<String>| Item {
        id: dead.id.get(),
        queue: dead.queue.clone(),
        inbox_id: dead.inbox_id,
        job_id: dead.job_id,
        status: None,
        outcome,
        detail,
    };
    if dry_run {
        let items = snapshot
            .iter()
            .map(|dead| match dead.replayed_at {
                None => item(dead, Outcome::WouldReplay, None),
                Some(_) => item(dead, Outcome::Skipped, Some("already replayed".into())),
            })
            .collect();
        return Report::new(true, items).print(ctx);
    }
    let mut pusher = Pusher::new(ctx.queue()?);
    let bar = replay::progress(ctx, snapshot.len());
    let mut items = Vec::with_capacity(snapshot.len());
    for dead in &snapshot {
        let replayed = dead_letters::replay(&pool, dead.id)
            .await
            .with_context(|| format!("failed to replay dead job {}", dead.id))?;
        let (outcome, detail) = match replayed {
            Replay::Replayed(target) => pusher.push(&target).await,
            Replay::AlreadyReplayed => (Outcome::Skipped, Some("already replayed".into())),
            Replay::NotFound => (Outcome::Skipped, Some("purged meanwhile".into())),
            Replay::NotDead(status) => (
                Outcome::Skipped,
                Some(match status {
                    Some(status) => format!("no longer dead (now {status})"),
                    None => "its inbox, job or delivery row is gone".to_owned(),
                }),
            ),
            Replay::EndpointInactive { endpoint, removed } => (
                Outcome::Skipped,
                Some(format!(
                    "endpoint {endpoint} is {}; nothing changed",
                    if removed { "removed" } else { "disabled" }
                )),
            ),
        };
        items.push(item(dead, outcome, detail));
        bar.inc(1);
    }
    bar.finish_and_clear();
    Report::new(false, items).print(ctx)
}

/// What `dlq purge` prints.
#[derive(Debug, Serialize)]
struct PurgeReport {
    older_than: String,
    purged: i64,
    replayed: i64,
    unreplayed: i64,
}

async fn purge(ctx: &super::Ctx, older_than: Age, yes: bool) -> anyhow::Result<()> {
    if !yes {
        bail!(
            "refusing to purge without --yes (it deletes every dead job that died more than {older_than} ago)"
        );
    }
    let pool = ctx.pool().await?;
    let purged = dead_letters::purge(&pool, older_than.duration())
        .await
        .context("failed to purge dead jobs")?;
    let report = PurgeReport {
        older_than: older_than.to_string(),
        purged: purged.replayed + purged.unreplayed,
        replayed: purged.replayed,
        unreplayed: purged.unreplayed,
    };
    ctx.out.either(&report, || {
        format!(
            "purged {} dead jobs that died more than {} ago ({} replayed, {} never replayed)",
            report.purged, report.older_than, report.replayed, report.unreplayed
        )
    })
}
