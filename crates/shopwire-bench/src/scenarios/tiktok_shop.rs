//! `tiktok-shop`: issue #15's speed section — "1,000 stock changes on 50 linked SKUs in 10 s
//! produce at most one push per SKU per `TIKTOK_SHOP_INVENTORY_PUSH_SECS` and the last value
//! always wins; reconciliation of 5,000 orders completes within the rate budget".
//!
//! One harness process: the stateful fake TikTok Shop runs in-process (its own limit set to
//! the same `--requests-per-minute`, so a call past the budget is a 429 it answers and the run
//! counts); a seller with one shop is connected through the real client into the bench
//! database; `--skus` products are created and linked. Then each part gets a fresh release
//! `shopwire-worker` child, started here and killed at the part's end (or on any error):
//!
//! 1. [`inventory`]: the worker with the default reconcile period (one search at start, so
//!    the budget is the pusher's), `--changes` stock changes over `--change-secs`.
//! 2. [`reconcile`]: `--orders` orders filed in the fake, the shop's watermark put an hour
//!    back, and a worker with `TIKTOK_SHOP_RECONCILE_SECS=1` — timed until every order
//!    exists in `orders`.

mod inventory;
mod reconcile;
mod worker;

use std::collections::HashMap;

use anyhow::Context;
use shopwire_core::config::Settings;
use shopwire_core::db::tiktok_inventory::{self, NewLink};
use shopwire_testkit::fake_tiktok_shop::{FakeShop, FakeTiktokShop};
use shopwire_tiktok_shop::TiktokShop;
use sqlx::PgPool;

use self::worker::WorkerEnv;
use crate::args::TiktokShopArgs;
use crate::db;
use crate::payloads;
use crate::report::Report;

/// The app the fake and the workers share (the fake is ours: any key will do).
const APP_KEY: &str = "bench_tts_app_key";
const APP_SECRET: &str = "bench_tts_app_secret";
/// The seller's one-time authorization code.
const AUTH_CODE: &str = "bench-tts-auth-code";
/// Stock every product starts with (pushed once at link time, before part 1).
const INITIAL_STOCK: u64 = 100;

/// What both parts share.
pub struct Bench {
    args: TiktokShopArgs,
    pool: PgPool,
    fake: FakeTiktokShop,
    worker: WorkerEnv,
    /// The connected shop's id.
    shop_id: String,
    /// Our SKUs, with their TikTok SKU ids.
    skus: Vec<(String, String)>,
    run: String,
}

/// Runs `tiktok-shop`; Ctrl-C or SIGTERM stops it as an error, so the worker is killed.
pub async fn run(args: TiktokShopArgs) -> anyhow::Result<()> {
    let stop = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("failed to watch SIGTERM")?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        anyhow::Ok(())
    };
    tokio::select! {
        result = scenario(args) => result,
        stopped = stop => {
            stopped?;
            anyhow::bail!("interrupted")
        }
    }
}

async fn scenario(args: TiktokShopArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.skus > 0, "--skus must be at least 1");
    anyhow::ensure!(args.changes > 0, "--changes must be at least 1");
    anyhow::ensure!(
        args.change_secs > 0.0,
        "--change-secs must be positive (it is {})",
        args.change_secs
    );
    anyhow::ensure!(
        args.requests_per_minute > 0,
        "--requests-per-minute must be positive"
    );
    let bench = Bench::set_up(args).await?;
    let mut report = Report::new("tiktok-shop", "worker");
    report
        .field("skus", bench.args.skus)
        .field("changes", bench.args.changes)
        .field("change_secs", bench.args.change_secs)
        .field("interval_s", bench.args.inventory_push_secs)
        .field("requests_per_minute", bench.args.requests_per_minute)
        .note(format!(
            "fake TikTok Shop at {}, shop {} with {} linked SKUs; TIKTOK_SHOP_INVENTORY_PUSH_SECS={}, TIKTOK_SHOP_REQUESTS_PER_MINUTE={} (the fake's limit too)",
            bench.fake.uri(),
            bench.shop_id,
            bench.skus.len(),
            bench.args.inventory_push_secs,
            bench.args.requests_per_minute
        ));
    inventory::run(&bench, &mut report).await?;
    if bench.args.orders > 0 {
        reconcile::run(&bench, &mut report).await?;
    }
    report.finish(bench.args.allow_errors)
}

impl Bench {
    /// The fake, a connected seller, `--skus` linked products, and the workers' environment.
    async fn set_up(args: TiktokShopArgs) -> anyhow::Result<Bench> {
        let run = payloads::run_id();
        let pool = db::connect(&args.database_url).await?;
        let fake = FakeTiktokShop::start(APP_KEY, APP_SECRET).await;
        fake.set_requests_per_minute(Some(args.requests_per_minute));
        let shop_id = format!("7{}", &run[run.len().saturating_sub(12)..]);
        fake.add_seller(
            AUTH_CODE,
            &format!("bench-seller-{run}"),
            "Bench Seller",
            vec![FakeShop {
                id: shop_id.clone(),
                name: "Bench Shop".into(),
                region: "GB".into(),
                cipher: format!("ROW_bench_{run}"),
                code: "GBBENCH".into(),
            }],
        );
        let queue_prefix = format!("{}:tts-{run}", args.queue_prefix);
        let port = match args.worker_port {
            Some(port) => port,
            None => worker::free_port()?,
        };
        let vars: Vec<(String, String)> = [
            ("DATABASE_URL", args.database_url.clone()),
            ("REDIS_URL", args.redis_url.clone()),
            ("QUEUE_PREFIX", queue_prefix),
            ("TIKTOK_SHOP_APP_KEY", APP_KEY.into()),
            ("TIKTOK_SHOP_APP_SECRETS", APP_SECRET.into()),
            ("TIKTOK_SHOP_API_BASE", fake.uri()),
            ("TIKTOK_SHOP_AUTH_BASE", fake.uri()),
            (
                "TIKTOK_SHOP_INVENTORY_PUSH_SECS",
                args.inventory_push_secs.to_string(),
            ),
            (
                "TIKTOK_SHOP_REQUESTS_PER_MINUTE",
                args.requests_per_minute.to_string(),
            ),
            ("WORKER_PORT", port.to_string()),
            ("APP_ENV", "production".into()),
            (
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        connect(&vars, pool.clone()).await?;

        let skus: Vec<String> = (1..=args.skus).map(|n| format!("TTS-{run}-{n}")).collect();
        db::add_products(&pool, &skus, INITIAL_STOCK).await?;
        let mut linked = Vec::with_capacity(skus.len());
        let mut conn = pool.acquire().await.context("failed to reach Postgres")?;
        for (n, sku) in skus.into_iter().enumerate() {
            let (product, tiktok_sku) = (format!("17{n:05}"), format!("27{n:05}"));
            tiktok_inventory::link(
                &mut conn,
                &NewLink {
                    sku: &sku,
                    shop_id: &shop_id,
                    tiktok_product_id: &product,
                    tiktok_sku_id: &tiktok_sku,
                },
            )
            .await
            .with_context(|| format!("failed to link {sku}"))?;
            linked.push((sku, tiktok_sku));
        }
        drop(conn);
        let worker = WorkerEnv {
            bin: args.worker_bin.clone(),
            log: args.worker_log.clone(),
            port,
            vars,
        };
        Ok(Bench {
            args,
            pool,
            fake,
            worker,
            shop_id,
            skus: linked,
            run,
        })
    }

    /// The seed of the random SKUs and values.
    fn seed(&self) -> u64 {
        self.args
            .seed
            .unwrap_or_else(|| u64::from_str_radix(&self.run, 16).unwrap_or(15))
    }

    /// How many of the fake's answers so far were 429s, from request number `from` on.
    fn too_many_since(&self, from: usize) -> u64 {
        self.fake
            .requests()
            .iter()
            .skip(from)
            .filter(|r| r.status == 429)
            .count() as u64
    }
}

/// Connect the fake's seller into the bench database, as `tiktok-shop connect` would, with
/// the same settings the workers get.
async fn connect(vars: &[(String, String)], pool: PgPool) -> anyhow::Result<()> {
    let env: HashMap<&str, &str> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let settings = Settings::from_lookup(|k| env.get(k).map(|v| (*v).to_owned()))
        .map_err(|e| anyhow::anyhow!("the workers' settings are invalid: {e}"))?;
    let shop = TiktokShop::from_settings(&settings, pool)
        .context("TikTok Shop API not configured (app key and secret)")?;
    shop.connect(AUTH_CODE)
        .await
        .map_err(|e| anyhow::anyhow!("failed to connect the fake's seller: {e}"))?;
    Ok(())
}

/// splitmix64: the scenario's random SKUs, values and times, repeatable from a seed.
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n.max(1)
    }
}
