//! `events list|show`.

use serde_json::json;
use shopwire_core::db::inbox;
use shopwire_core::domain::{Delivery, Provider};
use sqlx::PgPool;

use crate::helpers::Admin;

async fn record(
    pool: &PgPool,
    provider: Provider,
    key: &str,
    event_type: &str,
    body: &[u8],
) -> i64 {
    let delivery = Delivery {
        dedupe_key: key.to_owned(),
        event_type: event_type.to_owned(),
    };
    inbox::record(pool, provider, &delivery, body)
        .await
        .expect("record")
        .id()
        .get()
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn events_list_is_an_empty_array_on_an_empty_inbox(pool: PgPool) {
    assert_eq!(Admin::new(&pool).json(&["events", "list"]).await, json!([]));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn events_list_shows_recorded_deliveries_newest_first_with_filters(pool: PgPool) {
    let admin = Admin::new(&pool);
    let stripe = record(&pool, Provider::Stripe, "evt_1", "charge.refunded", b"{}").await;
    let shop = record(
        &pool,
        Provider::TiktokShop,
        "n-1",
        "ORDER_STATUS_CHANGE",
        b"{}",
    )
    .await;

    let all = admin.json(&["events", "list"]).await;
    let all = all.as_array().expect("an array");
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["id"], shop);
    assert_eq!(all[1]["id"], stripe);
    let first = all[1].as_object().expect("an object");
    let mut keys: Vec<&str> = first.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "attempts",
            "dedupe_key",
            "event_type",
            "id",
            "last_error",
            "processed_at",
            "provider",
            "received_at",
            "status"
        ]
    );
    assert_eq!(all[1]["provider"], "stripe");
    assert_eq!(all[1]["dedupe_key"], "evt_1");
    assert_eq!(all[1]["status"], "queued");

    let only_shop = admin
        .json(&["events", "list", "--provider", "tiktok-shop"])
        .await;
    assert_eq!(only_shop.as_array().map(Vec::len), Some(1));
    assert_eq!(only_shop[0]["provider"], "tiktok_shop");
    assert_eq!(
        admin.json(&["events", "list", "--status", "dead"]).await,
        json!([])
    );
    assert_eq!(
        admin
            .json(&["events", "list", "--status", "queued", "--limit", "1"])
            .await[0]["id"],
        shop
    );

    let bad = admin.run(&["events", "list", "--status", "lost"]).await;
    assert!(bad.failure().contains("lost"), "{bad:?}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn events_show_prints_the_row_its_body_and_what_it_caused(pool: PgPool) {
    let body = br#"{"id":"evt_1","type":"charge.refunded"}"#;
    let id = record(&pool, Provider::Stripe, "evt_1", "charge.refunded", body).await;
    let shown = Admin::new(&pool)
        .json(&["events", "show", &id.to_string()])
        .await;
    assert_eq!(shown["id"], id);
    assert_eq!(shown["event_type"], "charge.refunded");
    assert_eq!(shown["body"], std::str::from_utf8(body).expect("utf-8"));
    assert_eq!(shown["body_bytes"], body.len());
    assert_eq!(
        shown["caused"],
        json!({"messages": [], "orders": [], "payments": []})
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn events_show_of_a_missing_id_fails_with_one_line(pool: PgPool) {
    let run = Admin::new(&pool).run(&["events", "show", "424242"]).await;
    assert_eq!(run.failure(), "no event with id 424242");
}
