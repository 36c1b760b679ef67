//! `live pin|unpin`.

use serde_json::json;
use sqlx::PgPool;

use crate::helpers::Admin;

async fn open_pins(pool: &PgPool, streamer: &str) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT products.sku FROM live_pins JOIN products ON products.id = live_pins.product_id
          WHERE streamer = $1 AND unpinned_at IS NULL",
    )
    .bind(streamer)
    .fetch_all(pool)
    .await
    .expect("query pins");
    rows.into_iter().map(|(sku,)| sku).collect()
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn pinning_another_sku_leaves_one_open_pin(pool: PgPool) {
    let admin = Admin::new(&pool);
    admin.json(&["seed", "--demo"]).await;

    let first = admin
        .json(&[
            "live",
            "pin",
            "--streamer",
            "philia",
            "--sku",
            "VNT-NIKE-WB-001",
        ])
        .await;
    assert_eq!(first["sku"], "VNT-NIKE-WB-001");
    assert_eq!(first["unpinned_at"], json!(null));
    admin
        .json(&[
            "live",
            "pin",
            "--streamer",
            "other",
            "--sku",
            "VNT-NIKE-WB-001",
        ])
        .await;
    admin
        .json(&[
            "live",
            "pin",
            "--streamer",
            "philia",
            "--sku",
            "CRH-DET-BLK-002",
        ])
        .await;

    assert_eq!(open_pins(&pool, "philia").await, ["CRH-DET-BLK-002"]);
    assert_eq!(open_pins(&pool, "other").await, ["VNT-NIKE-WB-001"]);
    let (total,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM live_pins WHERE streamer = 'philia'")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(total, 2, "the first pin is kept, closed");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn unpinning_closes_the_open_pin_and_is_harmless_when_nothing_is_pinned(pool: PgPool) {
    let admin = Admin::new(&pool);
    admin.json(&["seed", "--demo"]).await;
    admin
        .json(&[
            "live",
            "pin",
            "--streamer",
            "philia",
            "--sku",
            "VNT-NIKE-WB-001",
        ])
        .await;

    let closed = admin.json(&["live", "unpin", "--streamer", "philia"]).await;
    assert_eq!(closed["sku"], "VNT-NIKE-WB-001");
    assert_ne!(closed["unpinned_at"], json!(null));
    assert!(open_pins(&pool, "philia").await.is_empty());

    assert_eq!(
        admin.json(&["live", "unpin", "--streamer", "philia"]).await,
        json!(null)
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn pinning_an_unknown_sku_fails_and_keeps_the_current_pin(pool: PgPool) {
    let admin = Admin::new(&pool);
    admin.json(&["seed", "--demo"]).await;
    admin
        .json(&[
            "live",
            "pin",
            "--streamer",
            "philia",
            "--sku",
            "VNT-NIKE-WB-001",
        ])
        .await;

    let run = admin
        .run(&["live", "pin", "--streamer", "philia", "--sku", "NOPE"])
        .await;
    assert!(
        run.failure().contains("no product with SKU `NOPE`"),
        "{run:?}"
    );
    assert_eq!(open_pins(&pool, "philia").await, ["VNT-NIKE-WB-001"]);
}
