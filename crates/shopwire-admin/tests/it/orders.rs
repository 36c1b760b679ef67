//! `orders list`: totals in the currency's own unit. A yen price set with `inventory set`
//! makes orders of whole yen, and reports show them without decimals — ¥1,500 is `1500 jpy`,
//! not `15.00`. (That Stripe is charged the same units is a worker test.)

use chrono::Utc;
use shopwire_core::db::trends::velocity;
use sqlx::PgPool;

use crate::helpers::Admin;

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_yen_order_is_listed_in_whole_yen(pool: PgPool) {
    let admin = Admin::new(&pool);
    admin
        .json(&[
            "inventory",
            "set",
            "KIM-JP-001",
            "--title",
            "Vintage Kimono",
            "--price",
            "1500",
            "--currency",
            "jpy",
            "--stock",
            "2",
        ])
        .await;
    // One unit sold at the stored price (a paid TikTok Shop order, as the demo records).
    assert!(
        velocity::record_sale(&pool, "KIM-JP-001", 1, Utc::now(), "T-YEN-1")
            .await
            .expect("sale recorded")
    );
    let orders = admin.json(&["orders", "list"]).await;
    assert_eq!(
        (&orders[0]["total_cents"], &orders[0]["currency"]),
        (&serde_json::json!(1500), &serde_json::json!("jpy")),
        "{orders}"
    );
    let human = admin.run(&["orders", "list"]).await;
    assert_eq!(human.code, Some(0), "{human:?}");
    assert!(human.stdout.contains("1500 jpy"), "{human:?}");
    assert!(!human.stdout.contains("15.00"), "{human:?}");
}
