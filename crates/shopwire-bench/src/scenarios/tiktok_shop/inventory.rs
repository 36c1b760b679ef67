//! Part 1, inventory out: `--changes` stock changes on the linked SKUs over `--change-secs`,
//! each `UPDATE products SET stock_on_hand = n` in its own transaction on a random SKU with a
//! random `n` in 0..=500, evenly spaced; then up to interval + 10 s for the fake's last
//! update of every SKU to be that SKU's last value.
//!
//! Every push the fake recorded (the initial one at link time included) is checked: pushes of
//! one SKU closer than the interval − 50 ms (the fake stamps arrival, so a push's own trip
//! may shorten a gap by a little) count against "at most one push per SKU per interval";
//! a SKU whose last pushed value is not its last value means an older value won. The lag is
//! each SKU's last change (after its commit returned) → the push that carried it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use shopwire_testkit::fake_tiktok_shop::InventoryUpdate;

use super::worker::Worker;
use super::{Bench, INITIAL_STOCK, Rng};
use crate::report::{Latency, Report, round3};

/// The fake stamps a push when it arrives: gaps this much under the interval still pass.
const GAP_TOLERANCE: Duration = Duration::from_millis(50);
/// After the last change, how long beyond the interval the pushes may take to settle.
const SETTLE_BEYOND_INTERVAL: Duration = Duration::from_secs(10);
/// Stock values are drawn from 0..=this.
const MAX_STOCK: u64 = 500;
/// How often to look at the fake while waiting.
const POLL: Duration = Duration::from_millis(20);

/// Runs part 1 with a worker of its own.
pub async fn run(bench: &Bench, report: &mut Report) -> anyhow::Result<()> {
    let interval = Duration::from_secs(bench.args.inventory_push_secs);
    // The default period: one search when the new shop is first seen, then none during the
    // part, so the budget is the pusher's.
    let mut worker = Worker::start(
        &bench.worker,
        &[("TIKTOK_SHOP_RECONCILE_SECS", "900".into())],
    )
    .await?;
    let initial: HashMap<&str, i64> = bench
        .skus
        .iter()
        .map(|(_, tiktok)| (tiktok.as_str(), INITIAL_STOCK as i64))
        .collect();
    // Linking made every SKU due at once: start from a shop that has them all.
    let synced = wait_for(bench, &initial, interval + SETTLE_BEYOND_INTERVAL).await;
    anyhow::ensure!(
        synced,
        "the linked SKUs' initial stock did not reach the fake within {:?}",
        interval + SETTLE_BEYOND_INTERVAL
    );
    let requests_before = bench.fake.requests().len();

    let changes = Changes::make(bench).await?;
    let settled = wait_for(
        bench,
        &changes.expected(),
        interval + SETTLE_BEYOND_INTERVAL,
    )
    .await;
    let waited = changes.last.elapsed();
    if !worker.running() {
        report.errors.add("worker_exited");
    }
    let hwm = worker.hwm_mib().map(round3);
    drop(worker);

    let updates = bench.fake.inventory_updates();
    let checked = Checked::of(&updates, &changes, interval.saturating_sub(GAP_TOLERANCE));
    let too_many = bench.too_many_since(requests_before);
    let calls = bench.fake.requests().len() - requests_before;
    report
        .errors
        .add_n("sku_last_value_not_pushed", checked.stale);
    report
        .errors
        .add_n("pushes_closer_than_interval", checked.short_gaps);
    let lag = checked.lag.summary();
    report
        .field("pushes", checked.pushes)
        .field("pushes_per_sku_max", checked.per_window_max)
        .field("short_gaps", checked.short_gaps)
        .field(
            "min_gap_ms",
            checked.min_gap.map(|g| round3(g.as_secs_f64() * 1000.0)),
        )
        .field("stale_skus", checked.stale)
        .field("settled", settled)
        .field(
            "settle_ms",
            checked
                .settle
                .map(|s| round3(s.as_secs_f64() * 1000.0))
                .unwrap_or_else(|| round3(waited.as_secs_f64() * 1000.0)),
        )
        .field(
            "change_late_max_ms",
            round3(changes.late_max.as_secs_f64() * 1000.0),
        )
        .field("inventory_calls", calls as u64)
        .field("inventory_429", too_many)
        .field("inventory_worker_hwm_mib", hwm)
        .note(format!(
            "inventory: {} changes on {} SKUs in {:.2} s (at most {:.1} ms behind schedule); {} pushes, at most {} per SKU per interval ({} gaps under interval − 50 ms, shortest {}); {} SKUs without their last value; {} calls, {} answered 429",
            bench.args.changes,
            bench.skus.len(),
            changes.elapsed.as_secs_f64(),
            changes.late_max.as_secs_f64() * 1000.0,
            checked.pushes,
            checked.per_window_max,
            checked.short_gaps,
            checked
                .min_gap
                .map_or("—".into(), |g| format!("{:.0} ms", g.as_secs_f64() * 1000.0)),
            checked.stale,
            calls,
            too_many,
        ))
        .latency("push_lag_", "last change → its push", &lag);
    Ok(())
}

/// Wait until the fake's last update of every SKU in `want` (TikTok SKU id → quantity) has
/// that quantity, for at most `within`; whether it did.
async fn wait_for(bench: &Bench, want: &HashMap<&str, i64>, within: Duration) -> bool {
    let until = Instant::now() + within;
    loop {
        let updates = bench.fake.inventory_updates();
        let last = last_pushed(&updates);
        let done = want
            .iter()
            .all(|(sku, q)| last.get(*sku).is_some_and(|u| u.quantity == *q));
        if done || Instant::now() >= until {
            return done;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Each TikTok SKU's latest update.
fn last_pushed(updates: &[InventoryUpdate]) -> HashMap<&str, &InventoryUpdate> {
    let mut last = HashMap::new();
    for u in updates {
        last.insert(u.sku_id.as_str(), u);
    }
    last
}

/// The changes made: each changed SKU's last value and when its commit returned.
struct Changes {
    /// TikTok SKU id → (last value, when it was committed).
    last_value: HashMap<String, (i64, Instant)>,
    /// When the first change was due.
    started: Instant,
    /// When the last change's commit returned.
    last: Instant,
    /// First due → last commit.
    elapsed: Duration,
    /// The furthest a change started behind its due time.
    late_max: Duration,
}

impl Changes {
    /// Make `--changes` changes, evenly spaced over `--change-secs`.
    async fn make(bench: &Bench) -> anyhow::Result<Changes> {
        let mut rng = Rng::new(bench.seed());
        let step = Duration::from_secs_f64(bench.args.change_secs / bench.args.changes as f64);
        let mut conn = bench
            .pool
            .acquire()
            .await
            .context("failed to reach Postgres")?;
        let started = Instant::now();
        let mut last_value = HashMap::new();
        let mut late_max = Duration::ZERO;
        for i in 0..bench.args.changes {
            let due = started + step.mul_f64(i as f64);
            tokio::time::sleep_until(due.into()).await;
            late_max = late_max.max(due.elapsed());
            let (sku, tiktok) = &bench.skus[rng.below(bench.skus.len() as u64) as usize];
            let value = rng.below(MAX_STOCK + 1) as i64;
            let updated = sqlx::query("UPDATE products SET stock_on_hand = $2 WHERE sku = $1")
                .bind(sku)
                .bind(value as i32)
                .execute(&mut *conn)
                .await
                .with_context(|| format!("failed to change the stock of {sku}"))?;
            anyhow::ensure!(updated.rows_affected() == 1, "product {sku} disappeared");
            last_value.insert(tiktok.clone(), (value, Instant::now()));
        }
        let last = Instant::now();
        Ok(Changes {
            last_value,
            started,
            last,
            elapsed: last - started,
            late_max,
        })
    }

    /// What every changed SKU's last push must say.
    fn expected(&self) -> HashMap<&str, i64> {
        (self.last_value.iter())
            .map(|(sku, (value, _))| (sku.as_str(), *value))
            .collect()
    }
}

/// What the recorded pushes show.
#[derive(Debug, Default)]
struct Checked {
    /// Pushes from the first change on.
    pushes: u64,
    /// The most pushes of one SKU within any `min_gap`-long window (the initial push too).
    per_window_max: u64,
    /// Consecutive pushes of one SKU closer than the allowed gap.
    short_gaps: u64,
    /// The shortest gap between consecutive pushes of one SKU.
    min_gap: Option<Duration>,
    /// Changed SKUs whose last push is not their last value.
    stale: u64,
    /// Each changed SKU's last change → the push that carried it.
    lag: Latency,
    /// The last change → the latest of those pushes (all SKUs settled).
    settle: Option<Duration>,
}

impl Checked {
    fn of(updates: &[InventoryUpdate], changes: &Changes, allowed_gap: Duration) -> Checked {
        let mut by_sku: HashMap<&str, Vec<&InventoryUpdate>> = HashMap::new();
        for u in updates {
            by_sku.entry(u.sku_id.as_str()).or_default().push(u);
        }
        let mut checked = Checked {
            pushes: updates.iter().filter(|u| u.at >= changes.started).count() as u64,
            ..Checked::default()
        };
        for pushes in by_sku.values_mut() {
            pushes.sort_by_key(|u| u.at);
            checked.per_window_max = checked.per_window_max.max(most_within(pushes, allowed_gap));
            for pair in pushes.windows(2) {
                let gap = pair[1].at - pair[0].at;
                checked.min_gap = Some(checked.min_gap.map_or(gap, |g| g.min(gap)));
                checked.short_gaps += u64::from(gap < allowed_gap);
            }
        }
        let mut latest: Option<Instant> = None;
        for (sku, (value, at)) in &changes.last_value {
            let last = by_sku.get(sku.as_str()).and_then(|p| p.last());
            match last {
                Some(push) if push.quantity == *value => {
                    checked.lag.record(push.at.saturating_duration_since(*at));
                    latest = Some(latest.map_or(push.at, |l| l.max(push.at)));
                }
                _ => checked.stale += 1,
            }
        }
        checked.settle = latest.map(|l| l.saturating_duration_since(changes.last));
        checked
    }
}

/// The most of `pushes` (sorted by time) within any window shorter than `window`.
fn most_within(pushes: &[&InventoryUpdate], window: Duration) -> u64 {
    let mut most = 0;
    let mut first = 0;
    for (last, push) in pushes.iter().enumerate() {
        while push.at - pushes[first].at >= window {
            first += 1;
        }
        most = most.max(last - first + 1);
    }
    most as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(at: Instant, sku: &str, quantity: i64) -> InventoryUpdate {
        InventoryUpdate {
            shop_id: "shop".into(),
            product_id: "p".into(),
            sku_id: sku.into(),
            quantity,
            at,
        }
    }

    #[test]
    fn pushes_closer_than_the_interval_are_counted_and_a_stale_sku_is_found() {
        let t = Instant::now();
        let s = Duration::from_secs(1);
        let updates = vec![
            push(t, "a", 100),
            push(t + 5 * s, "a", 7),
            push(t + 10 * s, "a", 9),
            push(t, "b", 100),
            push(t + 5 * s, "b", 3),
            push(t + 7 * s, "b", 4),
        ];
        let changes = Changes {
            last_value: HashMap::from([
                ("a".to_owned(), (9, t + 8 * s)),
                ("b".to_owned(), (5, t + 8 * s)),
            ]),
            started: t + s,
            last: t + 8 * s,
            elapsed: 7 * s,
            late_max: Duration::ZERO,
        };
        let checked = Checked::of(&updates, &changes, 5 * s - GAP_TOLERANCE);
        assert_eq!(
            checked.pushes, 4,
            "the two initial pushes are before the start"
        );
        assert_eq!(checked.per_window_max, 2, "b pushed twice within 5 s");
        assert_eq!(checked.short_gaps, 1);
        assert_eq!(checked.min_gap, Some(2 * s));
        assert_eq!(checked.stale, 1, "b's last value 5 never reached the shop");
        assert_eq!(checked.lag.summary().count, 1);
        assert_eq!(checked.settle, Some(2 * s));
    }

    #[test]
    fn pushes_an_interval_apart_are_one_per_window() {
        let t = Instant::now();
        let s = Duration::from_secs(1);
        let pushes = [push(t, "a", 1), push(t + 5 * s, "a", 2)];
        let refs: Vec<&InventoryUpdate> = pushes.iter().collect();
        assert_eq!(most_within(&refs, 5 * s - GAP_TOLERANCE), 1);
        assert_eq!(most_within(&refs, 6 * s), 2);
    }
}
