//! `migrate`, and what every command does when the database is missing or unreachable.

use sqlx::PgPool;

use crate::helpers::Admin;

#[sqlx::test(migrations = false)]
async fn migrate_applies_every_migration_to_a_fresh_database_then_does_nothing(pool: PgPool) {
    let admin = Admin::new(&pool);
    let total = shopwire_core::MIGRATOR.iter().count();

    let first = admin.json(&["migrate"]).await;
    assert_eq!(first["total"], total);
    assert_eq!(first["applied"].as_array().map(Vec::len), Some(total));
    let (products,): (Option<String>,) = sqlx::query_as("SELECT to_regclass('products')::text")
        .fetch_one(&pool)
        .await
        .expect("query");
    assert_eq!(products.as_deref(), Some("products"));

    let second = admin.json(&["migrate"]).await;
    assert_eq!(second["applied"].as_array().map(Vec::len), Some(0));
    let human = admin.run(&["migrate"]).await;
    assert_eq!(
        human.stdout,
        format!("database is up to date ({total} migrations)\n")
    );
}

#[tokio::test]
async fn an_unreachable_database_fails_with_one_clear_line() {
    let admin = Admin::with_database_url("postgres://postgres@127.0.0.1:1/shopwire");
    let run = admin.run(&["migrate"]).await;
    let line = run.failure();
    assert!(
        line.contains("failed to connect to Postgres at 127.0.0.1:1/shopwire"),
        "{line}"
    );
}

#[tokio::test]
async fn a_missing_database_url_fails_naming_the_variable() {
    let admin = Admin::with_database_url("");
    let run = admin.run(&["inventory", "list"]).await;
    assert!(run.failure().contains("DATABASE_URL"), "{run:?}");
}
