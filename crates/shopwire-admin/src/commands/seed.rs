//! `seed --demo`: load the demo thrift catalog from the design seeds. Products that
//! already exist are left as they are, so seeding twice changes nothing.
//!
//! The demo also gets trend signals with a few snapshots each and a day of paid orders
//! (see [`demo_trends`]), then one scoring run, so `trends top` and `inventory list` show
//! something meaningful at once.

mod demo_trends;

use anyhow::{Context, bail};
use serde::Serialize;
use shopwire_core::db::live_pins;
use shopwire_core::db::products::{self, NewProduct};
use shopwire_core::domain::Money;

use crate::output::Tabular;

/// `seed` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Load the demo thrift catalog (about ten vintage items).
    #[arg(long)]
    demo: bool,
}

/// The demo catalog: SKU, title, price in cents (usd), stock.
const DEMO: [(&str, &str, i64, i32); 10] = [
    ("VNT-NIKE-WB-001", "Vintage Nike Windbreaker", 4999, 3),
    (
        "CRH-DET-BLK-002",
        "Carhartt Detroit Jacket - Black",
        12900,
        2,
    ),
    (
        "LEV-501-3232-003",
        "Levi's 501 Original Jeans 32x32",
        3999,
        6,
    ),
    (
        "CHP-RW-HOOD-004",
        "Champion Reverse Weave Hoodie - Grey",
        4400,
        4,
    ),
    (
        "PTG-SYN-FLC-005",
        "Patagonia Synchilla Fleece Pullover",
        6499,
        3,
    ),
    (
        "RL-OXF-BLU-006",
        "Ralph Lauren Oxford Shirt - Blue",
        2499,
        8,
    ),
    ("HD-TEE-1998-007", "Harley-Davidson 1998 Rally Tee", 3499, 5),
    (
        "DRM-1460-BLK-008",
        "Dr. Martens 1460 Boots - Black",
        8900,
        2,
    ),
    (
        "TNF-NUP-700-009",
        "The North Face Nuptse 700 Puffer",
        15999,
        1,
    ),
    ("DNM-JKT-BLU-010", "Blue Denim Trucker Jacket", 7999, 10),
];

/// One demo product and whether this run added it.
#[derive(Debug, Serialize)]
pub struct Seeded {
    /// Stock keeping unit.
    pub sku: String,
    /// Title.
    pub title: String,
    /// Price in minor units of `currency` (cents for usd).
    pub price_cents: i64,
    /// Currency.
    pub currency: String,
    /// Stock it was created with.
    pub stock_on_hand: i32,
    /// True when this run created it; false when it already existed.
    pub added: bool,
}

/// Load the catalog and list what was added and what already existed.
pub async fn run(args: Args, ctx: &super::Ctx) -> anyhow::Result<()> {
    if !args.demo {
        bail!("nothing to seed: pass --demo to load the demo catalog");
    }
    let pool = ctx.pool().await?;
    let mut rows = Vec::with_capacity(DEMO.len());
    for (sku, title, price_cents, stock_on_hand) in DEMO {
        let product = NewProduct {
            sku: sku.to_owned(),
            title: title.to_owned(),
            price_cents,
            currency: "usd".to_owned(),
            stock_on_hand,
        };
        let added = products::insert_if_absent(&pool, &product)
            .await
            .with_context(|| format!("failed to load demo product `{sku}`"))?;
        rows.push(Seeded {
            sku: product.sku,
            title: product.title,
            price_cents,
            currency: product.currency,
            stock_on_hand,
            added,
        });
    }
    // Put something on screen for the demo stream, so a demo "I'll take it!" orders it;
    // an existing pin (the operator's choice) is left alone.
    if live_pins::current(&pool, DEMO_STREAMER).await?.is_none() {
        live_pins::pin(&pool, DEMO_STREAMER, DEMO_PIN)
            .await
            .context("failed to pin the demo product")?;
    }
    demo_trends::load(&pool, chrono::Utc::now())
        .await
        .context("failed to load the demo trends")?;
    let job_ctx = shopwire_worker::context::JobContext::new(&ctx.settings, pool, ctx.queue()?);
    shopwire_worker::jobs::score_trends::run(&job_ctx, None, chrono::Utc::now())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("failed to score the demo trends")?;
    ctx.out.list(&rows)
}

/// The streamer the demo comments come from (scripts/dev.sh uses it).
pub const DEMO_STREAMER: &str = "demo_streamer";
/// The product pinned for the demo stream.
const DEMO_PIN: &str = "DNM-JKT-BLU-010";

impl Tabular for Seeded {
    const HEADERS: &'static [&'static str] = &["STATUS", "SKU", "TITLE", "PRICE", "STOCK"];

    fn cells(&self) -> Vec<String> {
        vec![
            if self.added { "added" } else { "exists" }.to_owned(),
            self.sku.clone(),
            self.title.clone(),
            format!(
                "{} {}",
                Money::stored_amount(self.price_cents, Some(&self.currency)),
                self.currency
            ),
            self.stock_on_hand.to_string(),
        ]
    }
}
