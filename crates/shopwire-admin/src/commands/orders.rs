//! `orders list|show`: orders, and for one order the whole chain that made it and the
//! events sent about it (with each endpoint's delivery), as the console's order page shows.
//! A TikTok Shop order shows its TikTok order id, shop, lines and deliveries instead of a
//! buyer's message.

mod tiktok;

use std::fmt::Write as _;

use anyhow::Context;
use clap::Subcommand;
use serde::Serialize;
use shopwire_core::db::orders::{self, OrderRow, OrderTrace};
use shopwire_core::db::outbox::{self, OrderEvent};
use shopwire_core::domain::Money;

use crate::output::{Tabular, clip, or_dash, time};

/// `orders` and its subcommands.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: OrdersCommand,
}

#[derive(Debug, Subcommand)]
enum OrdersCommand {
    /// Newest orders first.
    List {
        /// Only this status: pending, paid, fulfilled, expired, refunded or cancelled.
        #[arg(long, value_parser = ["pending", "paid", "fulfilled", "expired", "refunded", "cancelled"])]
        status: Option<String>,
        /// At most this many rows.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        limit: i64,
    },
    /// One order (by ORD- number, id or TikTok order id): delivery → message → intent →
    /// product (or, for TikTok Shop: TikTok order → deliveries → lines) → reservation →
    /// checkout → payments, then the events sent about it.
    Show {
        /// `ORD-YYYYMMDD-NNNNN`, the internal id, or TikTok's order id.
        id: String,
    },
}

/// Run an `orders` subcommand.
pub async fn run(args: Args, ctx: &super::Ctx) -> anyhow::Result<()> {
    let pool = ctx.pool().await?;
    match args.command {
        OrdersCommand::List { status, limit } => {
            let rows = orders::list(&pool, status.as_deref(), limit)
                .await
                .context("failed to list orders")?;
            ctx.out.list(&rows)
        }
        OrdersCommand::Show { id } => {
            let trace = orders::trace(&pool, &id)
                .await
                .context("failed to load the order")?
                .with_context(|| format!("no order {id}"))?;
            let events = outbox::events_of_order(&pool, trace.order.id)
                .await
                .context("failed to load the order's events")?;
            let shown = Shown {
                trace: &trace,
                events: &events,
            };
            ctx.out.either(&shown, || human(&trace, &events))
        }
    }
}

/// What `orders show --json` prints: the trace, and `events` with their deliveries.
#[derive(Debug, Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    trace: &'a OrderTrace,
    events: &'a [OrderEvent],
}

fn human(t: &OrderTrace, events: &[OrderEvent]) -> String {
    let o = &t.order;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}  {}  {} × {}  {} {}  {}",
        o.order_number,
        o.status,
        o.quantity,
        or_dash(o.sku.as_deref()),
        Money::stored_amount(o.total_cents, Some(&o.currency)),
        o.currency,
        o.buyer
    );
    match &t.origin {
        Some(m) => {
            let _ = writeln!(
                s,
                "  delivery     inbox #{} ({}, {})",
                m.inbox_id, m.provider, m.channel
            );
            let _ = writeln!(s, "  message      {:?}", m.text);
            let _ = writeln!(
                s,
                "  intent       {} {:.2} ({})",
                or_dash(m.intent.as_deref()),
                m.intent_score.unwrap_or_default(),
                or_dash(m.classifier.as_deref())
            );
            let _ = writeln!(
                s,
                "  product      {} (match {:.2})",
                or_dash(o.sku.as_deref()),
                m.match_score.unwrap_or_default()
            );
        }
        None => {
            let _ = writeln!(s, "  source       {}", o.source);
        }
    }
    if let Some(tiktok) = &t.tiktok {
        tiktok::human(&mut s, o, tiktok);
    }
    match &t.reservation {
        Some(r) => {
            let _ = writeln!(
                s,
                "  reservation  {} {} until {}",
                r.status,
                r.quantity,
                time(&r.expires_at)
            );
        }
        None => {
            let _ = writeln!(s, "  reservation  -");
        }
    }
    let _ = writeln!(
        s,
        "  checkout     {} {}",
        or_dash(t.checkout_session_id.as_deref()),
        or_dash(o.checkout_url.as_deref())
    );
    if t.payments.is_empty() {
        let _ = writeln!(s, "  payments     -");
    }
    for p in &t.payments {
        let _ = writeln!(
            s,
            "  payment      {} {} (inbox #{}) {}",
            p.kind,
            p.stripe_event_id,
            p.inbox_id,
            time(&p.created_at)
        );
    }
    if t.disputed {
        let _ = writeln!(s, "  DISPUTED");
    }
    for e in events {
        let _ = writeln!(
            s,
            "  event        #{} {} {}",
            e.id,
            e.event_type,
            time(&e.occurred_at)
        );
        if e.deliveries.is_empty() {
            let _ = writeln!(s, "    no endpoint subscribed");
        }
        for d in &e.deliveries {
            let _ = writeln!(
                s,
                "    endpoint {} {}: {} after {} attempt(s), last HTTP {}{}",
                d.endpoint_id,
                d.endpoint_url,
                d.status,
                d.attempts,
                or_dash(d.last_status_code),
                d.last_error
                    .as_deref()
                    .map(|e| format!(" ({})", clip(e, 60)))
                    .unwrap_or_default()
            );
        }
    }
    s
}

impl Tabular for OrderRow {
    const HEADERS: &'static [&'static str] = &[
        "ORDER",
        "STATUS",
        "SOURCE",
        "TIKTOK_ORDER",
        "SHOP",
        "SKU",
        "BUYER",
        "QTY",
        "TOTAL",
        "CREATED_AT",
        "CHECKOUT_URL",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.order_number.clone(),
            self.status.clone(),
            self.source.clone(),
            or_dash(self.tiktok_order_id.as_deref()),
            or_dash(self.shop_id.as_deref()),
            match (&self.sku, self.lines.len()) {
                (Some(sku), _) => sku.clone(),
                (None, n) if n > 1 => format!("({n} lines)"),
                (None, _) => "-".to_owned(),
            },
            self.buyer.clone(),
            self.quantity.to_string(),
            format!(
                "{} {}",
                Money::stored_amount(self.total_cents, Some(&self.currency)),
                self.currency
            ),
            time(&self.created_at),
            or_dash(self.checkout_url.as_deref()),
        ]
    }
}
