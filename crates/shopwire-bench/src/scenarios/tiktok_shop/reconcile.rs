//! Part 2, reconciliation: `--orders` orders filed in the fake (AWAITING_SHIPMENT, one line
//! of `BENCH-TT`, a SKU we do not sell, so no stock moves), no webhook for any of them; the
//! shop's watermark put an hour back with the part-1 worker stopped (so no run in flight
//! moves it forward again); then a fresh worker with `TIKTOK_SHOP_RECONCILE_SECS=1`. Timed
//! from its spawn until every order exists in `orders` (source `tiktok_shop`): each costs a
//! Get Order Detail, and the search one call per 100, all within the shared budget.
//!
//! The orders' `update_time`s are spread over the hour before the run but older than the
//! worker's 5-minute search overlap: with a run every second, orders inside the overlap would
//! be listed again by every run (and their re-listing bill the budget) — an artefact of the
//! one-second period, not of reconciling them.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

use super::Bench;
use super::worker::Worker;
use crate::report::{Report, round3};

/// The orders' times: from this long before the run…
const OLDEST: i64 = 3600;
/// …to this long before it (beyond the worker's 5-minute overlap).
const NEWEST: i64 = 360;
/// The target's slack over calls ÷ budget.
const SLACK: f64 = 1.2;
/// How often to count the orders.
const POLL: Duration = Duration::from_millis(250);

/// Runs part 2 with a worker of its own.
pub async fn run(bench: &Bench, report: &mut Report) -> anyhow::Result<()> {
    let orders = bench.args.orders;
    let rpm = f64::from(bench.args.requests_per_minute);
    let prefix = format!("58{:08}", bench.seed() % 100_000_000);
    let now = chrono::Utc::now().timestamp();
    let filed = Instant::now();
    for i in 0..orders {
        let update_time = now - OLDEST + (i as i64 * (OLDEST - NEWEST)) / orders.max(1) as i64;
        bench.fake.add_order(
            &bench.shop_id,
            order(&format!("{prefix}{i:07}"), update_time),
        );
    }
    let filing_s = filed.elapsed().as_secs_f64();
    // An hour back (the worker searches from 5 minutes before this), due at once.
    sqlx::query(
        "UPDATE tiktok_shops SET reconciled_at = NULL, reconciled_to = $2,
                reconciling_until = NULL, last_reconcile_error = NULL
          WHERE shop_id = $1",
    )
    .bind(&bench.shop_id)
    .bind(now - OLDEST - 60)
    .execute(&bench.pool)
    .await
    .context("failed to put the shop's reconcile watermark back")?;

    let needed = orders + orders.div_ceil(u64::from(shopwire_tiktok_shop::search::PAGE_SIZE));
    let target_s = needed as f64 / rpm * 60.0 * SLACK;
    let deadline = Duration::from_secs_f64(target_s * 2.0 + 60.0);
    let requests_before = bench.fake.requests().len();
    let mut worker =
        Worker::start(&bench.worker, &[("TIKTOK_SHOP_RECONCILE_SECS", "1".into())]).await?;
    let ready_s = worker.spawned.elapsed().as_secs_f64();
    let pattern = format!("{prefix}%");
    let (done, reconciled) = loop {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM orders WHERE source = 'tiktok_shop' AND tiktok_order_id LIKE $1",
        )
        .bind(&pattern)
        .fetch_one(&bench.pool)
        .await
        .context("failed to count the reconciled orders")?;
        let reconciled = n as u64;
        if reconciled >= orders || worker.spawned.elapsed() >= deadline || !worker.running() {
            break (Instant::now(), reconciled);
        }
        tokio::time::sleep(POLL).await;
    };
    let secs = done.saturating_duration_since(worker.spawned).as_secs_f64();
    if !worker.running() {
        report.errors.add("worker_exited");
    }
    let hwm = worker.hwm_mib().map(round3);
    drop(worker);

    let requests = bench.fake.requests();
    let calls: Vec<_> = (requests.iter().skip(requests_before))
        .filter(|r| !r.path.starts_with("/api/v2/token/"))
        .collect();
    let count = |pred: &dyn Fn(&str, &str) -> bool| {
        calls
            .iter()
            .filter(|r| pred(r.method.as_str(), r.path.as_str()))
            .count() as u64
    };
    let details = count(&|m, p| m == "GET" && p == shopwire_tiktok_shop::ORDER_DETAIL_PATH);
    let searches = count(&|_, p| p == shopwire_tiktok_shop::SEARCH_ORDERS_PATH);
    let too_many = bench.too_many_since(requests_before);
    let per_min = calls.len() as f64 / secs.max(1e-9) * 60.0;
    report
        .errors
        .add_n("order_not_reconciled", orders.saturating_sub(reconciled));
    report
        .field("orders", orders)
        .field("reconciled", reconciled)
        .field("reconcile_s", round3(secs))
        .field("reconcile_target_s", round3(target_s))
        .field("calls_needed", needed)
        .field("reconcile_calls", calls.len() as u64)
        .field("detail_calls", details)
        .field("search_calls", searches)
        .field("calls_per_min", round3(per_min))
        .field("reconcile_429", too_many)
        .field("reconcile_worker_hwm_mib", hwm)
        .field("worker_ready_s", round3(ready_s))
        .field("filing_s", round3(filing_s))
        .note(format!(
            "reconcile: {reconciled} of {orders} orders in {secs:.1} s from the worker's spawn (ready after {ready_s:.2} s); {} calls ({details} Get Order Detail, {searches} Search Orders) = {per_min:.0}/min of {rpm:.0}; {needed} needed → target ≤ {target_s:.1} s; {too_many} answered 429",
            calls.len(),
        ));
    Ok(())
}

/// An order as Get Order Detail and Search Orders list it: one unit of `BENCH-TT`.
fn order(id: &str, update_time: i64) -> serde_json::Value {
    let line = json!({"id": "1", "sku_id": "BENCH-TT-1", "seller_sku": "BENCH-TT",
                      "product_name": "Bench item", "sale_price": "9.99", "currency": "GBP"});
    json!({"id": id, "status": "AWAITING_SHIPMENT", "update_time": update_time,
           "user_id": format!("bench-buyer-{id}"),
           "payment": {"currency": "GBP", "total_amount": "9.99"}, "line_items": [line]})
}
