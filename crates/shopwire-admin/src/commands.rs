//! One module per command, each with its `Args` and `async fn run`.

pub mod buyers;
pub mod claims;
pub mod classify;
pub mod dlq;
pub mod endpoints;
pub mod events;
pub mod inbox;
pub mod inventory;
pub mod live;
pub mod migrate;
pub mod orders;
pub mod outbox;
pub mod queues;
pub mod seed;
pub mod send;
pub mod tiktok_shop;
pub mod trends;
pub mod waitlist;

use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use shopwire_core::config::Settings;
use shopwire_queue::QueueClient;
use sqlx::PgPool;

use crate::output::Output;

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply the database migrations.
    Migrate(migrate::Args),
    /// Load a demo catalog.
    Seed(seed::Args),
    /// Create, update and look at products.
    Inventory(inventory::Args),
    /// A streamer's live: the pinned product, the lineup of claim codes, open holds.
    Live(live::Args),
    /// Claims made from buy messages, and their outcomes.
    Claims(claims::Args),
    /// A variant's waitlist.
    Waitlist(waitlist::Args),
    /// The buyer block list.
    Buyers(buyers::Args),
    /// Look at webhook deliveries in the inbox, and replay them.
    Events(events::Args),
    /// Retention: erase the bodies of settled deliveries.
    Inbox(inbox::Args),
    /// The dead-letter queue: list, show, replay and purge dead jobs.
    Dlq(dlq::Args),
    /// Queue depths from Redis, dead jobs and inbox counts from Postgres.
    Queues(queues::Args),
    /// Sign a file with the configured secret and POST it to a webhook route.
    Send(send::Args),
    /// Look at orders and the chain that made each one.
    Orders(orders::Args),
    /// Where outbound events go: add, list, show, disable, enable, rotate-secret, remove.
    Endpoints(endpoints::Args),
    /// The outbound event log, and sending deliveries again.
    Outbox(outbox::Args),
    /// Classify stdin lines by intent, printing JSON lines (needs no database).
    Classify(classify::Args),
    /// Trend signals: import, score, and the best-scored products and signals.
    Trends(trends::Args),
    /// TikTok Shop sellers: connect one with an authorization code, list shops and token health.
    TiktokShop(tiktok_shop::Args),
}

/// Run one command.
pub async fn run(command: Command, ctx: &Ctx) -> anyhow::Result<()> {
    match command {
        Command::Migrate(args) => migrate::run(args, ctx).await,
        Command::Seed(args) => seed::run(args, ctx).await,
        Command::Inventory(args) => inventory::run(args, ctx).await,
        Command::Live(args) => live::run(args, ctx).await,
        Command::Claims(args) => claims::run(args, ctx).await,
        Command::Waitlist(args) => waitlist::run(args, ctx).await,
        Command::Buyers(args) => buyers::run(args, ctx).await,
        Command::Events(args) => events::run(args, ctx).await,
        Command::Inbox(args) => inbox::run(args, ctx).await,
        Command::Dlq(args) => dlq::run(args, ctx).await,
        Command::Queues(args) => queues::run(args, ctx).await,
        Command::Send(args) => send::run(args, ctx).await,
        Command::Orders(args) => orders::run(args, ctx).await,
        Command::Endpoints(args) => endpoints::run(args, ctx).await,
        Command::Outbox(args) => outbox::run(args, ctx).await,
        Command::Classify(args) => classify::run(args, Some(&ctx.settings)).await,
        Command::Trends(args) => trends::run(args, ctx).await,
        Command::TiktokShop(args) => tiktok_shop::run(args, ctx).await,
    }
}

/// What every command gets: the settings and the output mode.
#[derive(Debug)]
pub struct Ctx {
    /// The environment, read once.
    pub settings: Settings,
    /// Human or JSON.
    pub out: Output,
}

impl Ctx {
    /// Bundle settings and output.
    pub fn new(settings: Settings, out: Output) -> Self {
        Self { settings, out }
    }

    /// Connect to Postgres now, failing with a clear message when it is unreachable
    /// (a CLI has nothing to do without its database, unlike the web's lazy pool).
    pub async fn pool(&self) -> anyhow::Result<PgPool> {
        let options = shopwire_core::db::connect_options(&self.settings)
            .context("DATABASE_URL is not a valid Postgres URL")?;
        let target = format!(
            "{}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or_default()
        );
        shopwire_core::db::pool_options(2)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(|e| match e {
                sqlx::Error::PoolTimedOut => {
                    anyhow::anyhow!("no connection within 5 s; is it running?")
                }
                other => anyhow::Error::new(other),
            })
            .with_context(|| format!("failed to connect to Postgres at {target} (DATABASE_URL)"))
    }

    /// A Redis client for pushing jobs and reading depths (connects on first use).
    pub fn queue(&self) -> anyhow::Result<QueueClient> {
        QueueClient::lazy(
            &self.settings.redis_url,
            &self.settings.queue_prefix,
            self.settings.orphan_timeout,
        )
        .context("REDIS_URL is not a valid Redis URL")
    }
}
