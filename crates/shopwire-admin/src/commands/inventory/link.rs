//! `inventory link SKU --tiktok-product-id P --tiktok-sku-id S [--shop ID]`: from now on the
//! SKU's available stock is pushed to that TikTok Shop SKU after every change (SPEC §12,
//! `docs/tiktok-shop.md`), starting with its stock now.

use anyhow::bail;
use serde::Serialize;
use shopwire_core::db::tiktok_inventory::{self, Link, LinkError, NewLink};

use crate::commands::tiktok_shop::import::only_connected_shop;
use crate::output::{Tabular, or_dash, time};

/// `inventory link`'s arguments.
#[derive(Debug, clap::Args)]
pub struct LinkArgs {
    /// Our SKU.
    sku: String,
    /// TikTok Shop's product id.
    #[arg(long)]
    tiktok_product_id: String,
    /// TikTok Shop's SKU id within that product.
    #[arg(long)]
    tiktok_sku_id: String,
    /// The connected shop (needed only when several are connected).
    #[arg(long)]
    shop: Option<String>,
}

/// Link a SKU and print the link.
pub async fn run(args: LinkArgs, ctx: &crate::commands::Ctx) -> anyhow::Result<()> {
    for (name, value) in [
        ("--tiktok-product-id", &args.tiktok_product_id),
        ("--tiktok-sku-id", &args.tiktok_sku_id),
    ] {
        if value.trim().is_empty() || value.len() > 64 {
            bail!("{name} must be TikTok's id: 1 to 64 characters");
        }
    }
    let pool = ctx.pool().await?;
    let shop = match args.shop {
        Some(shop) => shop,
        None => only_connected_shop(&pool).await?,
    };
    let mut conn = pool.acquire().await?;
    let link = tiktok_inventory::link(
        &mut conn,
        &NewLink {
            sku: &args.sku,
            shop_id: &shop,
            tiktok_product_id: args.tiktok_product_id.trim(),
            tiktok_sku_id: args.tiktok_sku_id.trim(),
        },
    )
    .await
    .map_err(|e| match e {
        LinkError::Db(db) => anyhow::Error::new(db).context(format!("failed to link {}", args.sku)),
        refused => anyhow::Error::new(refused),
    })?;
    ctx.out.record(&Linked(link))
}

/// A link as printed.
#[derive(Debug, Serialize)]
#[serde(transparent)]
struct Linked(Link);

impl Tabular for Linked {
    const HEADERS: &'static [&'static str] = &[
        "SKU",
        "SHOP",
        "TIKTOK_PRODUCT",
        "TIKTOK_SKU",
        "AVAILABLE",
        "PUSHED",
        "PUSHED_AT",
        "PENDING",
    ];

    fn cells(&self) -> Vec<String> {
        let l = &self.0;
        vec![
            l.sku.clone(),
            l.shop_id.clone(),
            l.tiktok_product_id.clone(),
            l.tiktok_sku_id.clone(),
            l.available.to_string(),
            or_dash(l.pushed_quantity),
            or_dash(l.pushed_at.as_ref().map(time)),
            l.pending.to_string(),
        ]
    }
}
