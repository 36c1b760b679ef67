//! `/orders` and `/orders/{order_number}`: the list with its status filter, and one order's
//! story told from real rows — a comment delivery, its message and claim, the allocator's
//! reservation, a Checkout Session, a Stripe payment, and the events the outbox sent about
//! it with each endpoint's delivery — all made through `shopwire-core` as the worker does.

use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use shopwire_core::config::AppEnv;
use shopwire_core::db::claims::{self, AllocationRules, ClaimId, NewClaim};
use shopwire_core::db::deliveries;
use shopwire_core::db::endpoints;
use shopwire_core::db::inbox::{self, AfterFailure, InboxId, Recorded};
use shopwire_core::db::messages::{self, Decision, NewMessage};
use shopwire_core::db::orders;
use shopwire_core::db::payments::{self, NewPayment};
use shopwire_core::db::products::{self, NewProduct};
use shopwire_core::domain::{Delivery, InboxStatus, Provider};
use shopwire_core::outbound::{
    DeliveryId, EndpointId, EndpointSecret, Subscription, UrlPolicy, check_url,
};
use sqlx::PgPool;

use crate::helpers::{Browser, spawn_console};

const STREAMER: &str = "thrift_queen";

const RULES: AllocationRules<'static> = AllocationRules {
    hold: Duration::from_secs(3600),
    checkout: None,
    waitlist_max: 50,
    waitlist_ttl: Duration::from_secs(86_400),
    max_open_holds: 10,
    order_window: Duration::ZERO,
};

/// A product with `stock` units; its id.
pub async fn product(pool: &PgPool, sku: &str, stock: i32) -> i64 {
    products::upsert(
        pool,
        &NewProduct {
            sku: sku.to_owned(),
            title: format!("Denim jacket {sku}"),
            price_cents: 4500,
            currency: "usd".into(),
            stock_on_hand: stock,
            variant: None,
        },
    )
    .await
    .expect("product saved");
    let mut conn = pool.acquire().await.expect("connection");
    messages::catalog(&mut conn)
        .await
        .expect("catalog")
        .into_iter()
        .find(|p| p.sku == sku)
        .expect("the product is in the catalog")
        .id
}

/// An endpoint subscribed to every event type.
pub async fn endpoint(pool: &PgPool, host: &str) -> EndpointId {
    let policy = UrlPolicy::for_env(AppEnv::Development, false);
    let url = check_url(&format!("https://{host}/shopwire"), policy).expect("a public URL");
    let all: Subscription = "*".parse().expect("a subscription");
    endpoints::add(pool, &url, None, &all, &EndpointSecret::generate())
        .await
        .expect("endpoint added")
        .id
}

/// An order made the way a live comment makes one.
pub struct Claimed {
    /// The comment's delivery.
    pub inbox_id: InboxId,
    /// Its claim.
    pub claim_id: ClaimId,
    /// The order the allocator made.
    pub order_id: i64,
    /// `ORD-…`.
    pub order_number: String,
}

/// A comment `text` by `buyer` (delivery `key`) claiming the product: recorded in the
/// inbox, read as a message, classified, claimed and allocated.
pub async fn claimed_order(
    pool: &PgPool,
    key: &str,
    buyer: &str,
    product_id: i64,
    text: &str,
) -> Claimed {
    let delivery = Delivery {
        dedupe_key: key.to_owned(),
        event_type: "comment".to_owned(),
    };
    let Recorded::New(inbox_id) = inbox::record(pool, Provider::Comments, &delivery, b"{}")
        .await
        .expect("records")
    else {
        panic!("{key} is a fresh key")
    };
    inbox::claim(pool, inbox_id, "worker-a", Duration::from_secs(60))
        .await
        .expect("claim")
        .expect("due");
    let mut tx = pool.begin().await.expect("begins");
    let sent_at = Utc::now() - chrono::Duration::seconds(1);
    let message_id = messages::insert(
        &mut tx,
        &NewMessage {
            inbox_id,
            channel: "comment",
            streamer: Some(STREAMER),
            buyer,
            conversation: None,
            text,
            sent_at,
        },
    )
    .await
    .expect("message inserts");
    messages::decide(
        &mut tx,
        message_id,
        &Decision {
            intent: "buy",
            intent_score: 0.93,
            classifier: "rules",
            product_id: Some(product_id),
            match_score: Some(0.88),
            outcome: "claimed",
        },
    )
    .await
    .expect("decided");
    let claim_id = claims::insert_pending(
        &mut tx,
        &NewClaim {
            message_id,
            streamer: Some(STREAMER),
            buyer,
            channel: "comment",
            product_id: Some(product_id),
            product_code: None,
            quantity: 1,
            message_time: sent_at,
            due_at: sent_at,
        },
    )
    .await
    .expect("claim inserts");
    assert!(
        inbox::finish(&mut *tx, inbox_id, "worker-a", InboxStatus::Processed)
            .await
            .expect("finish")
    );
    tx.commit().await.expect("commits");
    let allocation = claims::allocate(pool, product_id, &RULES)
        .await
        .expect("allocates");
    let decided = allocation
        .decided
        .iter()
        .find(|d| d.claim_id == claim_id)
        .expect("the claim is decided");
    Claimed {
        inbox_id,
        claim_id,
        order_id: decided.order_id.expect("it got a hold"),
        order_number: decided.order_number.clone().expect("its order number"),
    }
}

/// Give the order a Checkout Session.
pub async fn check_out(pool: &PgPool, order_id: i64, session: &str) {
    let mut conn = pool.acquire().await.expect("connection");
    orders::set_checkout(
        &mut conn,
        order_id,
        session,
        &format!("https://checkout.stripe.com/c/pay/{session}"),
    )
    .await
    .expect("checkout stored");
}

/// Stripe's `checkout.session.completed` (event `evt`) applied to the order; its delivery.
pub async fn pay(pool: &PgPool, order_id: i64, evt: &str) -> InboxId {
    let delivery = Delivery {
        dedupe_key: evt.to_owned(),
        event_type: "checkout.session.completed".to_owned(),
    };
    let inbox_id = inbox::record(pool, Provider::Stripe, &delivery, b"{}")
        .await
        .expect("records")
        .id();
    let mut tx = pool.begin().await.expect("begins");
    assert!(
        payments::record(
            &mut tx,
            &NewPayment {
                order_id,
                inbox_id,
                stripe_event_id: evt,
                kind: "checkout.session.completed",
                amount_cents: Some(4500),
                currency: Some("usd"),
                detail: "paid",
            },
        )
        .await
        .expect("payment recorded")
    );
    assert!(
        orders::mark_paid(&mut tx, order_id, Some("pi_story"))
            .await
            .expect("paid")
    );
    tx.commit().await.expect("commits");
    inbox_id
}

/// The delivery of `event_type` about `order_id` to `endpoint`.
pub async fn delivery_of(
    pool: &PgPool,
    order_id: i64,
    event_type: &str,
    endpoint: EndpointId,
) -> DeliveryId {
    let events = shopwire_core::db::outbox::events_of_order(pool, order_id)
        .await
        .expect("events read");
    events
        .iter()
        .find(|e| e.event_type == event_type)
        .unwrap_or_else(|| panic!("a {event_type} event in {events:?}"))
        .deliveries
        .iter()
        .find(|d| d.endpoint_id == endpoint)
        .expect("a delivery to the endpoint")
        .id
}

/// Send a delivery once, as the worker does: accepted with `Ok(code)`, or failed with
/// `Err((code, error))` and (`dead`) dead-lettered or scheduled again.
pub async fn attempt(pool: &PgPool, id: DeliveryId, outcome: Result<u16, (u16, &str)>, dead: bool) {
    let claimed = deliveries::claim(pool, id, "worker-a", Duration::from_secs(60))
        .await
        .expect("claim")
        .expect("the delivery is due and first in line");
    let took = Duration::from_millis(12);
    match outcome {
        Ok(code) => assert!(
            deliveries::delivered(pool, &claimed, code, took)
                .await
                .expect("delivered")
        ),
        Err((code, error)) => {
            deliveries::record_attempt(pool, &claimed, Some(code), error, took)
                .await
                .expect("attempt recorded");
            let after = if dead {
                AfterFailure::Dead
            } else {
                AfterFailure::RetryAt(Utc::now() + chrono::Duration::minutes(5))
            };
            assert!(
                deliveries::fail(pool, &claimed, error, after)
                    .await
                    .expect("failed")
            );
        }
    }
}

/// The `data-step` of each step of the page's story, in order.
fn steps(html: &str) -> Vec<&str> {
    let story = &html[html.find(r#"<ol class="story">"#).expect("a story")..];
    let story = &story[..story.find("</ol>").expect("the story ends")];
    story
        .split(r#"data-step=""#)
        .skip(1)
        .map(|rest| &rest[..rest.find('"').expect("attribute ends")])
        .collect()
}

/// The `li` of the step whose opening tag holds `marker`.
fn step<'a>(html: &'a str, marker: &str) -> &'a str {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("a step with {marker}"));
    let start = html[..at].rfind("<li").expect("the step's li");
    let end = html[at..].find("</li>").expect("the step ends") + at;
    &html[start..end]
}

/// The table row in `html` whose opening tag holds `marker`.
fn row<'a>(html: &'a str, marker: &str) -> &'a str {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("a row with {marker} in {html}"));
    let start = html[..at].rfind("<tr").expect("the row's tr");
    let end = html[at..].find("</tr>").expect("the row ends") + at;
    &html[start..end]
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_orders_page_tells_its_story_from_delivery_to_payment(pool: PgPool) {
    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;
    let accepting = endpoint(&pool, "hooks.example.com").await;
    let failing = endpoint(&pool, "flaky.example.net").await;
    let jacket = product(&pool, "JKT-M", 3).await;
    let order = claimed_order(
        &pool,
        "comment-100",
        "vintage_vera",
        jacket,
        "mine! the denim jacket",
    )
    .await;
    check_out(&pool, order.order_id, "cs_test_story").await;
    let stripe = pay(&pool, order.order_id, "evt_story_paid").await;
    // The claim's event reached one endpoint; the other answered 500 and waits to retry.
    let sent = delivery_of(&pool, order.order_id, "claim.reserved", accepting).await;
    attempt(&pool, sent, Ok(200), false).await;
    let refused = delivery_of(&pool, order.order_id, "claim.reserved", failing).await;
    attempt(&pool, refused, Err((500, "HTTP 500: receiver down")), false).await;

    let html = browser
        .page(&format!("/orders/{}", order.order_number))
        .await;

    assert!(
        html.contains(&format!("Order {}", order.order_number)),
        "{html}"
    );
    assert!(html.contains(r#"data-status="paid""#), "{html}");
    assert_eq!(
        steps(&html),
        [
            "delivery",
            "message",
            "claim",
            "reservation",
            "checkout",
            "payment",
            "event",
            "event",
            "event"
        ],
        "{html}"
    );
    let delivery = step(&html, r#"data-step="delivery""#);
    assert!(
        delivery.contains(&format!("inbox #{}", order.inbox_id)),
        "{delivery}"
    );
    assert!(delivery.contains("comments"), "{delivery}");
    assert!(delivery.contains("comment-100"), "{delivery}");
    assert!(delivery.contains("processed"), "{delivery}");
    let message = step(&html, r#"data-step="message""#);
    assert!(message.contains("mine! the denim jacket"), "{message}");
    assert!(message.contains("thrift_queen"), "{message}");
    assert!(message.contains("intent buy 0.93 (rules)"), "{message}");
    assert!(message.contains("(match 0.88)"), "{message}");
    let claim = step(&html, r#"data-step="claim""#);
    assert!(
        claim.contains(&format!(r#"data-claim-id="{}""#, order.claim_id)),
        "{claim}"
    );
    assert!(claim.contains(r#"data-outcome="reserved""#), "{claim}");
    assert!(claim.contains("JKT-M × 1"), "{claim}");
    let reservation = step(&html, r#"data-step="reservation""#);
    assert!(
        reservation.contains(r#"data-status="committed""#),
        "{reservation}"
    );
    let checkout = step(&html, r#"data-step="checkout""#);
    assert!(checkout.contains("cs_test_story"), "{checkout}");
    assert!(
        checkout.contains("https://checkout.stripe.com/c/pay/cs_test_story"),
        "{checkout}"
    );
    assert!(checkout.contains("pi_story"), "{checkout}");
    let payment = step(&html, r#"data-step="payment""#);
    assert!(payment.contains("checkout.session.completed"), "{payment}");
    assert!(payment.contains("evt_story_paid"), "{payment}");
    assert!(payment.contains(&format!("inbox #{stripe}")), "{payment}");
    assert!(payment.contains("45.00 USD"), "{payment}");

    let event_types: Vec<&str> = html
        .split(r#"data-event-type=""#)
        .skip(1)
        .map(|rest| &rest[..rest.find('"').expect("attribute ends")])
        .collect();
    assert_eq!(
        event_types,
        ["claim.reserved", "order.checkout_ready", "order.paid"]
    );
    let claim_event = step(&html, r#"data-event-type="claim.reserved""#);
    let accepted = row(claim_event, &format!(r#"data-endpoint="{accepting}""#));
    assert!(
        accepted.contains(r#"data-status="processed""#),
        "{accepted}"
    );
    assert!(
        accepted.contains("https://hooks.example.com/shopwire"),
        "{accepted}"
    );
    assert!(
        accepted.contains(r#"<td class="num attempts">1</td>"#),
        "{accepted}"
    );
    assert!(
        accepted.contains(r#"<td class="num http">200</td>"#),
        "{accepted}"
    );
    let retrying = row(claim_event, &format!(r#"data-endpoint="{failing}""#));
    assert!(retrying.contains(r#"data-status="failed""#), "{retrying}");
    assert!(
        retrying.contains(r#"<td class="num http">500</td>"#),
        "{retrying}"
    );
    assert!(retrying.contains("HTTP 500: receiver down"), "{retrying}");
    assert!(retrying.contains("next attempt"), "{retrying}");
    // Events not yet sent are queued at both endpoints.
    let paid_event = step(&html, r#"data-event-type="order.paid""#);
    for endpoint in [accepting, failing] {
        let queued = row(paid_event, &format!(r#"data-endpoint="{endpoint}""#));
        assert!(queued.contains(r#"data-status="queued""#), "{queued}");
    }
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_pending_order_tells_only_what_has_happened_so_far(pool: PgPool) {
    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;
    let jacket = product(&pool, "JKT-S", 1).await;
    let order = claimed_order(&pool, "comment-7", "mia", jacket, "I'll take it!").await;

    let html = browser
        .page(&format!("/orders/{}", order.order_number))
        .await;

    assert_eq!(
        steps(&html),
        ["delivery", "message", "claim", "reservation", "event"],
        "{html}"
    );
    let reservation = step(&html, r#"data-step="reservation""#);
    assert!(
        reservation.contains(r#"data-status="held""#),
        "{reservation}"
    );
    assert!(reservation.contains("countdown"), "{reservation}");
    let event = step(&html, r#"data-event-type="claim.reserved""#);
    assert!(event.contains("no endpoint was subscribed"), "{event}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_orders_list_shows_the_newest_first_and_filters_by_status(pool: PgPool) {
    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;
    let jacket = product(&pool, "JKT-L", 5).await;
    let paid = claimed_order(&pool, "comment-1", "ann", jacket, "mine!").await;
    pay(&pool, paid.order_id, "evt_list_paid").await;
    let pending = claimed_order(&pool, "comment-2", "bob", jacket, "mine too!").await;

    let html = browser.page("/orders").await;
    let newest = html
        .find(&format!(r#"data-order="{}""#, pending.order_number))
        .expect("the pending order is listed");
    let older = html
        .find(&format!(r#"data-order="{}""#, paid.order_number))
        .expect("the paid order is listed");
    assert!(newest < older, "newest first: {html}");
    assert!(
        html.contains(&format!(r#"href="/orders/{0}">{0}</a>"#, paid.order_number)),
        "each order links to its page: {html}"
    );
    let paid_row = row(&html, &format!(r#"data-order="{}""#, paid.order_number));
    assert!(paid_row.contains("45.00 USD"), "{paid_row}");
    assert!(paid_row.contains("ann"), "{paid_row}");

    let only_paid = browser.page("/orders?status=paid").await;
    assert!(only_paid.contains(&paid.order_number), "{only_paid}");
    assert!(!only_paid.contains(&pending.order_number), "{only_paid}");
    let none = browser.page("/orders?status=refunded").await;
    assert!(none.contains("No refunded orders."), "{none}");
    let any = browser.page("/orders?status=").await;
    assert!(any.contains(&pending.order_number), "{any}");

    let bogus = browser.get("/orders?status=lost").await;
    assert_eq!(bogus.status(), StatusCode::BAD_REQUEST);
    let text = bogus.text().await.expect("body");
    assert!(text.contains("no order status `lost`"), "{text}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_unknown_order_is_a_404_naming_it(pool: PgPool) {
    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;

    let response = browser.get("/orders/ORD-19990101-00000").await;

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let html = response.text().await.expect("body");
    assert!(
        html.contains(r#"<p id="error" role="alert">no order ORD-19990101-00000</p>"#),
        "{html}"
    );
}
