//! `waitlist show SKU`: a variant's waitlist, next in line first (docs/contract.md §9).

use anyhow::{Context, bail};
use clap::Subcommand;
use shopwire_core::db::claims::{self, WaitlistEntry};
use shopwire_core::db::products;

use crate::output::{Tabular, time};

/// `waitlist` and its subcommands.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: WaitlistCommand,
}

#[derive(Debug, Subcommand)]
enum WaitlistCommand {
    /// The claims waiting for a variant, in the order freed stock will serve them.
    Show {
        /// The variant's SKU.
        sku: String,
    },
}

/// Run a `waitlist` subcommand.
pub async fn run(args: Args, ctx: &super::Ctx) -> anyhow::Result<()> {
    match args.command {
        WaitlistCommand::Show { sku } => {
            let pool = ctx.pool().await?;
            let failed = || format!("failed to read the waitlist of `{sku}`");
            if products::get(&pool, &sku)
                .await
                .with_context(failed)?
                .is_none()
            {
                bail!("no product with SKU `{sku}`");
            }
            let line = claims::waitlist(&pool, &sku).await.with_context(failed)?;
            ctx.out.list(&line)
        }
    }
}

impl Tabular for WaitlistEntry {
    const HEADERS: &'static [&'static str] = &[
        "POSITION",
        "CLAIM",
        "BUYER",
        "QTY",
        "MESSAGE_TIME",
        "EXPIRES_AT",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.position.to_string(),
            self.claim_id.to_string(),
            self.buyer.clone(),
            self.quantity.to_string(),
            time(&self.message_time),
            time(&self.expires_at),
        ]
    }
}
