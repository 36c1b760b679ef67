//! `tiktok-shop connect|shops`: connecting TikTok Shop sellers and watching their tokens
//! (SPEC §12, `docs/tiktok-shop.md`). No token is ever printed.

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::Subcommand;
use serde::Serialize;
use shopwire_core::db::tiktok_shops::{self, ShopHealth};
use shopwire_tiktok_shop::access::REFRESH_AHEAD;
use shopwire_tiktok_shop::{ShopError, TiktokShop};

use crate::output::{Tabular, or_dash, time};

pub(crate) mod import;

/// `tiktok-shop` and its subcommands.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: TiktokShopCommand,
}

#[derive(Debug, Subcommand)]
enum TiktokShopCommand {
    /// Exchange the authorization code from the seller's consent for tokens, and connect
    /// every shop the seller authorized (connecting again replaces the tokens).
    Connect {
        /// The `code` TikTok Shop's authorization page redirected with.
        #[arg(long)]
        auth_code: String,
    },
    /// Connected shops with their token health (no tokens are printed).
    Shops,
    /// Create or update our products (and variants) from the shop's live TikTok Shop
    /// products, and link each SKU to its TikTok SKU so its stock is pushed there.
    ImportProducts {
        /// The connected shop (needed only when several are connected).
        #[arg(long)]
        shop: Option<String>,
    },
}

/// Run a `tiktok-shop` subcommand.
pub async fn run(args: Args, ctx: &super::Ctx) -> anyhow::Result<()> {
    match args.command {
        TiktokShopCommand::Connect { auth_code } => connect(ctx, auth_code.trim()).await,
        TiktokShopCommand::ImportProducts { shop } => import::run(ctx, shop).await,
        TiktokShopCommand::Shops => {
            let pool = ctx.pool().await?;
            let mut conn = pool.acquire().await?;
            let rows = tiktok_shops::list(&mut conn, Utc::now(), REFRESH_AHEAD)
                .await
                .context("failed to list TikTok Shop shops")?;
            let rows: Vec<Shop> = rows.into_iter().map(Shop).collect();
            ctx.out.list(&rows)
        }
    }
}

async fn connect(ctx: &super::Ctx, auth_code: &str) -> anyhow::Result<()> {
    if auth_code.is_empty() {
        bail!("--auth-code is empty: pass the code TikTok Shop's authorization redirect carried");
    }
    let pool = ctx.pool().await?;
    let Some(tiktok_shop) = TiktokShop::from_settings(&ctx.settings, pool) else {
        bail!("TIKTOK_SHOP_APP_KEY and TIKTOK_SHOP_APP_SECRETS must be set to connect a shop");
    };
    let connection = tiktok_shop.connect(auth_code).await.map_err(|e| match e {
        ShopError::Database(db) => {
            anyhow::Error::new(db).context("failed to store the TikTok Shop connection")
        }
        other => anyhow::anyhow!("could not connect the TikTok Shop seller: {other}"),
    })?;
    if connection.shops.is_empty() {
        eprintln!(
            "warning: TikTok Shop authorized no shop for seller {}: nothing to sync",
            connection.seller_name
        );
    }
    for dropped in &connection.stored.dropped {
        eprintln!("warning: shop {dropped} is no longer authorized by this seller: disconnected");
    }
    let view = Connected {
        seller_name: &connection.seller_name,
        access_expires_at: connection.access_expires_at,
        shops: connection
            .shops
            .iter()
            .map(|s| ConnectedShop {
                shop_id: &s.shop_id,
                name: &s.name,
                region: &s.region,
                cipher: &s.cipher,
            })
            .collect(),
        disconnected: &connection.stored.dropped,
    };
    ctx.out.either(&view, || {
        let mut text = format!(
            "connected seller {} (token valid until {}; the worker refreshes it)\n",
            connection.seller_name,
            time(&connection.access_expires_at)
        );
        for s in &connection.shops {
            text.push_str(&format!(
                "  shop {}  {}  {}  cipher {}\n",
                s.shop_id, s.name, s.region, s.cipher
            ));
        }
        text
    })
}

/// What `connect` prints.
#[derive(Debug, Serialize)]
struct Connected<'a> {
    seller_name: &'a str,
    access_expires_at: DateTime<Utc>,
    shops: Vec<ConnectedShop<'a>>,
    disconnected: &'a [String],
}

#[derive(Debug, Serialize)]
struct ConnectedShop<'a> {
    shop_id: &'a str,
    name: &'a str,
    region: &'a str,
    cipher: &'a str,
}

/// A `shops` row.
#[derive(Debug, Serialize)]
#[serde(transparent)]
struct Shop(ShopHealth);

impl Tabular for Shop {
    const HEADERS: &'static [&'static str] = &[
        "SHOP_ID",
        "NAME",
        "REGION",
        "STATUS",
        "TOKEN",
        "TOKEN_EXPIRES_AT",
        "REFRESH_EXPIRES_AT",
        "REFRESHED_AT",
        "LAST_ERROR",
    ];

    fn cells(&self) -> Vec<String> {
        let s = &self.0;
        vec![
            s.shop_id.clone(),
            s.name.clone(),
            s.region.clone(),
            s.status.to_owned(),
            s.health.as_str().to_owned(),
            time(&s.access_expires_at),
            time(&s.refresh_expires_at),
            or_dash(s.refreshed_at.as_ref().map(time)),
            or_dash(s.last_refresh_error.as_deref()),
        ]
    }
}
