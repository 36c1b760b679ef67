//! `buyers forget`: a buyer's handle and words leave the database; money and stock stay.

use serde_json::json;
use shopwire_core::db::inbox::{self, Recorded};
use shopwire_core::db::retention::forget::pseudonym;
use shopwire_core::domain::{Delivery, Provider};
use sqlx::PgPool;

use crate::helpers::Admin;

/// What `buyer` leaves behind after one claim comment that became a paid order: a
/// processed delivery, its message, a reserved claim, a paid order with its committed
/// reservation, their outbox events (an endpoint subscribed, so deliveries too) and a
/// dead Stripe delivery about the order. Returns the order id.
async fn paid_claim(pool: &PgPool, buyer: &str, product: i64, n: i32) -> i64 {
    let body = format!(r#"{{"client":"{buyer}","comment":"{buyer} wants A1, ship to 1 Main St"}}"#);
    let delivery = Delivery {
        dedupe_key: format!("comment-{n}"),
        event_type: "comment".to_owned(),
    };
    let Recorded::New(inbox_id) =
        inbox::record(pool, Provider::Comments, &delivery, body.as_bytes())
            .await
            .expect("records")
    else {
        panic!("fresh key")
    };
    sqlx::query("UPDATE inbox SET status = 'processed', processed_at = now() WHERE id = $1")
        .bind(inbox_id)
        .execute(pool)
        .await
        .expect("processed");
    let message: i64 = sqlx::query_scalar(
        "INSERT INTO messages (inbox_id, channel, streamer, buyer, conversation, text, sent_at,
                               intent, intent_score, product_id, match_score, outcome)
         VALUES ($1, 'comment', 'shop', $2, 'conv-' || $2, $2 || ' wants A1, ship to 1 Main St',
                 now(), 'buy', 0.93, $3, 0.8, 'reserved')
         RETURNING id",
    )
    .bind(inbox_id)
    .bind(buyer)
    .bind(product)
    .fetch_one(pool)
    .await
    .expect("message");
    let order: i64 = sqlx::query_scalar(
        "INSERT INTO orders (order_number, source, message_id, product_id, buyer, quantity,
                             total_cents, currency)
         VALUES ($1, 'message', $2, $3, $4, 2, 9000, 'usd') RETURNING id",
    )
    .bind(format!("ORD-T-{n}"))
    .bind(message)
    .bind(product)
    .bind(buyer)
    .fetch_one(pool)
    .await
    .expect("order");
    sqlx::query(
        "INSERT INTO reservations (order_id, product_id, quantity, status, expires_at)
         VALUES ($1, $2, 2, 'committed', now() + interval '1 hour')",
    )
    .bind(order)
    .bind(product)
    .execute(pool)
    .await
    .expect("reservation");
    sqlx::query(
        "INSERT INTO claims (message_id, streamer, buyer, channel, product_id, quantity,
                             message_time, due_at, status, outcome, order_id, decided_at)
         VALUES ($1, 'shop', $2, 'comment', $3, 2, now(), now(), 'decided', 'reserved', $4, now())",
    )
    .bind(message)
    .bind(buyer)
    .bind(product)
    .bind(order)
    .execute(pool)
    .await
    .expect("claim");
    // The Checkout Session request its job stored, naming the buyer in its metadata.
    sqlx::query(
        "INSERT INTO jobs (queue, subject_id, idempotency_key, status, request_body, last_error)
         VALUES ('checkout', $1, 'checkout:' || $1, 'processed',
                 'mode=payment&metadata[buyer]=' || $2, 'Stripe refused for ' || $2)",
    )
    .bind(order)
    .bind(buyer)
    .execute(pool)
    .await
    .expect("checkout job");
    sqlx::query("UPDATE orders SET status = 'paid', stock_committed = true WHERE id = $1")
        .bind(order)
        .execute(pool)
        .await
        .expect("paid");
    // The Stripe notification of the payment, with the buyer's name, that died later.
    let stripe = Delivery {
        dedupe_key: format!("evt_{n}"),
        event_type: "checkout.session.completed".to_owned(),
    };
    let stripe_body = format!(r#"{{"customer_details":{{"name":"{buyer}"}}}}"#);
    let stripe_id = inbox::record(pool, Provider::Stripe, &stripe, stripe_body.as_bytes())
        .await
        .expect("records")
        .id();
    sqlx::query(
        "WITH dead AS (UPDATE inbox SET status = 'dead', last_error = 'boom' WHERE id = $1)
         INSERT INTO payments (order_id, inbox_id, stripe_event_id, kind, amount_cents, currency)
         VALUES ($2, $1, $3, 'paid', 9000, 'usd')",
    )
    .bind(stripe_id)
    .bind(order)
    .bind(format!("evt_{n}"))
    .execute(pool)
    .await
    .expect("payment");
    sqlx::query("INSERT INTO dead_jobs (queue, inbox_id, attempts, last_error) VALUES ('stripe-events', $1, 8, 'boom')")
        .bind(stripe_id)
        .execute(pool)
        .await
        .expect("dead job");
    order
}

/// Rows of the tables a forget touches whose text (or body) mentions `needle`.
async fn mentions(pool: &PgPool, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for table in [
        "messages",
        "claims",
        "orders",
        "carts",
        "reservations",
        "buyer_blocks",
        "outbox_events",
        "outbound_deliveries",
        "payments",
        "dead_jobs",
        "jobs",
        "inbox",
    ] {
        let sql = format!(
            "SELECT row_to_json(t)::text FROM {table} t WHERE row_to_json(t)::text LIKE '%' || $1 || '%'"
        );
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(needle)
            .fetch_all(pool)
            .await
            .expect("scan");
        found.extend(rows.into_iter().map(|r| format!("{table}: {r}")));
    }
    found.sort();
    let bodies: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM inbox WHERE position(convert_to($1, 'UTF8') IN body) > 0",
    )
    .bind(needle)
    .fetch_all(pool)
    .await
    .expect("bodies");
    found.extend(bodies.into_iter().map(|id| format!("inbox {id}'s body")));
    found.sort();
    found
}

/// Every order's money and quantities, and the product's stock.
async fn ledger(pool: &PgPool) -> (Vec<(String, i64, String, i32, String)>, i32) {
    let orders = sqlx::query_as(
        "SELECT order_number, total_cents, currency, quantity, status FROM orders ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .expect("orders");
    let stock = sqlx::query_scalar("SELECT stock_on_hand FROM products")
        .fetch_one(pool)
        .await
        .expect("stock");
    (orders, stock)
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_forgotten_buyer_leaves_no_trace_but_orders_money_and_stock_stay(pool: PgPool) {
    let admin = Admin::new(&pool);
    let product: i64 = sqlx::query_scalar(
        "INSERT INTO products (sku, title, price_cents, currency, stock_on_hand)
         VALUES ('JKT-M', 'Denim jacket', 4500, 'usd', 10) RETURNING id",
    )
    .fetch_one(&pool)
    .await
    .expect("product");
    sqlx::query(
        "INSERT INTO endpoints (url, secret) VALUES ('https://example.test/hook', 'whsec_test')",
    )
    .execute(&pool)
    .await
    .expect("endpoint");
    paid_claim(&pool, "alice_buys", product, 1).await;
    paid_claim(&pool, "bob_buys", product, 2).await;
    admin
        .json(&["buyers", "block", "alice_buys", "--reason", "chargebacks"])
        .await;
    assert!(
        !mentions(&pool, "alice_buys").await.is_empty(),
        "the fixture names her"
    );
    let before = ledger(&pool).await;
    let bob_before = mentions(&pool, "bob_buys").await;

    let refused = admin.run(&["buyers", "forget", "alice_buys"]).await;
    assert_eq!(
        refused.failure(),
        "refusing to forget `alice_buys` without --yes (it would change 1 messages, 1 claims, 1 orders, 0 carts, 1 blocks, 2 outbox events, 2 inbox bodies, 1 jobs)"
    );
    assert!(
        !mentions(&pool, "alice_buys").await.is_empty(),
        "nothing changed"
    );

    let forgotten = admin
        .json(&["buyers", "forget", "alice_buys", "--yes"])
        .await;
    let alias = pseudonym("alice_buys");
    assert_eq!(forgotten["pseudonym"], json!(alias));
    assert_eq!(forgotten["changed"]["orders"], 1);
    assert_eq!(forgotten["changed"]["inbox_bodies"], 2);
    assert_eq!(
        forgotten["changed"]["jobs"], 1,
        "her Checkout request names her"
    );

    assert_eq!(mentions(&pool, "alice_buys").await, Vec::<String>::new());
    assert_eq!(
        ledger(&pool).await,
        before,
        "money, quantities, statuses and stock stay"
    );
    assert_eq!(
        mentions(&pool, "bob_buys").await,
        bob_before,
        "bob is untouched"
    );
    let (orders, claims, blocked, events): (i64, i64, bool, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM orders WHERE buyer = $1),
                (SELECT count(*) FROM claims WHERE buyer = $1),
                EXISTS (SELECT 1 FROM buyer_blocks WHERE buyer = $1 AND reason = 'chargebacks'),
                (SELECT count(*) FROM outbox_events WHERE data ->> 'buyer' = $1)",
    )
    .bind(&alias)
    .fetch_one(&pool)
    .await
    .expect("counts");
    assert_eq!(
        (orders, claims, blocked, events),
        (1, 1, true, 2),
        "rows group under the alias"
    );
    let (intent, sku): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT m.intent, e.data ->> 'sku' FROM messages m, outbox_events e
          WHERE m.buyer = $1 AND e.event_type = 'order.paid' AND e.data ->> 'buyer' = $1",
    )
    .bind(&alias)
    .fetch_one(&pool)
    .await
    .expect("kept");
    assert_eq!(
        (intent.as_deref(), sku.as_deref()),
        (Some("buy"), Some("JKT-M"))
    );
    let dead: i64 = sqlx::query_scalar("SELECT count(*) FROM dead_jobs")
        .fetch_one(&pool)
        .await
        .expect("dead");
    assert_eq!(dead, 1, "only bob's dead delivery is left to replay");

    let again = admin
        .run(&["buyers", "forget", "alice_buys", "--yes"])
        .await;
    assert_eq!(again.failure(), "no buyer `alice_buys` in the database");
    let human = admin.run(&["buyers", "forget", "bob_buys", "--yes"]).await;
    assert_eq!(human.code, Some(0), "{human:?}");
    assert!(
        human.stdout.starts_with(&format!(
            "forgot bob_buys: now {} (1 messages",
            pseudonym("bob_buys")
        )),
        "{human:?}"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn forgetting_a_handle_nobody_has_fails_naming_it(pool: PgPool) {
    let admin = Admin::new(&pool);
    let unknown = admin.run(&["buyers", "forget", "nobody_here"]).await;
    assert_eq!(unknown.failure(), "no buyer `nobody_here` in the database");
    let confirmed = admin
        .run(&["buyers", "forget", "nobody_here", "--yes", "--json"])
        .await;
    assert_eq!(
        confirmed.failure(),
        "no buyer `nobody_here` in the database"
    );
}
