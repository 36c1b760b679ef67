//! `/inventory`: every SKU with its price, stock and velocity (what `inventory list` reads),
//! and the edit-stock form on each row — its CSRF check, its reading of the number, and the
//! refusal below what pending orders reserve. Products, holds, sales and velocity are made
//! through `shopwire-core` (and the scoring run of `shopwire-insight`), as the worker does.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use shopwire_core::db::claims::{self, AllocationRules, NewClaim};
use shopwire_core::db::inbox::{self, Recorded};
use shopwire_core::db::messages::{self, NewMessage};
use shopwire_core::db::products::{self, NewProduct, Product, Variant};
use shopwire_core::db::trends::velocity;
use shopwire_core::domain::{Delivery, Provider};
use shopwire_insight::trends::{TrendScorer, score_all};
use sqlx::PgPool;

use crate::helpers::{Browser, base_env, location, settings, spawn_console};

/// A product of its own: `stock` units at 45.00 USD.
async fn product(pool: &PgPool, sku: &str, title: &str, stock: i32) -> Product {
    save(pool, sku, title, stock, None).await
}

async fn save(
    pool: &PgPool,
    sku: &str,
    title: &str,
    stock: i32,
    variant: Option<Variant>,
) -> Product {
    products::upsert(
        pool,
        &NewProduct {
            sku: sku.to_owned(),
            title: title.to_owned(),
            price_cents: 4500,
            currency: "usd".into(),
            stock_on_hand: stock,
            variant,
        },
    )
    .await
    .expect("product saved")
}

/// `quantity` units of `sku` held for `buyer` by an unpaid order, made the way a live
/// comment makes one: its delivery, its message, its claim, and the allocator's hold.
async fn hold(pool: &PgPool, sku: &str, buyer: &str, quantity: i32) {
    let product_id = velocity::products(pool)
        .await
        .expect("products")
        .into_iter()
        .find(|p| p.sku == sku)
        .expect("the product exists")
        .id;
    let delivery = Delivery {
        dedupe_key: format!("hold-{sku}-{buyer}"),
        event_type: "comment".into(),
    };
    let Recorded::New(inbox_id) = inbox::record(pool, Provider::Comments, &delivery, b"{}")
        .await
        .expect("delivery recorded")
    else {
        panic!("a fresh delivery key");
    };
    let sent_at = Utc::now() - chrono::Duration::seconds(1);
    let mut tx = pool.begin().await.expect("begins");
    let message_id = messages::insert(
        &mut tx,
        &NewMessage {
            inbox_id,
            channel: "comment",
            streamer: Some("anna"),
            buyer,
            conversation: None,
            text: "mine!",
            sent_at,
        },
    )
    .await
    .expect("message inserted");
    claims::insert_pending(
        &mut tx,
        &NewClaim {
            message_id,
            streamer: Some("anna"),
            buyer,
            channel: "comment",
            product_id: Some(product_id),
            product_code: None,
            quantity,
            message_time: sent_at,
            due_at: sent_at,
        },
    )
    .await
    .expect("claim inserted");
    tx.commit().await.expect("commits");
    let rules = AllocationRules {
        hold: Duration::from_secs(3600),
        checkout: None,
        waitlist_max: 50,
        waitlist_ttl: Duration::from_secs(86_400),
        max_open_holds: 10,
        order_window: Duration::ZERO,
    };
    let allocation = claims::allocate(pool, product_id, &rules)
        .await
        .expect("allocates");
    assert!(
        allocation.decided.iter().any(|d| d.order_id.is_some()),
        "the claim got a hold: {allocation:?}"
    );
}

/// What the database says `sku`'s stock is now.
async fn stock_of(pool: &PgPool, sku: &str) -> (i32, i32, i32) {
    let p = products::get(pool, sku)
        .await
        .expect("reads")
        .expect("the product exists");
    (p.stock_on_hand, p.reserved, p.available)
}

/// The `<tr data-sku=…>` of `sku` on the page.
fn row<'a>(page: &'a str, sku: &str) -> &'a str {
    let start = page
        .find(&format!(r#"<tr data-sku="{sku}""#))
        .unwrap_or_else(|| panic!("a row for {sku} in {page}"));
    let end = page[start..].find("</tr>").expect("the row ends") + start;
    &page[start..end]
}

/// The text of the row's `td.{class}`, tags stripped.
fn cell(row: &str, class: &str) -> String {
    let open = format!(r#"<td class="{class}""#);
    let start = row
        .find(&open)
        .unwrap_or_else(|| panic!("a {class} cell in {row}"));
    let start = row[start..].find('>').expect("the tag ends") + start + 1;
    let end = row[start..].find("</td>").expect("the cell ends") + start;
    let mut text = String::new();
    let mut in_tag = false;
    for c in row[start..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// Submit `stock` for `sku` from the inventory page.
async fn set_stock(browser: &Browser, sku: &str, stock: &str) -> reqwest::Response {
    let path = format!("/inventory/{sku}/stock");
    browser
        .submit("/inventory", &path, &[("stock", stock)])
        .await
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn the_inventory_shows_every_variant_with_its_price_stock_and_velocity(pool: PgPool) {
    for (sku, size) in [("DNM-JKT-M", "M"), ("DNM-JKT-S", "S")] {
        let variant = Variant {
            product_code: "DNM-JKT".into(),
            options: BTreeMap::from([("size".to_owned(), size.to_owned())]),
        };
        save(&pool, sku, "Denim jacket", 5, Some(variant)).await;
    }
    product(&pool, "VNT-NIKE-WB-001", "Windbreaker <90s> & \"rare\"", 3).await;
    hold(&pool, "DNM-JKT-M", "buyer_1", 2).await;
    // The windbreaker sells about three an hour with 3 left: critical after a scoring run.
    let now = Utc::now();
    for i in 0..12 {
        velocity::record_sale(
            &pool,
            "VNT-NIKE-WB-001",
            1,
            now - chrono::Duration::minutes(20 * i + 1),
            &format!("SALE-{i}"),
        )
        .await
        .expect("sale recorded");
    }
    let settings = settings(&base_env(&pool));
    let scorer = TrendScorer::from_settings(&settings);
    score_all(&pool, &scorer, &settings.stock_alerts, now, None)
        .await
        .expect("scoring runs");

    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;
    let page = browser.page("/inventory").await;
    assert!(
        page.contains(r#"<a href="/inventory" class="current">Inventory</a>"#),
        "{page}"
    );

    let medium = row(&page, "DNM-JKT-M");
    assert_eq!(cell(medium, "product"), "DNM-JKT size=M");
    assert_eq!(cell(medium, "price"), "45.00 USD");
    assert_eq!(
        (
            cell(medium, "stock"),
            cell(medium, "reserved"),
            cell(medium, "available")
        ),
        ("5".into(), "2".into(), "3".into())
    );
    assert_eq!(cell(row(&page, "DNM-JKT-S"), "product"), "DNM-JKT size=S");

    // The velocity columns are what `inventory list` reads from core, line for line.
    let windbreaker = row(&page, "VNT-NIKE-WB-001");
    let listed = velocity::inventory(&pool)
        .await
        .expect("inventory")
        .into_iter()
        .find(|l| l.product.sku == "VNT-NIKE-WB-001")
        .expect("listed");
    assert_eq!(cell(windbreaker, "alert"), "critical", "{windbreaker}");
    assert_eq!(listed.alert.as_deref(), Some("critical"));
    let per_hour = listed.velocity_per_hour.expect("a velocity");
    assert_eq!(cell(windbreaker, "velocity"), format!("{per_hour:.2}"));
    let eta = listed.hours_to_stockout.expect("an ETA");
    assert_eq!(cell(windbreaker, "eta"), format!("{eta:.1} h"));
    let reorder = listed.reorder_units.expect("a reorder suggestion");
    assert!(reorder > 0, "{listed:?}");
    assert_eq!(cell(windbreaker, "reorder"), reorder.to_string());
    // What the seller typed is shown as text, never as markup.
    assert!(
        windbreaker.contains("Windbreaker &lt;90s&gt; &amp; &quot;rare&quot;"),
        "{windbreaker}"
    );
    // The small jacket sold nothing (the medium's hold counts as demand): no ETA.
    let small = row(&page, "DNM-JKT-S");
    assert_eq!(cell(small, "velocity"), "0.00", "{small}");
    assert_eq!(cell(small, "eta"), "-", "{small}");

    // Every row has its own edit-stock form, posting to its SKU.
    for sku in ["DNM-JKT-M", "DNM-JKT-S", "VNT-NIKE-WB-001"] {
        let r = row(&page, sku);
        assert!(
            r.contains(&format!(
                r#"<form class="stock-form" method="post" action="/inventory/{sku}/stock">"#
            )),
            "{r}"
        );
        assert!(
            r.contains(r#"name="csrf""#) && r.contains(r#"name="stock""#),
            "{r}"
        );
    }
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn before_any_product_the_page_says_how_to_add_one(pool: PgPool) {
    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;
    let page = browser.page("/inventory").await;
    assert!(page.contains(r#"<p id="no-products">"#), "{page}");
    assert!(!page.contains(r#"<table id="stock">"#), "{page}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn editing_stock_from_the_page_changes_what_can_be_sold(pool: PgPool) {
    product(&pool, "TEE-M", "Band tee", 3).await;
    hold(&pool, "TEE-M", "buyer_1", 1).await;
    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;

    let response = set_stock(&browser, "TEE-M", " 8 ").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let back = location(&response);
    assert!(back.starts_with("/inventory?done="), "{back}");
    assert_eq!(stock_of(&pool, "TEE-M").await, (8, 1, 7));

    let page = browser.page(&back).await;
    assert!(
        page.contains(r#"<p id="flash" role="status">stock of TEE-M set to 8 (7 available)</p>"#),
        "{page}"
    );
    let tee = row(&page, "TEE-M");
    assert_eq!(
        (
            cell(tee, "stock"),
            cell(tee, "reserved"),
            cell(tee, "available")
        ),
        ("8".into(), "1".into(), "7".into())
    );

    // Down to exactly what is held: nothing left to sell, and the row says so.
    let response = set_stock(&browser, "TEE-M", "1").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(stock_of(&pool, "TEE-M").await, (1, 1, 0));
    let page = browser.page("/inventory").await;
    assert!(
        page.contains(r#"<tr data-sku="TEE-M" class="sold-out">"#),
        "{page}"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn stock_below_what_is_reserved_is_refused_with_the_reason(pool: PgPool) {
    product(&pool, "TEE-M", "Band tee", 3).await;
    hold(&pool, "TEE-M", "buyer_1", 2).await;
    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;

    let response = set_stock(&browser, "TEE-M", "1").await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body = response.text().await.expect("body");
    assert!(
        body.contains("stock 1 for `TEE-M` is below the 2 units reserved by pending orders"),
        "{body}"
    );
    assert_eq!(stock_of(&pool, "TEE-M").await, (3, 2, 1));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_stock_that_is_not_a_number_is_a_400_with_the_reason(pool: PgPool) {
    product(&pool, "TEE-M", "Band tee", 3).await;
    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;

    for (typed, reason) in [
        ("ten", "stock `ten` is not a whole number"),
        ("2.5", "stock `2.5` is not a whole number"),
        ("", "stock `` is not a whole number"),
        ("-2", "stock `-2` is negative"),
        ("99999999999", "stock `99999999999` is too large"),
    ] {
        let response = set_stock(&browser, "TEE-M", typed).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{typed:?}");
        let body = response.text().await.expect("body");
        assert!(body.contains(reason), "{typed:?}: {body}");
        assert!(
            body.contains("enter the units on hand as a whole number, 0 or more"),
            "{body}"
        );
    }
    assert_eq!(stock_of(&pool, "TEE-M").await, (3, 0, 3));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_form_without_the_csrf_token_changes_nothing(pool: PgPool) {
    product(&pool, "TEE-M", "Band tee", 3).await;
    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;
    let url = browser.url("/inventory/TEE-M/stock");

    for form in [
        vec![("stock", "40")],
        vec![("csrf", "not-this-sessions-token"), ("stock", "40")],
    ] {
        let response = browser
            .client
            .post(&url)
            .form(&form)
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{form:?}");
        let body = response.text().await.expect("body");
        assert!(body.contains("this form is stale"), "{body}");
    }
    // Nor does a browser without a session, token or not.
    let stranger = Browser::new(&console);
    let response = stranger
        .client
        .post(&url)
        .form(&[("stock", "40")])
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(stock_of(&pool, "TEE-M").await, (3, 0, 3));
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn setting_the_stock_of_an_unknown_sku_is_a_404(pool: PgPool) {
    product(&pool, "TEE-M", "Band tee", 3).await;
    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;
    let response = set_stock(&browser, "NO-SUCH-SKU", "4").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body = response.text().await.expect("body");
    assert!(body.contains("no product with SKU `NO-SUCH-SKU`"), "{body}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_sku_with_url_characters_is_edited_through_its_encoded_path(pool: PgPool) {
    let sku = "BAG/01#A?x=1";
    product(&pool, sku, "Tote", 2).await;
    let console = spawn_console(&pool).await;
    let browser = Browser::signed_in(&console).await;
    let page = browser.page("/inventory").await;
    let action = "/inventory/BAG%2F01%23A%3Fx%3D1/stock";
    assert!(page.contains(&format!(r#"action="{action}""#)), "{page}");

    let response = browser
        .submit("/inventory", action, &[("stock", "6")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(stock_of(&pool, sku).await, (6, 0, 6));
}
