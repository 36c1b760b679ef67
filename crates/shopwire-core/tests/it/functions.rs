//! Business rules written in plpgsql live in migrations, and a later migration replaces a
//! function whole (`CREATE OR REPLACE`). The newest migration that defines a function is
//! its one source: the definition deployed by `migrate` must be exactly that text.

use std::collections::BTreeMap;
use std::path::Path;

use sqlx::PgPool;

/// Each function's body (between its `$$` quotes), from the newest migration defining it.
fn newest_definitions() -> BTreeMap<String, (String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the migrations folder exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    files.sort();
    let mut found = BTreeMap::new();
    for file in files {
        let sql = std::fs::read_to_string(&file).expect("migration is text");
        let name = file
            .file_name()
            .expect("a file")
            .to_string_lossy()
            .into_owned();
        let mut rest = sql.as_str();
        while let Some(at) = ["CREATE FUNCTION ", "CREATE OR REPLACE FUNCTION "]
            .iter()
            .filter_map(|keyword| rest.find(keyword).map(|at| at + keyword.len()))
            .min()
        {
            rest = &rest[at..];
            let Some(paren) = rest.find('(') else { break };
            let function = rest[..paren].trim().to_owned();
            let Some(open) = rest.find("$$") else { break };
            let after = &rest[open + 2..];
            let Some(close) = after.find("$$") else { break };
            found.insert(function, (name.clone(), after[..close].to_owned()));
            rest = &after[close + 2..];
        }
    }
    found
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn every_deployed_function_is_its_newest_migrations_text(pool: PgPool) {
    let sources = newest_definitions();
    assert!(
        sources.contains_key("orders_status_moves_forward")
            && sources.contains_key("reserve_message_order"),
        "the rules this test guards are found: {:?}",
        sources.keys().collect::<Vec<_>>()
    );
    let deployed: Vec<(String, String)> = sqlx::query_as(
        "SELECT p.proname::text, p.prosrc
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname = current_schema() AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'plpgsql')",
    )
    .fetch_all(&pool)
    .await
    .expect("catalog readable");
    assert!(!deployed.is_empty(), "migrations define plpgsql functions");
    for (name, body) in deployed {
        let (file, source) = sources
            .get(&name)
            .unwrap_or_else(|| panic!("function {name} is deployed but no migration defines it"));
        assert_eq!(
            &body, source,
            "function {name} as deployed differs from its newest definition in {file}"
        );
    }
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn an_order_status_moves_back_only_from_expired_to_paid(pool: PgPool) {
    sqlx::query(
        "INSERT INTO orders (order_number, source, tiktok_order_id, buyer, total_cents, status)
         VALUES ('ORD-T-1', 'tiktok_shop', 't1', 'b', 100, 'expired'),
                ('ORD-T-2', 'tiktok_shop', 't2', 'b', 100, 'refunded')",
    )
    .execute(&pool)
    .await
    .expect("orders insert");
    sqlx::query("UPDATE orders SET status = 'paid' WHERE order_number = 'ORD-T-1'")
        .execute(&pool)
        .await
        .expect("a late payment may revive an expired order");
    let back = sqlx::query("UPDATE orders SET status = 'paid' WHERE order_number = 'ORD-T-2'")
        .execute(&pool)
        .await
        .expect_err("a refunded order never becomes paid again");
    assert!(
        back.to_string()
            .contains("cannot move from refunded to paid"),
        "{back}"
    );
}
