//! `inbox purge`: erase the bodies of settled deliveries past a retention age (issue #11).
//!
//! The rows stay (a retried delivery is still a duplicate, an order still traces to its
//! webhook); their bodies become empty, stamped `body_purged_at`, and the texts of the
//! messages they caused are cleared. See `shopwire_core::db::retention`.

use anyhow::{Context, bail};
use clap::Subcommand;
use serde::Serialize;
use shopwire_core::db::retention;

use super::dlq::age::Age;

/// `inbox` and its subcommands.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: InboxCommand,
}

#[derive(Debug, Subcommand)]
enum InboxCommand {
    /// Erase the bodies of processed, ignored and rejected deliveries that settled before a
    /// cutoff, and the texts of their messages (intent, scores and links stay). Queued,
    /// processing, failed and dead deliveries, and those whose claim is still open, are
    /// never touched.
    Purge {
        /// The cutoff's age, counted from processed_at (received_at when never processed):
        /// 30d, 12h, 90m, …
        #[arg(long)]
        processed_older_than: Age,
        /// Confirm the erasure.
        #[arg(long)]
        yes: bool,
    },
}

/// What `inbox purge` prints.
#[derive(Debug, Serialize)]
struct PurgeReport {
    processed_older_than: String,
    purged: i64,
    messages: i64,
}

/// Run an `inbox` subcommand.
pub async fn run(args: Args, ctx: &super::Ctx) -> anyhow::Result<()> {
    match args.command {
        InboxCommand::Purge {
            processed_older_than,
            yes,
        } => purge(ctx, processed_older_than, yes).await,
    }
}

async fn purge(ctx: &super::Ctx, older_than: Age, yes: bool) -> anyhow::Result<()> {
    let pool = ctx.pool().await?;
    if !yes {
        let would = retention::purgeable(&pool, older_than.duration())
            .await
            .context("failed to count purgeable deliveries")?;
        bail!(
            "refusing to purge without --yes (it would erase the bodies of {would} deliveries settled more than {older_than} ago)"
        );
    }
    let purged = retention::purge_settled(&pool, older_than.duration())
        .await
        .context("failed to purge inbox bodies")?;
    let report = PurgeReport {
        processed_older_than: older_than.to_string(),
        purged: purged.bodies,
        messages: purged.messages,
    };
    ctx.out.either(&report, || {
        format!(
            "purged the bodies of {} deliveries settled more than {} ago ({} message texts cleared)",
            report.purged, report.processed_older_than, report.messages
        )
    })
}
