//! `events replay ID` / `events replay [--provider P] --since 2h [--dry-run]`: put
//! deliveries back in their queue, whatever their status but `rejected`.
//!
//! Handlers are idempotent (effects and the `processed` mark commit together), so a
//! replayed delivery that was already processed applies nothing twice. As with
//! `dlq replay`, the rows are snapshotted first; each one is reset in its own
//! transaction only if nothing enqueued it since the snapshot, then pushed.

use anyhow::Context;
use shopwire_core::db::dead_letters::Target;
use shopwire_core::db::inbox::{self, InboxId, InboxRow, RequeueFrom, Requeued};
use shopwire_core::domain::Provider;
use shopwire_queue::replay::queue_of;

use crate::commands::Ctx;
use crate::commands::dlq::age::Age;
use crate::commands::dlq::replay::{self, Item, Outcome, Pusher, Report};
use crate::output::time;

/// Which deliveries to replay.
#[derive(Debug)]
pub enum Selection {
    /// One delivery.
    One(InboxId),
    /// Deliveries received in the last `since`, optionally from one provider.
    Recent {
        /// Only this provider.
        provider: Option<Provider>,
        /// How far back.
        since: Age,
        /// At most this many.
        limit: Option<i64>,
    },
}

/// Replay the selection.
pub async fn run(selection: Selection, dry_run: bool, ctx: &Ctx) -> anyhow::Result<()> {
    let pool = ctx.pool().await?;
    let (snapshot_at, rows) = match selection {
        Selection::One(id) => {
            let row = inbox::get(&pool, id)
                .await
                .context("failed to read the delivery")?
                .with_context(|| format!("no inbox event {id}"))?;
            if let Some(at) = row.body_purged_at {
                anyhow::bail!(
                    "inbox event {id} cannot be replayed: its body was purged at {}",
                    time(&at)
                );
            }
            let now = inbox::db_now(&pool)
                .await
                .context("failed to read the time")?;
            (now, vec![row])
        }
        Selection::Recent {
            provider,
            since,
            limit,
        } => inbox::replay_snapshot(&pool, provider, since.duration(), limit)
            .await
            .context("failed to list deliveries")?,
    };
    let item = |row: &InboxRow, outcome: Outcome, detail: Option<String>| Item {
        id: row.id.get(),
        queue: queue_name(row.id, &row.provider),
        inbox_id: Some(row.id),
        job_id: None,
        status: Some(row.status.clone()),
        outcome,
        detail,
    };
    if dry_run {
        let items = rows
            .iter()
            .map(|row| match row.status.as_str() {
                _ if row.body_purged_at.is_some() => {
                    item(row, Outcome::Skipped, Some(PURGED.to_owned()))
                }
                "rejected" => item(row, Outcome::Skipped, Some(skip_reason(Some("rejected")))),
                _ => item(row, Outcome::WouldReplay, None),
            })
            .collect();
        return Report::new(true, items).print(ctx);
    }
    let mut pusher = Pusher::new(ctx.queue()?);
    let bar = replay::progress(ctx, rows.len());
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        if row.body_purged_at.is_some() {
            items.push(item(row, Outcome::Skipped, Some(PURGED.to_owned())));
            bar.inc(1);
            continue;
        }
        let mut tx = pool
            .begin()
            .await
            .context("failed to begin a transaction")?;
        let requeued = inbox::requeue(&mut tx, row.id, RequeueFrom::AnyBut { snapshot_at })
            .await
            .with_context(|| format!("failed to replay inbox event {}", row.id))?;
        let (outcome, detail) = match requeued {
            Requeued::Yes { provider, .. } => {
                tx.commit()
                    .await
                    .with_context(|| format!("failed to replay inbox event {}", row.id))?;
                pusher
                    .push(&Target::Inbox {
                        id: row.id,
                        provider,
                    })
                    .await
            }
            Requeued::No(status) => (Outcome::Skipped, Some(skip_reason(status.as_deref()))),
        };
        items.push(item(row, outcome, detail));
        bar.inc(1);
    }
    bar.finish_and_clear();
    Report::new(false, items).print(ctx)
}

/// The queue a delivery of `provider` goes back to (the provider itself if unknown).
fn queue_name(id: InboxId, provider: &str) -> String {
    let target = Target::Inbox {
        id,
        provider: provider.to_owned(),
    };
    queue_of(&target).map_or_else(|| provider.to_owned(), |q| q.as_str().to_owned())
}

/// Why a delivery whose body was purged is not replayed (`requeue` refuses it too).
const PURGED: &str = "its body was purged";

/// Why a row in `status` was not reset.
fn skip_reason(status: Option<&str>) -> String {
    match status {
        None => "the delivery is gone",
        Some("rejected") => "rejected deliveries are never processed",
        Some("processing") => "a worker holds its lease",
        Some(_) => "enqueued since this replay began",
    }
    .to_owned()
}
