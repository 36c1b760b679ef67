//! `buyers block|unblock|list`: the block list; a blocked buyer's claims end `blocked`
//! (docs/contract.md §9). `buyers forget`: erase one buyer's personal data (issue #11).

use anyhow::{Context, bail};
use clap::Subcommand;
use serde::Serialize;
use shopwire_core::db::buyers::{self, BlockedBuyer};
use shopwire_core::db::retention::forget::{self, Footprint, ForgetError};

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
    /// Erase a buyer's personal data, keeping orders' money and stock history: the handle
    /// becomes one pseudonym (`forgotten-` and 12 hex digits of its SHA-256) on their
    /// messages, claims and waitlist places, orders, carts, block and outbox events, so
    /// counts and per-buyer limits still group; message texts and DM conversation ids are
    /// cleared and the bodies of their deliveries purged. Orders keep totals, currency,
    /// quantities, statuses and SKUs; reservations and stock are untouched. A blocked buyer's
    /// block is kept under the pseudonym (their past claims stay refused), which no longer
    /// matches the handle: to refuse the account's future claims, block the handle again.
    /// Without --yes, says what it would change.
    Forget {
        /// The buyer's platform user id.
        handle: String,
        /// Confirm the erasure (one transaction).
        #[arg(long)]
        yes: bool,
    },
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
        BuyersCommand::Forget { handle, yes } => {
            forget_buyer(ctx, checked_buyer(&handle)?, yes).await
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

async fn forget_buyer(ctx: &super::Ctx, buyer: &str, yes: bool) -> anyhow::Result<()> {
    let pool = ctx.pool().await?;
    if !yes {
        let found = forget::footprint(&pool, buyer)
            .await
            .with_context(|| format!("failed to look for `{buyer}`"))?;
        if found.is_empty() {
            bail!("{}", ForgetError::Unknown(buyer.to_owned()));
        }
        bail!(
            "refusing to forget `{buyer}` without --yes (it would change {}{})",
            counts(&found),
            match found.in_flight {
                0 => String::new(),
                n => format!("; {n} of their deliveries are still in flight and must settle first"),
            }
        );
    }
    let forgotten = match forget::forget(&pool, buyer).await {
        Ok(forgotten) => forgotten,
        Err(ForgetError::Db(e)) => {
            return Err(anyhow::Error::new(e).context(format!("failed to forget `{buyer}`")));
        }
        Err(refused) => bail!("{refused}"),
    };
    ctx.out.either(&forgotten, || {
        format!(
            "forgot {buyer}: now {} ({})",
            forgotten.pseudonym,
            counts(&forgotten.changed)
        )
    })
}

/// `N messages, N claims, …` of a footprint.
fn counts(f: &Footprint) -> String {
    format!(
        "{} messages, {} claims, {} orders, {} carts, {} blocks, {} outbox events, {} inbox bodies, {} jobs",
        f.messages,
        f.claims,
        f.orders,
        f.carts,
        f.buyer_blocks,
        f.outbox_events,
        f.inbox_bodies,
        f.jobs
    )
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
