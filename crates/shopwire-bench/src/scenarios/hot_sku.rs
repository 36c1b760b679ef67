//! `hot-sku`: N buyers race for SKUs with k units each, every buy comment sent at once.
//! Measures the time from the first send until every claim is decided (each claim row has
//! an outcome) and checks, per SKU: exactly `min(buyers of the SKU, k)` holds (orders, and
//! `reserved` agrees), one claim per buyer, and — with `--stamps shuffled`, the default —
//! that the holders are the k buyers whose comments carry the earliest `timestamp` (and
//! the next `WAITLIST_MAX` are waitlisted, the rest sold out). The comment times are
//! distinct and handed out in a shuffled order, so the send order is not the time order.
//! With `--skus 100` and ample stock it is the spread-SKU throughput run.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use chrono::{DateTime, Utc};
use shopwire_core::domain::Provider;
use tokio::sync::oneshot;

use crate::args::{HotSkuArgs, Stamps};
use crate::load::{Budget, Engine, Mode};
use crate::payloads::{self, Signers};
use crate::report::{Report, round3};
use crate::{db, follow};

/// How many of `buyers`, assigned round-robin, buy SKU number `s` of `skus`.
pub fn buyers_of(s: u64, buyers: u64, skus: u64) -> u64 {
    buyers / skus + u64::from(s < buyers % skus)
}

/// A permutation of `0..n` from `seed` (Fisher–Yates over splitmix64): request `i` gets
/// the `ranks[i]`-th comment time.
pub fn shuffled_ranks(n: u64, seed: u64) -> Vec<u64> {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut ranks: Vec<u64> = (0..n).collect();
    for i in (1..ranks.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        ranks.swap(i, j);
    }
    ranks
}

/// What the allocator must decide for the claim whose message is the `rank`-th earliest
/// (from 0) of its SKU's, every claim for one unit: the first `stock` hold, the next
/// `waitlist_max` wait (no overtaking), the rest are sold out.
pub fn expected_outcome(rank: u64, stock: u64, waitlist_max: u64) -> &'static str {
    if rank < stock {
        "reserved"
    } else if rank < stock.saturating_add(waitlist_max) {
        "waitlisted"
    } else {
        "sold_out"
    }
}

/// The earliest-wins verdict for one SKU.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Fairness {
    /// The holders are exactly the `stock` buyers with the earliest comment times.
    pub earliest_won: bool,
    /// Every claim got [`expected_outcome`] for its rank (holders, waitlist, sold out).
    pub outcomes_as_expected: bool,
    /// The claims that did not, by rank: `rank N (time T): got X, want Y`.
    pub wrong: Vec<String>,
}

/// Checks one SKU's claims: `claims` has one `(comment time in µs, outcome)` per buyer the
/// bench sent for it (`None`: no claim, or still pending), in any order.
pub fn check_fairness(claims: &[(i64, Option<&str>)], stock: u64, waitlist_max: u64) -> Fairness {
    let mut by_time: Vec<(i64, Option<&str>)> = claims.to_vec();
    by_time.sort_by_key(|(at, _)| *at);
    let mut verdict = Fairness {
        earliest_won: true,
        outcomes_as_expected: true,
        wrong: Vec::new(),
    };
    for (rank, (at, got)) in by_time.iter().enumerate() {
        let rank = rank as u64;
        let want = expected_outcome(rank, stock, waitlist_max);
        let held = *got == Some("reserved");
        if held != (rank < stock) {
            verdict.earliest_won = false;
        }
        if *got != Some(want) {
            verdict.outcomes_as_expected = false;
            verdict.wrong.push(format!(
                "rank {rank} (time {at} µs): got {}, want {want}",
                got.unwrap_or("no decision")
            ));
        }
    }
    verdict
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
    let sku_of = move |n: u64| (n % args.skus) as usize;

    // Comment times: distinct, all in the past when the first comment goes out (a future
    // time would count as its arrival), and shuffled against the send order.
    let seed = args
        .seed
        .unwrap_or_else(|| u64::from_str_radix(&run, 16).unwrap_or(0));
    let stamps: Option<Arc<Vec<DateTime<Utc>>>> = match args.stamps {
        Stamps::Send => None,
        Stamps::Shuffled => {
            let step = chrono::Duration::microseconds(args.stamp_step_us.max(1) as i64);
            let base = Utc::now() - step * (args.buyers as i32);
            Some(Arc::new(
                shuffled_ranks(args.buyers, seed)
                    .into_iter()
                    .map(|rank| base + step * (rank as i32))
                    .collect(),
            ))
        }
    };
    let source = {
        let skus = Arc::new(skus);
        let sku_for = move |n| skus[sku_of(n)].clone();
        match &stamps {
            None => payloads::buy_comments(signers.clone(), run.clone(), "hot", sku_for),
            Some(stamps) => {
                let stamps = stamps.clone();
                payloads::buy_comments_at(signers.clone(), run.clone(), "hot", sku_for, move |n| {
                    stamps[n as usize]
                })
            }
        }
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
    // Its own connections, so its polls do not queue behind following's.
    let (stop, stopped) = oneshot::channel();
    let watcher = follow::watch_decided(
        db::connect(&args.db.database_url).await?,
        product_ids.clone(),
        args.buyers as i64,
        Duration::from_millis(args.db.poll_ms),
        stopped,
    );
    let follow::FollowedRun {
        sent,
        followed,
        ack,
        secs,
    } = follow::run(
        &engine,
        (mode, budget),
        source,
        &pool,
        &args.db,
        &mut report.errors,
    )
    .await?;
    let _ = stop.send(());
    let all_decided = watcher.await??;
    let first_send = sent.outcomes.iter().map(|o| o.scheduled).min();
    let decided_s = match (first_send, all_decided) {
        (Some(first), Some(at)) => Some(at.saturating_duration_since(first).as_secs_f64()),
        _ => None,
    };
    let secs = decided_s.unwrap_or(secs);

    let counts = db::orders_per_product(&pool, &product_ids).await?;
    let (mut orders, mut expected, mut wrong) = (0u64, 0u64, Vec::new());
    for (s, (id, count, reserved)) in counts.iter().enumerate() {
        let want = buyers_of(s as u64, args.buyers, args.skus).min(args.stock);
        orders += *count as u64;
        expected += want;
        if *count as u64 != want || reserved != count {
            wrong.push(format!(
                "product {id}: {count} holds, {reserved} reserved, want {want}"
            ));
        }
    }

    // Every buyer's claim, decided; then who won, by comment time.
    let claims = db::claims_of(&pool, &product_ids).await?;
    let mut outcomes: HashMap<&str, u64> = HashMap::new();
    let undecided = claims.iter().filter(|c| c.outcome.is_none()).count() as u64;
    for c in &claims {
        *outcomes
            .entry(c.outcome.as_deref().unwrap_or("pending"))
            .or_default() += 1;
    }
    let decided_ok = claims.len() as u64 == args.buyers && undecided == 0;
    let fairness = stamps.as_ref().map(|stamps| {
        let by_buyer: HashMap<&str, &db::ClaimRow> =
            claims.iter().map(|c| (c.buyer.as_str(), c)).collect();
        let mut verdicts = Vec::new();
        for (s, id) in product_ids.iter().enumerate() {
            let sku_claims: Vec<(i64, Option<&str>)> = (0..args.buyers)
                .filter(|&n| sku_of(n) == s)
                .map(|n| {
                    let claim = by_buyer
                        .get(payloads::buyer("hot", &run, n).as_str())
                        .filter(|c| c.product_id == *id);
                    (
                        stamps[n as usize].timestamp_micros(),
                        claim.and_then(|c| c.outcome.as_deref()),
                    )
                })
                .collect();
            verdicts.push((
                *id,
                check_fairness(&sku_claims, args.stock, args.claims.waitlist_max),
            ));
        }
        verdicts
    });
    let earliest_ok = fairness
        .as_ref()
        .map(|v| v.iter().all(|(_, f)| f.earliest_won));
    let outcomes_ok = fairness
        .as_ref()
        .map(|v| v.iter().all(|(_, f)| f.outcomes_as_expected));

    let mut outcome_list: Vec<(&str, u64)> = outcomes.into_iter().collect();
    outcome_list.sort();
    let outcome_json: serde_json::Map<String, serde_json::Value> = outcome_list
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).into()))
        .collect();
    report
        .field("buyers", args.buyers)
        .field("stock", args.stock)
        .field("skus", args.skus)
        .field("window_ms", args.claims.window_ms)
        .field("waitlist_max", args.claims.waitlist_max)
        .field(
            "stamps",
            match args.stamps {
                Stamps::Shuffled => "shuffled",
                Stamps::Send => "send",
            },
        )
        .field("seed", seed)
        .field("orders", orders)
        .field("holds", orders)
        .field("expected_orders", expected)
        .field("orders_ok", wrong.is_empty())
        .field("claims", claims.len() as u64)
        .field("undecided", undecided)
        .field("decided_ok", decided_ok)
        .field("outcomes", serde_json::Value::Object(outcome_json))
        .field("earliest_ok", earliest_ok)
        .field("outcomes_ok", outcomes_ok)
        .field("decided_s", decided_s.map(round3))
        .field("elapsed_s", round3(secs))
        .field("throughput", round3(claims.len() as f64 / secs.max(1e-9)))
        .field("orders_per_s", round3(orders as f64 / secs.max(1e-9)))
        .note(format!(
            "{} buyers, {} SKU(s) × {} units, {concurrency} connections, window {} ms, waitlist {}: {}; {orders} holds (want {expected}) = {:.0} holds/s",
            args.buyers,
            args.skus,
            args.stock,
            args.claims.window_ms,
            args.claims.waitlist_max,
            match decided_s {
                Some(d) => format!("all {} claims decided {d:.3} s after the first send", claims.len()),
                None => format!("{undecided} of {} claims NOT decided", claims.len()),
            },
            orders as f64 / secs.max(1e-9),
        ))
        .note(format!(
            "outcomes: {}",
            outcome_list
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .latency("", "send → processed", &followed.latency.summary())
        .latency("ack_", "send → 200", &ack.summary());
    match earliest_ok {
        Some(true) => report.note(format!(
            "earliest wins: the holders are the earliest comments by timestamp (shuffled, seed {seed})"
        )),
        Some(false) => report.note("WRONG: the holders are NOT the earliest comments by timestamp"),
        None => report.note("earliest wins: not checked (--stamps send)"),
    };
    if !decided_ok {
        wrong.push(format!(
            "{} claims for {} buyers, {undecided} without an outcome",
            claims.len(),
            args.buyers
        ));
    }
    for (id, f) in fairness.iter().flatten() {
        for line in f.wrong.iter().take(3) {
            report.note(format!("WRONG: product {id}: {line}"));
        }
        if f.wrong.len() > 3 {
            report.note(format!(
                "WRONG: product {id}: … and {} more",
                f.wrong.len() - 3
            ));
        }
    }
    for line in wrong.iter().take(5) {
        report.note(format!("WRONG: {line}"));
    }
    if wrong.len() > 5 {
        report.note(format!("WRONG: … and {} more", wrong.len() - 5));
    }
    let result = report.finish(args.allow_errors);
    if !wrong.is_empty() {
        bail!("wrong holds or undecided claims: {}", wrong.join("; "));
    }
    if earliest_ok == Some(false) {
        bail!("the holders are not the earliest comments by timestamp");
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

    #[test]
    fn shuffled_ranks_are_a_permutation_that_is_not_the_send_order() {
        let ranks = shuffled_ranks(500, 42);
        let mut sorted = ranks.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..500).collect::<Vec<_>>());
        assert_ne!(ranks, sorted, "shuffled");
        assert_eq!(ranks, shuffled_ranks(500, 42), "same seed, same order");
        assert_ne!(ranks, shuffled_ranks(500, 43));
        // The first 50 sent are far from being the 50 earliest.
        assert!(ranks[..50].iter().filter(|&&r| r < 50).count() < 25);
        assert!(shuffled_ranks(0, 1).is_empty());
    }

    #[test]
    fn outcomes_by_rank() {
        assert_eq!(expected_outcome(0, 50, 50), "reserved");
        assert_eq!(expected_outcome(49, 50, 50), "reserved");
        assert_eq!(expected_outcome(50, 50, 50), "waitlisted");
        assert_eq!(expected_outcome(99, 50, 50), "waitlisted");
        assert_eq!(expected_outcome(100, 50, 50), "sold_out");
        assert_eq!(expected_outcome(50, 50, 0), "sold_out");
    }

    /// 500 claims, times shuffled against their order, decided as `decide(rank)`.
    fn race(decide: impl Fn(u64) -> Option<&'static str>) -> Vec<(i64, Option<&'static str>)> {
        shuffled_ranks(500, 7)
            .into_iter()
            .map(|rank| (1_000_000 + 100 * rank as i64, decide(rank)))
            .collect()
    }

    #[test]
    fn the_earliest_fifty_holding_passes() {
        let claims = race(|rank| Some(expected_outcome(rank, 50, 50)));
        let f = check_fairness(&claims, 50, 50);
        assert!(f.earliest_won && f.outcomes_as_expected, "{f:?}");
        assert!(f.wrong.is_empty());
    }

    #[test]
    fn a_later_message_holding_instead_of_an_earlier_one_fails() {
        // Rank 10 lost its unit to rank 60 (as when the allocator decides in arrival order).
        let claims = race(|rank| match rank {
            10 => Some("waitlisted"),
            60 => Some("reserved"),
            r => Some(expected_outcome(r, 50, 50)),
        });
        let f = check_fairness(&claims, 50, 50);
        assert!(!f.earliest_won && !f.outcomes_as_expected, "{f:?}");
        assert_eq!(f.wrong.len(), 2, "{:?}", f.wrong);
        assert!(f.wrong[0].starts_with("rank 10 "), "{:?}", f.wrong);
    }

    #[test]
    fn holders_in_send_order_instead_of_time_order_fail() {
        // The first 50 *sent* hold: with shuffled times that is not the earliest 50.
        let claims: Vec<(i64, Option<&str>)> = race(|_| None)
            .into_iter()
            .enumerate()
            .map(|(sent, (at, _))| (at, Some(if sent < 50 { "reserved" } else { "sold_out" })))
            .collect();
        assert!(!check_fairness(&claims, 50, 0).earliest_won);
    }

    #[test]
    fn an_undecided_claim_or_a_waitlist_out_of_order_is_not_as_expected() {
        let claims = race(|rank| match rank {
            70 => None,
            r => Some(expected_outcome(r, 50, 50)),
        });
        let f = check_fairness(&claims, 50, 50);
        assert!(f.earliest_won && !f.outcomes_as_expected, "{f:?}");
        assert!(f.wrong[0].contains("no decision"), "{:?}", f.wrong);

        let swapped = race(|rank| match rank {
            80 => Some("sold_out"),
            120 => Some("waitlisted"),
            r => Some(expected_outcome(r, 50, 50)),
        });
        let f = check_fairness(&swapped, 50, 50);
        assert!(f.earliest_won && !f.outcomes_as_expected, "{f:?}");
    }

    #[test]
    fn fewer_buyers_than_units_all_hold() {
        let claims: Vec<(i64, Option<&str>)> = (0..5).map(|i| (i, Some("reserved"))).collect();
        assert!(check_fairness(&claims, 50, 50).outcomes_as_expected);
    }
}
