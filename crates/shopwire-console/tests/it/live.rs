//! The live page and its event stream: what it shows, pinning and the lineup from the page,
//! and claims reaching open pages on commit.

use std::time::Duration;

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::json;
use shopwire_core::db::products::{self, NewProduct};
use shopwire_core::db::{lineup, live_pins, outbox};
use shopwire_core::outbound::EventType;
use sqlx::PgPool;

use crate::helpers::{Browser, TestConsole, location, spawn_console};

async fn product(pool: &PgPool, sku: &str, stock: i32) {
    products::upsert(
        pool,
        &NewProduct {
            sku: sku.into(),
            title: format!("The {sku}"),
            price_cents: 2_500,
            currency: "usd".into(),
            stock_on_hand: stock,
            ..Default::default()
        },
    )
    .await
    .expect("product");
}

/// A claim's outcome event, as the claims trigger writes it, committed.
async fn claim_event(pool: &PgPool, streamer: &str, claim_id: i64, sku: &str) {
    let mut conn = pool.acquire().await.expect("connection");
    outbox::emit(
        &mut conn,
        EventType::ClaimReserved,
        &format!("claim:{claim_id}:reserved"),
        Some(&format!("claim:{claim_id}")),
        &json!({
            "claim_id": claim_id, "buyer": "buyer-7", "streamer": streamer,
            "channel": "comment", "outcome": "reserved", "sku": sku, "quantity": 1,
            "order_number": format!("ORD-20261202-{claim_id:05}"),
            "amount_cents": 2500, "currency": "usd",
        }),
    )
    .await
    .expect("event");
}

/// One server-sent event.
#[derive(Debug)]
struct Sent {
    event: String,
    id: Option<String>,
    data: String,
}

/// An open `/live/{streamer}/events` stream.
struct Stream {
    bytes: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
}

impl Stream {
    async fn open(browser: &Browser, streamer: &str, after: Option<&str>) -> Stream {
        let path = match after {
            Some(after) => format!("/live/{streamer}/events?after={after}"),
            None => format!("/live/{streamer}/events"),
        };
        let response = browser
            .client
            .get(browser.url(&path))
            .header("accept", "text/event-stream")
            .timeout(Duration::from_secs(600))
            .send()
            .await
            .expect("stream opens");
        assert_eq!(response.status(), StatusCode::OK);
        let mut stream = Stream {
            bytes: response.bytes_stream().boxed(),
            buffer: String::new(),
        };
        assert_eq!(stream.next().await.event, "hello");
        assert_eq!(stream.next().await.event, "panel");
        stream
    }

    /// The next event (keep-alive comments skipped), within 10 s.
    async fn next(&mut self) -> Sent {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let block: String = self.buffer.drain(..end + 2).collect();
                    let mut sent = Sent {
                        event: "message".into(),
                        id: None,
                        data: String::new(),
                    };
                    for line in block.lines() {
                        if let Some(v) = line.strip_prefix("event:") {
                            sent.event = v.trim().into();
                        } else if let Some(v) = line.strip_prefix("id:") {
                            sent.id = Some(v.trim().into());
                        } else if let Some(v) = line.strip_prefix("data:") {
                            sent.data.push_str(v.strip_prefix(' ').unwrap_or(v));
                        }
                    }
                    if block.lines().all(|l| l.starts_with(':')) {
                        continue;
                    }
                    return sent;
                }
                let chunk = self
                    .bytes
                    .next()
                    .await
                    .expect("stream open")
                    .expect("chunk");
                self.buffer.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await
        .expect("an event within 10 s")
    }

    /// The next `claim` event (panels skipped).
    async fn next_claim(&mut self) -> Sent {
        loop {
            let sent = self.next().await;
            if sent.event == "claim" {
                return sent;
            }
            assert_eq!(sent.event, "panel", "unexpected {sent:?}");
        }
    }
}

async fn live(pool: &PgPool) -> (TestConsole, Browser) {
    let console = spawn_console(pool).await;
    let browser = Browser::signed_in(&console).await;
    (console, browser)
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_live_page_shows_what_is_pinned_the_lineup_and_each_items_stock(pool: PgPool) {
    product(&pool, "TEE-M", 7).await;
    product(&pool, "CAP", 2).await;
    lineup::add(&pool, "anna", "TEE-M", None).await.expect("A1");
    live_pins::pin(&pool, "anna", "CAP").await.expect("pin");
    let (_console, browser) = live(&pool).await;

    let page = browser.page("/live/anna").await;

    assert!(page.contains(r#"data-streamer="anna""#));
    assert!(page.contains(r#"<tr data-code="A1">"#), "{page}");
    assert!(page.contains(r#"<strong class="pinned-sku">CAP</strong>"#));
    assert!(page.contains(r#"<tr data-sku="TEE-M"><td>TEE-M</td><td>The TEE-M</td><td class="stock">7</td><td class="reserved">0</td><td class="available">7</td>"#), "{page}");
    assert!(browser.page("/live").await.contains(r#"href="/live/anna""#));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn pinning_from_the_page_puts_the_item_on_screen(pool: PgPool) {
    product(&pool, "TEE-M", 7).await;
    product(&pool, "CAP", 2).await;
    live_pins::pin(&pool, "anna", "TEE-M").await.expect("pin");
    let (_console, browser) = live(&pool).await;

    let response = browser
        .submit("/live/anna", "/live/anna/pin", &[("sku", "CAP")])
        .await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/live/anna?done=pinned%20CAP");
    let pinned = live_pins::current(&pool, "anna")
        .await
        .unwrap()
        .expect("a pin");
    assert_eq!(pinned.sku, "CAP");
    assert!(
        browser
            .page("/live/anna?done=pinned%20CAP")
            .await
            .contains("pinned CAP")
    );

    let unpinned = browser.submit("/live/anna", "/live/anna/unpin", &[]).await;
    assert_eq!(location(&unpinned), "/live/anna?done=unpinned%20CAP");
    assert!(live_pins::current(&pool, "anna").await.unwrap().is_none());
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn pinning_an_unknown_sku_is_a_400_naming_it_and_keeps_the_pin(pool: PgPool) {
    product(&pool, "TEE-M", 7).await;
    live_pins::pin(&pool, "anna", "TEE-M").await.expect("pin");
    let (_console, browser) = live(&pool).await;

    let response = browser
        .submit("/live/anna", "/live/anna/pin", &[("sku", "NOPE")])
        .await;

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("no product with SKU `NOPE`")
    );
    assert_eq!(
        live_pins::current(&pool, "anna")
            .await
            .unwrap()
            .unwrap()
            .sku,
        "TEE-M"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_pin_without_the_csrf_token_changes_nothing(pool: PgPool) {
    product(&pool, "TEE-M", 7).await;
    let (_console, browser) = live(&pool).await;

    let response = browser
        .client
        .post(browser.url("/live/anna/pin"))
        .form(&[("sku", "TEE-M"), ("csrf", "forged")])
        .send()
        .await
        .expect("answered");

    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(live_pins::current(&pool, "anna").await.unwrap().is_none());
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn codes_are_added_to_and_removed_from_the_lineup_from_the_page(pool: PgPool) {
    product(&pool, "TEE-M", 7).await;
    let (_console, browser) = live(&pool).await;

    let added = browser
        .submit(
            "/live/anna",
            "/live/anna/lineup",
            &[("item", "TEE-M"), ("code", "")],
        )
        .await;
    assert_eq!(location(&added), "/live/anna?done=TEE-M%20is%20A1");
    let unknown = browser
        .submit(
            "/live/anna",
            "/live/anna/lineup",
            &[("item", "NOPE"), ("code", "")],
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);

    let removed = browser
        .submit("/live/anna", "/live/anna/lineup/remove", &[("code", "a1")])
        .await;
    assert_eq!(location(&removed), "/live/anna?done=removed%20A1");
    assert!(lineup::list(&pool, "anna").await.unwrap().is_empty());
    let again = browser
        .submit("/live/anna", "/live/anna/lineup/remove", &[("code", "A1")])
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_committed_claim_reaches_every_open_page_of_its_live_and_no_other(pool: PgPool) {
    product(&pool, "TEE-M", 7).await;
    let (_console, browser) = live(&pool).await;
    let mut first = Stream::open(&browser, "anna", None).await;
    let mut second = Stream::open(&browser, "anna", None).await;
    let mut other_live = Stream::open(&browser, "bob", None).await;

    claim_event(&pool, "anna", 41, "TEE-M").await;
    claim_event(&pool, "bob", 42, "TEE-M").await;

    for stream in [&mut first, &mut second] {
        let claim = stream.next_claim().await;
        assert!(claim.data.contains(r#"data-claim-id="41""#), "{claim:?}");
        assert!(claim.data.contains(r#"data-outcome="reserved""#));
        assert!(
            claim
                .data
                .contains(r#"<a href="/orders/ORD-20261202-00041">"#)
        );
        assert!(claim.id.is_some());
    }
    let bobs = other_live.next_claim().await;
    assert!(
        bobs.data.contains(r#"data-claim-id="42""#),
        "bob's page got {bobs:?}"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_rolled_back_claim_never_reaches_the_page(pool: PgPool) {
    let (_console, browser) = live(&pool).await;
    let mut stream = Stream::open(&browser, "anna", None).await;

    let mut tx = pool.begin().await.unwrap();
    outbox::emit(
        &mut tx,
        EventType::ClaimReserved,
        "claim:1:reserved",
        Some("claim:1"),
        &json!({"claim_id": 1, "streamer": "anna", "outcome": "reserved"}),
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    claim_event(&pool, "anna", 2, "TEE-M").await;

    let claim = stream.next_claim().await;
    assert!(claim.data.contains(r#"data-claim-id="2""#), "{claim:?}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_page_catches_up_on_claims_committed_before_its_stream_opened(pool: PgPool) {
    let (_console, browser) = live(&pool).await;
    claim_event(&pool, "anna", 1, "TEE-M").await;
    let page = browser.page("/live/anna").await;
    let after = page
        .split(r#"data-after=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page says which event it shows up to")
        .to_owned();
    assert!(page.contains(r#"data-claim-id="1""#));

    claim_event(&pool, "anna", 2, "TEE-M").await;
    let mut stream = Stream::open(&browser, "anna", Some(&after)).await;

    let caught_up = stream.next_claim().await;
    assert!(
        caught_up.data.contains(r#"data-claim-id="2""#),
        "{caught_up:?}"
    );
    claim_event(&pool, "anna", 3, "TEE-M").await;
    let live = stream.next_claim().await;
    assert!(live.data.contains(r#"data-claim-id="3""#), "{live:?}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_claim_sends_the_page_its_new_stock(pool: PgPool) {
    product(&pool, "TEE-M", 7).await;
    lineup::add(&pool, "anna", "TEE-M", None).await.expect("A1");
    let (_console, browser) = live(&pool).await;
    let mut stream = Stream::open(&browser, "anna", None).await;
    sqlx::query("UPDATE products SET stock_on_hand = 3 WHERE sku = 'TEE-M'")
        .execute(&pool)
        .await
        .unwrap();

    claim_event(&pool, "anna", 5, "TEE-M").await;

    let claim = stream.next().await;
    assert_eq!(claim.event, "claim");
    let panel = stream.next().await;
    assert_eq!(panel.event, "panel");
    assert!(
        panel.data.contains(r#"<td class="available">3</td>"#),
        "{panel:?}"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_stock_edit_on_the_inventory_page_reaches_open_live_pages(pool: PgPool) {
    product(&pool, "TEE-M", 7).await;
    lineup::add(&pool, "anna", "TEE-M", None).await.expect("A1");
    let (_console, browser) = live(&pool).await;
    let mut stream = Stream::open(&browser, "anna", None).await;

    let edited = browser
        .submit("/inventory", "/inventory/TEE-M/stock", &[("stock", "12")])
        .await;
    assert_eq!(edited.status(), StatusCode::SEE_OTHER);

    let panel = stream.next().await;
    assert_eq!(panel.event, "panel");
    assert!(
        panel.data.contains(r#"<td class="available">12</td>"#),
        "{panel:?}"
    );
}
