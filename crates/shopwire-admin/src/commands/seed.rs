//! `seed --demo`: load the demo thrift catalog from the design seeds. Products that
//! already exist are left as they are, so seeding twice changes nothing.
//!
//! Two items come in sizes, each size its own SKU and stock (docs/contract.md §9), and the
//! demo streamer gets a lineup of claim codes (A1 …) unless it already has one, so a demo
//! "A1 M" claims a medium jacket.
//!
//! The demo also gets trend signals with a few snapshots each and a day of paid orders
//! (see [`demo_trends`]), then one scoring run, so `trends top` and `inventory list` show
//! something meaningful at once.

mod demo_trends;

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use serde::Serialize;
use shopwire_core::db::products::{self, NewProduct, Variant};
use shopwire_core::db::{lineup, live_pins};
use shopwire_core::domain::Money;
use shopwire_insight::trends::{self, TrendScorer};

use crate::output::{Tabular, or_dash};

/// `seed` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Load the demo thrift catalog (about ten vintage items, and two in sizes) and a
    /// lineup for the demo streamer.
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

/// The demo's sized items: product code, title, price in cents (usd), and each size's
/// SKU, size and stock.
type SizedItem = (
    &'static str,
    &'static str,
    i64,
    &'static [(&'static str, &'static str, i32)],
);
const DEMO_SIZED: [SizedItem; 2] = [
    (
        "DNM-JKT",
        "Levi's Sherpa Denim Jacket",
        8900,
        &[
            ("DNM-JKT-S", "S", 2),
            ("DNM-JKT-M", "M", 3),
            ("DNM-JKT-L", "L", 1),
        ],
    ),
    (
        "SNK-AF1",
        "Nike Air Force 1 Sneakers",
        11000,
        &[
            ("SNK-AF1-8", "8", 2),
            ("SNK-AF1-9", "9", 3),
            ("SNK-AF1-10", "10", 1),
        ],
    ),
];

/// The demo streamer's lineup, in claim-code order (A1, A2, …): SKUs or product codes.
const DEMO_LINEUP: [&str; 4] = ["DNM-JKT", "SNK-AF1", "DNM-JKT-BLU-010", "VNT-NIKE-WB-001"];

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
    /// The product it is a variant of; the SKU itself for a product without variants.
    pub product_code: String,
    /// Its option values (`{"size": "M"}`); empty without variants.
    pub options: BTreeMap<String, String>,
    /// Its claim code in the demo streamer's lineup, if it is in it.
    pub claim_code: Option<String>,
    /// True when this run created it; false when it already existed.
    pub added: bool,
}

/// Load the catalog and list what was added and what already existed.
pub async fn run(args: Args, ctx: &super::Ctx) -> anyhow::Result<()> {
    if !args.demo {
        bail!("nothing to seed: pass --demo to load the demo catalog");
    }
    if ctx.settings.app_env == shopwire_core::config::AppEnv::Production {
        bail!(
            "seed --demo refuses APP_ENV=production: demo products and orders would mix with real ones"
        );
    }
    let pool = ctx.pool().await?;
    let plain = DEMO.map(|(sku, title, price_cents, stock_on_hand)| NewProduct {
        sku: sku.to_owned(),
        title: title.to_owned(),
        price_cents,
        currency: "usd".to_owned(),
        stock_on_hand,
        variant: None,
    });
    let sized = DEMO_SIZED
        .iter()
        .flat_map(|(code, title, price_cents, sizes)| {
            sizes
                .iter()
                .map(move |(sku, size, stock_on_hand)| NewProduct {
                    sku: (*sku).to_owned(),
                    title: (*title).to_owned(),
                    price_cents: *price_cents,
                    currency: "usd".to_owned(),
                    stock_on_hand: *stock_on_hand,
                    variant: Some(Variant {
                        product_code: (*code).to_owned(),
                        options: BTreeMap::from([("size".to_owned(), (*size).to_owned())]),
                    }),
                })
        });
    let mut rows = Vec::new();
    for product in plain.into_iter().chain(sized) {
        let added = products::insert_if_absent(&pool, &product)
            .await
            .with_context(|| format!("failed to load demo product `{}`", product.sku))?;
        let (product_code, options) = match product.variant {
            Some(v) => (v.product_code, v.options),
            None => (product.sku.clone(), BTreeMap::new()),
        };
        rows.push(Seeded {
            sku: product.sku,
            title: product.title,
            price_cents: product.price_cents,
            currency: product.currency,
            stock_on_hand: product.stock_on_hand,
            product_code,
            options,
            claim_code: None,
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
    // Likewise a lineup, so "A1 M" claims a medium jacket; an existing one is left alone.
    let mut codes = lineup::list(&pool, DEMO_STREAMER)
        .await
        .context("failed to read the demo lineup")?;
    if codes.is_empty() {
        for item in DEMO_LINEUP {
            lineup::add(&pool, DEMO_STREAMER, item, None)
                .await
                .with_context(|| format!("failed to add `{item}` to the demo lineup"))?;
        }
        codes = lineup::list(&pool, DEMO_STREAMER)
            .await
            .context("failed to read the demo lineup")?;
    }
    for row in &mut rows {
        row.claim_code = codes
            .iter()
            .find(|c| c.item == row.sku || c.item == row.product_code)
            .map(|c| c.code.clone());
    }
    demo_trends::load(&pool, chrono::Utc::now())
        .await
        .context("failed to load the demo trends")?;
    let scorer = TrendScorer::from_settings(&ctx.settings);
    let thresholds = &ctx.settings.stock_alerts;
    trends::score_all(&pool, &scorer, thresholds, chrono::Utc::now(), None)
        .await
        .context("failed to score the demo trends")?;
    ctx.out.list(&rows)
}

/// The streamer the demo comments come from (scripts/dev.sh uses it).
pub const DEMO_STREAMER: &str = "demo_streamer";
/// The product pinned for the demo stream.
const DEMO_PIN: &str = "DNM-JKT-BLU-010";

impl Tabular for Seeded {
    const HEADERS: &'static [&'static str] = &[
        "STATUS", "CLAIM", "SKU", "OPTIONS", "TITLE", "PRICE", "STOCK",
    ];

    fn cells(&self) -> Vec<String> {
        let options: Vec<String> = self
            .options
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        vec![
            if self.added { "added" } else { "exists" }.to_owned(),
            or_dash(self.claim_code.as_deref()),
            self.sku.clone(),
            or_dash((!options.is_empty()).then(|| options.join(" "))),
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
