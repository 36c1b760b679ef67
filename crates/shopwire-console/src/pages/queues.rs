//! `/queues`: per queue what Redis holds (pending, scheduled, running) and what Postgres
//! calls dead, the inbox by status and the age of the oldest delivery still waiting — as
//! `shopwire-admin queues` prints them — and the dead-letter queue with a replay button per
//! dead job and one for them all.
//!
//! Postgres is the truth and is always read; when Redis does not answer, the page says why
//! and still shows everything Postgres knows. A replay is `shopwire-admin dlq replay`'s:
//! the dead jobs are snapshotted first, each is claimed (`replayed_at IS NULL`) and reset in
//! its own transaction, and only then pushed to its queue ([`shopwire_queue::replay`]); a
//! push that fails leaves the row queued for the worker's sweeper. So each dead job moves
//! back at most once per click, and a second click finds it already replayed.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use maud::{Markup, html};
use serde::Deserialize;
use shopwire_core::db::dead_letters::{self, DeadJob, DeadJobId, Replay};
use shopwire_core::db::inbox;
use shopwire_core::domain::InboxStatus;
use shopwire_core::jobs::Queue;
use shopwire_queue::Depth;
use shopwire_queue::replay::{NotPushed, Pusher};

use crate::auth::Session;
use crate::error::PageError;
use crate::layout::{Done, Page, Section, csrf_field, encode, flash, or_dash, page, time};
use crate::state::ConsoleState;

/// How long the page waits for Redis's depths.
const REDIS_DEADLINE: Duration = Duration::from_secs(3);
/// Dead jobs the page lists (newest first).
const DEAD_SHOWN: i64 = 200;
/// Skip reasons a replay's notice names, at most.
const REASONS_SHOWN: usize = 3;

/// This page's routes (the router adds the session check).
pub fn routes() -> Router<ConsoleState> {
    Router::new()
        .route("/queues", get(index))
        .route("/queues/dead/replay", post(replay_all))
        .route("/queues/dead/{id}/replay", post(replay_one))
}

/// `GET /queues`.
pub async fn index(
    State(state): State<ConsoleState>,
    Extension(session): Extension<Session>,
    Query(done): Query<Done>,
) -> Result<Page, PageError> {
    let pool = &state.pool;
    let dead_counts = dead_letters::open_counts_by_queue(pool).await?;
    let by_status = inbox::count_by_status(pool).await?;
    let oldest = inbox::oldest_pending_age_secs(pool).await?;
    let dead = dead_letters::list_open(pool, None, DEAD_SHOWN).await?;
    let (depths, redis_error) = depths(&state).await;
    let open_dead: i64 = dead_counts.iter().map(|(_, n)| n).sum();

    let body = html! {
        h1 { "Queues" }
        (flash(done.done.as_deref()))
        @if let Some(error) = &redis_error {
            p #redis-error role="alert" {
                "Redis did not answer (" (error) "): pending, scheduled and running are unknown. "
                "Dead jobs and the inbox below are read from Postgres."
            }
        }
        table #queues {
            thead { tr {
                th { "Queue" } th.num { "Pending" } th.num { "Scheduled" } th.num { "Running" }
                th.num { "Dead" }
            } }
            tbody {
                @for (queue, depth) in Queue::ALL.iter().zip(&depths) {
                    tr.queue data-queue=(queue.as_str()) {
                        td { (queue.as_str()) }
                        td.num.pending { (or_dash(depth.map(|d| d.pending))) }
                        td.num.scheduled { (or_dash(depth.map(|d| d.scheduled))) }
                        td.num.running { (or_dash(depth.map(|d| d.running))) }
                        td.num.dead { (count_of(&dead_counts, queue.as_str())) }
                    }
                }
            }
        }
        h2 { "Inbox" }
        table #inbox {
            thead { tr { @for s in InboxStatus::ALL { th.num { (s.as_str()) } } } }
            tbody { tr {
                @for s in InboxStatus::ALL {
                    td.num data-status=(s.as_str()) { (count_of(&by_status, s.as_str())) }
                }
            } }
        }
        p #oldest-pending {
            "Oldest delivery waiting: "
            @match oldest {
                Some(secs) => span data-age-secs=(secs) { (age(secs)) " old" },
                None => "none waiting",
            }
        }
        (dead_letter_queue(&session, &dead, open_dead))
    };
    Ok(page("Queues", Section::Queues, Some(&session), body))
}

/// Each queue's depth in the order of [`Queue::ALL`] (`None` where Redis did not answer),
/// and the first error, read at once under one deadline.
async fn depths(state: &ConsoleState) -> (Vec<Option<Depth>>, Option<String>) {
    let reads = futures::future::join_all(Queue::ALL.map(|queue| state.queue.depth(queue)));
    match tokio::time::timeout(REDIS_DEADLINE, reads).await {
        Ok(results) => {
            let error = results
                .iter()
                .find_map(|r| r.as_ref().err().map(ToString::to_string));
            (results.into_iter().map(Result::ok).collect(), error)
        }
        Err(_) => (
            vec![None; Queue::ALL.len()],
            Some(format!("no answer within {REDIS_DEADLINE:?}")),
        ),
    }
}

fn dead_letter_queue(session: &Session, dead: &[DeadJob], open: i64) -> Markup {
    html! {
        section #dlq {
            h2 { "Dead-letter queue " span.muted { "(" (open) " open)" } }
            @if dead.is_empty() {
                p #no-dead { "Nothing is dead." }
            } @else {
                form #replay-all method="post" action="/queues/dead/replay"
                    data-confirm="Replay every dead job?" {
                    (csrf_field(session))
                    button type="submit" { "Replay all " (open) }
                }
                @if (dead.len() as i64) < open {
                    p.muted { "The newest " (dead.len()) " are listed; replaying all takes every one." }
                }
                table #dead {
                    thead { tr {
                        th { "Id" } th { "Queue" } th { "What" } th.num { "Attempts" }
                        th { "Died" } th { "Last error" } th {}
                    } }
                    tbody {
                        @for d in dead {
                            tr.dead-job data-id=(d.id) data-queue=(d.queue) {
                                td { (d.id) }
                                td { (d.queue) }
                                td { (what(d)) }
                                td.num { (d.attempts) }
                                td { (time(&d.died_at)) }
                                td.error { (d.last_error) }
                                td {
                                    form.replay method="post" action=(format!("/queues/dead/{}/replay", d.id)) {
                                        (csrf_field(session))
                                        button type="submit" { "Replay" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What a dead job is: a delivery, a later-stage job or an outbound delivery.
fn what(d: &DeadJob) -> String {
    match (d.outbound_delivery_id, d.job_id, d.inbox_id) {
        (Some(delivery), _, _) => format!("outbound delivery #{delivery}"),
        (None, Some(job), Some(inbox)) => format!("job #{job} (of inbox #{inbox})"),
        (None, Some(job), None) => format!("job #{job}"),
        (None, None, Some(inbox)) => format!("inbox #{inbox}"),
        (None, None, None) => "-".to_owned(),
    }
}

/// A replay form: the CSRF token and nothing else.
#[derive(Debug, Deserialize)]
pub struct ReplayForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /queues/dead/{id}/replay`: that dead job, at most once.
pub async fn replay_one(
    State(state): State<ConsoleState>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    Form(form): Form<ReplayForm>,
) -> Result<Redirect, PageError> {
    session.check_csrf(&form.csrf)?;
    let id: DeadJobId = id
        .parse()
        .map_err(|_| PageError::BadRequest(format!("`{id}` is not a dead job's id")))?;
    let dead = dead_letters::get(&state.pool, id)
        .await?
        .ok_or_else(|| PageError::NotFound(format!("no dead job {id}")))?;
    let tally = replay(&state, &[dead]).await?;
    Ok(back(&tally))
}

/// `POST /queues/dead/replay`: every dead job not yet replayed, oldest first, each at most
/// once.
pub async fn replay_all(
    State(state): State<ConsoleState>,
    Extension(session): Extension<Session>,
    Form(form): Form<ReplayForm>,
) -> Result<Redirect, PageError> {
    session.check_csrf(&form.csrf)?;
    let snapshot = dead_letters::snapshot_open(&state.pool, None, None).await?;
    let tally = replay(&state, &snapshot).await?;
    Ok(back(&tally))
}

/// What a replay did.
#[derive(Debug, Default)]
struct Tally {
    /// Reset in Postgres (pushed or not).
    replayed: usize,
    /// Left as they were.
    skipped: usize,
    /// Why the first few were skipped.
    reasons: Vec<String>,
    /// Reset but not pushed, and why: the sweeper enqueues them.
    not_pushed: usize,
    push_error: Option<NotPushed>,
}

/// Replay `snapshot` one dead job at a time, as `dlq replay` does.
async fn replay(state: &ConsoleState, snapshot: &[DeadJob]) -> Result<Tally, PageError> {
    let mut pusher = Pusher::new(state.queue.clone());
    let mut tally = Tally::default();
    for dead in snapshot {
        let skipped = match dead_letters::replay(&state.pool, dead.id).await? {
            Replay::Replayed(target) => {
                tally.replayed += 1;
                if let Err(e) = pusher.push(&target).await {
                    tally.not_pushed += 1;
                    tally.push_error.get_or_insert(e);
                }
                continue;
            }
            Replay::AlreadyReplayed => "already replayed".to_owned(),
            Replay::NotFound => "purged meanwhile".to_owned(),
            Replay::NotDead(Some(status)) => format!("no longer dead (now {status})"),
            Replay::NotDead(None) => "its inbox, job or delivery row is gone".to_owned(),
            Replay::EndpointInactive { endpoint, removed } => format!(
                "endpoint {endpoint} is {}",
                if removed { "removed" } else { "disabled" }
            ),
        };
        tally.skipped += 1;
        if tally.reasons.len() < REASONS_SHOWN {
            tally
                .reasons
                .push(format!("dead job {}: {skipped}", dead.id));
        }
    }
    Ok(tally)
}

/// Back to `/queues`, saying what the replay did.
fn back(tally: &Tally) -> Redirect {
    let mut done = format!("replayed {}, skipped {}", tally.replayed, tally.skipped);
    if !tally.reasons.is_empty() {
        done.push_str(&format!(" ({})", tally.reasons.join("; ")));
    }
    if let Some(error) = &tally.push_error {
        done.push_str(&format!(
            "; {} not pushed to Redis: {error}",
            tally.not_pushed
        ));
    }
    Redirect::to(&format!("/queues?done={}", encode(&done)))
}

fn count_of(counts: &[(String, i64)], key: &str) -> i64 {
    counts.iter().find(|(k, _)| k == key).map_or(0, |(_, n)| *n)
}

/// `42 s`, `3 min 20 s`, `5 h 10 min`, `2 d 3 h`.
fn age(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min {} s", s / 60, s % 60),
        s if s < 86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        s => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_age_is_told_in_its_two_largest_units() {
        assert_eq!(age(0), "0 s");
        assert_eq!(age(59), "59 s");
        assert_eq!(age(200), "3 min 20 s");
        assert_eq!(age(5 * 3600 + 600), "5 h 10 min");
        assert_eq!(age(2 * 86_400 + 3 * 3600 + 5), "2 d 3 h");
    }
}
