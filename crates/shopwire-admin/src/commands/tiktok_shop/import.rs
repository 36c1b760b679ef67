//! `tiktok-shop import-products [--shop ID]`: our catalog from a connected shop's live
//! TikTok Shop products (SPEC §12, `docs/tiktok-shop.md`). Each TikTok SKU with a
//! `seller_sku` becomes (or updates) the product with that SKU — variants of
//! `tt-<product id>` when the TikTok product has several SKUs — and is linked to its TikTok
//! SKU so inventory out pushes its stock from then on.
//!
//! Stock comes in only until the SKU is linked to that TikTok SKU: from then on Shopwire's
//! stock is the truth and TikTok's quantity is the echo of our last push (our available
//! stock, not counting what pending orders reserve), so taking it back would drop the
//! reserved units on every import, or undo a sale whose push is still pending. Title,
//! price and variant options are updated on every import.
//!
//! Importing again writes nothing that has not changed on TikTok Shop: an unchanged SKU is
//! neither rewritten nor relinked (relinking would push its stock again).

mod plan;

use std::collections::{HashMap, HashSet};

use anyhow::{Context, bail};
use serde::Serialize;
use shopwire_core::db::products::{self, Product, UpsertError};
use shopwire_core::db::tiktok_inventory::{self, LinkError, NewLink};
use shopwire_tiktok_shop::{ShopError, TiktokShop};
use sqlx::PgPool;

use plan::{Planned, Skipped};

/// At most this many skip reasons go to stderr; `--json` lists them all.
const WARNINGS_SHOWN: usize = 5;
/// A catalog is read in at most this many pages (TikTok's 100 products each), so a shop
/// answering with ever new page tokens cannot keep the command running forever.
const MAX_PAGES: usize = 10_000;

/// What an import did, as printed.
#[derive(Debug, Default, Serialize)]
struct Summary {
    shop_id: String,
    /// Live TikTok products read.
    products: usize,
    skus_created: usize,
    /// SKUs that existed and changed.
    skus_updated: usize,
    /// SKUs that existed and were already as TikTok has them.
    skus_unchanged: usize,
    /// Links made or moved to another TikTok SKU by this import.
    linked: usize,
    skipped: Vec<Skipped>,
}

/// Import every live product of `shop` (the only connected shop when `None`).
pub(super) async fn run(ctx: &crate::commands::Ctx, shop: Option<String>) -> anyhow::Result<()> {
    let pool = ctx.pool().await?;
    let Some(tiktok_shop) = TiktokShop::from_settings(&ctx.settings, pool.clone()) else {
        bail!("TIKTOK_SHOP_APP_KEY and TIKTOK_SHOP_APP_SECRETS must be set to import products");
    };
    let shop_id = match shop.as_deref().map(str::trim) {
        Some("") => bail!("--shop is empty: pass a shop id from `tiktok-shop shops`"),
        Some(shop) => connected(&pool, shop).await?,
        None => only_connected_shop(&pool).await?,
    };
    let mut import = Import {
        pool: &pool,
        summary: Summary {
            shop_id: shop_id.clone(),
            ..Summary::default()
        },
        seen: HashMap::new(),
    };
    let mut token: Option<String> = None;
    let mut tokens = HashSet::new();
    for _ in 0..MAX_PAGES {
        let page = tiktok_shop
            .search_products(&shop_id, token.as_deref())
            .await
            .map_err(|e| match e {
                ShopError::Database(db) => anyhow::Error::new(db)
                    .context("failed to read the shop's TikTok Shop connection"),
                other => {
                    anyhow::anyhow!("could not search TikTok Shop {shop_id}'s products: {other}")
                }
            })?;
        for product in &page.products {
            import.summary.products += 1;
            for planned in plan::plan(product) {
                match planned {
                    Ok(planned) => import.sku(planned).await?,
                    Err(skipped) => import.summary.skipped.push(skipped),
                }
            }
        }
        match page.next {
            Some(next) if !tokens.insert(next.clone()) => {
                bail!("TikTok Shop repeated the page token {next}: the import stopped there")
            }
            Some(next) => token = Some(next),
            None => return report(ctx, &import.summary),
        }
    }
    bail!("TikTok Shop {shop_id} answered more than {MAX_PAGES} pages of products: stopped")
}

/// One import in progress.
struct Import<'a> {
    pool: &'a PgPool,
    summary: Summary,
    /// Each SKU imported so far and its TikTok SKU: a `seller_sku` two TikTok SKUs share
    /// is imported from the first only.
    seen: HashMap<String, String>,
}

impl Import<'_> {
    /// Create or update one SKU and link it; a refusal is recorded as a skip.
    async fn sku(&mut self, mut planned: Planned) -> anyhow::Result<()> {
        let sku = planned.product.sku.clone();
        let (sku_id, product_id) = (
            planned.tiktok_sku_id.clone(),
            planned.tiktok_product_id.clone(),
        );
        let skip = move |reason: String| Skipped {
            tiktok_sku_id: sku_id.clone(),
            reason: format!("TikTok SKU {sku_id} of product {product_id}: {reason}"),
        };
        if let Some(first) = self.seen.get(&sku) {
            let reason =
                format!("seller_sku `{sku}` is TikTok SKU {first}'s too; imported from that one");
            self.summary.skipped.push(skip(reason));
            return Ok(());
        }
        if let Some(reason) = self.refusal(&planned).await? {
            self.summary.skipped.push(skip(reason));
            return Ok(());
        }
        let mut conn = self.pool.acquire().await?;
        let link = tiktok_inventory::show(&mut conn, &sku)
            .await
            .with_context(|| format!("failed to read the link of `{sku}`"))?;
        let linked_here = link.as_ref().is_some_and(|l| {
            l.shop_id == self.summary.shop_id
                && l.tiktok_product_id == planned.tiktok_product_id
                && l.tiktok_sku_id == planned.tiktok_sku_id
        });
        let existing = products::get(self.pool, &sku)
            .await
            .with_context(|| format!("failed to read product `{sku}`"))?;
        if let (true, Some(existing)) = (linked_here, &existing) {
            planned.product.stock_on_hand = existing.stock_on_hand;
        }
        self.seen.insert(sku.clone(), planned.tiktok_sku_id.clone());
        match &existing {
            Some(existing) if same(existing, &planned) => self.summary.skus_unchanged += 1,
            _ => match products::upsert(self.pool, &planned.product).await {
                Ok(_) if existing.is_some() => self.summary.skus_updated += 1,
                Ok(_) => self.summary.skus_created += 1,
                Err(UpsertError::Database(e)) => {
                    return Err(
                        anyhow::Error::new(e).context(format!("failed to save product `{sku}`"))
                    );
                }
                Err(refused) => {
                    self.summary.skipped.push(skip(refused.to_string()));
                    return Ok(());
                }
            },
        }
        if linked_here {
            return Ok(());
        }
        let new_link = NewLink {
            sku: &sku,
            shop_id: &self.summary.shop_id,
            tiktok_product_id: &planned.tiktok_product_id,
            tiktok_sku_id: &planned.tiktok_sku_id,
        };
        match tiktok_inventory::link(&mut conn, &new_link).await {
            Ok(_) => self.summary.linked += 1,
            Err(LinkError::Db(e)) => {
                return Err(anyhow::Error::new(e).context(format!("failed to link `{sku}`")));
            }
            Err(refused) => self
                .summary
                .skipped
                .push(skip(format!("imported, not linked: {refused}"))),
        }
        Ok(())
    }

    /// Why the catalog would refuse `planned` as `inventory set` and `inventory link` do,
    /// checked before anything is written: its product code is a SKU that is a variant of
    /// another product, or its TikTok SKU is linked to another of our SKUs.
    async fn refusal(&self, planned: &Planned) -> anyhow::Result<Option<String>> {
        let sku = &planned.product.sku;
        if let Some(variant) = &planned.product.variant {
            let code = &variant.product_code;
            let holder = products::get(self.pool, code)
                .await
                .with_context(|| format!("failed to read product `{code}`"))?;
            if let Some(holder) = holder.filter(|h| h.sku != *sku && h.product_code != h.sku) {
                return Ok(Some(format!(
                    "product code `{code}` is a SKU that is a variant of `{}`",
                    holder.product_code
                )));
            }
        }
        let holder: Option<(String,)> = sqlx::query_as(
            "SELECT p.sku FROM tiktok_inventory_links l JOIN products p ON p.id = l.product_id
             WHERE l.shop_id = $1 AND l.tiktok_sku_id = $2 AND p.sku <> $3",
        )
        .bind(&self.summary.shop_id)
        .bind(&planned.tiktok_sku_id)
        .bind(sku)
        .fetch_optional(self.pool)
        .await
        .context("failed to read the TikTok Shop links")?;
        Ok(holder.map(|(other,)| {
            format!("it is linked to our SKU `{other}`, not `{sku}` (its seller_sku changed?)")
        }))
    }
}

/// True when `existing` already reads as `planned` would write it (a plain product's
/// grouping is whatever it was: upsert leaves it).
fn same(existing: &Product, planned: &Planned) -> bool {
    let new = &planned.product;
    let grouping = new
        .variant
        .as_ref()
        .is_none_or(|v| existing.product_code == v.product_code && existing.options == v.options);
    existing.title == new.title
        && existing.price_cents == new.price_cents
        && existing.currency == new.currency
        && existing.stock_on_hand == new.stock_on_hand
        && grouping
}

/// `shop` when it is connected, else a one-line reason.
async fn connected(pool: &PgPool, shop: &str) -> anyhow::Result<String> {
    let status: Option<(String,)> =
        sqlx::query_as("SELECT status FROM tiktok_shops WHERE shop_id = $1")
            .bind(shop)
            .fetch_optional(pool)
            .await
            .context("failed to read the connected TikTok Shop shops")?;
    match status {
        Some((status,)) if status == "connected" => Ok(shop.to_owned()),
        Some(_) => bail!(
            "TikTok Shop {shop} is disconnected (the seller revoked the app): connect it again"
        ),
        None => bail!(
            "TikTok Shop {shop} is not connected (`tiktok-shop shops` lists the connected ones)"
        ),
    }
}

/// The one connected shop, or a one-line reason to pass --shop (`inventory link` asks
/// the same).
pub(crate) async fn only_connected_shop(pool: &PgPool) -> anyhow::Result<String> {
    let shops: Vec<(String,)> = sqlx::query_as(
        "SELECT shop_id FROM tiktok_shops WHERE status = 'connected' ORDER BY shop_id LIMIT 6",
    )
    .fetch_all(pool)
    .await
    .context("failed to read the connected TikTok Shop shops")?;
    match shops.as_slice() {
        [] => {
            bail!("no TikTok Shop is connected: run `tiktok-shop connect --auth-code CODE` first")
        }
        [(only,)] => Ok(only.clone()),
        several => {
            let ids: Vec<&str> = several.iter().map(|(id,)| id.as_str()).take(5).collect();
            bail!(
                "several TikTok Shop shops are connected ({}): pass --shop ID",
                ids.join(", ")
            )
        }
    }
}

/// The skips on stderr (the first few), then the summary.
fn report(ctx: &crate::commands::Ctx, summary: &Summary) -> anyhow::Result<()> {
    let skipped = &summary.skipped;
    if !skipped.is_empty() {
        eprintln!(
            "warning: {} TikTok Shop SKU(s) not imported or not linked",
            skipped.len()
        );
        for s in skipped.iter().take(WARNINGS_SHOWN) {
            eprintln!("warning: {}", s.reason);
        }
        if skipped.len() > WARNINGS_SHOWN {
            eprintln!(
                "warning: … and {} more (--json lists them all)",
                skipped.len() - WARNINGS_SHOWN
            );
        }
    }
    ctx.out.either(summary, || {
        let s = summary;
        format!(
            "imported TikTok Shop {}: {} products\nskus created: {}\nskus updated: {}\n\
             skus unchanged: {}\nlinked: {}\nskipped: {}\n",
            s.shop_id,
            s.products,
            s.skus_created,
            s.skus_updated,
            s.skus_unchanged,
            s.linked,
            s.skipped.len()
        )
    })
}
