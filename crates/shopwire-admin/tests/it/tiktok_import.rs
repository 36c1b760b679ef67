//! `tiktok-shop import-products` (SPEC §12) against a fake TikTok Shop that checks every
//! signature and cipher: a connected shop's live catalog, over two pages, becomes our
//! products and variants linked to their TikTok SKUs; SKUs our catalog cannot take are
//! reported; importing again changes only what changed on TikTok Shop.

use serde_json::{Value, json};
use shopwire_testkit::fake_tiktok_shop::{FakeShop, FakeTiktokShop};
use sqlx::PgPool;

use crate::helpers::{Admin, Run};

const APP_KEY: &str = "import_app_key";
const APP_SECRET: &str = "import_app_secret";
const IMPORT: [&str; 3] = ["tiktok-shop", "import-products", "--json"];
/// Products filling the first page, so the import has to ask for a second.
const FILLERS: usize = 100;

fn shop(id: &str, cipher: &str) -> FakeShop {
    FakeShop {
        id: id.into(),
        name: format!("Shop {id}"),
        region: "US".into(),
        cipher: cipher.into(),
        code: "US1".into(),
    }
}

fn app_env(uri: &str) -> Vec<(&'static str, String)> {
    vec![
        ("TIKTOK_SHOP_APP_KEY", APP_KEY.into()),
        ("TIKTOK_SHOP_APP_SECRETS", APP_SECRET.into()),
        ("TIKTOK_SHOP_API_BASE", uri.into()),
        ("TIKTOK_SHOP_AUTH_BASE", uri.into()),
    ]
}

async fn run(admin: &Admin, args: &[&str], env: &[(&'static str, String)]) -> Run {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    admin.run_with_env(args, &env).await
}

/// A TikTok SKU: its id, seller_sku, price in USD, stock per warehouse and size (if any).
fn sku(id: &str, seller_sku: &str, price: &str, stock: &[i64], size: Option<&str>) -> Value {
    let inventory: Vec<Value> = (stock.iter().enumerate())
        .map(|(i, q)| json!({"quantity": q, "warehouse_id": format!("wh-{i}")}))
        .collect();
    let attributes: Vec<Value> = (size.iter())
        .map(|s| json!({"name": "Size", "value_name": s}))
        .collect();
    json!({"id": id, "seller_sku": seller_sku,
           "price": {"currency": "USD", "tax_exclusive_price": price},
           "inventory": inventory, "sales_attributes": attributes})
}

fn product(id: &str, title: &str, status: &str, skus: Vec<Value>) -> Value {
    json!({"id": id, "title": title, "status": status, "skus": skus})
}

/// The denim jacket, in S/M/L, with the M at `m_price` and `m_stock`.
fn jacket(m_price: &str, m_stock: i64) -> Value {
    let skus = vec![
        sku("sku-200-s", "DNM-S", "59.00", &[1], Some("S")),
        sku("sku-200-m", "DNM-M", m_price, &[m_stock], Some("M")),
        sku("sku-200-l", "DNM-L", "59.00", &[3], Some("L")),
    ];
    product("200", "Denim Jacket", "ACTIVATE", skus)
}

/// A fake whose one seller (code `the-code`) owns shop 111 with a tote, 100 fillers, a
/// SKU without seller_sku, one priced below Stripe's minimum, a draft and the jacket last
/// (on the second page).
async fn catalog() -> FakeTiktokShop {
    let fake = FakeTiktokShop::start(APP_KEY, APP_SECRET).await;
    fake.add_seller(
        "the-code",
        "seller-1",
        "Thrift Queen",
        vec![shop("111", "ROW_one")],
    );
    let tote = sku("sku-100", "TOTE-1", "24.50", &[3, 4], None);
    fake.add_product("111", product("100", "Canvas Tote", "ACTIVATE", vec![tote]));
    for n in 0..FILLERS {
        let filler = sku(
            &format!("sku-f{n}"),
            &format!("FILL-{n}"),
            "5.00",
            &[1],
            None,
        );
        let id = format!("9{n:03}");
        fake.add_product(
            "111",
            product(&id, &format!("Filler {n}"), "ACTIVATE", vec![filler]),
        );
    }
    let mystery = sku("sku-300", "", "10.00", &[5], None);
    fake.add_product(
        "111",
        product("300", "Mystery Box", "ACTIVATE", vec![mystery]),
    );
    let sticker = sku("sku-400", "STICKER", "0.10", &[50], None);
    fake.add_product("111", product("400", "Sticker", "ACTIVATE", vec![sticker]));
    let draft = sku("sku-500", "DRAFT-1", "9.00", &[1], None);
    fake.add_product("111", product("500", "Not Yet", "DRAFT", vec![draft]));
    fake.add_product("111", jacket("59.00", 2));
    fake
}

/// `(title, price_cents, currency, stock_on_hand, product_code, options)` of `sku`.
async fn row(pool: &PgPool, sku: &str) -> (String, i64, String, i32, String, Value) {
    sqlx::query_as(
        "SELECT title, price_cents, currency, stock_on_hand, coalesce(product_code, sku),
                options FROM products WHERE sku = $1",
    )
    .bind(sku)
    .fetch_one(pool)
    .await
    .expect("the product exists")
}

/// Every link as `(sku, shop, tiktok product, tiktok sku, version)`, by SKU.
async fn links(pool: &PgPool) -> Vec<(String, String, String, String, i64)> {
    sqlx::query_as(
        "SELECT p.sku, l.shop_id, l.tiktok_product_id, l.tiktok_sku_id, l.version::bigint
         FROM tiktok_inventory_links l JOIN products p ON p.id = l.product_id ORDER BY p.sku",
    )
    .fetch_all(pool)
    .await
    .expect("links read")
}

/// The summary's counts, in the order of its fields.
fn counts(summary: &Value) -> [u64; 5] {
    [
        "products",
        "skus_created",
        "skus_updated",
        "skus_unchanged",
        "linked",
    ]
    .map(|k| {
        summary[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k}: {summary}"))
    })
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_shops_live_catalog_becomes_linked_products_and_variants_and_reimports_idempotently(
    pool: PgPool,
) {
    let fake = catalog().await;
    let admin = Admin::new(&pool);
    let env = app_env(&fake.uri());
    let connect = ["tiktok-shop", "connect", "--auth-code", "the-code"];
    assert_eq!(run(&admin, &connect, &env).await.code, Some(0));

    let first = run(&admin, &IMPORT, &env).await;
    let summary = first.json();

    assert_eq!(summary["shop_id"], "111");
    let live = (FILLERS + 4) as u64;
    let skus = (FILLERS + 4) as u64;
    assert_eq!(counts(&summary), [live, skus, 0, 0, skus], "{summary}");
    let skipped = summary["skipped"].as_array().expect("skipped");
    let ids: Vec<&str> = skipped
        .iter()
        .filter_map(|s| s["tiktok_sku_id"].as_str())
        .collect();
    assert_eq!(ids, ["sku-300", "sku-400"], "{summary}");
    assert!(
        skipped[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("seller_sku"))
    );
    assert!(
        skipped[1]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("minimum"))
    );
    assert!(
        first.stderr.starts_with("warning: 2 TikTok Shop SKU(s)"),
        "{first:?}"
    );
    assert!(
        first
            .stderr
            .contains("warning: TikTok SKU sku-300 of product 300"),
        "{first:?}"
    );
    assert_eq!(fake.product_searches(), 2, "two pages of 100");

    let tote = row(&pool, "TOTE-1").await;
    assert_eq!(
        tote,
        (
            "Canvas Tote".into(),
            2450,
            "usd".into(),
            7,
            "TOTE-1".into(),
            json!({})
        )
    );
    let m = row(&pool, "DNM-M").await;
    let m_expected = (
        "Denim Jacket (M)".into(),
        5900,
        "usd".into(),
        2,
        "tt-200".into(),
    );
    assert_eq!((m.0, m.1, m.2, m.3, m.4), m_expected);
    assert_eq!(m.5, json!({"size": "M"}));
    assert_eq!(row(&pool, "DNM-L").await.3, 3);
    let absent: (i64,) =
        sqlx::query_as("SELECT count(*) FROM products WHERE sku IN ('STICKER', 'DRAFT-1')")
            .fetch_one(&pool)
            .await
            .expect("counted");
    assert_eq!(absent.0, 0, "refused and draft SKUs are not imported");
    let before = links(&pool).await;
    assert_eq!(before.len() as u64, skus);
    let dnm_m = before
        .iter()
        .find(|l| l.0 == "DNM-M")
        .expect("DNM-M is linked");
    assert_eq!(
        (dnm_m.1.as_str(), dnm_m.2.as_str(), dnm_m.3.as_str()),
        ("111", "200", "sku-200-m")
    );

    let again = run(&admin, &IMPORT, &env).await.json();
    assert_eq!(
        counts(&again),
        [live, 0, 0, skus, 0],
        "nothing changed: {again}"
    );
    assert_eq!(
        links(&pool).await,
        before,
        "no link was touched (no push is due again)"
    );

    fake.add_product("111", jacket("64.00", 9));
    let changed = run(&admin, &["tiktok-shop", "import-products"], &env).await;
    assert_eq!(changed.code, Some(0), "{changed:?}");
    assert!(
        changed.stdout.contains("skus updated: 1\n"),
        "{}",
        changed.stdout
    );
    assert!(changed.stdout.contains("linked: 0\n"), "{}", changed.stdout);
    let m = row(&pool, "DNM-M").await;
    assert_eq!(
        (m.1, m.3),
        (6400, 2),
        "the price follows TikTok; a linked SKU's stock is ours"
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_import_needs_the_app_and_one_connected_shop_or_names_it(pool: PgPool) {
    let fake = FakeTiktokShop::start(APP_KEY, APP_SECRET).await;
    let shops = vec![shop("111", "ROW_one"), shop("222", "ROW_two")];
    fake.add_seller("the-code", "seller-1", "Thrift Queen", shops);
    let mug = sku("sku-1", "MUG-1", "9.99", &[4], None);
    fake.add_product("222", product("1", "Mug", "ACTIVATE", vec![mug]));
    let admin = Admin::new(&pool);
    let env = app_env(&fake.uri());

    let no_app = admin.run(&IMPORT).await;
    assert!(
        no_app.failure().contains("TIKTOK_SHOP_APP_KEY"),
        "{no_app:?}"
    );
    let nothing = run(&admin, &IMPORT, &env).await;
    assert!(
        nothing.failure().contains("tiktok-shop connect"),
        "{nothing:?}"
    );
    let connect = ["tiktok-shop", "connect", "--auth-code", "the-code"];
    assert_eq!(run(&admin, &connect, &env).await.code, Some(0));
    let several = run(&admin, &IMPORT, &env).await;
    assert!(
        several.failure().contains("(111, 222): pass --shop"),
        "{several:?}"
    );
    let unknown = run(&admin, &[&IMPORT[..], &["--shop", "999"]].concat(), &env).await;
    assert!(
        unknown.failure().contains("999 is not connected"),
        "{unknown:?}"
    );
    assert_eq!(
        fake.product_searches(),
        0,
        "nothing was asked of TikTok Shop"
    );

    let other = run(&admin, &[&IMPORT[..], &["--shop", "222"]].concat(), &env)
        .await
        .json();
    assert_eq!(counts(&other), [1, 1, 0, 0, 1], "{other}");
    let linked = links(&pool).await;
    assert_eq!(linked.len(), 1);
    assert_eq!(
        (linked[0].0.as_str(), linked[0].1.as_str()),
        ("MUG-1", "222")
    );
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_shared_seller_sku_or_a_tiktok_sku_linked_to_another_of_ours_is_skipped(pool: PgPool) {
    let fake = FakeTiktokShop::start(APP_KEY, APP_SECRET).await;
    fake.add_seller(
        "the-code",
        "seller-1",
        "Thrift Queen",
        vec![shop("111", "ROW_one")],
    );
    let cap = |sku_id: &str, seller_sku: &str| sku(sku_id, seller_sku, "12.00", &[2], None);
    fake.add_product(
        "111",
        product("1", "Cap", "ACTIVATE", vec![cap("a", "CAP")]),
    );
    fake.add_product(
        "111",
        product("2", "Cap copy", "ACTIVATE", vec![cap("b", "CAP")]),
    );
    let admin = Admin::new(&pool);
    let env = app_env(&fake.uri());
    let connect = ["tiktok-shop", "connect", "--auth-code", "the-code"];
    assert_eq!(run(&admin, &connect, &env).await.code, Some(0));

    let first = run(&admin, &IMPORT, &env).await.json();
    assert_eq!(counts(&first), [2, 1, 0, 0, 1], "{first}");
    assert_eq!(first["skipped"][0]["tiktok_sku_id"], "b");
    let reason = first["skipped"][0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("TikTok SKU a's too"), "{reason}");
    assert_eq!(row(&pool, "CAP").await.0, "Cap", "imported from the first");

    fake.add_product(
        "111",
        product("1", "Cap", "ACTIVATE", vec![cap("a", "CAP-2")]),
    );
    let renamed = run(&admin, &IMPORT, &env).await.json();
    let reason = renamed["skipped"][0]["reason"].as_str().unwrap_or_default();
    assert_eq!(renamed["skipped"][0]["tiktok_sku_id"], "a", "{renamed}");
    assert!(reason.contains("linked to our SKU `CAP`"), "{reason}");
    let absent: Option<(String,)> = sqlx::query_as("SELECT sku FROM products WHERE sku = 'CAP-2'")
        .fetch_optional(&pool)
        .await
        .expect("read");
    assert_eq!(absent, None, "nothing is written for a refused SKU");
}
