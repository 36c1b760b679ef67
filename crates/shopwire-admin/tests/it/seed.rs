//! `seed --demo`.

use sqlx::PgPool;

use crate::helpers::Admin;

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn seeding_the_demo_catalog_twice_adds_it_once_and_keeps_later_changes(pool: PgPool) {
    let admin = Admin::new(&pool);
    let first = admin.json(&["seed", "--demo"]).await;
    let first = first.as_array().expect("an array");
    assert!(first.len() >= 8, "{first:?}");
    assert!(first.iter().all(|p| p["added"] == true), "{first:?}");
    assert!(first.iter().any(|p| p["sku"] == "VNT-NIKE-WB-001"));
    assert!(first.iter().any(|p| p["sku"] == "CRH-DET-BLK-002"));
    for product in first {
        let stock = product["stock_on_hand"].as_i64().expect("stock");
        assert!((1..=10).contains(&stock), "{product}");
        assert!(
            product["price_cents"].as_i64().expect("price") > 0,
            "{product}"
        );
    }

    admin
        .json(&[
            "inventory",
            "set",
            "VNT-NIKE-WB-001",
            "--title",
            "Sold on stream",
            "--price",
            "1",
            "--stock",
            "1",
        ])
        .await;
    let second = admin.json(&["seed", "--demo"]).await;
    let second = second.as_array().expect("an array");
    assert_eq!(second.len(), first.len());
    assert!(second.iter().all(|p| p["added"] == false), "{second:?}");

    let catalog = admin.json(&["inventory", "list"]).await;
    assert_eq!(catalog.as_array().map(Vec::len), Some(first.len()));
    let nike = admin.json(&["inventory", "show", "VNT-NIKE-WB-001"]).await;
    assert_eq!(nike["title"], "Sold on stream");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_demo_has_sized_items_and_a_lineup_and_seeding_again_changes_neither(pool: PgPool) {
    let admin = Admin::new(&pool);
    admin.json(&["seed", "--demo"]).await;
    let catalog = admin.json(&["inventory", "list"]).await;
    let sizes = |code: &str| -> Vec<(String, String)> {
        catalog
            .as_array()
            .expect("an array")
            .iter()
            .filter(|p| p["product_code"] == code)
            .map(|p| {
                (
                    p["sku"].as_str().expect("sku").to_owned(),
                    p["options"]["size"].as_str().expect("a size").to_owned(),
                )
            })
            .collect()
    };
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    };
    assert_eq!(
        sizes("DNM-JKT"),
        pairs(&[("DNM-JKT-L", "L"), ("DNM-JKT-M", "M"), ("DNM-JKT-S", "S")])
    );
    assert_eq!(
        sizes("SNK-AF1"),
        pairs(&[("SNK-AF1-10", "10"), ("SNK-AF1-8", "8"), ("SNK-AF1-9", "9")])
    );
    let live = admin
        .json(&["live", "show", "--streamer", "demo_streamer"])
        .await;
    let lineup: Vec<(&str, &str)> = live["lineup"]
        .as_array()
        .expect("a lineup")
        .iter()
        .map(|i| {
            (
                i["code"].as_str().expect("code"),
                i["item"].as_str().expect("item"),
            )
        })
        .collect();
    assert_eq!(
        lineup[..2],
        [("A1", "DNM-JKT"), ("A2", "SNK-AF1")],
        "{live}"
    );
    assert!(lineup.len() >= 3, "{live}");

    let again = admin.json(&["seed", "--demo"]).await;
    let medium = again
        .as_array()
        .expect("an array")
        .iter()
        .find(|p| p["sku"] == "DNM-JKT-M")
        .expect("the medium jacket");
    assert_eq!(medium["added"], false);
    assert_eq!(medium["claim_code"], "A1");
    // The catalog is as it was (velocity aside: scoring runs again at a later time).
    let products = |list: &serde_json::Value| -> Vec<serde_json::Value> {
        let fields = [
            "sku",
            "product_code",
            "options",
            "stock_on_hand",
            "price_cents",
        ];
        list.as_array()
            .expect("an array")
            .iter()
            .map(|p| fields.iter().map(|f| p[*f].clone()).collect())
            .collect()
    };
    assert_eq!(
        products(&admin.json(&["inventory", "list"]).await),
        products(&catalog)
    );
    let live_again = admin
        .json(&["live", "show", "--streamer", "demo_streamer"])
        .await;
    assert_eq!(live_again, live);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn seed_without_demo_fails_and_says_what_to_pass(pool: PgPool) {
    let run = Admin::new(&pool).run(&["seed"]).await;
    assert!(run.failure().contains("--demo"), "{run:?}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_production_database_is_never_seeded_with_demo_rows(pool: PgPool) {
    let admin = Admin::new(&pool);
    let run = admin
        .run_with_env(&["seed", "--demo"], &[("APP_ENV", "production")])
        .await;
    assert!(run.failure().contains("APP_ENV=production"), "{run:?}");
    let products: i64 = sqlx::query_scalar("SELECT count(*) FROM products")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(products, 0, "nothing was inserted");
    admin.json(&["seed", "--demo"]).await;
}
