//! `migrate`: apply the embedded migrations (Railway runs it as the release step).

use anyhow::Context;
use serde::Serialize;
use shopwire_core::MIGRATOR;
use sqlx::PgPool;
use sqlx::migrate::Migrate;

/// `migrate` takes no arguments.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// What `migrate` did.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Migrations applied by this run, oldest first.
    pub applied: Vec<Applied>,
    /// Migrations in the binary.
    pub total: usize,
}

/// One migration applied by this run.
#[derive(Debug, Serialize)]
pub struct Applied {
    /// Its version (timestamp).
    pub version: i64,
    /// Its description (from the file name).
    pub description: String,
}

/// Connect, apply what is missing, say what changed.
pub async fn run(_args: Args, ctx: &super::Ctx) -> anyhow::Result<()> {
    let pool = ctx.pool().await?;
    let before = applied_versions(&pool).await?;
    MIGRATOR
        .run(&pool)
        .await
        .context("failed to apply migrations")?;
    let migrations: Vec<_> = MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .collect();
    let report = Report {
        total: migrations.len(),
        applied: migrations
            .into_iter()
            .filter(|m| !before.contains(&m.version))
            .map(|m| Applied {
                version: m.version,
                description: m.description.to_string(),
            })
            .collect(),
    };
    ctx.out.either(&report, || {
        if report.applied.is_empty() {
            return format!("database is up to date ({} migrations)", report.total);
        }
        let mut text = format!(
            "applied {} of {} migrations:\n",
            report.applied.len(),
            report.total
        );
        for m in &report.applied {
            text.push_str(&format!("  {} {}\n", m.version, m.description));
        }
        text
    })
}

/// Versions already applied (creating the empty bookkeeping table if needed, as the
/// migrator itself would).
async fn applied_versions(pool: &PgPool) -> anyhow::Result<Vec<i64>> {
    let mut conn = pool
        .acquire()
        .await
        .context("failed to connect to Postgres")?;
    conn.ensure_migrations_table(&MIGRATOR.table_name)
        .await
        .context("failed to create the migration history table")?;
    let applied = conn
        .list_applied_migrations(&MIGRATOR.table_name)
        .await
        .context("failed to read the migration history")?;
    Ok(applied.into_iter().map(|m| m.version).collect())
}
