use chrono::{Duration, TimeZone};
use proptest::prelude::*;

use super::*;

fn at(hours: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0)
        .single()
        .expect("valid time")
        + Duration::hours(hours)
}

fn snap(hours: i64, views: u64, likes: u64, comments: u64, shares: u64) -> Snapshot {
    Snapshot {
        captured_at: at(hours),
        views,
        likes,
        comments,
        shares,
    }
}

fn input(latest: Snapshot, previous: Option<Snapshot>, now_hours: i64) -> ScoreInput {
    ScoreInput {
        latest,
        previous,
        now: at(now_hours),
    }
}

#[test]
fn growth_comes_from_successive_snapshots() {
    let rate = growth_rate(&snap(2, 150_000, 0, 0, 0), Some(&snap(0, 100_000, 0, 0, 0)));
    assert!((rate - 0.25).abs() < 1e-12, "50% over 2 h is 25%/h: {rate}");
    assert_eq!(growth_rate(&snap(2, 150_000, 0, 0, 0), None), 0.0);
    // Same moment twice: no division by zero.
    assert_eq!(
        growth_rate(&snap(2, 9, 0, 0, 0), Some(&snap(2, 1, 0, 0, 0))),
        0.0
    );
}

#[test]
fn a_fast_growing_engaged_fresh_signal_outscores_a_stale_flat_one() {
    let hot = score(&input(
        snap(10, 2_000_000, 200_000, 20_000, 30_000),
        Some(snap(8, 1_000_000, 0, 0, 0)),
        10,
    ));
    let cold = score(&input(
        snap(10, 2_000_000, 20_000, 100, 100),
        Some(snap(8, 1_990_000, 0, 0, 0)),
        58,
    ));
    assert!(hot.trend_score > cold.trend_score, "{hot:?} vs {cold:?}");
    assert!(
        hot.urgency_score > cold.urgency_score,
        "{hot:?} vs {cold:?}"
    );
    assert!(hot.trend_score > 60.0, "{hot:?}");
    assert!(hot.reasoning.contains("growth 50.0%/h"), "{hot:?}");
}

#[test]
fn recency_halves_the_trend_score_every_day_and_urgency_every_six_hours() {
    let latest = snap(0, 1_000_000, 50_000, 1_000, 1_000);
    let previous = Some(snap(-1, 800_000, 0, 0, 0));
    let fresh = score(&input(latest, previous, 0));
    let day_old = score(&input(latest, previous, 24));
    let six_hours_old = score(&input(latest, previous, 6));
    assert!((day_old.trend_score - fresh.trend_score / 2.0).abs() <= 0.1);
    assert!((six_hours_old.urgency_score - fresh.urgency_score / 2.0).abs() <= 0.1);
    // A snapshot "from the future" (clock skew) is treated as fresh, never boosted.
    let skewed = score(&input(latest, previous, -5));
    assert_eq!(
        (skewed.trend_score, skewed.urgency_score),
        (fresh.trend_score, fresh.urgency_score)
    );
}

#[test]
fn a_signal_without_views_scores_zero() {
    let s = score(&input(snap(0, 0, 0, 0, 0), None, 0));
    assert_eq!((s.trend_score, s.urgency_score), (0.0, 0.0));
    assert_eq!(s.engagement_rate, 0.0);
}

#[test]
fn the_extremes_stay_within_bounds() {
    let s = score(&input(
        snap(1, u64::MAX, u64::MAX, u64::MAX, u64::MAX),
        Some(snap(0, 0, 0, 0, 0)),
        1,
    ));
    assert!(s.trend_score <= 100.0 && s.urgency_score <= 100.0, "{s:?}");
    assert!(s.trend_score >= 99.0, "{s:?}");
}

fn snapshot() -> impl Strategy<Value = (u64, u64, u64, u64)> {
    (0u64..1 << 40, 0u64..1 << 36, 0u64..1 << 32, 0u64..1 << 32)
}

proptest! {
    #[test]
    fn scores_are_bounded_and_deterministic(
        (views, likes, comments, shares) in snapshot(),
        prev_views in 0u64..1 << 40,
        gap in 0i64..200,
        age in -50i64..500,
    ) {
        let i = input(
            snap(gap, views, likes, comments, shares),
            Some(snap(0, prev_views, 0, 0, 0)),
            gap + age,
        );
        let s = score(&i);
        prop_assert!((0.0..=100.0).contains(&s.trend_score));
        prop_assert!((0.0..=100.0).contains(&s.urgency_score));
        prop_assert_eq!(score(&i), s);
    }

    #[test]
    fn scores_never_fall_as_growth_rises(
        (views, likes, comments, shares) in snapshot(),
        earlier in 1u64..1 << 30,
        less in 0u64..1 << 20,
        age in 0i64..100,
    ) {
        // Same latest snapshot; a smaller earlier count means faster growth.
        let latest = snap(2, views, likes, comments, shares);
        let slow = score(&input(latest, Some(snap(0, earlier + less, 0, 0, 0)), 2 + age));
        let fast = score(&input(latest, Some(snap(0, earlier, 0, 0, 0)), 2 + age));
        prop_assert!(fast.growth_rate >= slow.growth_rate);
        prop_assert!(fast.trend_score >= slow.trend_score, "{:?} < {:?}", fast, slow);
        prop_assert!(fast.urgency_score >= slow.urgency_score, "{:?} < {:?}", fast, slow);
    }

    #[test]
    fn scores_never_fall_as_engagement_rises(
        (views, likes, comments, shares) in snapshot(),
        more_likes in 0u64..1 << 30,
        more_shares in 0u64..1 << 30,
        age in 0i64..100,
    ) {
        let base = score(&input(snap(0, views, likes, comments, shares), None, age));
        let engaged = score(&input(
            snap(0, views, likes + more_likes, comments, shares + more_shares),
            None,
            age,
        ));
        prop_assert!(engaged.trend_score >= base.trend_score);
        prop_assert!(engaged.urgency_score >= base.urgency_score);
    }

    #[test]
    fn older_snapshots_never_score_higher(
        (views, likes, comments, shares) in snapshot(),
        age in 0i64..300,
        more in 1i64..300,
    ) {
        let latest = snap(0, views, likes, comments, shares);
        let younger = score(&input(latest, None, age));
        let older = score(&input(latest, None, age + more));
        prop_assert!(older.trend_score <= younger.trend_score);
        prop_assert!(older.urgency_score <= younger.urgency_score);
    }
}
