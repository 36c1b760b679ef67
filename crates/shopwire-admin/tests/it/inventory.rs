//! `inventory set|show|list`.

use serde_json::json;
use sqlx::PgPool;

use crate::helpers::Admin;

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn inventory_set_then_show_and_list_round_trip_as_json(pool: PgPool) {
    let admin = Admin::new(&pool);
    let expected = json!({
        "sku": "VNT-NIKE-WB-001",
        "title": "Vintage Nike Windbreaker",
        "price_cents": 7999,
        "currency": "usd",
        "stock_on_hand": 4,
        "reserved": 0,
        "available": 4,
    });
    let set = admin
        .json(&[
            "inventory",
            "set",
            "VNT-NIKE-WB-001",
            "--title",
            "Vintage Nike Windbreaker",
            "--price",
            "79.99",
            "--stock",
            "4",
        ])
        .await;
    assert_eq!(set, expected);
    assert_eq!(
        admin.json(&["inventory", "show", "VNT-NIKE-WB-001"]).await,
        expected
    );
    // `list` adds the velocity fields, null until the first trends scoring run.
    let mut listed = expected.clone();
    for field in [
        "velocity_per_hour",
        "velocity_trend",
        "hours_to_stockout",
        "alert",
        "reorder_units",
    ] {
        listed[field] = serde_json::Value::Null;
    }
    assert_eq!(admin.json(&["inventory", "list"]).await, json!([listed]));

    let updated = admin
        .json(&[
            "inventory",
            "set",
            "VNT-NIKE-WB-001",
            "--title",
            "Nike Windbreaker (90s)",
            "--price",
            "0.29",
            "--stock",
            "1",
            "--currency",
            "EUR",
        ])
        .await;
    assert_eq!(updated["title"], "Nike Windbreaker (90s)");
    assert_eq!(updated["price_cents"], 29);
    assert_eq!(updated["currency"], "eur");
    assert_eq!(updated["available"], 1);
    assert_eq!(
        admin
            .json(&["inventory", "list"])
            .await
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn inventory_list_is_an_empty_array_and_a_table_by_default(pool: PgPool) {
    let admin = Admin::new(&pool);
    assert_eq!(admin.json(&["inventory", "list"]).await, json!([]));
    admin
        .json(&[
            "inventory",
            "set",
            "A-1",
            "--title",
            "Jacket",
            "--price",
            "5",
            "--stock",
            "2",
        ])
        .await;
    let human = admin.run(&["inventory", "list"]).await;
    assert_eq!(human.code, Some(0), "{human:?}");
    assert!(human.stdout.starts_with("SKU"), "{human:?}");
    assert!(human.stdout.contains("5.00"), "{human:?}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_invalid_price_fails_with_one_line_on_stderr_and_saves_nothing(pool: PgPool) {
    let admin = Admin::new(&pool);
    for (price, reason) in [
        ("-1.00", "negative"),
        ("79.999", "more than 2 decimals"),
        ("abc", "not a decimal amount"),
    ] {
        let run = admin
            .run(&[
                "inventory",
                "set",
                "X-1",
                "--title",
                "T",
                "--price",
                price,
                "--stock",
                "1",
            ])
            .await;
        let line = run.failure();
        assert!(line.contains(reason), "{price}: {line}");
    }
    let run = admin
        .run(&[
            "inventory",
            "set",
            "X-1",
            "--title",
            "T",
            "--price",
            "1",
            "--stock",
            "-1",
        ])
        .await;
    assert!(run.failure().contains("stock `-1` is negative"), "{run:?}");
    assert_eq!(admin.json(&["inventory", "list"]).await, json!([]));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn setting_stock_below_the_reserved_count_is_refused(pool: PgPool) {
    let admin = Admin::new(&pool);
    let set = |stock: &'static str| {
        let admin = &admin;
        async move {
            admin
                .run(&[
                    "inventory",
                    "set",
                    "CRH-DET-BLK-002",
                    "--title",
                    "Carhartt",
                    "--price",
                    "129",
                    "--stock",
                    stock,
                ])
                .await
        }
    };
    assert_eq!(set("5").await.code, Some(0));
    sqlx::query("UPDATE products SET reserved = 3 WHERE sku = 'CRH-DET-BLK-002'")
        .execute(&pool)
        .await
        .expect("reserve");

    let refused = set("2").await;
    let line = refused.failure();
    assert!(line.contains("below the 3 units reserved"), "{line}");
    let kept = admin.json(&["inventory", "show", "CRH-DET-BLK-002"]).await;
    assert_eq!(
        (kept["stock_on_hand"].clone(), kept["available"].clone()),
        (json!(5), json!(2))
    );

    assert_eq!(set("3").await.code, Some(0));
    let exact = admin.json(&["inventory", "show", "CRH-DET-BLK-002"]).await;
    assert_eq!(exact["available"], 0);
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn showing_a_missing_sku_fails_naming_it(pool: PgPool) {
    let run = Admin::new(&pool)
        .run(&["inventory", "show", "NOPE-1"])
        .await;
    assert!(run.failure().contains("NOPE-1"), "{run:?}");
}
