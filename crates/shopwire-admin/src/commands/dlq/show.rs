//! `dlq show ID`: one dead job with the inbox row and `jobs` row it points at.

use anyhow::Context;
use serde::Serialize;
use shopwire_core::db::dead_letters::{self, DeadJob, DeadJobId};
use shopwire_core::db::inbox::{self, InboxRow};
use shopwire_core::db::jobs::{self, JobRow};

use crate::output::{Tabular, fields, or_dash, time};

/// A dead job and what it points at.
#[derive(Debug, Serialize)]
struct Detail {
    #[serde(flatten)]
    dead: DeadJob,
    /// The delivery it is, or descends from.
    inbox: Option<InboxRow>,
    /// The later-stage job, if it was one.
    job: Option<JobRow>,
}

const HEADERS: &[&str] = &[
    "ID",
    "QUEUE",
    "INBOX_ID",
    "JOB_ID",
    "ATTEMPTS",
    "DIED_AT",
    "REPLAYED_AT",
    "LAST_ERROR",
];

/// Print one dead job.
pub async fn run(id: DeadJobId, ctx: &crate::commands::Ctx) -> anyhow::Result<()> {
    let pool = ctx.pool().await?;
    let dead = dead_letters::get(&pool, id)
        .await
        .context("failed to read the dead job")?
        .with_context(|| format!("no dead job {id}"))?;
    let inbox = match dead.inbox_id {
        Some(inbox_id) => inbox::get(&pool, inbox_id)
            .await
            .context("failed to read its inbox row")?,
        None => None,
    };
    let job = match dead.job_id {
        Some(job_id) => jobs::get(&pool, job_id)
            .await
            .context("failed to read its job row")?,
        None => None,
    };
    let detail = Detail { dead, inbox, job };
    ctx.out.either(&detail, || human(&detail))
}

fn human(detail: &Detail) -> String {
    let d = &detail.dead;
    let mut text = fields(
        HEADERS,
        &[
            d.id.to_string(),
            d.queue.clone(),
            or_dash(d.inbox_id),
            or_dash(d.job_id),
            d.attempts.to_string(),
            time(&d.died_at),
            or_dash(d.replayed_at.as_ref().map(time)),
            d.last_error.clone(),
        ],
    );
    if let Some(row) = &detail.inbox {
        text.push_str("\ninbox row\n");
        text.push_str(&fields(InboxRow::HEADERS, &row.cells()));
    }
    if let Some(job) = &detail.job {
        text.push_str("\njob row\n");
        text.push_str(&fields(
            &[
                "ID",
                "QUEUE",
                "STATUS",
                "ATTEMPTS",
                "SUBJECT_ID",
                "NEXT_ATTEMPT_AT",
                "LAST_ERROR",
            ],
            &[
                job.id.to_string(),
                job.queue.clone(),
                job.status.clone(),
                job.attempts.to_string(),
                or_dash(job.subject_id),
                time(&job.next_attempt_at),
                or_dash(job.last_error.as_deref()),
            ],
        ));
    }
    text
}
