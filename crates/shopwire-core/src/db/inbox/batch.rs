//! Record many verified deliveries with one INSERT and one commit.
//!
//! The web's group commit hands concurrent deliveries here so they share a durable commit
//! instead of paying one each. Every delivery still gets its own answer: `New` if this
//! statement inserted it, `Duplicate` (with the existing id) if it was already there,
//! inserted by a concurrent statement, or repeated inside the batch.

use std::collections::HashMap;

use sqlx::PgPool;

use super::{InboxId, Recorded};
use crate::domain::{Delivery, Provider};

/// One verified delivery waiting to be recorded.
#[derive(Debug, Clone, Copy)]
pub struct NewDelivery<'a> {
    /// Which route it came in on.
    pub provider: Provider,
    /// Its dedupe key and event type.
    pub delivery: &'a Delivery,
    /// The exact bytes received.
    pub body: &'a [u8],
}

/// Record `batch` in one statement; the answers come back in the batch's order.
///
/// Keys are inserted in a fixed (provider, key) order so two batches racing over the same
/// keys wait for each other instead of deadlocking.
pub async fn record_batch(
    pool: &PgPool,
    batch: &[NewDelivery<'_>],
) -> Result<Vec<Recorded>, sqlx::Error> {
    let mut unique: Vec<(&str, &str, &NewDelivery<'_>)> = batch
        .iter()
        .map(|d| (d.provider.as_str(), d.delivery.dedupe_key.as_str(), d))
        .collect();
    unique.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    unique.dedup_by(|a, b| (a.0, a.1) == (b.0, b.1));

    let providers: Vec<&str> = unique.iter().map(|u| u.0).collect();
    let keys: Vec<&str> = unique.iter().map(|u| u.1).collect();
    let event_types: Vec<&str> = unique
        .iter()
        .map(|u| u.2.delivery.event_type.as_str())
        .collect();
    let bodies: Vec<&[u8]> = unique.iter().map(|u| u.2.body).collect();

    let inserted: Vec<(InboxId, String, String)> = sqlx::query_as(
        "INSERT INTO inbox (provider, dedupe_key, event_type, body, status)
         SELECT provider, dedupe_key, event_type, body, 'queued'
           FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bytea[])
                WITH ORDINALITY AS d(provider, dedupe_key, event_type, body, ord)
          ORDER BY ord
         ON CONFLICT (provider, dedupe_key) DO NOTHING
         RETURNING id, provider, dedupe_key",
    )
    .bind(&providers)
    .bind(&keys)
    .bind(&event_types)
    .bind(&bodies)
    .fetch_all(pool)
    .await?;

    let new: HashMap<(String, String), InboxId> = inserted
        .into_iter()
        .map(|(id, provider, key)| ((provider, key), id))
        .collect();
    let existing = if new.len() < unique.len() {
        existing_ids(pool, &unique, &new).await?
    } else {
        HashMap::new()
    };

    // The first copy of a key this statement inserted is new; every other copy, in this
    // batch or from elsewhere, is a duplicate of it.
    let mut answered = std::collections::HashSet::new();
    batch
        .iter()
        .map(|d| {
            let key = (
                d.provider.as_str().to_owned(),
                d.delivery.dedupe_key.clone(),
            );
            match (new.get(&key), existing.get(&key)) {
                (Some(&id), _) if answered.insert(id) => Ok(Recorded::New(id)),
                (Some(&id), _) | (None, Some(&id)) => Ok(Recorded::Duplicate(id)),
                // Recorded by someone else and deleted since: let the provider retry.
                (None, None) => Err(sqlx::Error::RowNotFound),
            }
        })
        .collect()
}

/// Ids of the keys this statement did not insert: a separate statement, so its snapshot
/// sees rows that concurrent statements committed.
async fn existing_ids(
    pool: &PgPool,
    unique: &[(&str, &str, &NewDelivery<'_>)],
    new: &HashMap<(String, String), InboxId>,
) -> Result<HashMap<(String, String), InboxId>, sqlx::Error> {
    let (providers, keys): (Vec<&str>, Vec<&str>) = unique
        .iter()
        .filter(|u| !new.contains_key(&(u.0.to_owned(), u.1.to_owned())))
        .map(|u| (u.0, u.1))
        .unzip();
    let rows: Vec<(InboxId, String, String)> = sqlx::query_as(
        "SELECT i.id, i.provider, i.dedupe_key
           FROM UNNEST($1::text[], $2::text[]) AS d(provider, dedupe_key)
           JOIN inbox i USING (provider, dedupe_key)",
    )
    .bind(&providers)
    .bind(&keys)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, provider, key)| ((provider, key), id))
        .collect())
}
