//! `inventory set|show|list|link`: the product catalog and its stock (`link`: pushed to a
//! TikTok Shop SKU). `list` also shows each
//! product's sales velocity, hours until stockout, alert and reorder suggestion as of the
//! last trends scoring run (`null` before the first one).
//!
//! Prices are typed as decimal amounts of their currency (`79.99` usd, `1500` jpy,
//! `1.5` kwd) and stored, and printed in JSON as `price_cents`, in the currency's minor
//! unit as Stripe counts it (7999, 1500, 1500): that is what Checkout charges. A price
//! Stripe could not charge (below its minimum for the currency, or a three-decimal
//! amount not ending in 0) is refused when it is set.
//!
//! A variant (docs/contract.md §9) is a SKU of its own with `--variant-of PRODUCT_CODE` and
//! its option values (`--option size=M`); `show` and `list` print each SKU's
//! `product_code` (the SKU itself when it has no variants) and `options`.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use clap::Subcommand;
use shopwire_core::db::products::{self, NewProduct, Product, Variant, parse_stock};
use shopwire_core::db::trends::velocity::{self, StockLine};
use shopwire_core::domain::{Currency, DecimalAmount, Money};

use crate::output::{Tabular, or_dash};

mod link;

/// `inventory` and its subcommands.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: InventoryCommand,
}

#[derive(Debug, Subcommand)]
enum InventoryCommand {
    /// Create a product or update its title, price, currency and stock (and, with
    /// --variant-of, which product it is a variant of and its options).
    Set(SetArgs),
    /// Show one product.
    Show {
        /// The product's SKU.
        sku: String,
    },
    /// List every product, with its velocity, stockout ETA, alert and reorder suggestion.
    List,
    /// Push this SKU's available stock to a TikTok Shop SKU after every change.
    Link(link::LinkArgs),
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
    /// Make the SKU a variant of this product code (e.g. DNM-JKT for DNM-JKT-M), with
    /// exactly the --option values given. Without it an existing SKU keeps its product
    /// code and options, and a new one is a product of its own.
    #[arg(long, value_name = "PRODUCT_CODE")]
    variant_of: Option<String>,
    /// An option value of the variant, KEY=VALUE, repeatable: --option size=M --option
    /// color=blue. Keys are lowercase letters, digits and _, starting with a letter.
    #[arg(
        long = "option",
        value_name = "KEY=VALUE",
        value_parser = parse_option,
        requires = "variant_of"
    )]
    options: Vec<(String, String)>,
}

/// Run an `inventory` subcommand.
pub async fn run(args: Args, ctx: &super::Ctx) -> anyhow::Result<()> {
    match args.command {
        InventoryCommand::Set(set) => {
            let product = new_product(set)?;
            let pool = ctx.pool().await?;
            if let Some(variant) = &product.variant {
                check_product_code(&pool, &product.sku, &variant.product_code).await?;
            }
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
        InventoryCommand::Link(args) => link::run(args, ctx).await,
        InventoryCommand::List => {
            let pool = ctx.pool().await?;
            let lines = velocity::inventory(&pool)
                .await
                .context("failed to list products with their velocity")?;
            ctx.out.list(&lines)
        }
    }
}

impl Tabular for StockLine {
    const HEADERS: &'static [&'static str] = &[
        "SKU",
        "PRODUCT",
        "OPTIONS",
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
    let variant = match set.variant_of {
        Some(code) => {
            let product_code = code.trim().to_owned();
            if product_code.is_empty()
                || product_code.chars().count() > 128
                || product_code.chars().any(char::is_whitespace)
            {
                bail!("--variant-of `{code}` must be 1 to 128 characters without spaces");
            }
            let mut options = BTreeMap::new();
            for (key, value) in set.options {
                if options.insert(key.clone(), value).is_some() {
                    bail!("--option `{key}` is given twice");
                }
            }
            Some(Variant {
                product_code,
                options,
            })
        }
        None => None,
    };
    Ok(NewProduct {
        sku,
        title,
        price_cents: price.minor,
        currency: price.currency.code().to_owned(),
        stock_on_hand: set.stock,
        variant,
    })
}

/// A product code must not be a SKU that is itself a variant of another product (that SKU
/// would then name two things); the SKU of a product without variants is fine, and so is
/// the SKU being set.
async fn check_product_code(pool: &sqlx::PgPool, sku: &str, code: &str) -> anyhow::Result<()> {
    if code == sku {
        return Ok(());
    }
    let existing = products::get(pool, code)
        .await
        .with_context(|| format!("failed to read product `{code}`"))?;
    match existing {
        Some(existing) if existing.product_code != existing.sku => bail!(
            "--variant-of `{code}`: that SKU is a variant of `{}`; use --variant-of {}",
            existing.product_code,
            existing.product_code
        ),
        _ => Ok(()),
    }
}

/// One `--option KEY=VALUE`: the key `[a-z][a-z0-9_]*` (up to 64 characters), the value
/// 1 to 128 characters once trimmed.
fn parse_option(input: &str) -> Result<(String, String), String> {
    let Some((key, value)) = input.split_once('=') else {
        return Err(format!("option `{input}` is not KEY=VALUE (e.g. size=M)"));
    };
    let key = key.trim();
    let mut chars = key.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && key.len() <= 64;
    if !well_formed {
        return Err(format!(
            "option key `{key}` must be lowercase letters, digits or _, starting with a letter"
        ));
    }
    let value = value.trim();
    if value.is_empty() {
        return Err(format!("option `{key}` has an empty value"));
    }
    if value.chars().count() > 128 || value.chars().any(char::is_control) {
        return Err(format!(
            "option `{key}` value must be at most 128 characters, without control characters"
        ));
    }
    Ok((key.to_owned(), value.to_owned()))
}

/// `size=M color=blue`, or `-` without options.
fn options_cell(options: &BTreeMap<String, String>) -> String {
    if options.is_empty() {
        return "-".to_owned();
    }
    options
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Tabular for Product {
    const HEADERS: &'static [&'static str] = &[
        "SKU",
        "PRODUCT",
        "OPTIONS",
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
            self.product_code.clone(),
            options_cell(&self.options),
            self.title.clone(),
            Money::stored_amount(self.price_cents, Some(&self.currency)),
            self.currency.clone(),
            self.stock_on_hand.to_string(),
            self.reserved.to_string(),
            self.available.to_string(),
        ]
    }
}
