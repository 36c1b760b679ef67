//! `inventory set|show|list`: the product catalog and its stock. `list` also shows each
//! product's sales velocity, hours until stockout, alert and reorder suggestion as of the
//! last trends scoring run (`null` before the first one).
//!
//! Prices are typed as decimal amounts of their currency (`79.99` usd, `1500` jpy,
//! `1.5` kwd) and stored, and printed in JSON as `price_cents`, in the currency's minor
//! unit as Stripe counts it (7999, 1500, 1500): that is what Checkout charges. A price
//! Stripe could not charge (below its minimum for the currency, or a three-decimal
//! amount not ending in 0) is refused when it is set.

use std::collections::HashMap;

use anyhow::{Context, bail};
use clap::Subcommand;
use serde::Serialize;
use shopwire_core::db::products::{self, NewProduct, Product};
use shopwire_core::db::trends::velocity::{self, VelocityRow};
use shopwire_core::domain::{Currency, DecimalAmount, Money};

use crate::output::{Tabular, or_dash};

/// `inventory` and its subcommands.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: InventoryCommand,
}

#[derive(Debug, Subcommand)]
enum InventoryCommand {
    /// Create a product or update its title, price, currency and stock.
    Set(SetArgs),
    /// Show one product.
    Show {
        /// The product's SKU.
        sku: String,
    },
    /// List every product, with its velocity, stockout ETA, alert and reorder suggestion.
    List,
}

#[derive(Debug, clap::Args)]
struct SetArgs {
    /// Stock keeping unit, e.g. VNT-NIKE-WB-001.
    sku: String,
    /// What buyers see.
    #[arg(long)]
    title: String,
    /// Price as a decimal amount of the currency: 79.99 (usd), 1500 (jpy), 1.5 (kwd); no
    /// more decimals than the currency has, and at least Stripe's minimum charge.
    #[arg(long, value_parser = DecimalAmount::parse, allow_negative_numbers = true)]
    price: DecimalAmount,
    /// Units on hand; may not go below what pending orders reserve.
    #[arg(long, value_parser = parse_stock, allow_negative_numbers = true)]
    stock: i32,
    /// Three-letter currency code (stored lowercase).
    #[arg(long, default_value = "usd", value_parser = Currency::parse)]
    currency: Currency,
}

/// Run an `inventory` subcommand.
pub async fn run(args: Args, ctx: &super::Ctx) -> anyhow::Result<()> {
    match args.command {
        InventoryCommand::Set(set) => {
            let product = new_product(set)?;
            let pool = ctx.pool().await?;
            let saved = products::upsert(&pool, &product)
                .await
                .with_context(|| format!("failed to save product `{}`", product.sku))?;
            ctx.out.record(&saved)
        }
        InventoryCommand::Show { sku } => {
            let pool = ctx.pool().await?;
            let product = products::get(&pool, &sku)
                .await
                .with_context(|| format!("failed to read product `{sku}`"))?
                .with_context(|| format!("no product with SKU `{sku}`"))?;
            ctx.out.record(&product)
        }
        InventoryCommand::List => {
            let pool = ctx.pool().await?;
            let all = products::list(&pool)
                .await
                .context("failed to list products")?;
            let mut velocities: HashMap<String, VelocityRow> = velocity::all(&pool)
                .await
                .context("failed to read product velocity")?
                .into_iter()
                .map(|v| (v.sku.clone(), v))
                .collect();
            let lines: Vec<Line> = all
                .into_iter()
                .map(|product| {
                    let v = velocities.remove(&product.sku);
                    Line {
                        velocity_per_hour: v.as_ref().map(|v| v.velocity_6h.max(v.velocity_24h)),
                        velocity_trend: v.as_ref().map(|v| v.trend.clone()),
                        hours_to_stockout: v.as_ref().and_then(|v| v.hours_to_stockout),
                        alert: v.as_ref().map(|v| v.alert.clone()),
                        reorder_units: v.as_ref().map(|v| v.reorder_units),
                        product,
                    }
                })
                .collect();
            ctx.out.list(&lines)
        }
    }
}

/// A product as `inventory list` shows it: the docs/contract.md §5 fields, then its velocity.
#[derive(Debug, Serialize)]
struct Line {
    #[serde(flatten)]
    product: Product,
    /// Units per hour: the larger of the 6 h and 24 h velocities.
    velocity_per_hour: Option<f64>,
    /// increasing, decreasing or stable.
    velocity_trend: Option<String>,
    /// Hours until stockout at that rate (`null`: not selling or not computed).
    hours_to_stockout: Option<f64>,
    /// critical, low, medium or high.
    alert: Option<String>,
    /// Units to reorder.
    reorder_units: Option<i32>,
}

impl Tabular for Line {
    const HEADERS: &'static [&'static str] = &[
        "SKU",
        "TITLE",
        "PRICE",
        "CURRENCY",
        "STOCK",
        "RESERVED",
        "AVAILABLE",
        "UNITS/H",
        "STOCKOUT_H",
        "ALERT",
        "REORDER",
    ];

    fn cells(&self) -> Vec<String> {
        let mut cells = self.product.cells();
        cells.extend([
            or_dash(self.velocity_per_hour.map(|v| format!("{v:.2}"))),
            or_dash(self.hours_to_stockout.map(|h| format!("{h:.1}"))),
            or_dash(self.alert.clone()),
            or_dash(self.reorder_units),
        ]);
        cells
    }
}

/// Check what the database would otherwise refuse with a less readable error.
fn new_product(set: SetArgs) -> anyhow::Result<NewProduct> {
    let sku = set.sku.trim().to_owned();
    if sku.is_empty() || sku.chars().count() > 128 || sku.chars().any(char::is_whitespace) {
        bail!(
            "SKU `{}` must be 1 to 128 characters without spaces",
            set.sku
        );
    }
    let title = set.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 512 || title.contains('\0') {
        bail!("title must be 1 to 512 characters");
    }
    let price = set
        .price
        .in_currency(set.currency)
        .map_err(|e| anyhow::anyhow!("invalid --price: {e}"))?;
    price
        .check_stripe_charge()
        .map_err(|e| anyhow::anyhow!("price {e}"))?;
    Ok(NewProduct {
        sku,
        title,
        price_cents: price.minor,
        currency: price.currency.code().to_owned(),
        stock_on_hand: set.stock,
    })
}

/// A whole number of units, 0 or more.
fn parse_stock(input: &str) -> Result<i32, String> {
    match input.trim().parse::<i64>() {
        Ok(n) if n < 0 => Err(format!("stock `{input}` is negative")),
        Ok(n) => i32::try_from(n).map_err(|_| format!("stock `{input}` is too large")),
        Err(_) => Err(format!("stock `{input}` is not a whole number")),
    }
}

impl Tabular for Product {
    const HEADERS: &'static [&'static str] = &[
        "SKU",
        "TITLE",
        "PRICE",
        "CURRENCY",
        "STOCK",
        "RESERVED",
        "AVAILABLE",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.sku.clone(),
            self.title.clone(),
            Money::stored_amount(self.price_cents, Some(&self.currency)),
            self.currency.clone(),
            self.stock_on_hand.to_string(),
            self.reserved.to_string(),
            self.available.to_string(),
        ]
    }
}
