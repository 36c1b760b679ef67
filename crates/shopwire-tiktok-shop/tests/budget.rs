//! The TikTok Shop rate budget is one budget across processes, kept in the suite's real
//! Redis: two budgets under one prefix (two workers) together never exceed a window's
//! calls, and TikTok's Retry-After seen by one makes the other wait too.

use std::time::{Duration, Instant};

use secrecy::SecretString;
use shopwire_tiktok_shop::budget::RateBudget;

fn two_workers(per_minute: u32) -> (RateBudget, RateBudget) {
    let url = SecretString::from(shopwire_testkit::redis_url());
    let prefix = format!("test-{:016x}", rand::random::<u64>());
    let one = RateBudget::new(&url, &prefix, per_minute).expect("a Redis URL");
    let other = RateBudget::new(&url, &prefix, per_minute).expect("a Redis URL");
    (one, other)
}

#[tokio::test]
async fn two_workers_share_one_budget() {
    // 60 a minute: one call per second, whichever worker makes it.
    let (one, other) = two_workers(60);
    let started = Instant::now();

    let (a, b, c, d) = tokio::join!(one.take(), other.take(), one.take(), other.take());

    for taken in [a, b, c, d] {
        taken.expect("budget within two minutes");
    }
    // Four calls need four one-second windows: at least three full windows of waiting.
    assert!(
        started.elapsed() >= Duration::from_millis(2_900),
        "four calls in {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_full_minute_makes_the_next_call_wait_for_its_oldest_to_leave() {
    let url = shopwire_testkit::redis_url();
    let prefix = format!("test-{:016x}", rand::random::<u64>());
    let budget = RateBudget::new(&SecretString::from(url.clone()), &prefix, 120).expect("a URL");
    let mut conn = redis::Client::open(url)
        .expect("a URL")
        .get_multiplexed_async_connection()
        .await
        .expect("Redis is up");
    let (secs, micros): (i64, i64) = redis::cmd("TIME")
        .query_async(&mut conn)
        .await
        .expect("TIME");
    let now_ms = secs * 1000 + micros / 1000;
    // A whole minute's budget spent 59 s ago (by other workers): the per-second window is
    // fresh, but the sliding minute (61 s, with its margin) is full for about two more.
    for n in 0..120 {
        let _: i64 = redis::cmd("ZADD")
            .arg(format!("{prefix}:tiktok-shop:minute"))
            .arg(now_ms - 59_000)
            .arg(format!("earlier:{n}"))
            .query_async(&mut conn)
            .await
            .expect("ZADD");
    }
    let started = Instant::now();

    budget.take().await.expect("budget once the oldest left");

    assert!(
        started.elapsed() >= Duration::from_millis(1_800),
        "took a 121st call within the minute after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn tiktok_asking_one_worker_to_wait_makes_every_worker_wait() {
    let (one, other) = two_workers(6_000);
    other.take().await.expect("budget");

    one.pause(Duration::from_millis(1_500)).await;
    let started = Instant::now();
    other.take().await.expect("budget after the pause");

    assert!(
        started.elapsed() >= Duration::from_millis(1_400),
        "the other worker waited only {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn without_redis_calls_go_ahead() {
    let url = SecretString::from("redis://127.0.0.1:1".to_owned());
    let budget = RateBudget::new(&url, "test-unreachable", 1).expect("a URL");
    let started = Instant::now();

    budget.take().await.expect("no budget is not a refusal");
    budget.take().await.expect("no budget is not a refusal");

    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
