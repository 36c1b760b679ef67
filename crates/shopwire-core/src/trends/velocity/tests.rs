use chrono::{Duration, TimeZone};
use proptest::prelude::*;

use super::*;

const THRESHOLDS: AlertThresholds = AlertThresholds {
    critical_hours: 6.0,
    low_hours: 24.0,
    medium_hours: 72.0,
};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
        .single()
        .expect("valid time")
}

/// One unit every `every_minutes` over the last `hours`.
fn steady(every_minutes: i64, hours: i64) -> Vec<Sale> {
    (0..hours * 60 / every_minutes)
        .map(|i| Sale {
            at: now() - Duration::minutes(i * every_minutes + 1),
            units: 1,
        })
        .collect()
}

#[test]
fn steady_sales_give_their_rate_in_every_window() {
    let v = velocity(&steady(30, 24), now(), 10, 0.0, &THRESHOLDS);
    assert_eq!(
        (v.velocity_1h, v.velocity_6h, v.velocity_24h),
        (2.0, 2.0, 2.0)
    );
    assert_eq!(v.trend, VelocityTrend::Stable);
    assert_eq!(v.hours_to_stockout, Some(5.0));
    assert_eq!(v.alert, AlertLevel::Critical);
    // 72 h at 2/h is 144 units, 10 on hand.
    assert_eq!(v.reorder_units, 134);
    assert!(v.reorder_confidence > 0.9, "{v:?}");
}

#[test]
fn a_recent_burst_is_increasing_and_an_old_one_decreasing() {
    let burst = steady(10, 2);
    let v = velocity(&burst, now(), 100, 0.0, &THRESHOLDS);
    assert_eq!(v.trend, VelocityTrend::Increasing);
    assert_eq!(v.velocity_6h, 2.0);
    let old: Vec<Sale> = burst
        .iter()
        .map(|s| Sale {
            at: s.at - Duration::hours(12),
            units: s.units,
        })
        .collect();
    let v = velocity(&old, now(), 100, 0.0, &THRESHOLDS);
    assert_eq!(v.trend, VelocityTrend::Decreasing);
    assert_eq!(v.velocity_6h, 0.0);
    // The projection still remembers the morning's burst: 12 units over 24 h.
    assert_eq!(v.hours_to_stockout, Some(200.0));
    assert_eq!(v.alert, AlertLevel::High);
}

#[test]
fn no_sales_means_no_stockout_and_plenty() {
    let v = velocity(&[], now(), 3, 90.0, &THRESHOLDS);
    assert_eq!(v.hours_to_stockout, None);
    assert_eq!(v.alert, AlertLevel::High);
    assert_eq!(v.reorder_units, 0);
    assert_eq!(v.reorder_confidence, 0.0);
    assert_eq!(v.viral_boost, 1.9);
}

#[test]
fn sold_out_is_critical_now() {
    let v = velocity(&[], now(), 0, 0.0, &THRESHOLDS);
    assert_eq!(v.hours_to_stockout, Some(0.0));
    assert_eq!(v.alert, AlertLevel::Critical);
}

#[test]
fn sales_outside_the_day_or_in_the_future_are_ignored() {
    let sales = [
        Sale {
            at: now() - Duration::hours(25),
            units: 50,
        },
        Sale {
            at: now() + Duration::hours(1),
            units: 50,
        },
    ];
    let v = velocity(&sales, now(), 5, 0.0, &THRESHOLDS);
    assert_eq!(v.velocity_24h, 0.0);
}

#[test]
fn thresholds_map_hours_to_levels() {
    assert_eq!(THRESHOLDS.level(Some(5.9)), AlertLevel::Critical);
    assert_eq!(THRESHOLDS.level(Some(6.0)), AlertLevel::Low);
    assert_eq!(THRESHOLDS.level(Some(30.0)), AlertLevel::Medium);
    assert_eq!(THRESHOLDS.level(Some(72.0)), AlertLevel::High);
    assert_eq!(THRESHOLDS.level(None), AlertLevel::High);
}

proptest! {
    #[test]
    fn a_viral_boost_never_lowers_the_reorder(
        every in 5i64..240,
        available in 0i64..500,
        score in 0.0f64..100.0,
        more in 0.0f64..100.0,
    ) {
        let sales = steady(every, 24);
        let calm = velocity(&sales, now(), available, score, &THRESHOLDS);
        let viral = velocity(&sales, now(), available, (score + more).min(100.0), &THRESHOLDS);
        prop_assert!(viral.reorder_units >= calm.reorder_units);
        prop_assert!((1.0..=2.0).contains(&viral.viral_boost));
        prop_assert!((0.0..=1.0).contains(&viral.reorder_confidence));
    }

    #[test]
    fn more_stock_never_raises_the_alert(
        every in 5i64..240,
        available in 0i64..500,
        more in 0i64..500,
    ) {
        let sales = steady(every, 24);
        let less = velocity(&sales, now(), available, 0.0, &THRESHOLDS);
        let plenty = velocity(&sales, now(), available + more, 0.0, &THRESHOLDS);
        prop_assert!(plenty.alert >= less.alert);
    }
}
