//! `events list|show|replay`: webhook deliveries in the inbox, what they caused, and
//! putting them back in their queue.

mod replay;
mod show;

use anyhow::Context;
use clap::Subcommand;
use shopwire_core::db::inbox::{self, InboxId, InboxRow};
use shopwire_core::domain::{InboxStatus, Provider};

use crate::output::{Tabular, clip, or_dash, time};

/// `events` and its subcommands.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: EventsCommand,
}

#[derive(Debug, Subcommand)]
enum EventsCommand {
    /// Newest deliveries first.
    List {
        /// Only this provider: stripe, tiktok-shop, tiktok or comments.
        #[arg(long)]
        provider: Option<Provider>,
        /// Only this status: queued, processing, processed, ignored, rejected, failed or dead.
        #[arg(long)]
        status: Option<InboxStatus>,
        /// At most this many rows.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        limit: i64,
    },
    /// One delivery, its body, and the messages, orders and payments it caused.
    Show {
        /// The inbox id.
        id: InboxId,
    },
    /// Put deliveries back in their queue (any status but rejected; attempts reset).
    /// Handlers are idempotent: a processed delivery replayed applies nothing twice.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["id", "since"])))]
    Replay {
        /// The inbox id.
        #[arg(conflicts_with = "provider")]
        id: Option<InboxId>,
        /// Only this provider: stripe, tiktok-shop, tiktok or comments.
        #[arg(long, requires = "since")]
        provider: Option<Provider>,
        /// Deliveries received within this age: 2h, 90m, 1d, …
        #[arg(long)]
        since: Option<super::dlq::age::Age>,
        /// With --since: at most this many (oldest first).
        #[arg(long, requires = "since", value_parser = clap::value_parser!(i64).range(1..))]
        limit: Option<i64>,
        /// List what would be replayed and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Run an `events` subcommand.
pub async fn run(args: Args, ctx: &super::Ctx) -> anyhow::Result<()> {
    match args.command {
        EventsCommand::List {
            provider,
            status,
            limit,
        } => {
            let pool = ctx.pool().await?;
            let rows = inbox::list(&pool, provider, status, limit)
                .await
                .context("failed to list inbox events")?;
            ctx.out.list(&rows)
        }
        EventsCommand::Show { id } => show::run(id, ctx).await,
        EventsCommand::Replay {
            id,
            provider,
            since,
            limit,
            dry_run,
        } => {
            let selection = match (id, since) {
                (Some(id), _) => replay::Selection::One(id),
                (None, Some(since)) => replay::Selection::Recent {
                    provider,
                    since,
                    limit,
                },
                (None, None) => anyhow::bail!("give an inbox id or --since"),
            };
            replay::run(selection, dry_run, ctx).await
        }
    }
}

impl Tabular for InboxRow {
    const HEADERS: &'static [&'static str] = &[
        "ID",
        "PROVIDER",
        "EVENT_TYPE",
        "STATUS",
        "ATTEMPTS",
        "RECEIVED_AT",
        "PROCESSED_AT",
        "DEDUPE_KEY",
        "LAST_ERROR",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.provider.clone(),
            or_dash(self.event_type.as_deref()),
            self.status.clone(),
            self.attempts.to_string(),
            time(&self.received_at),
            or_dash(self.processed_at.as_ref().map(time)),
            clip(&self.dedupe_key, 32),
            or_dash(self.last_error.as_deref().map(|e| clip(e, 60))),
        ]
    }
}
