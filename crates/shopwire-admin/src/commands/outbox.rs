//! `outbox list|replay`: the outbound event log (docs/contract.md §10) and sending
//! deliveries again.
//!
//! A replay changes Postgres in one transaction and only then pushes the delivery ids to
//! the `outbound` queue; a push that fails leaves queued rows, which the worker's sweeper
//! enqueues, so the report says so instead of failing.

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Subcommand;
use serde::Serialize;
use shopwire_core::db::endpoints::{self, EndpointError};
use shopwire_core::db::outbox::{
    self, DeliveryFilter, DeliveryReplay, DeliveryRow, EventFilter, EventRow, SinceAction,
    SinceItem, SinceReplay,
};
use shopwire_core::jobs::{OutboundJob, Queue};
use shopwire_core::outbound::{DeliveryId, DeliveryStatus, EndpointId, EventType};

use super::dlq::age::Age;
use super::dlq::replay::Outcome;
use crate::output::{Tabular, clip, or_dash, table, time};

/// `outbox` and its subcommands.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: OutboxCommand,
}

#[derive(Debug, Subcommand)]
enum OutboxCommand {
    /// Deliveries newest first (one event for one endpoint each); events with --events.
    List {
        /// Only this endpoint's.
        #[arg(long)]
        endpoint: Option<EndpointId>,
        /// Only this delivery status: queued, processing, processed, failed or dead.
        #[arg(long, conflicts_with = "events")]
        status: Option<DeliveryStatus>,
        /// Only events of this type (claim.reserved, order.paid, …).
        #[arg(long = "type")]
        event_type: Option<EventType>,
        /// List events, with how many of their deliveries were accepted.
        #[arg(long)]
        events: bool,
        /// At most this many rows.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        limit: i64,
    },
    /// Send again: one dead or failed delivery (attempts reset), or everything an endpoint
    /// should have had since a time (missing deliveries made, dead ones put back).
    #[command(group(clap::ArgGroup::new("which").required(true).args(["id", "endpoint"])))]
    Replay {
        /// The delivery's id.
        #[arg(conflicts_with = "endpoint")]
        id: Option<DeliveryId>,
        /// The endpoint whose events to send again (with --since).
        #[arg(long, requires = "since")]
        endpoint: Option<EndpointId>,
        /// Events that happened within this age: 2h, 90m, 1d, …
        #[arg(long, requires = "endpoint")]
        since: Option<Age>,
        /// Say what would be replayed and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Run an `outbox` subcommand.
pub async fn run(args: Args, ctx: &super::Ctx) -> anyhow::Result<()> {
    match args.command {
        OutboxCommand::List {
            endpoint,
            status,
            event_type,
            events,
            limit,
        } => {
            let pool = ctx.pool().await?;
            if events {
                let filter = EventFilter {
                    endpoint,
                    event_type,
                };
                let rows = outbox::list_events(&pool, filter, limit)
                    .await
                    .context("failed to list outbox events")?;
                let total = outbox::count_events(&pool, filter)
                    .await
                    .context("failed to count outbox events")?;
                return ctx.out.list_of(&rows, total);
            }
            let filter = DeliveryFilter {
                endpoint,
                status,
                event_type,
            };
            let rows = outbox::list_deliveries(&pool, filter, limit)
                .await
                .context("failed to list outbound deliveries")?;
            let total = outbox::count_deliveries(&pool, filter)
                .await
                .context("failed to count outbound deliveries")?;
            ctx.out.list_of(&rows, total)
        }
        OutboxCommand::Replay {
            id: Some(id),
            dry_run,
            ..
        } => replay_one(ctx, id, dry_run).await,
        OutboxCommand::Replay {
            endpoint: Some(endpoint),
            since: Some(since),
            dry_run,
            ..
        } => replay_since(ctx, endpoint, since, dry_run).await,
        OutboxCommand::Replay { .. } => {
            anyhow::bail!("give a delivery id, or --endpoint and --since")
        }
    }
}

impl Tabular for DeliveryRow {
    const HEADERS: &'static [&'static str] = &[
        "ID",
        "EVENT",
        "TYPE",
        "ENDPOINT",
        "STATUS",
        "ATTEMPTS",
        "NEXT_ATTEMPT_AT",
        "HTTP",
        "CREATED_AT",
        "LAST_ERROR",
    ];

    fn cells(&self) -> Vec<String> {
        let pending = !matches!(
            self.status,
            DeliveryStatus::Processed | DeliveryStatus::Dead
        );
        vec![
            self.id.to_string(),
            self.event_id.to_string(),
            self.event_type.clone(),
            self.endpoint_id.to_string(),
            self.status.to_string(),
            self.attempts.to_string(),
            or_dash(pending.then(|| time(&self.next_attempt_at))),
            or_dash(self.last_status_code),
            time(&self.created_at),
            or_dash(self.last_error.as_deref().map(|e| clip(e, 60))),
        ]
    }
}

impl Tabular for EventRow {
    const HEADERS: &'static [&'static str] = &[
        "ID",
        "TYPE",
        "SUBJECT",
        "OCCURRED_AT",
        "DELIVERED",
        "DEDUPE_KEY",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.event_type.clone(),
            or_dash(self.subject.as_deref()),
            time(&self.occurred_at),
            format!("{}/{}", self.delivered, self.deliveries),
            clip(&self.dedupe_key, 40),
        ]
    }
}

/// Push `ids` to the outbound queue; the detail to report when that failed.
async fn push(ctx: &super::Ctx, ids: &[DeliveryId]) -> anyhow::Result<Option<String>> {
    if ids.is_empty() {
        return Ok(None);
    }
    let jobs: Vec<OutboundJob> = ids
        .iter()
        .map(|id| OutboundJob {
            delivery_id: id.get(),
        })
        .collect();
    Ok(match ctx.queue()?.push_jobs(Queue::Outbound, &jobs).await {
        Ok(()) => None,
        Err(e) => Some(format!(
            "push to the {} queue failed ({e}); queued in Postgres, the worker's sweeper will enqueue it",
            Queue::Outbound.as_str()
        )),
    })
}

/// One row of `outbox replay ID`.
#[derive(Debug, Serialize)]
struct OneItem {
    delivery_id: DeliveryId,
    endpoint_id: EndpointId,
    event_id: shopwire_core::outbound::EventId,
    event_type: String,
    status: DeliveryStatus,
    outcome: Outcome,
    detail: Option<String>,
}

/// What `outbox replay ID` prints, in the shape of `dlq replay`'s report.
#[derive(Debug, Serialize)]
struct OneReport {
    dry_run: bool,
    replayed: usize,
    skipped: usize,
    not_enqueued: usize,
    items: Vec<OneItem>,
}

async fn replay_one(ctx: &super::Ctx, id: DeliveryId, dry_run: bool) -> anyhow::Result<()> {
    let pool = ctx.pool().await?;
    let row = outbox::get_delivery(&pool, id)
        .await
        .with_context(|| format!("failed to read delivery {id}"))?
        .with_context(|| format!("no delivery {id}"))?;
    let (outcome, detail) = if dry_run {
        let endpoint = endpoints::get(&pool, row.endpoint_id)
            .await
            .with_context(|| format!("failed to read endpoint {}", row.endpoint_id))?;
        match (row.status, endpoint) {
            (DeliveryStatus::Dead | DeliveryStatus::Failed, Some(e)) if e.is_active() => {
                (Outcome::WouldReplay, None)
            }
            (DeliveryStatus::Dead | DeliveryStatus::Failed, e) => (
                Outcome::Skipped,
                Some(inactive(
                    row.endpoint_id,
                    e.is_some_and(|e| e.removed_at.is_some()),
                )),
            ),
            (status, _) => (Outcome::Skipped, Some(not_replayable(status))),
        }
    } else {
        let replayed = outbox::replay_delivery(&pool, id)
            .await
            .with_context(|| format!("failed to replay delivery {id}"))?;
        match replayed {
            DeliveryReplay::Replayed { .. } => match push(ctx, &[id]).await? {
                None => (Outcome::Replayed, None),
                Some(detail) => (Outcome::NotEnqueued, Some(detail)),
            },
            DeliveryReplay::NotFound => (Outcome::Skipped, Some("the delivery is gone".into())),
            DeliveryReplay::NotReplayable(status) => {
                (Outcome::Skipped, Some(not_replayable(status)))
            }
            DeliveryReplay::EndpointInactive { endpoint, removed } => {
                (Outcome::Skipped, Some(inactive(endpoint, removed)))
            }
        }
    };
    let count = |o: Outcome| usize::from(outcome == o);
    let report = OneReport {
        dry_run,
        replayed: count(Outcome::Replayed) + count(Outcome::NotEnqueued),
        skipped: count(Outcome::Skipped),
        not_enqueued: count(Outcome::NotEnqueued),
        items: vec![OneItem {
            delivery_id: row.id,
            endpoint_id: row.endpoint_id,
            event_id: row.event_id,
            event_type: row.event_type,
            status: row.status,
            outcome,
            detail,
        }],
    };
    ctx.out.either(&report, || {
        let item = &report.items[0];
        let detail = item.detail.as_deref().unwrap_or_default();
        match item.outcome {
            Outcome::WouldReplay => format!(
                "would replay delivery {id} ({}, now {}); nothing changed (dry run)",
                item.event_type, item.status
            ),
            Outcome::Replayed => format!(
                "replayed delivery {id} ({} to endpoint {}, was {})",
                item.event_type, item.endpoint_id, item.status
            ),
            Outcome::NotEnqueued => format!("replayed delivery {id}, but {detail}"),
            Outcome::Skipped => format!("skipped delivery {id}: {detail}"),
        }
    })
}

fn not_replayable(status: DeliveryStatus) -> String {
    format!("it is {status}, not dead or failed; nothing changed")
}

fn inactive(endpoint: EndpointId, removed: bool) -> String {
    if removed {
        format!("endpoint {endpoint} was removed; nothing changed")
    } else {
        format!(
            "endpoint {endpoint} is disabled (endpoints enable {endpoint} first); nothing changed"
        )
    }
}

/// One event of `outbox replay --endpoint ID --since AGE`.
#[derive(Debug, Serialize)]
struct SinceRow {
    event_id: shopwire_core::outbound::EventId,
    event_type: String,
    occurred_at: DateTime<Utc>,
    delivery_id: Option<DeliveryId>,
    /// The delivery's status before the replay (`null`: it had none).
    status: Option<DeliveryStatus>,
    action: Option<SinceAction>,
    outcome: Outcome,
    detail: Option<String>,
}

/// What `outbox replay --endpoint ID --since AGE` prints.
#[derive(Debug, Serialize)]
struct SinceReport {
    dry_run: bool,
    endpoint_id: EndpointId,
    since: String,
    /// Deliveries made for events the endpoint had none for.
    created: usize,
    /// Dead deliveries put back.
    requeued: usize,
    /// Events whose delivery was accepted or is on its way, left alone.
    left: usize,
    /// Deliveries made or put back whose push failed; the sweeper enqueues them.
    not_enqueued: usize,
    items: Vec<SinceRow>,
}

async fn replay_since(
    ctx: &super::Ctx,
    endpoint: EndpointId,
    since: Age,
    dry_run: bool,
) -> anyhow::Result<()> {
    let pool = ctx.pool().await?;
    let replay: SinceReplay =
        match outbox::replay_endpoint_since(&pool, endpoint, since.duration(), dry_run).await {
            Ok(replay) => replay,
            Err(EndpointError::Db(e)) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("failed to replay endpoint {endpoint}'s events")));
            }
            Err(refused) => return Err(refused.into()),
        };
    let to_push = replay.to_push();
    let failed_push = push(ctx, &to_push).await?;
    let items: Vec<SinceRow> = replay
        .items
        .into_iter()
        .map(|item: SinceItem| {
            let sent = matches!(
                item.action,
                Some(SinceAction::Create | SinceAction::Requeue)
            );
            let (outcome, detail) = match (dry_run, sent, &failed_push) {
                (true, true, _) => (Outcome::WouldReplay, None),
                (false, true, None) => (Outcome::Replayed, None),
                (false, true, Some(detail)) => (Outcome::NotEnqueued, Some(detail.clone())),
                (_, false, _) => (
                    Outcome::Skipped,
                    Some(match item.action {
                        Some(SinceAction::Delivered) => "already delivered".to_owned(),
                        _ => "still on its way".to_owned(),
                    }),
                ),
            };
            SinceRow {
                event_id: item.event_id,
                event_type: item.event_type,
                occurred_at: item.occurred_at,
                delivery_id: item.delivery_id,
                status: item.status,
                action: item.action,
                outcome,
                detail,
            }
        })
        .collect();
    let report = SinceReport {
        dry_run,
        endpoint_id: endpoint,
        since: since.to_string(),
        created: replay.created,
        requeued: replay.requeued,
        left: replay.left,
        not_enqueued: items
            .iter()
            .filter(|i| i.outcome == Outcome::NotEnqueued)
            .count(),
        items,
    };
    ctx.out.either(&report, || report.human())
}

impl SinceReport {
    fn human(&self) -> String {
        let shown: Vec<Vec<String>> = self
            .items
            .iter()
            .filter(|i| self.dry_run || i.outcome != Outcome::Replayed)
            .map(|i| {
                vec![
                    i.event_id.to_string(),
                    i.event_type.clone(),
                    time(&i.occurred_at),
                    or_dash(i.delivery_id),
                    or_dash(i.status),
                    or_dash(i.action.map(action_name)),
                    or_dash(i.detail.as_deref()),
                ]
            })
            .collect();
        let mut text = if shown.is_empty() {
            String::new()
        } else {
            table(
                &[
                    "EVENT",
                    "TYPE",
                    "OCCURRED_AT",
                    "DELIVERY",
                    "STATUS",
                    "ACTION",
                    "DETAIL",
                ],
                &shown,
            )
        };
        let (made, put_back) = if self.dry_run {
            ("would create", "would requeue")
        } else {
            ("created", "requeued")
        };
        text.push_str(&format!(
            "endpoint {}, events of the last {}: {made} {}, {put_back} {}, left {}",
            self.endpoint_id, self.since, self.created, self.requeued, self.left
        ));
        if self.dry_run {
            text.push_str("; nothing changed (dry run)");
        }
        text.push('\n');
        if self.not_enqueued > 0 {
            text.push_str(&format!(
                "{} deliveries not pushed to Redis: they are queued in Postgres and the worker's \
                 sweeper enqueues them\n",
                self.not_enqueued
            ));
        }
        text
    }
}

fn action_name(action: SinceAction) -> &'static str {
    match action {
        SinceAction::Create => "create",
        SinceAction::Requeue => "requeue",
        SinceAction::Delivered => "delivered",
        SinceAction::Pending => "pending",
    }
}
