//! docs/contract.md §8.1 and §8.2 through crashes: the worker process is SIGKILLed twice while it
//! drains 1,000 mixed deliveries; every delivery is still applied, each exactly once.

use futures::StreamExt;
use serde_json::json;
use shopwire_core::domain::Provider;
use sqlx::PgPool;

use super::bodies::{self, BUYS, QUESTIONS};
use super::support::{
    PATIENCE, RedisPrefix, by_status, count, database_url, finished, release_database, unfinished,
    wait_until,
};
use super::web;
use super::worker_process::{WorkerProcess, worker_env};

const BUYERS: usize = 500;
const QUESTIONS_SENT: usize = 350;
const RESENT: usize = 100;
const STRIPE_STRANGERS: usize = 50;

/// The 1,000 requests: (provider, body, expected answer status word).
fn requests() -> Vec<(Provider, Vec<u8>, &'static str)> {
    let mut out = Vec::new();
    let mut buys = Vec::new();
    for n in 0..BUYERS {
        let body = bodies::comment(&format!("kill-buy-{n}"), &format!("buyer-{n}"), BUYS[n % 3]);
        buys.push(body.clone());
        out.push((Provider::Comments, body, "accepted"));
    }
    for n in 0..QUESTIONS_SENT {
        let text = QUESTIONS[n % 3];
        let body = bodies::comment(&format!("kill-q-{n}"), &format!("viewer-{n}"), text);
        out.push((Provider::Comments, body, "accepted"));
    }
    // Relays retry: the same comment again, byte for byte.
    for body in buys.iter().step_by(BUYERS / RESENT).take(RESENT) {
        out.push((Provider::Comments, body.clone(), "duplicate"));
    }
    // Stripe events for orders that are not ours: applied as `ignored`.
    for n in 0..STRIPE_STRANGERS {
        let body = match n % 2 {
            0 => bodies::session_completed(&format!("evt_kill_{n}"), &format!("cart_{n}")),
            _ => bodies::stripe_event(&format!("evt_kill_{n}"), "customer.created", json!({})),
        };
        out.push((Provider::Stripe, body, "accepted"));
    }
    out
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_worker_killed_twice_mid_drain_loses_nothing_and_orders_once(pool: PgPool) {
    bodies::pinned_product(&pool, "KILL-1", 10_000).await;
    let redis = RedisPrefix::new();
    let url = database_url(&pool);
    let web = web::start(&url, &redis.prefix).await;

    // Duplicates go last, after their originals were answered.
    let requests = requests();
    let (originals, resent) = requests.split_at(BUYERS + QUESTIONS_SENT);
    let (resent, strangers) = resent.split_at(RESENT);
    for batch in [originals, strangers, resent] {
        let answers: Vec<_> = futures::stream::iter(batch)
            .map(|(provider, body, _)| web.deliver(*provider, body))
            .buffered(16)
            .collect()
            .await;
        for ((_, _, word), answer) in batch.iter().zip(answers) {
            let (status, json) = answer.expect("the web answers");
            assert_eq!(
                (status, json["status"].as_str()),
                (200, Some(*word)),
                "{json}"
            );
        }
    }
    let recorded = count(&pool, "SELECT count(*) FROM inbox").await;
    assert_eq!(
        recorded as usize,
        BUYERS + QUESTIONS_SENT + STRIPE_STRANGERS
    );

    let env = worker_env(&url, &redis);
    let mut kills = Vec::new();
    for kill_at in [200, 600] {
        let worker = WorkerProcess::spawn(&env);
        wait_until(
            &format!("{kill_at} deliveries are finished"),
            PATIENCE,
            || async { finished(&pool).await >= kill_at },
        )
        .await;
        worker.kill().await;
        let in_flight = count(
            &pool,
            "SELECT count(*) FROM inbox WHERE status = 'processing'",
        )
        .await;
        kills.push((finished(&pool).await, in_flight));
    }
    let last = WorkerProcess::spawn(&env);
    wait_until("no delivery is left unfinished", PATIENCE, || async {
        unfinished(&pool).await == 0
    })
    .await;
    last.kill().await;

    let statuses = by_status(&pool).await;
    let expected = vec![
        ("ignored".to_owned(), STRIPE_STRANGERS as i64),
        ("processed".to_owned(), (BUYERS + QUESTIONS_SENT) as i64),
    ];
    assert_eq!(statuses, expected, "every delivery applied, none dead");
    let orders = count(&pool, "SELECT count(*) FROM orders").await;
    assert_eq!(orders, BUYERS as i64, "one order per distinct buy message");
    let ordered = count(
        &pool,
        "SELECT count(*) FROM messages WHERE outcome = 'reserved'",
    )
    .await;
    assert_eq!(
        ordered, orders,
        "no message has two orders, none lacks its order"
    );
    let messages = count(&pool, "SELECT count(*) FROM messages").await;
    assert_eq!(
        messages as usize,
        BUYERS + QUESTIONS_SENT,
        "one message per comment"
    );
    let reserved = count(
        &pool,
        "SELECT reserved::bigint FROM products WHERE sku = 'KILL-1'",
    )
    .await;
    assert_eq!(reserved, orders, "one reservation per order, no more");
    let recovered = count(&pool, "SELECT count(*) FROM inbox WHERE attempts > 1").await;
    println!(
        "worker kills: {} requests, {recorded} deliveries, SIGKILLed at (finished, in flight) {kills:?}, \
         {recovered} retaken after a kill, {orders} orders, lost 0",
        requests.len()
    );
    drop(web);
    release_database(&pool).await;
}
