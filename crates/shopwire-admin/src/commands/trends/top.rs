//! `trends top [--limit N] [--html FILE]`: products whose linked signals score best, with
//! their velocity, stockout ETA, alert and reorder suggestion; then the best signals.

use std::path::PathBuf;

use anyhow::Context;
use chrono::Utc;
use serde::Serialize;
use shopwire_core::db::trends::report::{self, ProductReport, SignalReport};
use shopwire_insight::trends::report::{Charts, Page};

use crate::output::{clip, or_dash, table};

/// `trends top` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many products and how many signals to show.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(i64).range(1..=1000))]
    limit: i64,
    /// Also write a self-contained HTML page with score and stock charts to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

/// The one document `trends top --json` prints.
#[derive(Debug, Serialize)]
struct Top {
    products: Vec<ProductReport>,
    signals: Vec<SignalReport>,
}

/// Print the best-scored products and signals.
pub async fn run(args: Args, ctx: &crate::commands::Ctx) -> anyhow::Result<()> {
    let pool = ctx.pool().await?;
    let products = report::top_products(&pool, args.limit)
        .await
        .context("failed to read the top products")?;
    let signals = report::top_signals(&pool, args.limit)
        .await
        .context("failed to read the top signals")?;
    if let Some(file) = &args.html {
        let charts = Charts::load(&pool, &signals, Utc::now())
            .await
            .context("failed to read the score history and sales to chart")?;
        let page = Page {
            products: &products,
            signals: &signals,
            charts: &charts,
        };
        std::fs::write(file, page.render())
            .with_context(|| format!("failed to write {}", file.display()))?;
    }
    let top = Top { products, signals };
    ctx.out.either(&top, || human(&top, args.html.as_ref()))
}

fn human(top: &Top, html: Option<&PathBuf>) -> String {
    let products: Vec<Vec<String>> = top
        .products
        .iter()
        .map(|p| {
            vec![
                p.sku.clone(),
                format!("{:.1}", p.trend_score),
                format!("{:.1}", p.urgency_score),
                p.available.to_string(),
                or_dash(
                    p.velocity_6h
                        .zip(p.velocity_24h)
                        .map(|(v6, v24)| format!("{:.2}", v6.max(v24))),
                ),
                or_dash(p.hours_to_stockout.map(|h| format!("{h:.1}"))),
                or_dash(p.alert.clone()),
                or_dash(p.reorder_units),
                clip(&p.signals.join(" "), 40),
            ]
        })
        .collect();
    let signals: Vec<Vec<String>> = top
        .signals
        .iter()
        .map(|s| {
            vec![
                format!("{}:{}", s.kind, s.key),
                format!("{:.1}", s.trend_score),
                format!("{:.1}", s.urgency_score),
                format!("{:.1}", s.growth_rate * 100.0),
                format!("{:.1}", s.engagement_rate * 100.0),
                s.views.to_string(),
                s.scorer.clone(),
                clip(&s.skus.join(" "), 40),
            ]
        })
        .collect();
    let mut text = String::from("PRODUCTS\n");
    text.push_str(&table(
        &[
            "SKU",
            "TREND",
            "URGENCY",
            "AVAIL",
            "UNITS/H",
            "STOCKOUT_H",
            "ALERT",
            "REORDER",
            "SIGNALS",
        ],
        &products,
    ));
    if products.is_empty() {
        text.push_str("(none)\n");
    }
    text.push_str("\nSIGNALS\n");
    text.push_str(&table(
        &[
            "SIGNAL",
            "TREND",
            "URGENCY",
            "GROWTH_%/H",
            "ENGAGE_%",
            "VIEWS",
            "SCORER",
            "SKUS",
        ],
        &signals,
    ));
    if signals.is_empty() {
        text.push_str("(none)\n");
    }
    if let Some(file) = html {
        text.push_str(&format!("\nchart page written to {}\n", file.display()));
    }
    text
}
