//! Rough throughput of the message → order path (claim, classify, lock, reserve, order,
//! mark processed) on one hot SKU and on spread SKUs, against a real database.
//!
//! `DATABASE_URL=postgres://…/scratch cargo run --release -p shopwire-worker --example reserve_rate`
//! The database is migrated and its catalog, inbox and orders are overwritten: use a scratch one.

use std::sync::Arc;
use std::time::Instant;

use shopwire_core::config::Settings;
use shopwire_core::db::inbox::{self, Recorded};
use shopwire_core::db::{live_pins, products};
use shopwire_core::domain::{Delivery, Provider};
use shopwire_queue::QueueClient;
use shopwire_worker::context::JobContext;
use shopwire_worker::jobs::process_delivery;

const MESSAGES: usize = 2000;
const CONCURRENCY: usize = 8;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    let pool = shopwire_core::db::pool_options(CONCURRENCY as u32 + 2)
        .connect_with(shopwire_core::db::connect_options(&settings)?)
        .await?;
    shopwire_core::MIGRATOR.run(&pool).await?;
    let queue = QueueClient::lazy(&settings.redis_url, "reserve-rate", settings.orphan_timeout)?;
    let ctx = Arc::new(JobContext::new(&settings, pool.clone(), queue));
    for (name, skus) in [("hot SKU", 1usize), ("spread SKUs (100)", 100)] {
        sqlx::query("TRUNCATE inbox, messages, orders, reservations, payments, live_pins, products, jobs, dead_jobs RESTART IDENTITY CASCADE")
            .execute(&pool)
            .await?;
        for s in 0..skus {
            let sku = format!("RATE-{s}");
            products::upsert(
                &pool,
                &products::NewProduct {
                    sku: sku.clone(),
                    title: format!("Rate {s}"),
                    price_cents: 1000,
                    currency: "usd".into(),
                    stock_on_hand: 1_000_000,
                },
            )
            .await?;
            live_pins::pin(&pool, &format!("host-{s}"), &sku).await?;
        }
        let mut ids = Vec::with_capacity(MESSAGES);
        for n in 0..MESSAGES {
            let body = format!(
                r#"{{"comment_id":"rate-{n}","streamer":"host-{}","client":"buyer-{n}","message":"mine!","timestamp":"2026-11-22T10:00:00Z"}}"#,
                n % skus
            );
            let delivery = Delivery::parse(Provider::Comments, body.as_bytes())?;
            if let Recorded::New(id) =
                inbox::record(&pool, Provider::Comments, &delivery, body.as_bytes()).await?
            {
                ids.push(id);
            }
        }
        let ids = Arc::new(ids);
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..CONCURRENCY {
            let (ctx, ids, next) = (ctx.clone(), ids.clone(), next.clone());
            tasks.spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(id) = ids.get(i) else { return };
                    process_delivery::process(&ctx, *id).await;
                }
            });
        }
        while tasks.join_next().await.is_some() {}
        let secs = started.elapsed().as_secs_f64();
        let (orders,): (i64,) = sqlx::query_as("SELECT count(*) FROM orders")
            .fetch_one(&pool)
            .await?;
        println!(
            "{name}: {orders} orders in {secs:.2}s = {:.0} orders/s (concurrency {CONCURRENCY})",
            orders as f64 / secs
        );
    }
    Ok(())
}
