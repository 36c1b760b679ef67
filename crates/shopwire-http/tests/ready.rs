//! `/ready`'s probe (issue #11): a flood of callers, also against a slowed-down Postgres,
//! costs at most one probe per `READY_CACHE_MS`, and every caller gets an answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use shopwire_core::config::Settings;
use shopwire_http::ReadyProbe;
use shopwire_queue::QueueClient;
use shopwire_testkit::SlowProxy;
use sqlx::PgPool;

/// A probe of `database_url` with answers cached for `cache`.
fn probe(database_url: String, cache: Duration) -> ReadyProbe {
    let env = [
        ("DATABASE_URL", database_url),
        ("REDIS_URL", shopwire_testkit::redis_url()),
        ("READY_CACHE_MS", cache.as_millis().to_string()),
    ];
    let settings = Settings::from_lookup(|name| {
        env.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
    })
    .expect("test settings are valid");
    let queue = QueueClient::lazy(
        &settings.redis_url,
        &format!("test-{:016x}", rand::random::<u64>()),
        settings.orphan_timeout,
    )
    .expect("REDIS_URL is valid");
    ReadyProbe::new("test", &settings, queue).expect("DATABASE_URL is valid")
}

/// `callers` tasks asking `probe` over and over for `flood`; every answer they got.
async fn flood(probe: &Arc<ReadyProbe>, callers: usize, flood: Duration) -> Vec<bool> {
    let until = Instant::now() + flood;
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let probe = probe.clone();
            tokio::spawn(async move {
                let mut answers = Vec::new();
                while Instant::now() < until {
                    let readiness = probe.check().await;
                    answers.push(readiness.postgres && readiness.redis);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                answers
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("a caller ran"));
    }
    all
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn two_hundred_callers_against_a_slow_postgres_share_one_probe_per_cache_period(
    pool: PgPool,
) {
    // Each chunk Postgres sends back waits 150 ms: a probe takes a few hundred ms.
    let slow = SlowProxy::start(
        shopwire_testkit::postgres_addr(),
        Duration::from_millis(150),
    )
    .await;
    let cache = Duration::from_millis(500);
    let probe = Arc::new(probe(
        shopwire_testkit::database_url_through(&pool, slow.addr()),
        cache,
    ));
    let window = Duration::from_secs(3);
    let started = Instant::now();
    let answers = flood(&probe, 200, window).await;
    let elapsed = started.elapsed();

    assert!(
        answers.len() >= 200,
        "every caller was answered at least once: {}",
        answers.len()
    );
    assert!(
        answers.iter().all(|ready| *ready),
        "a slow Postgres is still a ready one: {} of {} answers were not ready",
        answers.iter().filter(|ready| !**ready).count(),
        answers.len()
    );
    // One probe per cache period at most, plus the one in flight when the period began.
    let most = (elapsed.as_millis() / cache.as_millis()) as u64 + 1;
    let ran = probe.probes_run();
    assert!(
        (1..=most).contains(&ran),
        "{ran} probes for {} answers in {elapsed:?} (at most {most})",
        answers.len()
    );
    probe.close().await;
}

#[tokio::test]
async fn an_unreachable_postgres_is_reported_within_the_probe_limit() {
    let probe = Arc::new(probe(
        "postgres://postgres@127.0.0.1:1/nothing".into(),
        Duration::from_millis(200),
    ));
    let started = Instant::now();
    let answers = flood(&probe, 50, Duration::from_millis(500)).await;
    assert!(
        answers.iter().all(|ready| !*ready),
        "never ready without Postgres"
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "callers were not held past the probe limit: {:?}",
        started.elapsed()
    );
}
