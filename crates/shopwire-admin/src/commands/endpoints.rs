//! `endpoints add|list|show|disable|enable|rotate-secret|remove`: where outbound events go
//! (docs/contract.md §10).
//!
//! A signing secret is printed twice in an endpoint's life at most: by `add` and by
//! `rotate-secret`, each time once. `list` and `show` never print one.

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::Subcommand;
use serde::Serialize;
use shopwire_core::db::endpoints::{self, Attempt, Endpoint, EndpointError};
use shopwire_core::outbound::{EndpointId, EndpointSecret, Subscription, check_url};

use crate::output::{Tabular, clip, fields, or_dash, table, time};

/// `endpoints` and its subcommands.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: EndpointsCommand,
}

#[derive(Debug, Subcommand)]
enum EndpointsCommand {
    /// Register an endpoint; prints its id and, this once, its signing secret.
    Add {
        /// Where to POST events: https (http and private addresses in development only).
        url: String,
        /// `*` (default), or types and groups: claim.reserved,order.paid or claim.*
        #[arg(long, default_value = "*", value_parser = parse_events)]
        events: Subscription,
        /// A note for operators.
        #[arg(long)]
        description: Option<String>,
    },
    /// Endpoints by id, without removed ones unless --all.
    List {
        /// Include removed endpoints.
        #[arg(long)]
        all: bool,
    },
    /// One endpoint, its deliveries by status and its most recent attempts.
    Show {
        /// The endpoint's id.
        id: EndpointId,
        /// How many recent attempts to show.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i64).range(1..=1000))]
        attempts: i64,
    },
    /// Stop new deliveries to an endpoint.
    Disable {
        /// The endpoint's id.
        id: EndpointId,
        /// Why, for the record.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Deliver to an endpoint again, from the next event on (`outbox replay --endpoint ID
    /// --since …` sends what it missed).
    Enable {
        /// The endpoint's id.
        id: EndpointId,
    },
    /// Give an endpoint a new signing secret; the old one keeps signing for 24 h. Prints the
    /// new secret this once.
    RotateSecret {
        /// The endpoint's id.
        id: EndpointId,
    },
    /// Remove an endpoint for good: it gets no new deliveries and cannot be enabled again;
    /// its deliveries and attempts stay on record.
    Remove {
        /// The endpoint's id.
        id: EndpointId,
        /// Confirm the removal.
        #[arg(long)]
        yes: bool,
    },
}

fn parse_events(text: &str) -> Result<Subscription, String> {
    text.parse()
        .map_err(|e: shopwire_core::outbound::UnknownEventType| e.to_string())
}

/// Run an `endpoints` subcommand.
pub async fn run(args: Args, ctx: &super::Ctx) -> anyhow::Result<()> {
    match args.command {
        EndpointsCommand::Add {
            url,
            events,
            description,
        } => add(ctx, &url, &events, description.as_deref()).await,
        EndpointsCommand::List { all } => {
            let pool = ctx.pool().await?;
            let rows = endpoints::list(&pool, all)
                .await
                .context("failed to list endpoints")?;
            let rows: Vec<View> = rows.iter().map(View::from).collect();
            ctx.out.list(&rows)
        }
        EndpointsCommand::Show { id, attempts } => show(ctx, id, attempts).await,
        EndpointsCommand::Disable { id, reason } => {
            let reason = reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
            let pool = ctx.pool().await?;
            let done = endpoints::disable(&pool, id, reason)
                .await
                .map_err(|e| failed(e, "disable", id))?;
            print_changed(ctx, &done, "disabled")
        }
        EndpointsCommand::Enable { id } => {
            let pool = ctx.pool().await?;
            let done = endpoints::enable(&pool, id)
                .await
                .map_err(|e| failed(e, "enable", id))?;
            print_changed(ctx, &done, "enabled")
        }
        EndpointsCommand::RotateSecret { id } => rotate(ctx, id).await,
        EndpointsCommand::Remove { id, yes } => remove(ctx, id, yes).await,
    }
}

/// An endpoint's refusal as it is (one line naming the endpoint), a database error with
/// what we were doing.
fn failed(e: EndpointError, what: &str, id: EndpointId) -> anyhow::Error {
    match e {
        EndpointError::Db(db) => {
            anyhow::Error::new(db).context(format!("failed to {what} endpoint {id}"))
        }
        refused => anyhow::Error::new(refused),
    }
}

/// An endpoint as `list` and `show` print it: everything but its secrets.
#[derive(Debug, Serialize)]
struct View {
    id: EndpointId,
    url: String,
    state: &'static str,
    event_types: Vec<String>,
    description: Option<String>,
    disabled_at: Option<DateTime<Utc>>,
    disabled_reason: Option<String>,
    removed_at: Option<DateTime<Utc>>,
    /// While a rotation overlaps: when the previous secret stops signing.
    previous_secret_expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<&Endpoint> for View {
    fn from(e: &Endpoint) -> Self {
        View {
            id: e.id,
            url: e.url.clone(),
            state: e.state(),
            event_types: e.event_types.clone(),
            description: e.description.clone(),
            disabled_at: e.disabled_at,
            disabled_reason: e.disabled_reason.clone(),
            removed_at: e.removed_at,
            previous_secret_expires_at: e.previous_secret_expires_at.filter(|at| *at > Utc::now()),
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

impl Tabular for View {
    const HEADERS: &'static [&'static str] =
        &["ID", "STATE", "URL", "EVENTS", "CREATED_AT", "DESCRIPTION"];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.state.to_owned(),
            clip(&self.url, 60),
            clip(&self.event_types.join(","), 40),
            time(&self.created_at),
            or_dash(self.description.as_deref().map(|d| clip(d, 40))),
        ]
    }
}

/// What `add` prints: the endpoint and, this once, its secret.
#[derive(Debug, Serialize)]
struct Added<'a> {
    #[serde(flatten)]
    endpoint: View,
    secret: &'a str,
}

async fn add(
    ctx: &super::Ctx,
    url: &str,
    events: &Subscription,
    description: Option<&str>,
) -> anyhow::Result<()> {
    let policy = ctx.settings.outbound.url_policy(ctx.settings.app_env);
    let url = check_url(url, policy)?;
    let description = description.map(str::trim).filter(|d| !d.is_empty());
    if description.is_some_and(|d| d.chars().count() > 500) {
        bail!("--description must be at most 500 characters");
    }
    let secret = EndpointSecret::generate();
    let pool = ctx.pool().await?;
    let endpoint = endpoints::add(&pool, &url, description, events, &secret)
        .await
        .context("failed to add the endpoint")?;
    let added = Added {
        endpoint: View::from(&endpoint),
        secret: secret.expose(),
    };
    ctx.out.either(&added, || {
        format!(
            "endpoint {id} added: {url} (events: {events})\n\
             secret: {secret}\n\
             This is the only time the secret is shown: store it now \
             (`endpoints rotate-secret {id}` makes a new one).",
            id = endpoint.id,
            url = endpoint.url,
            events = events,
            secret = added.secret,
        )
    })
}

/// What `show` prints.
#[derive(Debug, Serialize)]
struct Shown {
    #[serde(flatten)]
    endpoint: View,
    /// Deliveries by status.
    deliveries: serde_json::Map<String, serde_json::Value>,
    /// Newest first.
    recent_attempts: Vec<Attempt>,
}

async fn show(ctx: &super::Ctx, id: EndpointId, attempts: i64) -> anyhow::Result<()> {
    let pool = ctx.pool().await?;
    let endpoint = endpoints::get(&pool, id)
        .await
        .with_context(|| format!("failed to read endpoint {id}"))?
        .with_context(|| format!("no endpoint {id}"))?;
    let counts = endpoints::delivery_counts(&pool, id)
        .await
        .with_context(|| format!("failed to count endpoint {id}'s deliveries"))?;
    let recent = endpoints::recent_attempts(&pool, id, attempts)
        .await
        .with_context(|| format!("failed to read endpoint {id}'s attempts"))?;
    let shown = Shown {
        endpoint: View::from(&endpoint),
        deliveries: counts
            .iter()
            .map(|(status, n)| (status.clone(), serde_json::Value::from(*n)))
            .collect(),
        recent_attempts: recent,
    };
    ctx.out.either(&shown, || shown.human())
}

impl Shown {
    fn human(&self) -> String {
        let e = &self.endpoint;
        let deliveries: Vec<String> = self
            .deliveries
            .iter()
            .map(|(status, n)| format!("{status} {n}"))
            .collect();
        let mut text = fields(
            &[
                "ID",
                "URL",
                "STATE",
                "EVENTS",
                "DESCRIPTION",
                "DISABLED_AT",
                "DISABLED_REASON",
                "REMOVED_AT",
                "PREVIOUS_SECRET_UNTIL",
                "CREATED_AT",
                "DELIVERIES",
            ],
            &[
                e.id.to_string(),
                e.url.clone(),
                e.state.to_owned(),
                e.event_types.join(","),
                or_dash(e.description.as_deref()),
                or_dash(e.disabled_at.as_ref().map(time)),
                or_dash(e.disabled_reason.as_deref()),
                or_dash(e.removed_at.as_ref().map(time)),
                or_dash(e.previous_secret_expires_at.as_ref().map(time)),
                time(&e.created_at),
                if deliveries.is_empty() {
                    "none".to_owned()
                } else {
                    deliveries.join(", ")
                },
            ],
        );
        text.push_str("\nrecent attempts:\n");
        let rows: Vec<Vec<String>> = self.recent_attempts.iter().map(attempt_cells).collect();
        text.push_str(&table(
            &[
                "ATTEMPTED_AT",
                "DELIVERY",
                "EVENT",
                "TYPE",
                "ATTEMPT",
                "STATUS",
                "MS",
                "ERROR",
            ],
            &rows,
        ));
        if rows.is_empty() {
            text.push_str("(none)\n");
        }
        text
    }
}

fn attempt_cells(a: &Attempt) -> Vec<String> {
    vec![
        time(&a.attempted_at),
        a.delivery_id.to_string(),
        a.event_id.to_string(),
        a.event_type.clone(),
        a.attempt.to_string(),
        or_dash(a.status_code),
        a.duration_ms.to_string(),
        or_dash(a.error.as_deref().map(|e| clip(e, 60))),
    ]
}

/// What `disable` and `enable` print.
#[derive(Debug, Serialize)]
struct Toggled {
    #[serde(flatten)]
    endpoint: View,
    changed: bool,
}

fn print_changed(ctx: &super::Ctx, done: &endpoints::Changed, verb: &str) -> anyhow::Result<()> {
    let toggled = Toggled {
        endpoint: View::from(&done.endpoint),
        changed: done.changed,
    };
    ctx.out.either(&toggled, || {
        let id = done.endpoint.id;
        match (done.changed, &done.endpoint.disabled_reason) {
            (false, _) => format!("endpoint {id} was already {verb}"),
            (true, Some(reason)) => format!("endpoint {id} {verb} (reason: {reason})"),
            (true, None) => format!("endpoint {id} {verb}"),
        }
    })
}

/// What `rotate-secret` prints: the new secret, this once.
#[derive(Debug, Serialize)]
struct Rotated<'a> {
    id: EndpointId,
    secret: &'a str,
    previous_secret_expires_at: Option<DateTime<Utc>>,
}

async fn rotate(ctx: &super::Ctx, id: EndpointId) -> anyhow::Result<()> {
    let secret = EndpointSecret::generate();
    let pool = ctx.pool().await?;
    let endpoint = endpoints::rotate_secret(&pool, id, &secret)
        .await
        .map_err(|e| failed(e, "rotate the secret of", id))?;
    let rotated = Rotated {
        id,
        secret: secret.expose(),
        previous_secret_expires_at: endpoint.previous_secret_expires_at,
    };
    ctx.out.either(&rotated, || {
        format!(
            "endpoint {id}: new secret {}\n\
             This is the only time it is shown: store it now. The previous secret keeps \
             signing until {}.",
            rotated.secret,
            or_dash(rotated.previous_secret_expires_at.as_ref().map(time)),
        )
    })
}

/// What `remove` prints.
#[derive(Debug, Serialize)]
struct RemovedView {
    #[serde(flatten)]
    endpoint: View,
    /// Its deliveries still queued, processing or failed when it was removed.
    pending_deliveries: i64,
}

async fn remove(ctx: &super::Ctx, id: EndpointId, yes: bool) -> anyhow::Result<()> {
    if !yes {
        bail!(
            "refusing to remove endpoint {id} without --yes (it gets no more events and cannot be enabled again)"
        );
    }
    let pool = ctx.pool().await?;
    let removed = endpoints::remove(&pool, id)
        .await
        .map_err(|e| failed(e, "remove", id))?;
    let view = RemovedView {
        endpoint: View::from(&removed.endpoint),
        pending_deliveries: removed.pending_deliveries,
    };
    ctx.out.either(&view, || match view.pending_deliveries {
        0 => format!("endpoint {id} removed"),
        n => format!("endpoint {id} removed; {n} deliveries to it were still pending"),
    })
}
