//! `/queues`: depths from Redis and dead counts from Postgres (Postgres still read when
//! Redis is down), the dead-letter queue, and replays from the page with `dlq replay`'s
//! semantics — each dead job back on its queue at most once per click, pushed after
//! commit, left queued for the sweeper when the push fails, nothing changed without the
//! session's CSRF token.

use std::time::Duration;

use reqwest::StatusCode;
use shopwire_core::db::inbox::{self, AfterFailure, InboxId};
use shopwire_core::db::jobs::{self, JobId};
use shopwire_core::domain::{Delivery, Provider};
use shopwire_core::jobs::{InboxJob, Queue};
use sqlx::PgPool;

use crate::helpers::{Browser, TestConsole, location, spawn_console, spawn_with};
use crate::orders::{attempt, claimed_order, delivery_of, endpoint, product};

/// A port nothing listens on.
const CLOSED_REDIS: &str = "redis://127.0.0.1:1";

/// Record a delivery and kill it the way a worker does (claim, then a fatal failure);
/// its inbox id and its dead job's id.
async fn bury(pool: &PgPool, provider: Provider, key: &str) -> (InboxId, i64) {
    let delivery = Delivery {
        dedupe_key: key.to_owned(),
        event_type: "test.event".to_owned(),
    };
    let id = inbox::record(pool, provider, &delivery, b"{}")
        .await
        .expect("record")
        .id();
    inbox::claim(pool, id, "worker-a", Duration::from_secs(60))
        .await
        .expect("claim")
        .expect("due");
    let error = format!("boom {key}");
    assert!(
        inbox::fail(pool, id, "worker-a", &error, AfterFailure::Dead)
            .await
            .expect("fail")
    );
    (
        id,
        dead_job_where(pool, "inbox_id = $1 AND job_id IS NULL", id.get()).await,
    )
}

/// A checkout job of a fresh order that ran out of attempts; its id and its dead job's.
async fn bury_checkout(pool: &PgPool) -> (JobId, i64) {
    let jacket = product(pool, "JKT-DEAD", 2).await;
    let order = claimed_order(pool, "comment-dead", "dora", jacket, "mine!").await;
    let mut tx = pool.begin().await.expect("begins");
    let key = format!("checkout:{}", order.order_number);
    let job = jobs::insert_once(&mut tx, "checkout", order.order_id, &key)
        .await
        .expect("job inserts")
        .expect("a new job");
    tx.commit().await.expect("commits");
    let claimed = jobs::claim(pool, job, "worker-a", Duration::from_secs(60))
        .await
        .expect("claim")
        .expect("due");
    assert!(
        jobs::fail(pool, &claimed, "stripe down", AfterFailure::Dead)
            .await
            .expect("fail")
    );
    (job, dead_job_where(pool, "job_id = $1", job.get()).await)
}

/// An outbound delivery that ran out of attempts; its dead job's id.
async fn bury_outbound(pool: &PgPool) -> i64 {
    let hooks = endpoint(pool, "hooks.example.com").await;
    let jacket = product(pool, "JKT-OUT", 2).await;
    let order = claimed_order(pool, "comment-out", "otto", jacket, "mine!").await;
    let id = delivery_of(pool, order.order_id, "claim.reserved", hooks).await;
    attempt(pool, id, Err((503, "HTTP 503: gone fishing")), true).await;
    dead_job_where(pool, "outbound_delivery_id = $1", id.get()).await
}

async fn dead_job_where(pool: &PgPool, condition: &str, id: i64) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM dead_jobs WHERE {condition}"
    )))
    .bind(id)
    .fetch_one(pool)
    .await
    .expect("one dead job")
}

/// An inbox row's status and attempts.
async fn state(pool: &PgPool, id: InboxId) -> (String, i32) {
    let row = inbox::get(pool, id).await.expect("get").expect("the row");
    (row.status, row.attempts)
}

/// Whether a dead job was replayed.
async fn replayed(pool: &PgPool, dead: i64) -> bool {
    let id = shopwire_core::db::dead_letters::DeadJobId::new(dead);
    shopwire_core::db::dead_letters::get(pool, id)
        .await
        .expect("get")
        .expect("the dead job")
        .replayed_at
        .is_some()
}

/// Jobs ready to fetch on `queue` under this console's prefix.
async fn pending(console: &TestConsole, queue: Queue) -> u64 {
    console
        .queue
        .depth(queue)
        .await
        .expect("redis answers")
        .pending
}

/// The table row whose opening tag holds `marker`.
fn row<'a>(html: &'a str, marker: &str) -> &'a str {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("a row with {marker} in {html}"));
    let start = html[..at].rfind("<tr").expect("the row's tr");
    let end = html[at..].find("</tr>").expect("the row ends") + at;
    &html[start..end]
}

/// The text of the cell of class `class` in `row`.
fn cell<'a>(row: &'a str, class: &str) -> &'a str {
    let open = format!(r#"class="num {class}">"#);
    let start = row
        .find(&open)
        .unwrap_or_else(|| panic!("a {class} cell in {row}"))
        + open.len();
    &row[start..start + row[start..].find("</td>").expect("the cell ends")]
}

/// POST a replay to `path` with this session's token and follow it back to `/queues`:
/// the notice shown there.
async fn replay(browser: &Browser, path: &str) -> String {
    let response = browser.submit("/queues", path, &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
    let back = location(&response);
    assert!(back.starts_with("/queues?done="), "{back}");
    let html = browser.page(&back).await;
    let start = html
        .find(r#"<p id="flash" role="status">"#)
        .expect("the page says what the replay did");
    let text = &html[start..];
    text[text.find('>').expect("tag ends") + 1..text.find("</p>").expect("notice ends")].to_owned()
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_queues_page_counts_each_queue_and_lists_dead_jobs_with_their_errors(pool: PgPool) {
    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;
    let (_, stripe_dead) = bury(&pool, Provider::Stripe, "evt_1").await;
    let (_, comment_dead) = bury(&pool, Provider::Comments, "c-1").await;
    let waiting = inbox::record(
        &pool,
        Provider::Comments,
        &Delivery {
            dedupe_key: "c-2".into(),
            event_type: "comment".into(),
        },
        b"{}",
    )
    .await
    .expect("record")
    .id();
    console
        .queue
        .push(Queue::Messages, &[InboxJob { inbox_id: waiting }])
        .await
        .expect("pushed");

    let html = browser.page("/queues").await;

    assert!(!html.contains("redis-error"), "{html}");
    let messages = row(&html, r#"data-queue="messages""#);
    assert_eq!(cell(messages, "pending"), "1", "{messages}");
    assert_eq!(cell(messages, "scheduled"), "0", "{messages}");
    assert_eq!(cell(messages, "running"), "0", "{messages}");
    assert_eq!(cell(messages, "dead"), "1", "{messages}");
    let stripe = row(&html, r#"data-queue="stripe-events""#);
    assert_eq!(cell(stripe, "pending"), "0", "{stripe}");
    assert_eq!(cell(stripe, "dead"), "1", "{stripe}");
    for queue in Queue::ALL {
        assert!(
            html.contains(&format!(r#"data-queue="{}""#, queue.as_str())),
            "{} listed: {html}",
            queue.as_str()
        );
    }
    assert!(
        html.contains(r#"<td class="num" data-status="dead">2</td>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<td class="num" data-status="queued">1</td>"#),
        "{html}"
    );
    assert!(
        html.contains("data-age-secs="),
        "the waiting delivery's age: {html}"
    );

    // Newest first, each with its error and its own replay form.
    let newest = html
        .find(&format!(r#"data-id="{comment_dead}""#))
        .expect("the comment's dead job is listed");
    let older = html
        .find(&format!(r#"data-id="{stripe_dead}""#))
        .expect("the stripe dead job is listed");
    assert!(newest < older, "{html}");
    let dead = row(&html, &format!(r#"data-id="{stripe_dead}""#));
    assert!(dead.contains(r#"class="dead-job""#), "{dead}");
    assert!(dead.contains("boom evt_1"), "{dead}");
    assert!(dead.contains("stripe-events"), "{dead}");
    assert!(
        dead.contains(&format!(
            r#"<form class="replay" method="post" action="/queues/dead/{stripe_dead}/replay">"#
        )),
        "{dead}"
    );
    assert!(dead.contains(r#"name="csrf""#), "{dead}");
    assert!(
        html.contains(
            r#"<form id="replay-all" method="post" action="/queues/dead/replay" data-confirm="Replay every dead job?">"#
        ),
        "{html}"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn replaying_a_dead_job_from_the_page_puts_it_back_on_its_queue_once(pool: PgPool) {
    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;
    let (id, dead) = bury(&pool, Provider::Stripe, "evt_replay").await;
    let (other, _) = bury(&pool, Provider::Stripe, "evt_left").await;

    let done = replay(&browser, &format!("/queues/dead/{dead}/replay")).await;

    assert_eq!(done, "replayed 1, skipped 0");
    assert_eq!(state(&pool, id).await, ("queued".to_owned(), 0));
    assert!(replayed(&pool, dead).await);
    assert_eq!(pending(&console, Queue::StripeEvents).await, 1);
    assert_eq!(state(&pool, other).await.0, "dead", "only that one");
    let html = browser.page("/queues").await;
    assert!(!html.contains(&format!(r#"data-id="{dead}""#)), "{html}");
    assert_eq!(
        cell(row(&html, r#"data-queue="stripe-events""#), "dead"),
        "1"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn two_clicks_on_replay_move_the_job_back_once(pool: PgPool) {
    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;
    let (id, dead) = bury(&pool, Provider::TiktokShop, "n-1").await;
    let path = format!("/queues/dead/{dead}/replay");

    let first = replay(&browser, &path).await;
    let second = replay(&browser, &path).await;

    assert_eq!(first, "replayed 1, skipped 0");
    assert_eq!(
        second,
        format!("replayed 0, skipped 1 (dead job {dead}: already replayed)")
    );
    assert_eq!(pending(&console, Queue::TiktokShop).await, 1, "pushed once");
    assert_eq!(state(&pool, id).await, ("queued".to_owned(), 0));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn replay_all_puts_every_kind_of_dead_job_back_once(pool: PgPool) {
    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;
    let (stripe, _) = bury(&pool, Provider::Stripe, "evt_all").await;
    let (comment, _) = bury(&pool, Provider::Comments, "c-all").await;
    let (job, job_dead) = bury_checkout(&pool).await;
    let outbound_dead = bury_outbound(&pool).await;

    let first = replay(&browser, "/queues/dead/replay").await;
    let second = replay(&browser, "/queues/dead/replay").await;

    assert_eq!(first, "replayed 4, skipped 0");
    assert_eq!(second, "replayed 0, skipped 0", "nothing is left to replay");
    assert_eq!(state(&pool, stripe).await, ("queued".to_owned(), 0));
    assert_eq!(state(&pool, comment).await, ("queued".to_owned(), 0));
    let job_row = jobs::get(&pool, job).await.expect("get").expect("the job");
    assert_eq!((job_row.status.as_str(), job_row.attempts), ("queued", 0));
    assert!(replayed(&pool, job_dead).await);
    assert!(replayed(&pool, outbound_dead).await);
    assert_eq!(pending(&console, Queue::StripeEvents).await, 1);
    assert_eq!(pending(&console, Queue::Messages).await, 1);
    assert_eq!(pending(&console, Queue::Checkout).await, 1);
    assert_eq!(pending(&console, Queue::Outbound).await, 1);
    let html = browser.page("/queues").await;
    assert!(html.contains("Nothing is dead."), "{html}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_queues_page_still_renders_when_redis_is_down(pool: PgPool) {
    let console = spawn_with(&pool, |env| {
        env.insert("REDIS_URL".into(), CLOSED_REDIS.into());
    })
    .await;
    let browser = Browser::signed_in(&console).await;
    let (_, dead) = bury(&pool, Provider::Stripe, "evt_down").await;

    let html = browser.page("/queues").await;

    assert!(
        html.contains(r#"<p id="redis-error" role="alert">"#),
        "{html}"
    );
    let stripe = row(&html, r#"data-queue="stripe-events""#);
    assert_eq!(cell(stripe, "pending"), "-", "{stripe}");
    assert_eq!(
        cell(stripe, "dead"),
        "1",
        "Postgres is still read: {stripe}"
    );
    assert!(html.contains(&format!(r#"data-id="{dead}""#)), "{html}");
    assert!(html.contains("boom evt_down"), "{html}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_replay_while_redis_is_down_leaves_the_job_queued_for_the_sweeper(pool: PgPool) {
    let console = spawn_with(&pool, |env| {
        env.insert("REDIS_URL".into(), CLOSED_REDIS.into());
    })
    .await;
    let browser = Browser::signed_in(&console).await;
    let (first, _) = bury(&pool, Provider::Stripe, "evt_a").await;
    let (second, _) = bury(&pool, Provider::Comments, "c-a").await;

    let done = replay(&browser, "/queues/dead/replay").await;

    assert!(
        done.starts_with("replayed 2, skipped 0; 2 not pushed to Redis: push failed ("),
        "{done}"
    );
    assert!(
        done.ends_with("queued in Postgres, the sweeper will enqueue it"),
        "{done}"
    );
    assert_eq!(state(&pool, first).await, ("queued".to_owned(), 0));
    assert_eq!(state(&pool, second).await, ("queued".to_owned(), 0));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_replay_without_the_csrf_token_changes_nothing(pool: PgPool) {
    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;
    let (id, dead) = bury(&pool, Provider::Stripe, "evt_forged").await;
    let one = format!("/queues/dead/{dead}/replay");

    for path in [one.as_str(), "/queues/dead/replay"] {
        for form in [vec![], vec![("csrf", "not-the-token")]] {
            let response = browser
                .client
                .post(browser.url(path))
                .form(&form)
                .send()
                .await
                .expect("answered");
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path} {form:?}");
        }
    }

    assert_eq!(state(&pool, id).await, ("dead".to_owned(), 1));
    assert!(!replayed(&pool, dead).await);
    assert_eq!(pending(&console, Queue::StripeEvents).await, 0);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn replaying_a_dead_job_that_does_not_exist_is_a_404_naming_it(pool: PgPool) {
    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;
    bury(&pool, Provider::Stripe, "evt_exists").await;

    let missing = browser
        .submit("/queues", "/queues/dead/424242/replay", &[])
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let text = missing.text().await.expect("body");
    assert!(text.contains("no dead job 424242"), "{text}");
    let bad = browser
        .submit("/queues", "/queues/dead/nope/replay", &[])
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}
