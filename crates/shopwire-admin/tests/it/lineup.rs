//! `live add|remove|show`: a streamer's lineup of claim codes, the pinned product and the
//! holds their live's claims won.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::claim_data::{allocate, claim, product};
use crate::helpers::Admin;

async fn catalog(pool: &PgPool) -> i64 {
    product(pool, "JKT-DEN-S", Some("JKT-DEN"), 2).await;
    product(pool, "JKT-DEN-M", Some("JKT-DEN"), 3).await;
    product(pool, "CAP-RED-001", None, 1).await
}

fn codes(show: &Value) -> Vec<&str> {
    show["lineup"]
        .as_array()
        .expect("lineup is an array")
        .iter()
        .map(|item| item["code"].as_str().expect("code"))
        .collect()
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn items_get_the_next_free_code_or_the_one_asked_for(pool: PgPool) {
    catalog(&pool).await;
    let admin = Admin::new(&pool);

    let first = admin
        .run(&["live", "add", "--streamer", "philia", "--sku", "JKT-DEN"])
        .await;
    assert_eq!(
        (first.code, first.stdout.as_str()),
        (Some(0), "A1\n"),
        "{first:?}"
    );
    let second = admin
        .json(&[
            "live",
            "add",
            "--streamer",
            "philia",
            "--sku",
            "CAP-RED-001",
        ])
        .await;
    assert_eq!(
        second,
        json!({"streamer": "philia", "code": "A2", "item": "CAP-RED-001"})
    );
    let chosen = admin
        .json(&[
            "live",
            "add",
            "--streamer",
            "philia",
            "--sku",
            "JKT-DEN-M",
            "--code",
            "b7",
        ])
        .await;
    assert_eq!(chosen["code"], "B7", "codes are upper-cased");
    // Another streamer's lineup has its own codes.
    let other = admin
        .json(&["live", "add", "--streamer", "other", "--sku", "CAP-RED-001"])
        .await;
    assert_eq!(other["code"], "A1");

    let show = admin.json(&["live", "show", "--streamer", "philia"]).await;
    assert_eq!(codes(&show), ["A1", "A2", "B7"]);
    let jacket = &show["lineup"][0];
    assert_eq!(jacket["item"], "JKT-DEN");
    assert_eq!(jacket["skus"], json!(["JKT-DEN-M", "JKT-DEN-S"]));
    assert_eq!(jacket["available"], 5);
    assert_eq!(show["pinned"], Value::Null);
    assert_eq!(show["holds"], json!([]));

    let human = admin.run(&["live", "show", "--streamer", "philia"]).await;
    assert_eq!(human.code, Some(0), "{human:?}");
    assert!(human.stdout.starts_with("LINEUP\nCODE"), "{human:?}");
    assert!(human.stdout.contains("JKT-DEN-M,JKT-DEN-S"), "{human:?}");
    assert!(human.stdout.contains("PINNED\n(none)"), "{human:?}");
    assert!(human.stdout.contains("HOLDS\n(none)"), "{human:?}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn unknown_items_taken_codes_and_bad_codes_are_refused_in_one_line(pool: PgPool) {
    catalog(&pool).await;
    let admin = Admin::new(&pool);
    admin
        .json(&["live", "add", "--streamer", "philia", "--sku", "JKT-DEN"])
        .await;

    let unknown = admin
        .run(&["live", "add", "--streamer", "philia", "--sku", "NOPE"])
        .await;
    assert_eq!(
        unknown.failure(),
        "`NOPE` is neither a SKU nor a product code in the catalog"
    );
    let taken = admin
        .run(&[
            "live",
            "add",
            "--streamer",
            "philia",
            "--sku",
            "CAP-RED-001",
            "--code",
            "a1",
        ])
        .await;
    assert!(
        taken.failure().contains("claim code A1 is already in use"),
        "{taken:?}"
    );
    let bad = admin
        .run(&[
            "live",
            "add",
            "--streamer",
            "philia",
            "--sku",
            "CAP-RED-001",
            "--code",
            "A-1",
        ])
        .await;
    assert!(bad.failure().contains("1-8 letters or digits"), "{bad:?}");
    let json = admin
        .run(&[
            "live",
            "add",
            "--streamer",
            "philia",
            "--sku",
            "NOPE",
            "--json",
        ])
        .await;
    json.failure();

    let show = admin.json(&["live", "show", "--streamer", "philia"]).await;
    assert_eq!(codes(&show), ["A1"], "nothing was added");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn removing_frees_the_code_and_removing_twice_fails(pool: PgPool) {
    catalog(&pool).await;
    let admin = Admin::new(&pool);
    admin
        .json(&["live", "add", "--streamer", "philia", "--sku", "JKT-DEN"])
        .await;
    admin
        .json(&[
            "live",
            "add",
            "--streamer",
            "philia",
            "--sku",
            "CAP-RED-001",
        ])
        .await;

    let removed = admin
        .json(&["live", "remove", "--streamer", "philia", "--code", "a1"])
        .await;
    assert_eq!(removed, json!({"streamer": "philia", "code": "A1"}));
    let again = admin
        .run(&["live", "remove", "--streamer", "philia", "--code", "A1"])
        .await;
    assert_eq!(again.failure(), "no item A1 in philia's lineup");
    let elsewhere = admin
        .run(&["live", "remove", "--streamer", "other", "--code", "A2"])
        .await;
    assert_eq!(elsewhere.failure(), "no item A2 in other's lineup");

    let show = admin.json(&["live", "show", "--streamer", "philia"]).await;
    assert_eq!(codes(&show), ["A2"]);
    let reused = admin
        .json(&["live", "add", "--streamer", "philia", "--sku", "JKT-DEN-S"])
        .await;
    assert_eq!(reused["code"], "A1", "the freed code is the next free one");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn show_names_the_pin_and_the_open_holds_of_this_streamers_claims(pool: PgPool) {
    let cap = catalog(&pool).await;
    let admin = Admin::new(&pool);
    admin
        .json(&[
            "live",
            "add",
            "--streamer",
            "philia",
            "--sku",
            "CAP-RED-001",
        ])
        .await;
    admin
        .json(&[
            "live",
            "pin",
            "--streamer",
            "philia",
            "--sku",
            "CAP-RED-001",
        ])
        .await;
    // One unit: the earlier message holds it, the later one waits (not a hold).
    claim(&pool, "philia", "buyer-late", cap, 1, 1_000).await;
    claim(&pool, "philia", "buyer-early", cap, 1, 2_000).await;
    allocate(&pool, cap).await;
    // Another streamer's hold is not philia's.
    let other = product(&pool, "MUG-001", None, 5).await;
    claim(&pool, "other", "buyer-x", other, 2, 500).await;
    allocate(&pool, other).await;

    let show = admin.json(&["live", "show", "--streamer", "philia"]).await;
    assert_eq!(show["pinned"]["sku"], "CAP-RED-001");
    assert_eq!(show["lineup"][0]["available"], 0);
    let holds = show["holds"].as_array().expect("holds is an array");
    assert_eq!(holds.len(), 1, "{show}");
    let hold = &holds[0];
    assert_eq!(hold["buyer"], "buyer-early");
    assert_eq!(hold["sku"], "CAP-RED-001");
    assert_eq!(hold["quantity"], 1);
    assert!(
        hold["order_number"]
            .as_str()
            .expect("number")
            .starts_with("ORD-"),
        "{hold}"
    );
    assert!(hold["expires_at"].is_string(), "{hold}");

    // Paid, the order is no longer an open hold.
    sqlx::query("UPDATE orders SET status = 'paid' WHERE order_number = $1")
        .bind(hold["order_number"].as_str())
        .execute(&pool)
        .await
        .expect("update");
    let show = admin.json(&["live", "show", "--streamer", "philia"]).await;
    assert_eq!(show["holds"], json!([]));

    let human = admin.run(&["live", "show", "--streamer", "other"]).await;
    assert_eq!(human.code, Some(0), "{human:?}");
    assert!(human.stdout.contains("HOLDS\nORDER"), "{human:?}");
    assert!(human.stdout.contains("buyer-x"), "{human:?}");
    assert!(human.stdout.contains("MUG-001"), "{human:?}");
}
