//! Replays, shared by `dlq replay` and `events replay`: the report, the pushes after
//! commit, and the progress bar.
//!
//! Every replay works through a snapshot taken before it changes anything, resets each
//! row in its own transaction, and only then pushes the job (through `shopwire-queue`'s
//! [`queue_replay`], the one copy of which queue a row goes to): a push that fails leaves a
//! queued row that the sweeper enqueues, so nothing is lost either way.

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use shopwire_core::db::dead_letters::Target;
use shopwire_core::db::inbox::InboxId;
use shopwire_core::db::jobs::JobId;
use shopwire_queue::QueueClient;
use shopwire_queue::replay as queue_replay;

use crate::output::{Tabular, or_dash, table};

/// Replays of at least this many rows show a progress bar (human mode, on a terminal).
const PROGRESS_FROM: usize = 20;

/// What happened to one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Reset in Postgres and pushed to its queue.
    Replayed,
    /// Reset in Postgres, but the push failed: the sweeper enqueues it.
    NotEnqueued,
    /// Left as it was (see `detail`).
    Skipped,
    /// `--dry-run`: would be replayed.
    WouldReplay,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Replayed => "replayed",
            Outcome::NotEnqueued => "not_enqueued",
            Outcome::Skipped => "skipped",
            Outcome::WouldReplay => "would_replay",
        }
    }
}

/// One row of a replay.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    /// The dead job (`dlq replay`) or the delivery (`events replay`).
    pub id: i64,
    /// The queue it goes back to.
    pub queue: String,
    /// The delivery.
    pub inbox_id: Option<InboxId>,
    /// The `jobs` row, for later-stage jobs.
    pub job_id: Option<JobId>,
    /// The row's status before the replay (`events replay`; `null` for `dlq replay`).
    pub status: Option<String>,
    /// What happened.
    pub outcome: Outcome,
    /// Why it was skipped or not enqueued.
    pub detail: Option<String>,
}

impl Tabular for Item {
    const HEADERS: &'static [&'static str] = &[
        "ID", "QUEUE", "INBOX_ID", "JOB_ID", "STATUS", "OUTCOME", "DETAIL",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.queue.clone(),
            or_dash(self.inbox_id),
            or_dash(self.job_id),
            or_dash(self.status.as_deref()),
            self.outcome.as_str().to_owned(),
            or_dash(self.detail.as_deref()),
        ]
    }
}

/// The one document a replay prints.
#[derive(Debug, Serialize)]
pub struct Report {
    /// True with `--dry-run`: nothing changed.
    pub dry_run: bool,
    /// Rows reset (including those not enqueued).
    pub replayed: usize,
    /// Rows left as they were.
    pub skipped: usize,
    /// Rows reset whose push failed; the sweeper enqueues them.
    pub not_enqueued: usize,
    /// Every row of the snapshot, in order.
    pub items: Vec<Item>,
}

impl Report {
    /// A report over `items`, counted.
    pub fn new(dry_run: bool, items: Vec<Item>) -> Self {
        let count = |o: Outcome| items.iter().filter(|i| i.outcome == o).count();
        let not_enqueued = count(Outcome::NotEnqueued);
        Report {
            dry_run,
            replayed: count(Outcome::Replayed) + not_enqueued,
            skipped: count(Outcome::Skipped),
            not_enqueued,
            items,
        }
    }

    /// Print it: JSON, or the rows worth a look and a summary line.
    pub fn print(&self, ctx: &super::super::Ctx) -> anyhow::Result<()> {
        ctx.out.either(self, || self.human())
    }

    fn human(&self) -> String {
        // A dry run lists everything; a real one lists only what needs attention.
        let shown: Vec<Vec<String>> = self
            .items
            .iter()
            .filter(|i| self.dry_run || i.outcome != Outcome::Replayed)
            .map(Tabular::cells)
            .collect();
        let mut text = if shown.is_empty() {
            String::new()
        } else {
            table(Item::HEADERS, &shown)
        };
        if self.dry_run {
            text.push_str(&format!(
                "would replay {}, nothing changed (dry run)\n",
                self.items.len()
            ));
            return text;
        }
        text.push_str(&format!(
            "replayed {}, skipped {}\n",
            self.replayed, self.skipped
        ));
        if self.not_enqueued > 0 {
            text.push_str(&format!(
                "{} replayed but not pushed to Redis: they are queued in Postgres and the \
                 sweeper enqueues them within SWEEP_AFTER_SECS\n",
                self.not_enqueued
            ));
        }
        text
    }
}

/// Pushes jobs after their reset committed ([`shopwire_queue::replay::Pusher`], which the
/// console's DLQ shares), reporting each as a row's outcome and detail.
pub struct Pusher(queue_replay::Pusher);

impl Pusher {
    /// Push through `client`.
    pub fn new(client: QueueClient) -> Self {
        Self(queue_replay::Pusher::new(client))
    }

    /// Push `target`'s job; the outcome and detail for its report row.
    pub async fn push(&mut self, target: &Target) -> (Outcome, Option<String>) {
        match self.0.push(target).await {
            Ok(_) => (Outcome::Replayed, None),
            Err(not_pushed) => (Outcome::NotEnqueued, Some(not_pushed.to_string())),
        }
    }
}

/// A progress bar on stderr for long human-mode replays; hidden otherwise (and hidden by
/// indicatif itself when stderr is not a terminal).
pub fn progress(ctx: &super::super::Ctx, len: usize) -> ProgressBar {
    if ctx.out.is_json() || len < PROGRESS_FROM {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template("replaying {bar:40} {pos}/{len} {eta}") {
        bar.set_style(style);
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(outcome: Outcome) -> Item {
        Item {
            id: 1,
            queue: "messages".into(),
            inbox_id: Some(InboxId::new(1)),
            job_id: None,
            status: None,
            outcome,
            detail: None,
        }
    }

    #[test]
    fn reports_count_not_enqueued_rows_as_replayed() {
        let report = Report::new(
            false,
            vec![
                item(Outcome::Replayed),
                item(Outcome::NotEnqueued),
                item(Outcome::Skipped),
            ],
        );
        assert_eq!(
            (report.replayed, report.skipped, report.not_enqueued),
            (2, 1, 1)
        );
        let text = report.human();
        assert!(text.contains("replayed 2, skipped 1"), "{text}");
        assert!(text.contains("sweeper"), "{text}");
    }

    #[test]
    fn dry_runs_list_every_row_and_say_nothing_changed() {
        let text = Report::new(true, vec![item(Outcome::WouldReplay)]).human();
        assert!(text.contains("would_replay"), "{text}");
        assert!(text.contains("nothing changed"), "{text}");
    }
}
