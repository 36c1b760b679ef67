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
        "product_code": "VNT-NIKE-WB-001",
        "options": {},
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
            "0.57",
            "--stock",
            "1",
            "--currency",
            "EUR",
        ])
        .await;
    assert_eq!(updated["title"], "Nike Windbreaker (90s)");
    assert_eq!(
        updated["price_cents"], 57,
        "exact, never 0.57 × 100 in floating point"
    );
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

/// `inventory set SKU --price P --currency C` with everything else fixed.
async fn set_price(admin: &Admin, sku: &str, price: &str, currency: &str) -> crate::helpers::Run {
    admin
        .run(&[
            "inventory",
            "set",
            sku,
            "--title",
            "Kimono",
            "--price",
            price,
            "--currency",
            currency,
            "--stock",
            "2",
            "--json",
        ])
        .await
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn prices_are_stored_in_the_minor_unit_stripe_uses_for_their_currency(pool: PgPool) {
    let admin = Admin::new(&pool);
    // `price_cents` holds minor units of the currency: yen have none below them, dinars
    // have thousandths.
    for (sku, price, currency, minor) in [
        ("KIM-JPY", "1500", "jpy", 1500),
        ("KIM-KRW", "1500", "KRW", 1500),
        ("KIM-USD", "79.99", "usd", 7999),
        ("KIM-KWD", "1.5", "kwd", 1500),
        ("KIM-GBP", "0.30", "gbp", 30),
    ] {
        let set = set_price(&admin, sku, price, currency).await.json();
        assert_eq!(set["price_cents"], minor, "{sku}: {set}");
        assert_eq!(set["currency"], currency.to_lowercase(), "{sku}");
        let shown = admin.json(&["inventory", "show", sku]).await;
        assert_eq!(shown["price_cents"], minor, "{sku}");
    }
    // Tables show the price with the currency's own decimals.
    for (sku, shown) in [
        ("KIM-JPY", "1500"),
        ("KIM-USD", "79.99"),
        ("KIM-KWD", "1.500"),
    ] {
        let human = admin.run(&["inventory", "show", sku]).await;
        assert_eq!(human.code, Some(0), "{human:?}");
        let price = human
            .stdout
            .lines()
            .find(|l| l.starts_with("PRICE"))
            .unwrap_or_else(|| panic!("a PRICE line: {human:?}"));
        assert_eq!(price.split_whitespace().nth(1), Some(shown), "{price}");
    }
    let table = admin.run(&["inventory", "list"]).await;
    let yen = table
        .stdout
        .lines()
        .find(|l| l.starts_with("KIM-JPY"))
        .unwrap_or_else(|| panic!("a KIM-JPY row: {table:?}"));
    assert!(yen.contains(" 1500 "), "{yen}");
    assert!(!yen.contains("15.00"), "{yen}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_price_below_stripes_minimum_charge_is_refused_in_one_line(pool: PgPool) {
    let admin = Admin::new(&pool);
    for (price, currency, message) in [
        (
            "0.49",
            "usd",
            "price 0.49 usd is below Stripe's minimum charge of 0.50 usd",
        ),
        (
            "0.29",
            "gbp",
            "price 0.29 gbp is below Stripe's minimum charge of 0.30 gbp",
        ),
        (
            "49",
            "jpy",
            "price 49 jpy is below Stripe's minimum charge of 50 jpy",
        ),
        (
            "0",
            "eur",
            "price 0.00 eur is below Stripe's minimum charge of 0.50 eur",
        ),
    ] {
        let run = set_price(&admin, "CHEAP-1", price, currency).await;
        assert_eq!(run.failure(), message, "{price} {currency}");
    }
    assert_eq!(admin.json(&["inventory", "list"]).await, json!([]));
    // The minimum itself is fine.
    assert_eq!(
        set_price(&admin, "CHEAP-1", "50", "jpy").await.json()["price_cents"],
        50
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn prices_the_currency_cannot_express_are_refused(pool: PgPool) {
    let admin = Admin::new(&pool);
    for (price, currency, reason) in [
        ("1500.5", "jpy", "jpy has none (zero-decimal)"),
        ("79.999", "usd", "more than 2 decimals"),
        ("1.0005", "kwd", "more than 3 decimals"),
        // Stripe's partners need a three-decimal amount's last digit to be 0.
        ("1.505", "kwd", "Stripe charges kwd in steps of 0.010"),
    ] {
        let line = set_price(&admin, "ODD-1", price, currency).await;
        let line = line.failure();
        assert!(line.contains(reason), "{price} {currency}: {line}");
    }
    assert_eq!(admin.json(&["inventory", "list"]).await, json!([]));
    assert_eq!(
        set_price(&admin, "ODD-1", "1500.00", "jpy").await.json()["price_cents"],
        1500,
        "zeros after the point are no decimals"
    );
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

/// `inventory set SKU` with a fixed title, price and stock, then `extra`.
async fn set_with(admin: &Admin, sku: &str, extra: &[&str]) -> crate::helpers::Run {
    let mut args = vec![
        "inventory",
        "set",
        sku,
        "--title",
        "Sherpa Denim Jacket",
        "--price",
        "89",
        "--stock",
        "2",
        "--json",
    ];
    args.extend_from_slice(extra);
    admin.run(&args).await
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn variants_are_stored_and_listed_with_their_product_code_and_options(pool: PgPool) {
    let admin = Admin::new(&pool);
    // A product without variants first; its SKU may then become the variants' code.
    let plain = set_with(&admin, "DNM-JKT", &[]).await.json();
    assert_eq!(
        (&plain["product_code"], &plain["options"]),
        (&json!("DNM-JKT"), &json!({}))
    );
    let medium = set_with(
        &admin,
        "DNM-JKT-M",
        &[
            "--variant-of",
            "DNM-JKT",
            "--option",
            "size=M",
            "--option",
            "color=blue",
        ],
    )
    .await
    .json();
    assert_eq!(medium["product_code"], "DNM-JKT");
    assert_eq!(medium["options"], json!({"size": "M", "color": "blue"}));
    set_with(
        &admin,
        "DNM-JKT-L",
        &["--variant-of", "DNM-JKT", "--option", "size=L"],
    )
    .await
    .json();

    let shown = admin.json(&["inventory", "show", "DNM-JKT-M"]).await;
    assert_eq!(shown, medium);
    let listed = admin.json(&["inventory", "list"]).await;
    let rows: Vec<(&str, &str, &serde_json::Value)> = listed
        .as_array()
        .expect("an array")
        .iter()
        .map(|p| {
            (
                p["sku"].as_str().expect("sku"),
                p["product_code"].as_str().expect("product_code"),
                &p["options"],
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("DNM-JKT", "DNM-JKT", &json!({})),
            ("DNM-JKT-L", "DNM-JKT", &json!({"size": "L"})),
            (
                "DNM-JKT-M",
                "DNM-JKT",
                &json!({"size": "M", "color": "blue"})
            ),
        ]
    );
    // Every earlier field is still there.
    for field in [
        "title",
        "price_cents",
        "currency",
        "stock_on_hand",
        "reserved",
    ] {
        assert!(listed[1].get(field).is_some(), "{field}: {listed}");
    }

    // Restocking without --variant-of keeps the grouping; new options replace the old.
    let restocked = admin
        .json(&[
            "inventory",
            "set",
            "DNM-JKT-M",
            "--title",
            "Sherpa Denim Jacket",
            "--price",
            "89",
            "--stock",
            "5",
        ])
        .await;
    assert_eq!(
        (&restocked["stock_on_hand"], &restocked["product_code"]),
        (&json!(5), &json!("DNM-JKT"))
    );
    assert_eq!(restocked["options"], json!({"size": "M", "color": "blue"}));
    let changed = set_with(
        &admin,
        "DNM-JKT-M",
        &["--variant-of", "DNM-JKT", "--option", "size=XL"],
    )
    .await
    .json();
    assert_eq!(changed["options"], json!({"size": "XL"}));

    // Tables show the product and its options.
    let table = admin.run(&["inventory", "list"]).await;
    assert!(table.stdout.starts_with("SKU "), "{table:?}");
    let row = table
        .stdout
        .lines()
        .find(|l| l.starts_with("DNM-JKT-M "))
        .unwrap_or_else(|| panic!("a DNM-JKT-M row: {table:?}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[..3], ["DNM-JKT-M", "DNM-JKT", "size=XL"], "{row}");
    let record = admin.run(&["inventory", "show", "DNM-JKT"]).await;
    assert!(record.stdout.contains("PRODUCT    DNM-JKT\n"), "{record:?}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_bad_option_is_refused_in_one_line_naming_it(pool: PgPool) {
    let admin = Admin::new(&pool);
    for (extra, named) in [
        (&["--variant-of", "TEE", "--option", "Size=M"][..], "Size"),
        (&["--variant-of", "TEE", "--option", "size="], "size"),
        (&["--variant-of", "TEE", "--option", "sizeM"], "sizeM"),
        (&["--variant-of", "TEE", "--option", "2nd=a"], "2nd"),
        (
            &[
                "--variant-of",
                "TEE",
                "--option",
                "size=M",
                "--option",
                "size=L",
            ],
            "size",
        ),
        (&["--option", "size=M"], "--variant-of"),
        (&["--variant-of", "TEE-M", "--option", "size=M"], "TEE-M"),
    ] {
        if named == "TEE-M" {
            // A SKU that is itself a variant cannot be a product code.
            set_with(
                &admin,
                "TEE-M",
                &["--variant-of", "TEE", "--option", "size=M"],
            )
            .await
            .json();
        }
        let run = set_with(&admin, "TEE-L", extra).await;
        let line = run.failure();
        assert!(line.contains(named), "{extra:?}: {line}");
    }
    let listed = admin.json(&["inventory", "list"]).await;
    let skus: Vec<&str> = listed
        .as_array()
        .expect("an array")
        .iter()
        .map(|p| p["sku"].as_str().expect("sku"))
        .collect();
    assert_eq!(skus, ["TEE-M"], "nothing else was saved");
}
