//! docs/contract.md §2 and §8.1 through a Postgres restart: while deliveries keep arriving, a
//! private Postgres is stopped and started again under the web. The web answers 503 while it is
//! down, never a 2xx without a record, and accepts again on its own once it is back.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use shopwire_core::domain::Provider;
use sqlx::postgres::PgPoolOptions;

use super::bodies;
use super::private_pg::PrivatePg;
use super::support::{PATIENCE, RedisPrefix, wait_until};
use super::web::{self, Web};

/// Requests in flight at once, and a bound on how many each sender makes.
const SENDERS: usize = 4;
const MAX_PER_SENDER: usize = 20_000;

/// One answered request: its comment id, status and the inbox id a 2xx named.
#[derive(Debug, Clone)]
struct Answer {
    key: String,
    status: u16,
    inbox_id: Option<i64>,
}

type Answers = Arc<Mutex<Vec<Answer>>>;

async fn send(web: Arc<Web>, answers: Answers, next: Arc<AtomicU64>, stop: Arc<AtomicBool>) {
    for _ in 0..MAX_PER_SENDER {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let key = format!("pg-restart-{}", next.fetch_add(1, Ordering::Relaxed));
        let body = bodies::comment(&key, "viewer", "love this stream");
        let (status, json) = web
            .deliver(Provider::Comments, &body)
            .await
            .expect("the web answers even while Postgres is down");
        let inbox_id = json["id"].as_str().and_then(|id| id.parse().ok());
        answers.lock().expect("not poisoned").push(Answer {
            key,
            status,
            inbox_id,
        });
    }
}

fn snapshot(answers: &Answers) -> Vec<Answer> {
    answers.lock().expect("not poisoned").clone()
}

fn count_from(answers: &Answers, from: usize, status: u16) -> usize {
    let answers = answers.lock().expect("not poisoned");
    answers
        .iter()
        .skip(from)
        .filter(|a| a.status == status)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_during_ingest_answers_503_and_never_loses_an_accepted_delivery() {
    let pg = Arc::new(
        tokio::task::spawn_blocking(PrivatePg::start)
            .await
            .expect("initdb"),
    );
    let setup = PgPoolOptions::new()
        .max_connections(1)
        .connect(&pg.url())
        .await
        .expect("connects");
    shopwire_core::MIGRATOR
        .run(&setup)
        .await
        .expect("migrations run");
    setup.close().await;
    let redis = RedisPrefix::new();
    let web = Arc::new(web::start(&pg.url(), &redis.prefix).await);

    let answers: Answers = Arc::default();
    let (next, stop) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let senders: Vec<_> = (0..SENDERS)
        .map(|_| {
            tokio::spawn(send(
                web.clone(),
                answers.clone(),
                next.clone(),
                stop.clone(),
            ))
        })
        .collect();

    wait_until("deliveries are accepted", PATIENCE, || async {
        count_from(&answers, 0, 200) >= 20
    })
    .await;
    let server = pg.clone();
    tokio::task::spawn_blocking(move || server.stop_server())
        .await
        .expect("pg_ctl stop");
    let stopped_at = snapshot(&answers).len();
    wait_until(
        "the web answers 503 while Postgres is down",
        PATIENCE,
        || async { count_from(&answers, stopped_at, 503) >= 5 },
    )
    .await;
    // Postgres is down from `stopped_at` until `pg_ctl start` begins (it accepts
    // connections before `pg_ctl` returns).
    let restarting_at = snapshot(&answers).len();
    let server = pg.clone();
    tokio::task::spawn_blocking(move || server.start_server())
        .await
        .expect("pg_ctl start");
    let restarted_at = snapshot(&answers).len();
    wait_until(
        "the web accepts again after the restart",
        PATIENCE,
        || async { count_from(&answers, restarted_at, 200) >= 20 },
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    for sender in senders {
        sender.await.expect("a sender did not panic");
    }

    let answers = snapshot(&answers);
    let unexpected: Vec<_> = answers
        .iter()
        .filter(|a| ![200, 503].contains(&a.status))
        .collect();
    assert!(unexpected.is_empty(), "only 200 or 503: {unexpected:?}");
    let accepted: Vec<&Answer> = answers.iter().filter(|a| a.status == 200).collect();
    let ids: Vec<i64> = accepted
        .iter()
        .map(|a| a.inbox_id.expect("a 200 names its inbox id"))
        .collect();
    let keys: Vec<&str> = accepted.iter().map(|a| a.key.as_str()).collect();
    let check = PgPoolOptions::new()
        .max_connections(1)
        .connect(&pg.url())
        .await
        .expect("connects");
    let (found,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM inbox i
           JOIN unnest($1::bigint[], $2::text[]) AS a (id, key)
             ON i.id = a.id AND i.dedupe_key = a.key",
    )
    .bind(&ids)
    .bind(&keys)
    .fetch_one(&check)
    .await
    .expect("lookup");
    assert_eq!(
        found as usize,
        accepted.len(),
        "every 2xx has its inbox row"
    );
    // Each sender has one request in flight: only those begun before the stop may
    // still have been recorded and answered 200 after it.
    let accepted_while_down = answers[stopped_at..restarting_at]
        .iter()
        .filter(|a| a.status == 200)
        .count();
    assert!(
        accepted_while_down <= SENDERS,
        "{accepted_while_down} accepted while Postgres was down"
    );
    let unavailable = answers.iter().filter(|a| a.status == 503).count();
    let during = count_between(&answers, stopped_at, restarting_at);
    println!(
        "postgres restart: {} requests, {} accepted and all recorded, {unavailable} answered 503 \
         ({during} of the {} answered while it was down), accepting again after the restart",
        answers.len(),
        accepted.len(),
        restarting_at - stopped_at
    );
    check.close().await;
    drop(web);
}

fn count_between(answers: &[Answer], from: usize, to: usize) -> usize {
    answers[from..to].iter().filter(|a| a.status == 503).count()
}
