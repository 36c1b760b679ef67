//! `claims list` and `waitlist show`.

use serde_json::Value;
use shopwire_core::domain::ClaimOutcome;
use sqlx::PgPool;

use crate::claim_data::{allocate, claim, decided, product};
use crate::helpers::Admin;

/// One unit of a cap and three claims in philia's live (ann wrote first and holds it; bob,
/// then cat, wait), plus an unmatched claim in philia's live and a held mug in another.
async fn live_sale(pool: &PgPool) {
    let cap = product(pool, "CAP-RED-001", None, 1).await;
    claim(pool, "philia", "ann", cap, 1, 3_000).await;
    claim(pool, "philia", "cat", cap, 2, 1_000).await;
    claim(pool, "philia", "bob", cap, 1, 2_000).await;
    allocate(pool, cap).await;
    decided(pool, "philia", "dan", ClaimOutcome::Unmatched).await;
    let mug = product(pool, "MUG-001", None, 5).await;
    claim(pool, "other", "eve", mug, 1, 500).await;
    allocate(pool, mug).await;
}

fn column<'a>(rows: &'a Value, field: &str) -> Vec<&'a str> {
    rows.as_array()
        .expect("an array")
        .iter()
        .map(|row| row[field].as_str().unwrap_or("-"))
        .collect()
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn claims_list_shows_every_claim_and_its_outcome_newest_first(pool: PgPool) {
    live_sale(&pool).await;
    let admin = Admin::new(&pool);

    let run = admin.run(&["claims", "list", "--json"]).await;
    assert_eq!(run.stderr, "", "all shown: no note");
    let rows = run.json();
    assert_eq!(column(&rows, "buyer"), ["eve", "dan", "bob", "cat", "ann"]);
    let bob = &rows[2];
    for field in [
        "id",
        "streamer",
        "buyer",
        "sku",
        "quantity",
        "outcome",
        "status",
        "message_time",
        "order_number",
        "waitlist_position",
    ] {
        assert!(bob.get(field).is_some(), "{field} missing: {bob}");
    }
    assert_eq!(bob["streamer"], "philia");
    assert_eq!(bob["sku"], "CAP-RED-001");
    assert_eq!(bob["outcome"], "waitlisted");
    assert_eq!(bob["status"], "waiting");
    assert_eq!(bob["waitlist_position"], 1);
    assert_eq!(bob["order_number"], Value::Null);
    let ann = &rows[4];
    assert_eq!(ann["outcome"], "reserved");
    assert!(
        ann["order_number"]
            .as_str()
            .expect("held")
            .starts_with("ORD-")
    );
    assert_eq!(rows[1]["outcome"], "unmatched");
    assert_eq!(rows[1]["sku"], Value::Null);

    let philia = admin
        .json(&["claims", "list", "--streamer", "philia"])
        .await;
    assert_eq!(column(&philia, "buyer"), ["dan", "bob", "cat", "ann"]);
    let waiting = admin
        .json(&["claims", "list", "--outcome", "waitlisted"])
        .await;
    assert_eq!(column(&waiting, "buyer"), ["bob", "cat"]);
    assert_eq!(waiting[1]["waitlist_position"], 2);

    let human = admin.run(&["claims", "list"]).await;
    assert_eq!(human.code, Some(0), "{human:?}");
    let header = human.stdout.lines().next().expect("a header");
    assert!(
        header.contains("STATUS") && header.contains("OUTCOME"),
        "{header}"
    );
    assert!(
        human
            .stdout
            .lines()
            .any(|l| l.contains("bob") && l.contains("waiting")),
        "{human:?}"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn claims_list_since_leaves_out_older_claims(pool: PgPool) {
    live_sale(&pool).await;
    sqlx::query(
        "UPDATE claims SET received_at = now() - interval '3 hours' WHERE buyer IN ('ann', 'eve')",
    )
    .execute(&pool)
    .await
    .expect("update");
    let admin = Admin::new(&pool);

    let recent = admin.json(&["claims", "list", "--since", "2h"]).await;
    assert_eq!(column(&recent, "buyer"), ["dan", "bob", "cat"]);
    let all = admin.json(&["claims", "list", "--since", "1d"]).await;
    assert_eq!(all.as_array().map(Vec::len), Some(5));

    let bad = admin.run(&["claims", "list", "--since", "2 hours"]).await;
    assert!(bad.failure().contains("is not an age"), "{bad:?}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_limited_list_says_on_stderr_how_many_it_left_out(pool: PgPool) {
    live_sale(&pool).await;
    let admin = Admin::new(&pool);

    let run = admin
        .run(&["claims", "list", "--limit", "2", "--json"])
        .await;
    assert_eq!(run.stderr, "2 of 5 shown; --limit\n");
    assert_eq!(column(&run.json(), "buyer"), ["eve", "dan"]);

    let human = admin
        .run(&["claims", "list", "--streamer", "philia", "--limit", "3"])
        .await;
    assert_eq!(human.code, Some(0), "{human:?}");
    assert_eq!(human.stderr, "3 of 4 shown; --limit\n");
    assert_eq!(
        human.stdout.lines().count(),
        4,
        "a header and three rows: {human:?}"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_unknown_outcome_is_refused_naming_the_outcomes(pool: PgPool) {
    let admin = Admin::new(&pool);
    let run = admin.run(&["claims", "list", "--outcome", "bogus"]).await;
    let line = run.failure();
    assert!(line.contains("`bogus` is not a claim outcome"), "{line}");
    assert!(line.contains("already_held"), "{line}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn waitlist_show_lists_the_line_in_message_time_order(pool: PgPool) {
    live_sale(&pool).await;
    let admin = Admin::new(&pool);

    let line = admin.json(&["waitlist", "show", "CAP-RED-001"]).await;
    assert_eq!(column(&line, "buyer"), ["bob", "cat"], "bob wrote first");
    let head = &line[0];
    assert_eq!(head["position"], 1);
    assert_eq!(head["quantity"], 1);
    for field in ["claim_id", "message_time", "expires_at"] {
        assert!(!head[field].is_null(), "{field} missing: {head}");
    }
    assert_eq!(line[1]["position"], 2);
    assert_eq!(line[1]["quantity"], 2);

    let human = admin.run(&["waitlist", "show", "CAP-RED-001"]).await;
    assert_eq!(human.code, Some(0), "{human:?}");
    let lines: Vec<&str> = human.stdout.lines().collect();
    assert!(lines[0].starts_with("POSITION"), "{human:?}");
    assert!(
        lines[1].starts_with("1 ") && lines[1].contains("bob"),
        "{human:?}"
    );

    let empty = admin.json(&["waitlist", "show", "MUG-001"]).await;
    assert_eq!(empty, serde_json::json!([]));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn waitlist_show_of_an_unknown_sku_fails(pool: PgPool) {
    let admin = Admin::new(&pool);
    let run = admin.run(&["waitlist", "show", "NOPE", "--json"]).await;
    assert_eq!(run.failure(), "no product with SKU `NOPE`");
}
