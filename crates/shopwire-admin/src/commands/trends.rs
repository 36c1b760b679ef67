//! `trends import|score|top`: load trend signals, score them now, and see which products
//! and signals to push (docs/contract.md §5; the formula is in `docs/trends.md`).

pub mod import;
pub mod score;
pub mod top;

use std::time::Duration;

use clap::Subcommand;
use shopwire_core::db::jobs::JobId;

/// How long pushing the scoring job to Redis may take before the sweeper is left to do it.
const PUSH_DEADLINE: Duration = Duration::from_secs(5);

/// `trends` and its subcommands.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: TrendsCommand,
}

#[derive(Debug, Subcommand)]
enum TrendsCommand {
    /// Load signals from a JSON-lines file and enqueue a scoring run.
    Import(import::Args),
    /// Score every signal and recompute stock velocity now, in this process.
    Score(score::Args),
    /// The best-scored products and signals (with --html FILE, a chart page too).
    Top(top::Args),
}

/// Run a `trends` subcommand.
pub async fn run(args: Args, ctx: &super::Ctx) -> anyhow::Result<()> {
    match args.command {
        TrendsCommand::Import(args) => import::run(args, ctx).await,
        TrendsCommand::Score(args) => score::run(args, ctx).await,
        TrendsCommand::Top(args) => top::run(args, ctx).await,
    }
}

/// Create the scoring job `key` and push it; `None` when Redis did not take it in time
/// (the job row exists, and the worker's sweeper pushes it).
pub(crate) async fn enqueue_scoring(
    ctx: &super::Ctx,
    pool: &sqlx::PgPool,
    key: &str,
) -> anyhow::Result<Option<JobId>> {
    let queue = ctx.queue()?;
    let enqueue = shopwire_insight::trends::enqueue_scoring(pool, &queue, key);
    match tokio::time::timeout(PUSH_DEADLINE, enqueue).await {
        Ok(job) => Ok(Some(job?)),
        Err(_) => Ok(None),
    }
}
