//! The claims: written by the bench itself through the core's claim and allocator
//! functions, so each claim's commit instant is known. Claim `n` is due at
//! `start + n / rate` and runs on its own task (open loop): one transaction records its
//! comment (an inbox row, already `processed`), message and pending claim (due at once),
//! then `claims::allocate` decides the variant's due claims in the allocator's own
//! transaction, whose commit fires the triggers' `claim.*` events and their NOTIFY. The
//! instant that call returns is the commit instant of every claim it decided (a
//! concurrent call on the same variant may decide another task's claim; each claim is
//! decided by exactly one).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use shopwire_core::db::claims::{self, AllocationRules, NewClaim};
use shopwire_core::db::inbox::InboxId;
use shopwire_core::db::messages::{self, NewMessage};
use sqlx::PgPool;
use tokio::task::JoinSet;

use crate::payloads;
use crate::report::Errors;

/// What the claims are about.
pub struct Sale {
    /// The claims' pool.
    pub pool: PgPool,
    /// Whose live.
    pub streamer: String,
    /// This run's id (comment ids, buyers).
    pub run: String,
    /// The lineup's variants: claim `n` is for `products[n % len]`.
    pub products: Vec<i64>,
    /// How the allocator decides.
    pub rules: AllocationRules<'static>,
}

/// What a batch of claims did.
#[derive(Debug, Default)]
pub struct Driven {
    /// When each claim (by id) was committed with its outcome.
    pub committed: HashMap<i64, Instant>,
    /// Each claim this batch wrote, by id: when it was due.
    pub scheduled: HashMap<i64, Instant>,
    /// Outcomes, counted.
    pub outcomes: HashMap<String, u64>,
    /// The schedule's start.
    pub start: Option<Instant>,
    /// Claim writes or allocations that failed.
    pub errors: Errors,
}

/// One claim's task: its id, when it was due, and what its allocation decided.
type Done = (Instant, anyhow::Result<(i64, Vec<(i64, String)>, Instant)>);

impl Sale {
    /// Claims `first..first + count` at `rate` per second.
    pub async fn drive(self: &Arc<Self>, first: u64, count: u64, rate: f64) -> Driven {
        let start = Instant::now();
        let mut tasks: JoinSet<Done> = JoinSet::new();
        for i in 0..count {
            let due = start + Duration::from_secs_f64(i as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
            let sale = self.clone();
            tasks.spawn(async move { (due, sale.claim(first + i).await) });
        }
        let mut driven = Driven {
            start: Some(start),
            ..Driven::default()
        };
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((due, Ok((claim_id, decided, at)))) => {
                    driven.scheduled.insert(claim_id, due);
                    for (id, outcome) in decided {
                        driven.committed.entry(id).or_insert(at);
                        *driven.outcomes.entry(outcome).or_default() += 1;
                    }
                }
                Ok((_, Err(e))) => {
                    eprintln!("console: a claim failed: {e:#}");
                    driven.errors.add("claim_failed");
                }
                Err(_) => driven.errors.add("claim_task_panicked"),
            }
        }
        driven
    }

    /// Claim `n`: record it, then allocate its variant. Returns its id, what the
    /// allocation decided (claim id, outcome) and when it returned (committed).
    async fn claim(&self, n: u64) -> anyhow::Result<(i64, Vec<(i64, String)>, Instant)> {
        let product_id = self.products[(n % self.products.len() as u64) as usize];
        let claim_id = self.record(n, product_id).await?;
        let allocation = claims::allocate(&self.pool, product_id, &self.rules)
            .await
            .context("the allocation failed")?;
        let at = Instant::now();
        let decided = allocation
            .decided
            .into_iter()
            .map(|d| (d.claim_id.get(), d.outcome.as_str().to_owned()))
            .collect();
        Ok((claim_id, decided, at))
    }

    /// Records claim `n`'s comment, message and pending claim in one transaction.
    async fn record(&self, n: u64, product_id: i64) -> anyhow::Result<i64> {
        let buyer = payloads::buyer("console", &self.run, n);
        let text = "mine!";
        let now = Utc::now();
        let body = payloads::comment(&self.run, n, &self.streamer, &buyer, text);
        let mut tx = self.pool.begin().await.context("no claim connection")?;
        let (inbox_id,): (i64,) = sqlx::query_as(
            "INSERT INTO inbox (provider, dedupe_key, event_type, body, status, attempts,
                                processed_at)
             VALUES ('comments', $1, 'comment', $2, 'processed', 1, now())
             RETURNING id",
        )
        .bind(format!("bench-{}-{n}", self.run))
        .bind(body.as_bytes())
        .fetch_one(&mut *tx)
        .await
        .context("failed to record the comment")?;
        let message_id = messages::insert(
            &mut tx,
            &NewMessage {
                inbox_id: InboxId::new(inbox_id),
                channel: "comment",
                streamer: Some(&self.streamer),
                buyer: &buyer,
                conversation: None,
                text,
                sent_at: now,
            },
        )
        .await
        .context("failed to record the message")?;
        let claim = claims::insert_pending(
            &mut tx,
            &NewClaim {
                message_id,
                streamer: Some(&self.streamer),
                buyer: &buyer,
                channel: "comment",
                product_id: Some(product_id),
                product_code: None,
                quantity: 1,
                message_time: now,
                // Due at once (the window is the worker's business, not the console's).
                due_at: now - chrono::Duration::seconds(1),
            },
        )
        .await
        .context("failed to record the claim")?;
        tx.commit().await.context("failed to commit the claim")?;
        Ok(claim.get())
    }

    /// Decides whatever is still pending (none, unless a task failed between its two
    /// transactions); returns what that decided.
    pub async fn sweep(&self) -> Driven {
        let mut driven = Driven::default();
        for &product_id in &self.products {
            match claims::allocate(&self.pool, product_id, &self.rules).await {
                Ok(allocation) => {
                    let at = Instant::now();
                    for d in allocation.decided {
                        driven.committed.insert(d.claim_id.get(), at);
                        *driven
                            .outcomes
                            .entry(d.outcome.as_str().to_owned())
                            .or_default() += 1;
                    }
                }
                Err(_) => driven.errors.add("sweep_failed"),
            }
        }
        driven
    }
}
