//! `tiktok-shop connect|shops` (SPEC §12) against a fake TikTok Shop that checks every
//! signature: a seller connects with an authorization code, the shops and their token
//! health are listed, and no token is ever printed.

use shopwire_testkit::fake_tiktok_shop::{FakeShop, FakeTiktokShop};
use sqlx::PgPool;

use crate::helpers::Admin;

const APP_KEY: &str = "admin_app_key";
const APP_SECRET: &str = "admin_app_secret";

async fn fake() -> FakeTiktokShop {
    let fake = FakeTiktokShop::start(APP_KEY, APP_SECRET).await;
    let shop = |id: &str, cipher: &str| FakeShop {
        id: id.into(),
        name: format!("Shop {id}"),
        region: "US".into(),
        cipher: cipher.into(),
        code: "US1".into(),
    };
    fake.add_seller(
        "the-code",
        "seller-1",
        "Thrift Queen",
        vec![shop("111", "ROW_one"), shop("222", "ROW_two")],
    );
    fake
}

fn app_env(uri: &str) -> Vec<(&'static str, String)> {
    vec![
        ("TIKTOK_SHOP_APP_KEY", APP_KEY.into()),
        ("TIKTOK_SHOP_APP_SECRETS", APP_SECRET.into()),
        ("TIKTOK_SHOP_API_BASE", uri.into()),
        ("TIKTOK_SHOP_AUTH_BASE", uri.into()),
    ]
}

async fn run(admin: &Admin, args: &[&str], env: &[(&'static str, String)]) -> crate::helpers::Run {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    admin.run_with_env(args, &env).await
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_seller_connects_with_a_code_and_their_shops_are_listed_healthy(pool: PgPool) {
    let fake = fake().await;
    let admin = Admin::new(&pool);
    let env = app_env(&fake.uri());

    let connected = run(
        &admin,
        &[
            "tiktok-shop",
            "connect",
            "--auth-code",
            "the-code",
            "--json",
        ],
        &env,
    )
    .await
    .json();
    let shops = run(&admin, &["tiktok-shop", "shops", "--json"], &env)
        .await
        .json();
    let human = run(&admin, &["tiktok-shop", "shops"], &env).await;

    assert_eq!(connected["seller_name"], "Thrift Queen");
    assert_eq!(connected["shops"].as_array().map(Vec::len), Some(2));
    let rows = shops.as_array().expect("a list");
    let ids: Vec<&str> = rows.iter().filter_map(|r| r["shop_id"].as_str()).collect();
    assert_eq!(ids, ["111", "222"]);
    assert!(
        rows.iter()
            .all(|r| r["status"] == "connected" && r["health"] == "ok"),
        "{shops}"
    );
    assert_eq!(rows[0]["cipher"], "ROW_one");
    assert_eq!(human.code, Some(0), "{human:?}");
    assert!(
        human.stdout.contains("TOKEN_EXPIRES_AT"),
        "{}",
        human.stdout
    );
    let token = fake.current_access_token("seller-1").expect("issued");
    for printed in [connected.to_string(), shops.to_string(), human.stdout] {
        assert!(!printed.contains(&token), "a token was printed: {printed}");
        assert!(
            !printed.contains(APP_SECRET),
            "the secret was printed: {printed}"
        );
    }
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn a_refused_code_is_one_line_naming_tiktoks_reason(pool: PgPool) {
    let fake = fake().await;
    let admin = Admin::new(&pool);
    let env = app_env(&fake.uri());

    let run = run(
        &admin,
        &["tiktok-shop", "connect", "--auth-code", "not-the-code"],
        &env,
    )
    .await;

    let line = run.failure();
    assert!(line.contains("36004009"), "{line}");
    assert!(!line.contains(APP_SECRET), "{line}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn connecting_without_the_app_key_names_what_is_missing(pool: PgPool) {
    let admin = Admin::new(&pool);

    let run = admin
        .run(&["tiktok-shop", "connect", "--auth-code", "x"])
        .await;

    let line = run.failure();
    assert!(line.contains("TIKTOK_SHOP_APP_KEY"), "{line}");
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn inventory_link_ties_a_sku_to_a_tiktok_sku_and_names_what_is_wrong(pool: PgPool) {
    let fake = fake().await;
    let admin = Admin::new(&pool);
    let env = app_env(&fake.uri());
    let link = [
        "inventory",
        "link",
        "MUG-1",
        "--tiktok-product-id",
        "17295",
        "--tiktok-sku-id",
        "17296",
    ];

    let nothing_connected = run(&admin, &link, &env).await;
    assert!(
        nothing_connected.failure().contains("tiktok-shop connect"),
        "{nothing_connected:?}"
    );
    run(
        &admin,
        &["tiktok-shop", "connect", "--auth-code", "the-code"],
        &env,
    )
    .await;
    let several = run(&admin, &link, &env).await;
    assert!(several.failure().contains("--shop"), "{several:?}");
    let mut with_shop = link.to_vec();
    with_shop.extend(["--shop", "111"]);
    let unknown_sku = run(&admin, &with_shop, &env).await;
    assert!(unknown_sku.failure().contains("MUG-1"), "{unknown_sku:?}");
    run(
        &admin,
        &[
            "inventory",
            "set",
            "MUG-1",
            "--title",
            "Mug",
            "--price",
            "9.99",
            "--stock",
            "4",
        ],
        &env,
    )
    .await;
    with_shop.push("--json");
    let linked = run(&admin, &with_shop, &env).await.json();

    assert_eq!(linked["sku"], "MUG-1");
    assert_eq!(linked["shop_id"], "111");
    assert_eq!(linked["tiktok_sku_id"], "17296");
    assert_eq!(linked["available"], 4);
    assert_eq!(linked["pending"], true, "the stock now is due to be pushed");
}
