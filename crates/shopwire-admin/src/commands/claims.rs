//! `claims list`: buy messages turned into claims and what became of each
//! (docs/contract.md §9), newest first. `claims parse`: what stdin lines would become,
//! without recording or reserving anything.

mod parse;

use anyhow::Context;
use clap::Subcommand;
use shopwire_core::db::claims::{self, ClaimFilter, ClaimRow};
use shopwire_core::domain::ClaimOutcome;

use super::dlq::age::Age;
use crate::output::{Tabular, or_dash, time};

/// `claims` and its subcommands.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: ClaimsCommand,
}

#[derive(Debug, Subcommand)]
enum ClaimsCommand {
    /// Claims, newest first.
    List {
        /// Only claims made in this streamer's live.
        #[arg(long)]
        streamer: Option<String>,
        /// Only claims received within this age: 2h, 90m, 1d, …
        #[arg(long)]
        since: Option<Age>,
        /// Only this outcome: reserved, waitlisted, promoted, needs_variant, sold_out,
        /// unmatched, limit_reached, blocked or already_held.
        #[arg(long)]
        outcome: Option<ClaimOutcome>,
        /// At most this many rows.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        limit: i64,
    },
    /// Read stdin lines as buy comments against the catalog, lineup and pin now, printing
    /// JSON lines {"text","intent","score","sku","quantity","outcome"}; reserves nothing.
    Parse(parse::Args),
}

/// Run a `claims` subcommand.
pub async fn run(args: Args, ctx: &super::Ctx) -> anyhow::Result<()> {
    match args.command {
        ClaimsCommand::List {
            streamer,
            since,
            outcome,
            limit,
        } => {
            let since = since
                .map(|age| {
                    chrono::Duration::from_std(age.duration())
                        .map(|age| chrono::Utc::now() - age)
                        .with_context(|| format!("--since {age} is too long"))
                })
                .transpose()?;
            let filter = ClaimFilter {
                streamer: streamer.as_deref().map(str::trim),
                since,
                outcome,
            };
            let pool = ctx.pool().await?;
            let (rows, total) = claims::list(&pool, &filter, limit)
                .await
                .context("failed to list claims")?;
            ctx.out.list_of(&rows, total)
        }
        ClaimsCommand::Parse(args) => parse::run(args, ctx).await,
    }
}

impl Tabular for ClaimRow {
    const HEADERS: &'static [&'static str] = &[
        "ID",
        "STREAMER",
        "BUYER",
        "SKU",
        "QTY",
        "STATUS",
        "OUTCOME",
        "MESSAGE_TIME",
        "ORDER",
        "WAITLIST",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            or_dash(self.streamer.as_deref()),
            self.buyer.clone(),
            or_dash(self.sku.as_deref()),
            self.quantity.to_string(),
            self.status.as_str().to_owned(),
            or_dash(self.outcome.map(|o| o.as_str())),
            time(&self.message_time),
            or_dash(self.order_number.as_deref()),
            or_dash(self.waitlist_position),
        ]
    }
}
