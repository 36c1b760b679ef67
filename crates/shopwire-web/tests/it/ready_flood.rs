//! A `/ready` flood (issue #11), also with Postgres slowed down, never costs a delivery its
//! 200: the probe has its own connection and a cached answer, so it takes nothing from the
//! pool that records webhooks.

use std::time::{Duration, Instant};

use shopwire_core::domain::Provider;
use shopwire_testkit::SlowProxy;
use sqlx::PgPool;

use crate::helpers::{TestApp, json, spawn_app_with};

fn stripe_event(id: &str) -> Vec<u8> {
    format!(r#"{{"id":"{id}","object":"event","type":"charge.refunded","data":{{"object":{{}}}}}}"#)
        .into_bytes()
}

/// `callers` clients asking `GET /ready` back to back until `until`; the statuses they got.
fn flood(app: &TestApp, callers: usize, until: Instant) -> Vec<tokio::task::JoinHandle<Vec<u16>>> {
    (0..callers)
        .map(|_| {
            let (client, url) = (app.client.clone(), format!("{}/ready", app.address));
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                while Instant::now() < until {
                    match client.get(&url).send().await {
                        Ok(response) => statuses.push(response.status().as_u16()),
                        Err(_) => statuses.push(0),
                    }
                }
                statuses
            })
        })
        .collect()
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn two_hundred_ready_callers_on_a_slow_postgres_never_cost_a_delivery_its_200(pool: PgPool) {
    // Every chunk Postgres answers waits 40 ms, and the recording pool has two connections:
    // a `/ready` that used the pool would hold them and deliveries would wait past the
    // pool's acquire timeout into 503s.
    let slow = SlowProxy::start(shopwire_testkit::postgres_addr(), Duration::from_millis(40)).await;
    let url = shopwire_testkit::database_url_through(&pool, slow.addr());
    let app = spawn_app_with(pool, move |env| {
        env.insert("DATABASE_URL".into(), url);
        env.insert("DATABASE_MAX_CONNECTIONS".into(), "2".into());
        env.insert("READY_CACHE_MS".into(), "250".into());
    })
    .await;
    let (status, answer) = json(app.get("/ready").await).await;
    assert_eq!(status, 200, "a slow Postgres is a ready one: {answer}");

    let until = Instant::now() + Duration::from_secs(4);
    let callers = flood(&app, 200, until);
    let mut answers = Vec::new();
    let mut n = 0;
    while Instant::now() < until {
        let body = stripe_event(&format!("evt_flood_{n}"));
        let (status, answer) = json(app.post_signed(Provider::Stripe, &body).await).await;
        answers.push((status.as_u16(), answer["status"].clone()));
        n += 1;
    }
    let mut ready = Vec::new();
    for caller in callers {
        ready.extend(caller.await.expect("a caller ran"));
    }

    assert!(n >= 3, "deliveries kept going during the flood: {n}");
    assert!(
        answers
            .iter()
            .all(|(status, word)| *status == 200 && word == "accepted"),
        "every delivery during the flood was accepted: {answers:?}"
    );
    assert_eq!(app.inbox_rows().await.len(), n, "and recorded");
    assert!(ready.len() >= 200, "every /ready caller was answered");
    let not_ready = ready.iter().filter(|status| **status != 200).count();
    assert_eq!(
        not_ready,
        0,
        "{not_ready} of {} /ready answers were not 200",
        ready.len()
    );
}
