//! The claim allocator against a real Postgres: exact holds under concurrency, message-time
//! order whatever the arrival order, waitlists served first come first served without
//! overtaking, and freed stock going to the waitlist even when allocations and the expiry
//! sweep race.

use std::time::Duration;

use chrono::{DateTime, Utc};
use shopwire_core::db::claims::{self, AllocationRules, ClaimId, NewClaim};
use shopwire_core::db::inbox::{self, Recorded};
use shopwire_core::db::messages::{self, NewMessage};
use shopwire_core::db::orders;
use shopwire_core::domain::{ClaimOutcome, Delivery, Provider};
use sqlx::PgPool;

use crate::helpers::product;

const RULES: AllocationRules<'static> = AllocationRules {
    hold: Duration::from_secs(3600),
    checkout: None,
    waitlist_max: 50,
    waitlist_ttl: Duration::from_secs(86_400),
    max_open_holds: 10,
    order_window: Duration::ZERO,
};

/// A buyer's claim of `quantity` units, written at `message_time` and already due.
async fn claim(
    pool: &PgPool,
    product_id: i64,
    buyer: &str,
    quantity: i32,
    message_time: DateTime<Utc>,
) -> ClaimId {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let key = format!("comment-{buyer}-{n}");
    let delivery = Delivery {
        dedupe_key: key,
        event_type: "comment".into(),
    };
    let Recorded::New(inbox_id) = inbox::record(pool, Provider::Comments, &delivery, b"{}")
        .await
        .expect("records")
    else {
        panic!("fresh key")
    };
    let mut tx = pool.begin().await.expect("begins");
    // Read, as the message stage marks its delivery in the claim's transaction.
    sqlx::query("UPDATE inbox SET status = 'processed', processed_at = now() WHERE id = $1")
        .bind(inbox_id)
        .execute(&mut *tx)
        .await
        .expect("marks");
    let message_id = messages::insert(
        &mut tx,
        &NewMessage {
            inbox_id,
            channel: "comment",
            streamer: Some("thrift_queen"),
            buyer,
            conversation: None,
            text: "sold",
            sent_at: message_time,
        },
    )
    .await
    .expect("message inserts");
    let id = claims::insert_pending(
        &mut tx,
        &NewClaim {
            message_id,
            streamer: Some("thrift_queen"),
            buyer,
            channel: "comment",
            product_id: Some(product_id),
            product_code: None,
            quantity,
            message_time,
            due_at: Utc::now() - chrono::Duration::milliseconds(1),
        },
    )
    .await
    .expect("claim inserts");
    tx.commit().await.expect("commits");
    id
}

async fn outcomes(pool: &PgPool, product_id: i64) -> Vec<(String, Option<String>, String)> {
    sqlx::query_as(
        "SELECT buyer, outcome, status FROM claims WHERE product_id = $1 ORDER BY message_time, id",
    )
    .bind(product_id)
    .fetch_all(pool)
    .await
    .expect("query works")
}

async fn counts(pool: &PgPool, product_id: i64) -> (i32, i32) {
    sqlx::query_as("SELECT stock_on_hand, reserved FROM products WHERE id = $1")
        .bind(product_id)
        .fetch_one(pool)
        .await
        .expect("product exists")
}

fn at(base: DateTime<Utc>, ms: i64) -> DateTime<Utc> {
    base + chrono::Duration::milliseconds(ms)
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn two_hundred_claims_for_twenty_units_make_exactly_twenty_holds(pool: PgPool) {
    let id = product(&pool, "JKT-HOT", 20).await;
    let base = Utc::now() - chrono::Duration::seconds(5);
    for n in 0..200 {
        claim(&pool, id, &format!("buyer-{n:03}"), 1, at(base, n)).await;
    }

    // Eight allocators at once, as eight workers woken by the same burst would be.
    let runs: Vec<_> = (0..8)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move { claims::allocate(&pool, id, &RULES).await })
        })
        .collect();
    let mut decided = 0;
    for run in runs {
        decided += run.await.expect("joins").expect("allocates").decided.len();
    }

    assert_eq!(decided, 200, "each claim decided once, by one of them");
    let all = outcomes(&pool, id).await;
    let reserved: Vec<_> = all
        .iter()
        .filter(|(_, o, _)| o.as_deref() == Some("reserved"))
        .map(|(b, _, _)| b.clone())
        .collect();
    assert_eq!(reserved.len(), 20);
    assert_eq!(
        reserved,
        (0..20).map(|n| format!("buyer-{n:03}")).collect::<Vec<_>>(),
        "the twenty earliest messages hold the units"
    );
    let waiting = all.iter().filter(|(_, _, s)| s == "waiting").count();
    let sold_out = all
        .iter()
        .filter(|(_, o, _)| o.as_deref() == Some("sold_out"))
        .count();
    assert_eq!(
        (waiting, sold_out),
        (50, 130),
        "a waitlist of WAITLIST_MAX, then sold out"
    );
    assert_eq!(counts(&pool, id).await, (20, 20));
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders WHERE product_id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(orders, 20);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn fifty_shuffled_claims_for_ten_units_go_to_the_ten_earliest_messages(pool: PgPool) {
    let id = product(&pool, "JKT-SHUF", 10).await;
    let base = Utc::now() - chrono::Duration::seconds(5);
    // Recorded in an order unrelated to their message times (a fixed shuffle).
    let mut order: Vec<i64> = (0..50).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, (i * 7919 + 13) % (i + 1));
    }
    for n in &order {
        claim(&pool, id, &format!("buyer-{n:02}"), 1, at(base, *n * 10)).await;
    }

    claims::allocate(&pool, id, &RULES)
        .await
        .expect("allocates");

    let reserved: Vec<String> = outcomes(&pool, id)
        .await
        .into_iter()
        .filter(|(_, o, _)| o.as_deref() == Some("reserved"))
        .map(|(b, _, _)| b)
        .collect();
    assert_eq!(
        reserved,
        (0..10).map(|n| format!("buyer-{n:02}")).collect::<Vec<_>>()
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn freed_stock_goes_to_the_head_of_the_waitlist_and_nobody_overtakes(pool: PgPool) {
    let id = product(&pool, "JKT-WAIT", 1).await;
    let base = Utc::now() - chrono::Duration::seconds(5);
    claim(&pool, id, "first", 1, at(base, 0)).await;
    claim(&pool, id, "wants-two", 2, at(base, 10)).await;
    claim(&pool, id, "wants-one", 1, at(base, 20)).await;
    let allocation = claims::allocate(&pool, id, &RULES)
        .await
        .expect("allocates");
    let positions: Vec<_> = allocation
        .decided
        .iter()
        .map(|d| (d.outcome, d.waitlist_position))
        .collect();
    assert_eq!(
        positions,
        [
            (ClaimOutcome::Reserved, None),
            (ClaimOutcome::Waitlisted, Some(1)),
            (ClaimOutcome::Waitlisted, Some(2)),
        ]
    );

    // The first buyer's hold lapses: one unit free, but the head wants two.
    let first_order: i64 = sqlx::query_scalar("SELECT id FROM orders WHERE buyer = 'first'")
        .fetch_one(&pool)
        .await
        .expect("order");
    let mut tx = pool.begin().await.expect("begins");
    orders::release(&mut tx, first_order, orders::ReleasedAs::Expired)
        .await
        .expect("releases");
    tx.commit().await.expect("commits");
    let none = claims::allocate(&pool, id, &RULES)
        .await
        .expect("allocates");
    assert!(
        none.decided.is_empty(),
        "the head needs two and blocks the one behind it: {:?}",
        none.decided
    );

    // A restock to two: the head gets both, the next still waits.
    sqlx::query("UPDATE products SET stock_on_hand = 2 WHERE id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .expect("restock");
    let promoted = claims::allocate(&pool, id, &RULES)
        .await
        .expect("allocates");
    assert_eq!(promoted.decided.len(), 1);
    assert_eq!(promoted.decided[0].outcome, ClaimOutcome::Promoted);
    let all = outcomes(&pool, id).await;
    assert_eq!(
        all.iter()
            .map(|(b, o, s)| (b.as_str(), o.as_deref(), s.as_str()))
            .collect::<Vec<_>>(),
        [
            ("first", Some("reserved"), "decided"),
            ("wants-two", Some("promoted"), "decided"),
            ("wants-one", Some("waitlisted"), "waiting"),
        ]
    );
    assert_eq!(counts(&pool, id).await, (2, 2));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_fresh_claim_never_takes_stock_freed_for_the_waitlist(pool: PgPool) {
    // Two allocators and the expiry sweep race for units freed by lapsed holds; a fresh
    // claim arrives at the same time. The units go to the waitlist, in order.
    let id = product(&pool, "JKT-RACE", 3).await;
    let base = Utc::now() - chrono::Duration::seconds(10);
    for n in 0..3 {
        claim(&pool, id, &format!("holder-{n}"), 1, at(base, n)).await;
    }
    for n in 0..3 {
        claim(&pool, id, &format!("waiter-{n}"), 1, at(base, 100 + n)).await;
    }
    claims::allocate(&pool, id, &RULES)
        .await
        .expect("allocates");
    sqlx::query(
        "UPDATE reservations SET expires_at = now() - interval '1 second' WHERE product_id = $1",
    )
    .bind(id)
    .execute(&pool)
    .await
    .expect("holds lapse");
    claim(&pool, id, "latecomer", 1, Utc::now()).await;

    let sweep = {
        let pool = pool.clone();
        tokio::spawn(async move { orders::expire_reservations(&pool, 100, None).await })
    };
    let allocators: Vec<_> = (0..2)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move { claims::allocate(&pool, id, &RULES).await })
        })
        .collect();
    assert_eq!(sweep.await.expect("joins").expect("sweeps").released, 3);
    for a in allocators {
        a.await.expect("joins").expect("allocates");
    }
    // Whatever ran first, one more allocation after the sweep settles it.
    claims::allocate(&pool, id, &RULES)
        .await
        .expect("allocates");

    let all = outcomes(&pool, id).await;
    let by_buyer = |buyer: &str| {
        all.iter()
            .find(|(b, _, _)| b == buyer)
            .map(|(_, o, _)| o.clone())
            .expect("claim exists")
    };
    for n in 0..3 {
        assert_eq!(
            by_buyer(&format!("waiter-{n}")).as_deref(),
            Some("promoted")
        );
    }
    assert_eq!(
        by_buyer("latecomer").as_deref(),
        Some("waitlisted"),
        "the fresh claim queues behind"
    );
    assert_eq!(counts(&pool, id).await, (3, 3));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn buyers_hold_one_of_a_variant_and_at_most_their_limit(pool: PgPool) {
    let a = product(&pool, "TEE-A", 5).await;
    let b = product(&pool, "TEE-B", 5).await;
    let base = Utc::now() - chrono::Duration::seconds(5);
    claim(&pool, a, "ana", 1, at(base, 0)).await;
    claim(&pool, a, "ana", 1, at(base, 1)).await;
    claim(&pool, b, "ana", 1, at(base, 2)).await;
    let rules = AllocationRules {
        max_open_holds: 1,
        ..RULES
    };
    claims::allocate(&pool, a, &rules).await.expect("allocates");
    claims::allocate(&pool, b, &rules).await.expect("allocates");

    let a_outcomes: Vec<_> = outcomes(&pool, a)
        .await
        .into_iter()
        .map(|(_, o, _)| o)
        .collect();
    assert_eq!(
        a_outcomes,
        [Some("reserved".to_owned()), Some("already_held".to_owned())]
    );
    assert_eq!(
        outcomes(&pool, b).await[0].1.as_deref(),
        Some("limit_reached")
    );
    let on_message: Vec<String> = sqlx::query_scalar(
        "SELECT m.outcome FROM messages m JOIN claims c ON c.message_id = m.id ORDER BY c.id",
    )
    .fetch_all(&pool)
    .await
    .expect("query works");
    assert_eq!(on_message, ["reserved", "already_held", "limit_reached"]);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn claims_still_in_their_window_wait_and_name_their_due_time(pool: PgPool) {
    let id = product(&pool, "JKT-WIN", 1).await;
    let c = claim(&pool, id, "early", 1, Utc::now()).await;
    let due = Utc::now() + chrono::Duration::seconds(30);
    sqlx::query("UPDATE claims SET due_at = $2 WHERE id = $1")
        .bind(c)
        .bind(due)
        .execute(&pool)
        .await
        .expect("update");

    let allocation = claims::allocate(&pool, id, &RULES)
        .await
        .expect("allocates");

    assert!(allocation.decided.is_empty());
    let next = allocation.next_due.expect("a claim is pending");
    assert!((next - due).num_milliseconds().abs() < 1);
    assert_eq!(counts(&pool, id).await, (1, 0));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_due_claim_waits_while_earlier_buyer_messages_are_still_unread(pool: PgPool) {
    // A worker behind in a burst: a comment that arrived before this claim's is still
    // queued. It may have been written earlier, so the last unit waits for it.
    let id = product(&pool, "JKT-LAG", 1).await;
    let unread = Delivery {
        dedupe_key: "comment-unread".into(),
        event_type: "comment".into(),
    };
    let Recorded::New(unread) = inbox::record(&pool, Provider::Comments, &unread, b"{}")
        .await
        .expect("records")
    else {
        panic!("fresh key")
    };
    claim(
        &pool,
        id,
        "read-first",
        1,
        Utc::now() - chrono::Duration::seconds(2),
    )
    .await;
    let windowed = AllocationRules {
        order_window: Duration::from_millis(300),
        ..RULES
    };

    let waiting = claims::allocate(&pool, id, &windowed)
        .await
        .expect("allocates");
    assert!(waiting.decided.is_empty(), "{:?}", waiting.decided);
    assert!(waiting.next_due.is_some(), "still pending");
    assert_eq!(counts(&pool, id).await, (1, 0));

    sqlx::query("UPDATE inbox SET status = 'processed', processed_at = now() WHERE id = $1")
        .bind(unread)
        .execute(&pool)
        .await
        .expect("read at last");
    let decided = claims::allocate(&pool, id, &windowed)
        .await
        .expect("allocates");
    assert_eq!(
        decided
            .decided
            .iter()
            .map(|d| d.outcome)
            .collect::<Vec<_>>(),
        [ClaimOutcome::Reserved]
    );

    // With the window off nothing waits.
    let other = product(&pool, "JKT-NOW", 1).await;
    claim(&pool, other, "no-wait", 1, Utc::now()).await;
    let Recorded::New(_) = inbox::record(
        &pool,
        Provider::Comments,
        &Delivery {
            dedupe_key: "comment-unread-2".into(),
            event_type: "comment".into(),
        },
        b"{}",
    )
    .await
    .expect("records") else {
        panic!("fresh key")
    };
    let at_once = claims::allocate(&pool, other, &RULES)
        .await
        .expect("allocates");
    assert_eq!(at_once.decided.len(), 1);
}
