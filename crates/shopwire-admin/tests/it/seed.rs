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
async fn seed_without_demo_fails_and_says_what_to_pass(pool: PgPool) {
    let run = Admin::new(&pool).run(&["seed"]).await;
    assert!(run.failure().contains("--demo"), "{run:?}");
}
