//! `live pin|unpin`: the product a streamer has on screen, which live comments like
//! "mine!" refer to; `live add|remove|show`: the streamer's lineup, items under short claim
//! codes (A1, A2, …) that buyers comment ("A2 M"), with the holds their claims won.

use anyhow::{Context, bail};
use clap::Subcommand;
use serde::Serialize;
use shopwire_core::db::lineup::{self, Hold, LineupError, LineupItem};
use shopwire_core::db::live_pins::{self, Pin};

use crate::output::{Tabular, fields, or_dash, table, time};

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
    /// Put an item in a streamer's lineup under a claim code; prints the code.
    Add {
        /// The streamer.
        #[arg(long)]
        streamer: String,
        /// A SKU, or a product code (all its variants).
        #[arg(long)]
        sku: String,
        /// The claim code (1-8 letters or digits); default the next free of A1, A2, …
        #[arg(long)]
        code: Option<String>,
    },
    /// Take the item under a claim code out of a streamer's lineup.
    Remove {
        /// The streamer.
        #[arg(long)]
        streamer: String,
        /// The claim code.
        #[arg(long)]
        code: String,
    },
    /// A streamer's lineup, pinned product, and the open holds of their live's claims.
    Show {
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
        LiveCommand::Add {
            streamer,
            sku,
            code,
        } => add(ctx, &streamer, &sku, code.as_deref()).await,
        LiveCommand::Remove { streamer, code } => remove(ctx, &streamer, &code).await,
        LiveCommand::Show { streamer } => show(ctx, &streamer).await,
    }
}

/// What `live add` and `live remove` print.
#[derive(Debug, Serialize)]
struct Changed<'a> {
    streamer: &'a str,
    code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<&'a str>,
}

async fn add(
    ctx: &super::Ctx,
    streamer: &str,
    item: &str,
    code: Option<&str>,
) -> anyhow::Result<()> {
    let streamer = checked_streamer(streamer)?;
    let item = item.trim();
    let pool = ctx.pool().await?;
    let code = lineup::add(&pool, streamer, item, code)
        .await
        .map_err(|e| match e {
            // The refusals are the whole story; a database failure gets its context.
            LineupError::Db(e) => anyhow::Error::new(e)
                .context(format!("failed to add `{item}` to {streamer}'s lineup")),
            refused => anyhow::Error::new(refused),
        })?;
    let added = Changed {
        streamer,
        code,
        item: Some(item),
    };
    ctx.out.either(&added, || added.code.clone())
}

async fn remove(ctx: &super::Ctx, streamer: &str, code: &str) -> anyhow::Result<()> {
    let streamer = checked_streamer(streamer)?;
    let code = code.trim().to_ascii_uppercase();
    let pool = ctx.pool().await?;
    let removed = lineup::remove(&pool, streamer, &code)
        .await
        .with_context(|| format!("failed to remove {code} from {streamer}'s lineup"))?;
    if !removed {
        bail!("no item {code} in {streamer}'s lineup");
    }
    let removed = Changed {
        streamer,
        code,
        item: None,
    };
    ctx.out.either(&removed, || {
        format!("removed {} from {streamer}'s lineup", removed.code)
    })
}

/// What `live show` prints.
#[derive(Debug, Serialize)]
struct Live {
    lineup: Vec<LineupItem>,
    pinned: Option<Pin>,
    holds: Vec<Hold>,
}

async fn show(ctx: &super::Ctx, streamer: &str) -> anyhow::Result<()> {
    let streamer = checked_streamer(streamer)?;
    let pool = ctx.pool().await?;
    let failed = || format!("failed to read {streamer}'s live");
    let live = Live {
        lineup: lineup::list(&pool, streamer).await.with_context(failed)?,
        pinned: live_pins::current(&pool, streamer)
            .await
            .with_context(failed)?,
        holds: lineup::holds(&pool, streamer).await.with_context(failed)?,
    };
    ctx.out.either(&live, || human(&live))
}

fn human(live: &Live) -> String {
    let section = |title: &str, headers: &[&str], rows: Vec<Vec<String>>| {
        let mut text = format!("{title}\n");
        if rows.is_empty() {
            text.push_str("(none)\n");
        } else {
            text.push_str(&table(headers, &rows));
        }
        text
    };
    let mut text = section(
        "LINEUP",
        LineupItem::HEADERS,
        live.lineup.iter().map(Tabular::cells).collect(),
    );
    text.push_str("\nPINNED\n");
    match &live.pinned {
        Some(pin) => text.push_str(&fields(
            &["SKU", "PINNED_AT"],
            &[pin.sku.clone(), time(&pin.pinned_at)],
        )),
        None => text.push_str("(none)\n"),
    }
    text.push('\n');
    text.push_str(&section(
        "HOLDS",
        Hold::HEADERS,
        live.holds.iter().map(Tabular::cells).collect(),
    ));
    text
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

impl Tabular for LineupItem {
    const HEADERS: &'static [&'static str] = &["CODE", "ITEM", "SKUS", "AVAILABLE", "ADDED_AT"];

    fn cells(&self) -> Vec<String> {
        vec![
            self.code.clone(),
            self.item.clone(),
            if self.skus.is_empty() {
                "-".to_owned()
            } else {
                self.skus.join(",")
            },
            self.available.to_string(),
            time(&self.added_at),
        ]
    }
}

impl Tabular for Hold {
    const HEADERS: &'static [&'static str] = &["ORDER", "BUYER", "SKU", "QTY", "EXPIRES_AT"];

    fn cells(&self) -> Vec<String> {
        vec![
            self.order_number.clone(),
            self.buyer.clone(),
            self.sku.clone(),
            self.quantity.to_string(),
            time(&self.expires_at),
        ]
    }
}
