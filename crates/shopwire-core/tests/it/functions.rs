//! Business rules written in plpgsql live in migrations, and a later migration replaces a
//! function whole (`CREATE OR REPLACE`): the definition deployed by `migrate` must be
//! exactly the newest migration's text. A function with a source file under
//! `crates/shopwire-core/sql/` (migrations generated from it by `scripts/sql-migration.sh`)
//! must also be exactly that file's text.

use std::collections::BTreeMap;
use std::path::Path;

use sqlx::PgPool;

/// Each `(function name, body between its $$ quotes)` that `sql` defines.
fn definitions(sql: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = sql;
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
        found.push((function, after[..close].to_owned()));
        rest = &after[close + 2..];
    }
    found
}

/// The `.sql` files of `dir` (relative to this crate), sorted by name.
fn sql_files(dir: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{} is readable: {e}", dir.display()))
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    files.sort();
    files
}

/// Each function's body from the last of `files` that defines it, with that file's name.
fn newest_definitions(files: &[std::path::PathBuf]) -> BTreeMap<String, (String, String)> {
    let mut found = BTreeMap::new();
    for file in files {
        let sql = std::fs::read_to_string(file).expect("sql is text");
        let name = file
            .file_name()
            .expect("a file")
            .to_string_lossy()
            .into_owned();
        for (function, body) in definitions(&sql) {
            found.insert(function, (name.clone(), body));
        }
    }
    found
}

async fn deployed(pool: &PgPool) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT p.proname::text, p.prosrc
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname = current_schema() AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'plpgsql')",
    )
    .fetch_all(pool)
    .await
    .expect("catalog readable")
}

#[sqlx::test(migrator = "shopwire_core::MIGRATOR")]
async fn every_deployed_function_is_its_newest_migrations_text(pool: PgPool) {
    let sources = newest_definitions(&sql_files("../../migrations"));
    assert!(
        sources.contains_key("orders_status_moves_forward")
            && sources.contains_key("reserve_message_order"),
        "the rules this test guards are found: {:?}",
        sources.keys().collect::<Vec<_>>()
    );
    let deployed = deployed(&pool).await;
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
async fn every_function_with_a_source_file_is_deployed_as_that_file(pool: PgPool) {
    let sources = newest_definitions(&sql_files("sql"));
    assert!(
        sources.contains_key("allocate_claims"),
        "the allocator's source is found: {:?}",
        sources.keys().collect::<Vec<_>>()
    );
    let deployed: BTreeMap<String, String> = deployed(&pool).await.into_iter().collect();
    for (name, (file, source)) in sources {
        let body = deployed
            .get(&name)
            .unwrap_or_else(|| panic!("sql/{file} defines {name}, which no migration deploys"));
        assert_eq!(
            body, &source,
            "function {name} as deployed differs from sql/{file}: generate a migration with scripts/sql-migration.sh"
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
