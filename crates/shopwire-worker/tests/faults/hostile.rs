//! docs/contract.md §8.4: 1,500 malformed or hostile requests while the worker runs earn no 5xx and
//! no panic; afterwards the web and the worker both answer and a normal delivery is
//! still processed.

mod attacks;
mod raw;

use futures::StreamExt;
use rand::SeedableRng;
use rand::rngs::StdRng;
use shopwire_core::domain::Provider;
use sqlx::PgPool;

use super::bodies;
use super::support::{
    PATIENCE, RedisPrefix, database_url, free_port, release_database, wait_until,
};
use super::web;
use super::worker_process::{WorkerProcess, worker_env};
use attacks::{Attack, Expect};

const REQUESTS: usize = 1_500;

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn fifteen_hundred_hostile_requests_get_no_5xx_and_both_processes_keep_serving(pool: PgPool) {
    let redis = RedisPrefix::new();
    let url = database_url(&pool);
    let web = web::start(&url, &redis.prefix).await;
    let worker_port = free_port();
    let mut env = worker_env(&url, &redis);
    env.insert("WORKER_PORT".into(), worker_port.to_string());
    let mut worker = WorkerProcess::spawn(&env);
    let worker_health = format!("http://127.0.0.1:{worker_port}/health");
    let health = |url: String| {
        let client = web.client.clone();
        async move {
            client
                .get(url)
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        }
    };
    wait_until("the worker serves /health", PATIENCE, || {
        health(worker_health.clone())
    })
    .await;

    let seed: u64 = rand::random();
    let mut rng = StdRng::seed_from_u64(seed);
    let attacks = attacks::all(&web, &mut rng);
    assert_eq!(attacks.len(), REQUESTS, "seed {seed}");
    let web_ref = &web;
    let outcomes: Vec<(&Attack, Option<u16>)> = futures::stream::iter(&attacks)
        .map(|attack| async move { (attack, attack.send(web_ref).await) })
        .buffer_unordered(16)
        .collect()
        .await;

    let mut unanswered = 0;
    for (attack, status) in &outcomes {
        match status {
            Some(status) => assert!(
                *status < 500 && attack.expect.allows(*status),
                "seed {seed}: {} answered {status}, expected {:?}",
                attack.what,
                attack.expect
            ),
            None => {
                assert!(
                    matches!(attack.expect, Expect::AnyOrClosed),
                    "seed {seed}: {} got no answer",
                    attack.what
                );
                unanswered += 1;
            }
        }
    }
    assert!(worker.is_running(), "the worker did not crash");
    assert_eq!(
        web.get_status("/health").await.expect("the web answers"),
        200
    );
    assert!(
        health(worker_health.clone()).await,
        "the worker answers /health"
    );

    let body = bodies::comment("hostile-after", "viewer", "love this stream");
    let (status, json) = web
        .deliver(Provider::Comments, &body)
        .await
        .expect("the web answers");
    assert_eq!(
        (status, json["status"].as_str()),
        (200, Some("accepted")),
        "{json}"
    );
    let id: i64 = json["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("an inbox id");
    wait_until("the normal delivery is processed", PATIENCE, || async {
        let (status,): (String,) = sqlx::query_as("SELECT status FROM inbox WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .expect("the row exists");
        status == "processed"
    })
    .await;
    let rejected: Vec<_> = outcomes
        .iter()
        .filter(|(_, s)| s.is_some_and(|s| s >= 400))
        .collect();
    println!(
        "hostile: {REQUESTS} requests (seed {seed}), {} refused with a 4xx, {unanswered} closed \
         by the HTTP layer, 0 5xx; web and worker healthy; a normal delivery processed",
        rejected.len()
    );
    worker.kill().await;
    drop(web);
    release_database(&pool).await;
}
