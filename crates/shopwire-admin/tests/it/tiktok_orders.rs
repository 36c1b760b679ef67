//! One id traces a TikTok Shop order (issue #15): `orders list|show` carry its TikTok order
//! id, shop and lines (a one-line order its SKU), `orders show` the deliveries that touched
//! it, and `events show` of such a delivery names the order — as for comment orders.

use serde_json::{Value, json};
use shopwire_core::db::inbox;
use shopwire_core::db::tiktok_orders::{self, Details, Event, NewLine, OrderStatus, Outcome};
use shopwire_core::domain::{Delivery, Provider};
use sqlx::PgPool;

use crate::helpers::Admin;

const SHOP: &str = "7495540735365777507";

/// A line of `sku`, `quantity` units at `cents` each.
fn line(sku: &str, quantity: i32, cents: i64) -> NewLine {
    NewLine {
        seller_sku: Some(sku.to_owned()),
        tiktok_sku_id: Some(format!("tts-{sku}")),
        title: Some(format!("Item {sku}")),
        quantity,
        unit_price_cents: Some(cents),
    }
}

/// Record an `AWAITING_SHIPMENT` notification for `tiktok_id` and apply it the way the
/// worker does (one transaction: lock or create, details, move to paid, status, event).
/// Returns the inbox id and the order number.
async fn deliver(
    pool: &PgPool,
    notification: &str,
    tiktok_id: &str,
    lines: Vec<NewLine>,
) -> (i64, String) {
    let body = json!({
        "type": 1, "tts_notification_id": notification, "shop_id": SHOP, "timestamp": 1,
        "data": {"order_id": tiktok_id, "order_status": "AWAITING_SHIPMENT", "update_time": 5}
    })
    .to_string();
    let delivery = Delivery::parse(Provider::TiktokShop, body.as_bytes()).expect("a notification");
    let inbox_id = inbox::record(pool, Provider::TiktokShop, &delivery, body.as_bytes())
        .await
        .expect("record")
        .id();
    let total: i64 = lines
        .iter()
        .map(|l| i64::from(l.quantity) * l.unit_price_cents.unwrap_or(0))
        .sum();
    let mut tx = pool.begin().await.expect("begin");
    let (order, _) =
        tiktok_orders::lock_or_create(&mut tx, tiktok_id, &format!("tiktok:{tiktok_id}"))
            .await
            .expect("lock or create");
    let details = Details {
        buyer: Some("buyer-7".to_owned()),
        total_cents: Some(total),
        currency: Some("usd".to_owned()),
        lines,
    };
    tiktok_orders::set_details(&mut tx, order.id, &details)
        .await
        .expect("details");
    tiktok_orders::move_to(&mut tx, &order, OrderStatus::Paid)
        .await
        .expect("move")
        .expect("pending → paid is legal");
    tiktok_orders::set_tiktok_status(&mut tx, order.id, "AWAITING_SHIPMENT", 5)
        .await
        .expect("status");
    let event = Event {
        inbox_id,
        order_id: Some(order.id),
        tiktok_order_id: tiktok_id,
        topic: 1,
        tiktok_status: "AWAITING_SHIPMENT",
        update_time: Some(5),
        outcome: Outcome::Applied,
    };
    tiktok_orders::record_event(&mut tx, &event)
        .await
        .expect("event");
    tx.commit().await.expect("commit");
    (inbox_id.get(), order.order_number)
}

async fn stock(admin: &Admin, sku: &str) {
    admin
        .json(&[
            "inventory",
            "set",
            sku,
            "--title",
            sku,
            "--price",
            "12",
            "--stock",
            "5",
        ])
        .await;
}

fn row<'a>(rows: &'a Value, number: &str) -> &'a Value {
    rows.as_array()
        .expect("an array")
        .iter()
        .find(|r| r["order_number"] == number)
        .unwrap_or_else(|| panic!("{number} not in {rows}"))
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_tiktok_order_carries_its_tiktok_id_shop_and_lines_in_orders_list(pool: PgPool) {
    let admin = Admin::new(&pool);
    stock(&admin, "KIM-001").await;
    let (_, one) = deliver(
        &pool,
        "n1",
        "576653688135258178",
        vec![line("KIM-001", 2, 1200)],
    )
    .await;
    let (_, two) = deliver(
        &pool,
        "n2",
        "576653688135258179",
        vec![line("KIM-001", 1, 1200), line("OBI-404", 1, 800)],
    )
    .await;

    let rows = admin.json(&["orders", "list"]).await;
    let r = row(&rows, &one);
    assert_eq!(r["source"], "tiktok_shop", "{r}");
    assert_eq!(r["tiktok_order_id"], "576653688135258178", "{r}");
    assert_eq!(r["tiktok_status"], "AWAITING_SHIPMENT", "{r}");
    assert_eq!(r["shop_id"], SHOP, "{r}");
    assert_eq!(
        r["sku"], "KIM-001",
        "a one-line order has its line's SKU: {r}"
    );
    assert_eq!(r["quantity"], 2, "{r}");
    assert_eq!(r["lines"][0]["seller_sku"], "KIM-001", "{r}");
    let r = row(&rows, &two);
    assert_eq!(r["sku"], Value::Null, "two lines have no one SKU: {r}");
    assert_eq!(r["lines"].as_array().map(Vec::len), Some(2), "{r}");

    let human = admin.run(&["orders", "list"]).await;
    assert_eq!(human.code, Some(0), "{human:?}");
    for needle in [
        "TIKTOK_ORDER",
        "576653688135258178",
        SHOP,
        "KIM-001",
        "(2 lines)",
    ] {
        assert!(human.stdout.contains(needle), "{needle}: {human:?}");
    }
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn orders_show_of_a_tiktok_order_has_its_tiktok_id_shop_lines_and_deliveries(pool: PgPool) {
    let admin = Admin::new(&pool);
    stock(&admin, "KIM-001").await;
    let (inbox_id, number) = deliver(
        &pool,
        "n1",
        "576653688135258178",
        vec![line("KIM-001", 2, 1200)],
    )
    .await;

    let shown = admin.json(&["orders", "show", &number]).await;
    assert_eq!(
        shown["order"]["tiktok_order_id"], "576653688135258178",
        "{shown}"
    );
    assert_eq!(shown["order"]["shop_id"], SHOP, "{shown}");
    assert_eq!(shown["order"]["sku"], "KIM-001", "{shown}");
    let lines = &shown["order"]["lines"];
    assert_eq!(
        (
            &lines[0]["seller_sku"],
            &lines[0]["quantity"],
            &lines[0]["unit_price_cents"]
        ),
        (&json!("KIM-001"), &json!(2), &json!(1200)),
        "{shown}"
    );
    assert_eq!(lines[0]["committed"], 2, "paid: its units are out: {shown}");
    let tiktok = &shown["tiktok"];
    assert_eq!(tiktok["tiktok_order_id"], "576653688135258178", "{shown}");
    assert_eq!(tiktok["shop_id"], SHOP, "{shown}");
    assert_eq!(tiktok["tiktok_update_time"], 5, "{shown}");
    assert_eq!(tiktok["deliveries"][0]["inbox_id"], inbox_id, "{shown}");
    assert_eq!(tiktok["deliveries"][0]["outcome"], "applied", "{shown}");
    assert_eq!(
        tiktok["deliveries"].as_array().map(Vec::len),
        Some(1),
        "{shown}"
    );
    assert_eq!(shown["origin"], Value::Null, "no buyer message: {shown}");

    // TikTok's order id finds the same order.
    let by_tiktok = admin.json(&["orders", "show", "576653688135258178"]).await;
    assert_eq!(
        by_tiktok["order"]["order_number"],
        number.as_str(),
        "{by_tiktok}"
    );

    let human = admin.run(&["orders", "show", &number]).await;
    assert_eq!(human.code, Some(0), "{human:?}");
    for needle in [
        "576653688135258178".to_owned(),
        SHOP.to_owned(),
        format!("inbox #{inbox_id}"),
        "KIM-001 × 2 @ 12.00 usd".to_owned(),
    ] {
        assert!(human.stdout.contains(&needle), "{needle}: {human:?}");
    }
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn events_show_of_a_tiktok_delivery_names_the_order_it_touched(pool: PgPool) {
    let admin = Admin::new(&pool);
    stock(&admin, "KIM-001").await;
    let (inbox_id, number) = deliver(
        &pool,
        "n1",
        "576653688135258178",
        vec![line("KIM-001", 1, 1200)],
    )
    .await;

    let shown = admin.json(&["events", "show", &inbox_id.to_string()]).await;
    let orders = &shown["caused"]["orders"];
    assert_eq!(orders.as_array().map(Vec::len), Some(1), "{shown}");
    assert_eq!(orders[0]["order_number"], number.as_str(), "{shown}");
    assert_eq!(
        orders[0]["tiktok_order_id"], "576653688135258178",
        "{shown}"
    );
    assert_eq!(orders[0]["source"], "tiktok_shop", "{shown}");
    let tiktok = &shown["tiktok_shop"];
    assert_eq!(tiktok["shop_id"], SHOP, "{shown}");
    assert_eq!(
        tiktok["notifications"],
        json!([{
            "tiktok_order_id": "576653688135258178", "order_id": orders[0]["id"],
            "order_number": number, "topic": 1, "tiktok_status": "AWAITING_SHIPMENT",
            "update_time": 5, "outcome": "applied"
        }]),
        "{shown}"
    );

    let human = admin.run(&["events", "show", &inbox_id.to_string()]).await;
    assert_eq!(human.code, Some(0), "{human:?}");
    for needle in [number.as_str(), "576653688135258178", SHOP, "applied"] {
        assert!(human.stdout.contains(needle), "{needle}: {human:?}");
    }
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_purged_body_leaves_the_order_traced_without_its_shop(pool: PgPool) {
    let admin = Admin::new(&pool);
    let (inbox_id, number) = deliver(
        &pool,
        "n1",
        "576653688135258178",
        vec![line("NOT-OURS", 1, 500)],
    )
    .await;
    sqlx::query("UPDATE inbox SET body = '', body_purged_at = now() WHERE id = $1")
        .bind(inbox_id)
        .execute(&pool)
        .await
        .expect("purge");

    let shown = admin.json(&["orders", "show", &number]).await;
    assert_eq!(shown["order"]["shop_id"], Value::Null, "{shown}");
    assert_eq!(shown["order"]["sku"], "NOT-OURS", "{shown}");
    assert_eq!(
        shown["order"]["lines"][0]["product_id"],
        Value::Null,
        "{shown}"
    );
    assert_eq!(
        shown["tiktok"]["deliveries"][0]["inbox_id"], inbox_id,
        "{shown}"
    );
    let event = admin.json(&["events", "show", &inbox_id.to_string()]).await;
    assert_eq!(event["tiktok_shop"]["shop_id"], Value::Null, "{event}");
    assert_eq!(
        event["caused"]["orders"][0]["order_number"],
        number.as_str(),
        "{event}"
    );
}
