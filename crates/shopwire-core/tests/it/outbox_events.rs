//! The outbox triggers against a real Postgres (docs/contract.md §10, §13.7): each committed
//! claim outcome and order change has exactly its event, with the fields it promises; a
//! rolled-back change has none; a change applied twice reports itself once; deliveries
//! are made only for enabled endpoints subscribed to the event's type.

use std::time::Duration;

use chrono::Utc;
use serde_json::Value;
use shopwire_core::config::AppEnv;
use shopwire_core::db::claims::{self, AllocationRules, ClaimId, NewClaim};
use shopwire_core::db::endpoints;
use shopwire_core::db::inbox::{self, Recorded};
use shopwire_core::db::messages::{self, NewMessage};
use shopwire_core::db::orders::{self, ReleasedAs};
use shopwire_core::domain::{ClaimOutcome, Delivery, Provider};
use shopwire_core::outbound::{EndpointId, EndpointSecret, Subscription, UrlPolicy, check_url};
use sqlx::PgPool;

const RULES: AllocationRules<'static> = AllocationRules {
    hold: Duration::from_secs(3600),
    checkout: None,
    waitlist_max: 50,
    waitlist_ttl: Duration::from_secs(86_400),
    max_open_holds: 10,
    order_window: Duration::ZERO,
};

const STREAMER: &str = "thrift_queen";

/// A variant with `stock` units (of product `code`, with `options`, when given).
async fn product(pool: &PgPool, sku: &str, stock: i32, code: Option<&str>, options: &str) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO products (sku, title, price_cents, currency, stock_on_hand, product_code,
                               options)
         VALUES ($1, 'Denim jacket ' || $1, 4500, 'usd', $2, $3, $4::jsonb) RETURNING id",
    )
    .bind(sku)
    .bind(stock)
    .bind(code)
    .bind(options)
    .fetch_one(pool)
    .await
    .expect("product inserts")
}

/// A buy message on `channel` (`comment` or `dm`) under the platform id `source`.
struct Buy<'a> {
    buyer: &'a str,
    channel: &'a str,
    source: &'a str,
    product_id: Option<i64>,
    product_code: Option<&'a str>,
}

fn comment<'a>(buyer: &'a str, source: &'a str, product_id: i64) -> Buy<'a> {
    Buy {
        buyer,
        channel: "comment",
        source,
        product_id: Some(product_id),
        product_code: None,
    }
}

/// Record `buy` as the message stage does, pending or (with `outcome`) decided at once.
async fn claim(pool: &PgPool, buy: &Buy<'_>, outcome: Option<ClaimOutcome>) -> ClaimId {
    let provider = match buy.channel {
        "dm" => Provider::Tiktok,
        _ => Provider::Comments,
    };
    let delivery = Delivery {
        dedupe_key: buy.source.to_owned(),
        event_type: buy.channel.to_owned(),
    };
    let Recorded::New(inbox_id) = inbox::record(pool, provider, &delivery, b"{}")
        .await
        .expect("records")
    else {
        panic!("{} is a fresh key", buy.source)
    };
    let mut tx = pool.begin().await.expect("begins");
    sqlx::query("UPDATE inbox SET status = 'processed', processed_at = now() WHERE id = $1")
        .bind(inbox_id)
        .execute(&mut *tx)
        .await
        .expect("marks");
    let message_time = Utc::now() - chrono::Duration::seconds(1);
    let message_id = messages::insert(
        &mut tx,
        &NewMessage {
            inbox_id,
            channel: buy.channel,
            streamer: Some(STREAMER),
            buyer: buy.buyer,
            conversation: None,
            text: "mine!",
            sent_at: message_time,
        },
    )
    .await
    .expect("message inserts");
    let new = NewClaim {
        message_id,
        streamer: Some(STREAMER),
        buyer: buy.buyer,
        channel: buy.channel,
        product_id: buy.product_id,
        product_code: buy.product_code,
        quantity: 1,
        message_time,
        due_at: message_time,
    };
    let id = match outcome {
        None => claims::insert_pending(&mut tx, &new).await,
        Some(outcome) => claims::insert_decided(&mut tx, &new, outcome).await,
    }
    .expect("claim inserts");
    tx.commit().await.expect("commits");
    id
}

async fn allocate(pool: &PgPool, product_id: i64, rules: &AllocationRules<'_>) {
    claims::allocate(pool, product_id, rules)
        .await
        .expect("allocates");
}

/// An endpoint subscribed to `events` (`*`, `claim.*`, `order.paid`, …).
async fn endpoint(pool: &PgPool, events: &str) -> EndpointId {
    let policy = UrlPolicy::for_env(AppEnv::Development, false);
    let url = check_url("https://hooks.example.com/shopwire", policy).expect("a public URL");
    let events: Subscription = events.parse().expect("a subscription");
    endpoints::add(pool, &url, None, &events, &EndpointSecret::generate())
        .await
        .expect("endpoint added")
        .id
}

/// One recorded event.
#[derive(Debug, sqlx::FromRow)]
struct Event {
    id: i64,
    event_type: String,
    dedupe_key: String,
    subject: Option<String>,
    order_id: Option<i64>,
    claim_id: Option<i64>,
    data: Value,
}

/// Every event, oldest first.
async fn events(pool: &PgPool) -> Vec<Event> {
    sqlx::query_as(
        "SELECT id, event_type, dedupe_key, subject, order_id, claim_id, data
           FROM outbox_events ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .expect("events read")
}

/// The events about claim `id`.
async fn claim_events(pool: &PgPool, id: ClaimId) -> Vec<Event> {
    events(pool)
        .await
        .into_iter()
        .filter(|e| e.claim_id == Some(id.get()) && e.event_type.starts_with("claim."))
        .collect()
}

/// The one event about claim `id`, of type `event_type`.
async fn only_claim_event(pool: &PgPool, id: ClaimId, event_type: &str) -> Event {
    let mut all = claim_events(pool, id).await;
    let types: Vec<&str> = all.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, [event_type], "claim {id} has exactly its event");
    all.remove(0)
}

/// The endpoints that have a delivery of `event`.
async fn delivered_to(pool: &PgPool, event: i64) -> Vec<EndpointId> {
    sqlx::query_scalar(
        "SELECT endpoint_id FROM outbound_deliveries WHERE event_id = $1 ORDER BY endpoint_id",
    )
    .bind(event)
    .fetch_all(pool)
    .await
    .expect("deliveries read")
}

async fn count(pool: &PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .expect("count works")
}

/// What every claim event says: the claim, the buyer, the live and the source message.
fn assert_names_the_claim(event: &Event, id: ClaimId, buyer: &str, source: &str) {
    let data = &event.data;
    assert_eq!(data["claim_id"], id.get(), "{data}");
    assert_eq!(data["buyer"], buyer, "{data}");
    assert_eq!(data["streamer"], STREAMER, "{data}");
    match data["channel"].as_str() {
        Some("comment") => assert_eq!(data["comment_id"], source, "{data}"),
        Some("dm") => assert_eq!(data["message_id"], source, "{data}"),
        other => panic!("a claim event names its channel, not {other:?}: {data}"),
    }
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_reserved_claim_reports_claim_reserved_with_its_order_and_hold(pool: PgPool) {
    let jacket = product(&pool, "JKT-1", 1, None, "{}").await;
    let ana = claim(&pool, &comment("ana", "c-ana", jacket), None).await;
    assert!(
        claim_events(&pool, ana).await.is_empty(),
        "pending: no event"
    );

    allocate(&pool, jacket, &RULES).await;

    let event = only_claim_event(&pool, ana, "claim.reserved").await;
    assert_names_the_claim(&event, ana, "ana", "c-ana");
    let (order_id, order_number, expires): (i64, String, chrono::DateTime<Utc>) = sqlx::query_as(
        "SELECT o.id, o.order_number, r.expires_at
           FROM orders o JOIN reservations r ON r.order_id = o.id WHERE o.buyer = 'ana'",
    )
    .fetch_one(&pool)
    .await
    .expect("ana's order");
    let data = &event.data;
    assert_eq!(data["order_number"], order_number.as_str());
    assert_eq!(data["sku"], "JKT-1");
    assert_eq!(data["quantity"], 1);
    assert_eq!(data["amount_cents"], 4500);
    assert_eq!(data["currency"], "usd");
    let hold: chrono::DateTime<Utc> = data["hold_expires_at"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("hold_expires_at is a time");
    assert_eq!(hold, expires);
    assert_eq!(event.order_id, Some(order_id));
    assert_eq!(
        event.subject.as_deref(),
        Some(&*format!("order:{order_id}"))
    );
    assert_eq!(event.dedupe_key, format!("claim:{ana}:reserved"));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn waitlisted_claims_report_their_place_in_line(pool: PgPool) {
    let jacket = product(&pool, "JKT-1", 1, None, "{}").await;
    claim(&pool, &comment("first", "c-1", jacket), None).await;
    let second = claim(&pool, &comment("second", "c-2", jacket), None).await;
    let third = claim(&pool, &comment("third", "c-3", jacket), None).await;

    allocate(&pool, jacket, &RULES).await;

    for (id, buyer, source, position) in [(second, "second", "c-2", 1), (third, "third", "c-3", 2)]
    {
        let event = only_claim_event(&pool, id, "claim.waitlisted").await;
        assert_names_the_claim(&event, id, buyer, source);
        assert_eq!(event.data["position"], position, "{}", event.data);
        assert_eq!(event.subject.as_deref(), Some(&*format!("claim:{id}")));
    }
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_claim_without_a_variant_reports_the_product_and_its_options(pool: PgPool) {
    product(&pool, "TEE-S", 2, Some("TEE"), r#"{"size": "S"}"#).await;
    product(&pool, "TEE-M", 2, Some("TEE"), r#"{"size": "M"}"#).await;
    let buy = Buy {
        buyer: "bea",
        channel: "comment",
        source: "c-bea",
        product_id: None,
        product_code: Some("TEE"),
    };
    let bea = claim(&pool, &buy, Some(ClaimOutcome::NeedsVariant)).await;

    let event = only_claim_event(&pool, bea, "claim.needs_variant").await;
    assert_names_the_claim(&event, bea, "bea", "c-bea");
    assert_eq!(event.data["product_code"], "TEE");
    let mut sizes: Vec<&str> = event.data["options"]["size"]
        .as_array()
        .expect("the size values")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes, ["M", "S"]);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_claim_with_no_stock_and_no_waitlist_reports_claim_sold_out(pool: PgPool) {
    let gone = product(&pool, "JKT-0", 0, None, "{}").await;
    let late = claim(&pool, &comment("late", "c-late", gone), None).await;
    let no_waitlist = AllocationRules {
        waitlist_max: 0,
        ..RULES
    };

    allocate(&pool, gone, &no_waitlist).await;

    let event = only_claim_event(&pool, late, "claim.sold_out").await;
    assert_names_the_claim(&event, late, "late", "c-late");
    assert_eq!(event.data["sku"], "JKT-0");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn refused_claims_report_claim_rejected_with_the_reason(pool: PgPool) {
    let a = product(&pool, "TEE-A", 5, None, "{}").await;
    let b = product(&pool, "TEE-B", 5, None, "{}").await;
    let held = claim(&pool, &comment("ana", "c-1", a), None).await;
    let again = claim(&pool, &comment("ana", "c-2", a), None).await;
    let over = claim(&pool, &comment("ana", "c-3", b), None).await;
    let nothing = Buy {
        product_id: None,
        ..comment("cai", "c-4", a)
    };
    let unmatched = claim(&pool, &nothing, Some(ClaimOutcome::Unmatched)).await;
    let blocked = claim(
        &pool,
        &comment("troll", "c-5", a),
        Some(ClaimOutcome::Blocked),
    )
    .await;
    let one_hold = AllocationRules {
        max_open_holds: 1,
        ..RULES
    };
    allocate(&pool, a, &one_hold).await;
    allocate(&pool, b, &one_hold).await;

    only_claim_event(&pool, held, "claim.reserved").await;
    for (id, buyer, source, reason) in [
        (again, "ana", "c-2", "already_held"),
        (over, "ana", "c-3", "limit_reached"),
        (unmatched, "cai", "c-4", "unmatched"),
        (blocked, "troll", "c-5", "blocked"),
    ] {
        let event = only_claim_event(&pool, id, "claim.rejected").await;
        assert_names_the_claim(&event, id, buyer, source);
        assert_eq!(event.data["reason"], reason, "{}", event.data);
    }
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_dm_claim_names_its_message_id(pool: PgPool) {
    let jacket = product(&pool, "JKT-1", 1, None, "{}").await;
    let buy = Buy {
        channel: "dm",
        ..comment("dan", "dm-msg-77", jacket)
    };
    let dan = claim(&pool, &buy, None).await;

    allocate(&pool, jacket, &RULES).await;

    let event = only_claim_event(&pool, dan, "claim.reserved").await;
    assert_names_the_claim(&event, dan, "dan", "dm-msg-77");
    assert_eq!(event.data["comment_id"], Value::Null, "{}", event.data);
}

/// A reserved claim's order; `(order id, claim id)`.
async fn reserved_order(pool: &PgPool, sku: &str, buyer: &str) -> (i64, ClaimId) {
    let id = product(pool, sku, 1, None, "{}").await;
    let source = format!("c-{sku}-{buyer}");
    let claim_id = claim(pool, &comment(buyer, &source, id), None).await;
    allocate(pool, id, &RULES).await;
    let order = sqlx::query_scalar("SELECT order_id FROM claims WHERE id = $1")
        .bind(claim_id)
        .fetch_one(pool)
        .await
        .expect("the claim has its order");
    (order, claim_id)
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_rolled_back_change_leaves_no_event_and_no_delivery(pool: PgPool) {
    endpoint(&pool, "*").await;
    let (order, _) = reserved_order(&pool, "JKT-1", "ana").await;
    let before = (
        count(&pool, "SELECT count(*) FROM outbox_events").await,
        count(&pool, "SELECT count(*) FROM outbound_deliveries").await,
    );

    let mut tx = pool.begin().await.expect("begins");
    assert!(
        orders::mark_paid(&mut tx, order, None)
            .await
            .expect("marks paid")
    );
    let inside: i64 =
        sqlx::query_scalar("SELECT count(*) FROM outbox_events WHERE event_type = 'order.paid'")
            .fetch_one(&mut *tx)
            .await
            .expect("count works");
    assert_eq!(inside, 1, "the event is written inside the transaction");
    tx.rollback().await.expect("rolls back");

    let after = (
        count(&pool, "SELECT count(*) FROM outbox_events").await,
        count(&pool, "SELECT count(*) FROM outbound_deliveries").await,
    );
    assert_eq!(after, before, "no event, no delivery");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_change_applied_twice_reports_itself_once(pool: PgPool) {
    endpoint(&pool, "*").await;
    let jacket = product(&pool, "JKT-1", 1, None, "{}").await;
    let nothing = Buy {
        product_id: None,
        ..comment("cai", "c-1", jacket)
    };
    let cai = claim(&pool, &nothing, Some(ClaimOutcome::Unmatched)).await;
    // The trigger fires for `unmatched` a second time (via another outcome and back).
    for outcome in ["blocked", "unmatched"] {
        sqlx::query("UPDATE claims SET outcome = $2 WHERE id = $1")
            .bind(cai)
            .bind(outcome)
            .execute(&pool)
            .await
            .expect("outcome set");
    }
    let keys: Vec<String> = claim_events(&pool, cai)
        .await
        .into_iter()
        .map(|e| e.dedupe_key)
        .collect();
    assert_eq!(
        keys,
        [
            format!("claim:{cai}:unmatched"),
            format!("claim:{cai}:blocked")
        ]
    );

    // A checkout link set, replaced and set back: one event per distinct link.
    let (order, _) = reserved_order(&pool, "JKT-2", "ana").await;
    for url in [
        "https://pay.example/a",
        "https://pay.example/b",
        "https://pay.example/a",
    ] {
        sqlx::query("UPDATE orders SET checkout_url = $2 WHERE id = $1")
            .bind(order)
            .bind(url)
            .execute(&pool)
            .await
            .expect("link set");
    }
    let links: Vec<Value> = events(&pool)
        .await
        .into_iter()
        .filter(|e| e.event_type == "order.checkout_ready")
        .map(|e| e.data["checkout_url"].clone())
        .collect();
    assert_eq!(links, ["https://pay.example/a", "https://pay.example/b"]);

    // And emit_event itself, called twice for one change.
    let emit = "SELECT emit_event('claim.sold_out', 'same-change', 'claim:1', NULL, NULL, '{}')";
    let first: Option<i64> = sqlx::query_scalar(emit)
        .fetch_one(&pool)
        .await
        .expect("emits");
    let second: Option<i64> = sqlx::query_scalar(emit)
        .fetch_one(&pool)
        .await
        .expect("emits");
    assert!(first.is_some());
    assert_eq!(second, None, "the second call reports nothing");
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM outbound_deliveries d JOIN outbox_events e ON e.id = d.event_id
              WHERE e.dedupe_key = 'same-change'"
        )
        .await,
        1,
        "one delivery"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn each_order_change_reports_its_event_with_the_order_fields(pool: PgPool) {
    let (paid, paid_claim) = reserved_order(&pool, "JKT-PAID", "ana").await;
    let (expired, _) = reserved_order(&pool, "JKT-EXP", "bea").await;
    let (cancelled, _) = reserved_order(&pool, "JKT-CAN", "cai").await;
    let mut tx = pool.begin().await.expect("begins");
    orders::set_checkout(&mut tx, paid, "cs_test_1", "https://pay.example/1")
        .await
        .expect("link set");
    assert!(
        orders::mark_paid(&mut tx, paid, Some("pi_1"))
            .await
            .expect("paid")
    );
    assert!(
        orders::mark_refunded(&mut tx, paid)
            .await
            .expect("refunded")
    );
    assert!(
        orders::release(&mut tx, expired, ReleasedAs::Expired)
            .await
            .expect("expired")
    );
    assert!(
        orders::release(&mut tx, cancelled, ReleasedAs::Cancelled)
            .await
            .expect("cancelled")
    );
    tx.commit().await.expect("commits");

    let order_events: Vec<Event> = events(&pool)
        .await
        .into_iter()
        .filter(|e| e.event_type.starts_with("order."))
        .collect();
    let seen: Vec<(&str, Option<i64>)> = order_events
        .iter()
        .map(|e| (e.event_type.as_str(), e.order_id))
        .collect();
    assert_eq!(
        seen,
        [
            ("order.checkout_ready", Some(paid)),
            ("order.paid", Some(paid)),
            ("order.refunded", Some(paid)),
            ("order.expired", Some(expired)),
            ("order.cancelled", Some(cancelled)),
        ]
    );
    let (number, total): (String, i64) =
        sqlx::query_as("SELECT order_number, total_cents FROM orders WHERE id = $1")
            .bind(paid)
            .fetch_one(&pool)
            .await
            .expect("the order");
    for (event, status) in order_events[..3]
        .iter()
        .zip(["pending", "paid", "refunded"])
    {
        let data = &event.data;
        assert_eq!(data["order_number"], number.as_str(), "{data}");
        assert_eq!(data["status"], status, "{data}");
        assert_eq!(data["source"], "message", "{data}");
        assert_eq!(data["buyer"], "ana", "{data}");
        assert_eq!(data["streamer"], STREAMER, "{data}");
        assert_eq!(data["channel"], "comment", "{data}");
        assert_eq!(data["claim_id"], paid_claim.get(), "{data}");
        assert_eq!(data["sku"], "JKT-PAID", "{data}");
        assert_eq!(data["quantity"], 1, "{data}");
        assert_eq!(data["amount_cents"], total, "{data}");
        assert_eq!(data["currency"], "usd", "{data}");
        assert_eq!(data["checkout_url"], "https://pay.example/1", "{data}");
        assert!(data["expires_at"].is_string(), "{data}");
        assert_eq!(event.subject.as_deref(), Some(&*format!("order:{paid}")));
        assert_eq!(event.claim_id, Some(paid_claim.get()));
    }
    assert_eq!(order_events[3].data["buyer"], "bea");
    assert_eq!(order_events[3].data["status"], "expired");
    assert_eq!(order_events[4].data["status"], "cancelled");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn deliveries_go_only_to_enabled_endpoints_subscribed_to_the_type(pool: PgPool) {
    let everything = endpoint(&pool, "*").await;
    let claims_only = endpoint(&pool, "claim.*").await;
    let paid_only = endpoint(&pool, "order.paid").await;
    let disabled = endpoint(&pool, "*").await;
    let removed = endpoint(&pool, "*").await;
    endpoints::disable(&pool, disabled, Some("paused"))
        .await
        .expect("disables");
    endpoints::remove(&pool, removed).await.expect("removes");
    let (order, claim_id) = reserved_order(&pool, "JKT-1", "ana").await;
    let mut tx = pool.begin().await.expect("begins");
    assert!(orders::mark_paid(&mut tx, order, None).await.expect("paid"));
    tx.commit().await.expect("commits");

    let all = events(&pool).await;
    let of_type = |t: &str| {
        all.iter()
            .find(|e| e.event_type == t)
            .unwrap_or_else(|| panic!("a {t} event"))
            .id
    };
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[0].claim_id, Some(claim_id.get()));
    assert_eq!(
        delivered_to(&pool, of_type("claim.reserved")).await,
        [everything, claims_only]
    );
    assert_eq!(
        delivered_to(&pool, of_type("order.paid")).await,
        [everything, paid_only],
        "the claim.* endpoint gets no order.paid"
    );
}
