//! Products and claims for the claim commands' tests, made through shopwire-core the way
//! the worker makes them: an inbox delivery, its message, a pending claim, an allocation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use shopwire_core::db::claims::{self, AllocationRules, ClaimId, NewClaim};
use shopwire_core::db::inbox::{self, Recorded};
use shopwire_core::db::messages::{self, NewMessage};
use shopwire_core::domain::{ClaimOutcome, Delivery, Provider};
use sqlx::PgPool;

const RULES: AllocationRules<'static> = AllocationRules {
    hold: Duration::from_secs(3600),
    checkout: None,
    waitlist_max: 50,
    waitlist_ttl: Duration::from_secs(86_400),
    max_open_holds: 10,
    order_window: Duration::ZERO,
};

/// A product (`code`: the product it is a variant of, if any); returns its id.
pub async fn product(pool: &PgPool, sku: &str, code: Option<&str>, stock: i32) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO products (sku, title, price_cents, currency, stock_on_hand, product_code)
         VALUES ($1, 'Denim jacket ' || $1, 4500, 'usd', $2, $3) RETURNING id",
    )
    .bind(sku)
    .bind(stock)
    .bind(code)
    .fetch_one(pool)
    .await
    .expect("product inserts")
}

/// The message and claim a buy comment in `streamer`'s live would make, already due.
async fn record(
    pool: &PgPool,
    streamer: &str,
    buyer: &str,
    product_id: Option<i64>,
    quantity: i32,
    message_time: DateTime<Utc>,
    outcome: Option<ClaimOutcome>,
) -> ClaimId {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let delivery = Delivery {
        dedupe_key: format!("comment-{buyer}-{}", NEXT.fetch_add(1, Ordering::Relaxed)),
        event_type: "comment".into(),
    };
    let Recorded::New(inbox_id) = inbox::record(pool, Provider::Comments, &delivery, b"{}")
        .await
        .expect("records")
    else {
        panic!("fresh key")
    };
    let mut tx = pool.begin().await.expect("begins");
    let message_id = messages::insert(
        &mut tx,
        &NewMessage {
            inbox_id,
            channel: "comment",
            streamer: Some(streamer),
            buyer,
            conversation: None,
            text: "sold",
            sent_at: message_time,
        },
    )
    .await
    .expect("message inserts");
    let claim = NewClaim {
        message_id,
        streamer: Some(streamer),
        buyer,
        channel: "comment",
        product_id,
        product_code: None,
        quantity,
        message_time,
        due_at: Utc::now() - chrono::Duration::milliseconds(1),
    };
    let id = match outcome {
        None => claims::insert_pending(&mut tx, &claim).await,
        Some(outcome) => claims::insert_decided(&mut tx, &claim, outcome).await,
    }
    .expect("claim inserts");
    tx.commit().await.expect("commits");
    id
}

/// A pending claim for `product_id`, written `ms_ago` milliseconds ago.
pub async fn claim(
    pool: &PgPool,
    streamer: &str,
    buyer: &str,
    product_id: i64,
    quantity: i32,
    ms_ago: i64,
) -> ClaimId {
    let at = Utc::now() - chrono::Duration::milliseconds(ms_ago);
    record(pool, streamer, buyer, Some(product_id), quantity, at, None).await
}

/// A claim decided at once (no product: `unmatched`, `needs_variant`, `blocked`).
pub async fn decided(pool: &PgPool, streamer: &str, buyer: &str, outcome: ClaimOutcome) -> ClaimId {
    record(pool, streamer, buyer, None, 1, Utc::now(), Some(outcome)).await
}

/// Decide the product's due claims, as the worker would.
pub async fn allocate(pool: &PgPool, product_id: i64) {
    claims::allocate(pool, product_id, &RULES)
        .await
        .expect("allocates");
}
