//! `hot-sku`: N buyers race for SKUs with k units each, every buy comment sent at once.
//! Measures the time until every delivery is processed and checks the order count is
//! exactly `min(buyers of the SKU, k)` per SKU (and `reserved` agrees). With `--skus 100`
//! and ample stock it is the spread-SKU throughput run.

use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use shopwire_core::domain::Provider;

use crate::args::HotSkuArgs;
use crate::load::{Budget, Engine, Mode};
use crate::payloads::{self, Signers};
use crate::report::{Report, round3};
use crate::{db, follow};

/// How many of `buyers`, assigned round-robin, buy SKU number `s` of `skus`.
pub fn buyers_of(s: u64, buyers: u64, skus: u64) -> u64 {
    buyers / skus + u64::from(s < buyers % skus)
}

/// Runs `hot-sku`.
pub async fn run(args: HotSkuArgs) -> anyhow::Result<()> {
    if args.skus == 0 || args.buyers == 0 {
        bail!("--skus and --buyers must be at least 1");
    }
    let signers = Arc::new(Signers::new(&args.signing));
    signers.require(&[Provider::Comments])?;
    let pool = db::connect(&args.db.database_url).await?;
    let run = payloads::run_id();
    // Zero-padded so no SKU is a prefix of another (`…-1` inside `…-10`); the worker
    // matches whole codes only, but the padding keeps older builds measurable too.
    let skus: Vec<String> = (0..args.skus)
        .map(|s| format!("HOT-{run}-{s:06}"))
        .collect();
    let product_ids = db::add_products(&pool, &skus, args.stock).await?;

    let source = {
        let skus = Arc::new(skus);
        payloads::buy_comments(signers.clone(), run.clone(), "hot", move |n| {
            skus[(n % skus.len() as u64) as usize].clone()
        })
    };
    let concurrency = args.concurrency.unwrap_or(args.buyers as usize);
    let engine = Engine::new(
        &args.url,
        Duration::from_millis(args.timeout_ms),
        concurrency,
    )?;
    let mode = Mode::Closed { concurrency };
    let mut report = Report::new(&args.name, "web");
    let budget = Budget::Requests(args.buyers);
    let follow::FollowedRun {
        followed,
        ack,
        secs,
        ..
    } = follow::run(
        &engine,
        (mode, budget),
        source,
        &pool,
        &args.db,
        &mut report.errors,
    )
    .await?;

    let counts = db::orders_per_product(&pool, &product_ids).await?;
    let (mut orders, mut expected, mut wrong) = (0u64, 0u64, Vec::new());
    for (s, (id, count, reserved)) in counts.iter().enumerate() {
        let want = buyers_of(s as u64, args.buyers, args.skus).min(args.stock);
        orders += *count as u64;
        expected += want;
        if *count as u64 != want || reserved != count {
            wrong.push(format!(
                "product {id}: {count} orders, {reserved} reserved, want {want}"
            ));
        }
    }
    report
        .field("buyers", args.buyers)
        .field("stock", args.stock)
        .field("skus", args.skus)
        .field("orders", orders)
        .field("expected_orders", expected)
        .field("orders_ok", wrong.is_empty())
        .field("elapsed_s", round3(secs))
        .field("throughput", round3(followed.finished.len() as f64 / secs.max(1e-9)))
        .field("orders_per_s", round3(orders as f64 / secs.max(1e-9)))
        .note(format!(
            "{} buyers, {} SKU(s) × {} units, {concurrency} connections: all processed in {secs:.3} s; {orders} orders (want {expected}) = {:.0} orders/s",
            args.buyers,
            args.skus,
            args.stock,
            orders as f64 / secs.max(1e-9),
        ))
        .latency("", "send → processed", &followed.latency.summary())
        .latency("ack_", "send → 200", &ack.summary());
    for line in wrong.iter().take(5) {
        report.note(format!("WRONG: {line}"));
    }
    if wrong.len() > 5 {
        report.note(format!("WRONG: … and {} more SKUs", wrong.len() - 5));
    }
    let result = report.finish(args.allow_errors);
    if !wrong.is_empty() {
        bail!(
            "wrong order count for {} of {} SKUs",
            wrong.len(),
            args.skus
        );
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_buyers_add_up_and_differ_by_at_most_one() {
        for (buyers, skus) in [(500, 1), (500, 100), (7, 3), (2, 5)] {
            let per: Vec<u64> = (0..skus).map(|s| buyers_of(s, buyers, skus)).collect();
            assert_eq!(per.iter().sum::<u64>(), buyers, "{buyers} over {skus}");
            let (min, max) = (per.iter().min().unwrap(), per.iter().max().unwrap());
            assert!(max - min <= 1, "{per:?}");
            // Buyer n goes to SKU n % skus: count them directly.
            for s in 0..skus {
                assert_eq!(
                    (0..buyers).filter(|n| n % skus == s).count() as u64,
                    per[s as usize]
                );
            }
        }
    }
}
