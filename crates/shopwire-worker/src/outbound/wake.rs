//! Hand each committed event's deliveries to Redis at once.
//!
//! `emit_event` (the outbox, written in the transaction of the change it reports) NOTIFYs
//! `shopwire_outbound` with the event's id, and Postgres delivers a notification only when
//! its transaction commits: this listener is the after-commit push of every event, whichever
//! code path or trigger wrote it, and a rolled-back change is never sent. Every worker
//! listens; the first to claim an event in Redis pushes its deliveries. A notification lost
//! while the listener reconnects leaves its deliveries queued in Postgres, where the
//! sweeper finds them.

use std::sync::Arc;
use std::time::Duration;

use shopwire_core::db::deliveries;
use shopwire_core::jobs::{OutboundJob, Queue};
use shopwire_core::outbound::DeliveryId;
use sqlx::postgres::PgListener;
use tokio::sync::watch;

use crate::context::JobContext;

/// The channel `emit_event` notifies.
pub const CHANNEL: &str = "shopwire_outbound";
/// How long an event stays claimed by the worker that pushed it.
const CLAIM_TTL: Duration = Duration::from_secs(600);
/// Most notifications handled in one round.
const BATCH: usize = 500;

/// Listen until `stop` turns true, reconnecting when the connection is lost.
pub async fn run(ctx: Arc<JobContext>, mut stop: watch::Receiver<bool>) {
    loop {
        let listening = async {
            let mut listener = PgListener::connect_with(&ctx.pool).await?;
            listener.listen(CHANNEL).await?;
            tracing::debug!("listening for outbound events");
            catch_up(&ctx).await;
            loop {
                let first = listener.recv().await?;
                let mut events = vec![first];
                while events.len() < BATCH
                    && let Some(more) = listener.next_buffered()
                {
                    events.push(more);
                }
                let ids: Vec<i64> = events
                    .iter()
                    .filter_map(|n| n.payload().parse().ok())
                    .collect();
                push(&ctx, &ids).await;
            }
            #[expect(unreachable_code, reason = "the loop ends only by an error")]
            Ok::<(), sqlx::Error>(())
        };
        tokio::select! {
            ended = listening => {
                if let Err(e) = ended {
                    tracing::warn!(error = %e, "outbound listener lost its connection; reconnecting");
                }
            }
            _ = stop.wait_for(|stop| *stop) => return,
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
    }
}

/// Push every delivery still queued: what was committed while no listener heard it (this
/// worker starting, or its listener reconnecting). A copy another worker pushed too is a
/// harmless duplicate: only one claim takes the row.
async fn catch_up(ctx: &JobContext) {
    match deliveries::queued(&ctx.pool, CATCH_UP_LIMIT).await {
        Ok(ids) if !ids.is_empty() => {
            tracing::info!(deliveries = ids.len(), "pushing queued outbound deliveries");
            push_deliveries(ctx, ids).await;
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "could not read queued deliveries; the sweeper will push them")
        }
    }
}

/// Most queued deliveries pushed by one catch-up (the sweeper takes any beyond).
const CATCH_UP_LIMIT: i64 = 50_000;

/// Push the queued deliveries of the events this worker is first to claim.
pub async fn push(ctx: &JobContext, events: &[i64]) {
    let names: Vec<String> = events.iter().map(i64::to_string).collect();
    let mine: Vec<i64> = match ctx
        .queue
        .first_claims("outbound-event", &names, CLAIM_TTL)
        .await
    {
        Ok(first) => events
            .iter()
            .zip(first)
            .filter_map(|(id, first)| first.then_some(*id))
            .collect(),
        // Redis is away: pushing would fail too; the sweeper takes them.
        Err(e) => {
            tracing::warn!(error = %e, events = events.len(), "could not claim outbound events; the sweeper will push them");
            return;
        }
    };
    if mine.is_empty() {
        return;
    }
    match deliveries::queued_for_events(&ctx.pool, &mine).await {
        Ok(ids) => push_deliveries(ctx, ids).await,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the events' deliveries; the sweeper will push them")
        }
    }
}

/// Push committed deliveries to the `outbound` queue.
async fn push_deliveries(ctx: &JobContext, ids: Vec<DeliveryId>) {
    let jobs: Vec<OutboundJob> = ids.into_iter().map(OutboundJob::from).collect();
    ctx.queue.enqueue_after_commit(Queue::Outbound, &jobs).await;
}
