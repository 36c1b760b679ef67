//! `buyers block|unblock|list`: the block list; a blocked buyer's claims end `blocked`
//! (docs/contract.md §9).

use anyhow::{Context, bail};
use clap::Subcommand;
use serde::Serialize;
use shopwire_core::db::buyers::{self, BlockedBuyer};

use crate::output::{Tabular, or_dash, time};

/// `buyers` and its subcommands.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: BuyersCommand,
}

#[derive(Debug, Subcommand)]
enum BuyersCommand {
    /// Refuse a buyer's claims from now on (again: updates the reason).
    Block {
        /// The buyer's platform user id (comment `client`, DM sender id).
        handle: String,
        /// Why, for the record.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Take a buyer off the block list.
    Unblock {
        /// The buyer's platform user id.
        handle: String,
    },
    /// Every blocked buyer, most recently blocked first.
    List,
}

/// What `buyers block` prints: the block, and whether it was there before.
#[derive(Debug, Serialize)]
struct Blocked {
    #[serde(flatten)]
    block: BlockedBuyer,
    already_blocked: bool,
}

/// What `buyers unblock` prints.
#[derive(Debug, Serialize)]
struct Unblocked<'a> {
    buyer: &'a str,
    unblocked: bool,
}

/// Run a `buyers` subcommand.
pub async fn run(args: Args, ctx: &super::Ctx) -> anyhow::Result<()> {
    match args.command {
        BuyersCommand::Block { handle, reason } => {
            let buyer = checked_buyer(&handle)?;
            let reason = reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
            let pool = ctx.pool().await?;
            let failed = || format!("failed to block `{buyer}`");
            let new = buyers::block(&pool, buyer, reason)
                .await
                .with_context(failed)?;
            let block = buyers::get(&pool, buyer)
                .await
                .with_context(failed)?
                .with_context(|| format!("`{buyer}` was unblocked meanwhile"))?;
            let blocked = Blocked {
                block,
                already_blocked: !new,
            };
            ctx.out.either(&blocked, || {
                let b = &blocked.block;
                format!(
                    "{} {} (reason: {}, since {})",
                    b.buyer,
                    if blocked.already_blocked {
                        "was already blocked"
                    } else {
                        "blocked"
                    },
                    or_dash(b.reason.as_deref()),
                    time(&b.blocked_at)
                )
            })
        }
        BuyersCommand::Unblock { handle } => {
            let buyer = checked_buyer(&handle)?;
            let pool = ctx.pool().await?;
            let unblocked = buyers::unblock(&pool, buyer)
                .await
                .with_context(|| format!("failed to unblock `{buyer}`"))?;
            if !unblocked {
                bail!("`{buyer}` is not blocked");
            }
            ctx.out.either(&Unblocked { buyer, unblocked }, || {
                format!("{buyer} unblocked")
            })
        }
        BuyersCommand::List => {
            let pool = ctx.pool().await?;
            let rows = buyers::list(&pool)
                .await
                .context("failed to list blocked buyers")?;
            ctx.out.list(&rows)
        }
    }
}

/// The buyer id as stored (1 to 256 characters).
fn checked_buyer(handle: &str) -> anyhow::Result<&str> {
    let trimmed = handle.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 256 {
        bail!("buyer must be 1 to 256 characters");
    }
    Ok(trimmed)
}

impl Tabular for BlockedBuyer {
    const HEADERS: &'static [&'static str] = &["BUYER", "BLOCKED_AT", "REASON"];

    fn cells(&self) -> Vec<String> {
        vec![
            self.buyer.clone(),
            time(&self.blocked_at),
            or_dash(self.reason.as_deref()),
        ]
    }
}
