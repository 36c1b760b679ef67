//! `dlq show ID`: one dead job with the inbox row, `jobs` row or outbound delivery it
//! points at.

use anyhow::Context;
use serde::Serialize;
use shopwire_core::db::dead_letters::{self, DeadJob, DeadJobId};
use shopwire_core::db::inbox::{self, InboxRow};
use shopwire_core::db::jobs::{self, JobRow};
use shopwire_core::db::outbox::{self, DeliveryRow};

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
    /// The outbound delivery, if it was one.
    delivery: Option<DeliveryRow>,
}

const HEADERS: &[&str] = &[
    "ID",
    "QUEUE",
    "INBOX_ID",
    "JOB_ID",
    "DELIVERY_ID",
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
    let delivery = match dead.outbound_delivery_id {
        Some(delivery_id) => outbox::get_delivery(&pool, delivery_id)
            .await
            .context("failed to read its delivery")?,
        None => None,
    };
    let detail = Detail {
        dead,
        inbox,
        job,
        delivery,
    };
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
            or_dash(d.outbound_delivery_id),
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
    if let Some(delivery) = &detail.delivery {
        text.push_str("\ndelivery\n");
        text.push_str(&fields(
            &[
                "ID",
                "EVENT_ID",
                "EVENT_TYPE",
                "ENDPOINT_ID",
                "STATUS",
                "ATTEMPTS",
                "LAST_STATUS_CODE",
                "LAST_ERROR",
            ],
            &[
                delivery.id.to_string(),
                delivery.event_id.to_string(),
                delivery.event_type.clone(),
                delivery.endpoint_id.to_string(),
                delivery.status.as_str().to_owned(),
                delivery.attempts.to_string(),
                or_dash(delivery.last_status_code),
                or_dash(delivery.last_error.as_deref()),
            ],
        ));
    }
    text
}
