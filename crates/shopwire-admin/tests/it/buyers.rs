//! `buyers block|unblock|list`.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::Admin;

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn blocking_lists_the_buyer_and_blocking_again_updates_the_reason(pool: PgPool) {
    let admin = Admin::new(&pool);

    let blocked = admin
        .json(&["buyers", "block", "viewer_1", "--reason", "chargebacks"])
        .await;
    assert_eq!(blocked["buyer"], "viewer_1");
    assert_eq!(blocked["reason"], "chargebacks");
    assert_eq!(blocked["already_blocked"], false);
    assert!(blocked["blocked_at"].is_string(), "{blocked}");
    let human = admin.run(&["buyers", "block", "viewer_2"]).await;
    assert_eq!(human.code, Some(0), "{human:?}");
    assert!(
        human.stdout.starts_with("viewer_2 blocked (reason: -"),
        "{human:?}"
    );

    let again = admin
        .json(&["buyers", "block", "viewer_1", "--reason", "no-shows"])
        .await;
    assert_eq!(again["already_blocked"], true);
    assert_eq!(again["reason"], "no-shows");
    let kept = admin.json(&["buyers", "block", "viewer_1"]).await;
    assert_eq!(kept["reason"], "no-shows", "no --reason keeps the old one");

    let list = admin.json(&["buyers", "list"]).await;
    let mut buyers: Vec<&str> = list
        .as_array()
        .expect("an array")
        .iter()
        .map(|b| b["buyer"].as_str().expect("buyer"))
        .collect();
    buyers.sort_unstable();
    assert_eq!(buyers, ["viewer_1", "viewer_2"]);
    let human = admin.run(&["buyers", "list"]).await;
    assert!(human.stdout.starts_with("BUYER"), "{human:?}");
    assert!(human.stdout.contains("no-shows"), "{human:?}");

    let (blocked,): (bool,) =
        sqlx::query_as("SELECT EXISTS (SELECT 1 FROM buyer_blocks WHERE buyer = 'viewer_1')")
            .fetch_one(&pool)
            .await
            .expect("query");
    assert!(blocked);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn unblocking_removes_the_block_and_unblocking_a_buyer_not_blocked_fails(pool: PgPool) {
    let admin = Admin::new(&pool);
    admin.json(&["buyers", "block", "viewer_1"]).await;

    let unblocked = admin.json(&["buyers", "unblock", "viewer_1"]).await;
    assert_eq!(unblocked, json!({"buyer": "viewer_1", "unblocked": true}));
    assert_eq!(admin.json(&["buyers", "list"]).await, json!([]));
    let empty = admin.run(&["buyers", "list"]).await;
    assert!(empty.stdout.ends_with("(none)\n"), "{empty:?}");

    let again = admin.run(&["buyers", "unblock", "viewer_1"]).await;
    assert_eq!(again.failure(), "`viewer_1` is not blocked");
    let never = admin.run(&["buyers", "unblock", "nobody", "--json"]).await;
    assert_eq!(never.failure(), "`nobody` is not blocked");
    let blank = admin.run(&["buyers", "block", " "]).await;
    assert_eq!(blank.failure(), "buyer must be 1 to 256 characters");
    assert_eq!(admin.json(&["buyers", "list"]).await, Value::Array(vec![]));
}
