//! `live pin|unpin`: the product a streamer has on screen, which live comments like
//! "mine!" refer to.

use anyhow::{Context, bail};
use clap::Subcommand;
use shopwire_core::db::live_pins::{self, Pin};

use crate::output::{Tabular, or_dash, time};

/// `live` and its subcommands.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: LiveCommand,
}

#[derive(Debug, Subcommand)]
enum LiveCommand {
    /// Put a product on a streamer's screen, replacing what was pinned.
    Pin {
        /// The streamer (as the comment relay names them).
        #[arg(long)]
        streamer: String,
        /// The product to show.
        #[arg(long)]
        sku: String,
    },
    /// Take the pinned product off a streamer's screen.
    Unpin {
        /// The streamer.
        #[arg(long)]
        streamer: String,
    },
}

/// Run a `live` subcommand.
pub async fn run(args: Args, ctx: &super::Ctx) -> anyhow::Result<()> {
    match args.command {
        LiveCommand::Pin { streamer, sku } => {
            let streamer = checked_streamer(&streamer)?;
            let pool = ctx.pool().await?;
            let pin = live_pins::pin(&pool, streamer, &sku)
                .await
                .with_context(|| format!("failed to pin `{sku}` for streamer `{streamer}`"))?;
            ctx.out.record(&pin)
        }
        LiveCommand::Unpin { streamer } => {
            let streamer = checked_streamer(&streamer)?;
            let pool = ctx.pool().await?;
            let closed = live_pins::unpin(&pool, streamer)
                .await
                .with_context(|| format!("failed to unpin for streamer `{streamer}`"))?;
            // Unpinning an empty screen is not an error: the screen is as asked.
            match closed {
                Some(pin) => ctx.out.record(&pin),
                None => ctx.out.either(&closed, || {
                    format!("streamer `{streamer}` had nothing pinned")
                }),
            }
        }
    }
}

/// The streamer name as stored (1 to 256 characters).
fn checked_streamer(streamer: &str) -> anyhow::Result<&str> {
    let trimmed = streamer.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 256 {
        bail!("streamer must be 1 to 256 characters");
    }
    Ok(trimmed)
}

impl Tabular for Pin {
    const HEADERS: &'static [&'static str] = &["ID", "STREAMER", "SKU", "PINNED_AT", "UNPINNED_AT"];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.streamer.clone(),
            self.sku.clone(),
            time(&self.pinned_at),
            or_dash(self.unpinned_at.as_ref().map(time)),
        ]
    }
}
