//! Group commit for the inbox: deliveries arriving together share one INSERT, one durable
//! commit and one Redis push, and each is answered only after that commit.
//!
//! A few flushers take turns on one channel. A flusher takes every delivery waiting (up to
//! [`MAX_BATCH`]) without lingering, so a lone delivery is recorded at once and a burst
//! forms batches on its own while the previous commit is in flight. Synchronous commit
//! stays on; nothing is answered before it is durable (docs/contract.md §8.1).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use shopwire_core::db::inbox::{self, NewDelivery, Recorded};
use shopwire_core::domain::{Delivery, Provider};
use shopwire_core::jobs::{InboxJob, Queue};
use shopwire_queue::QueueClient;
use sqlx::PgPool;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::metrics::{ENQUEUE_FAILURES_TOTAL, INBOX_BATCH_SIZE};

/// Most deliveries in one INSERT.
pub const MAX_BATCH: usize = 64;
/// Batches in flight at once (each holds one pooled connection while it commits).
const FLUSHERS: usize = 4;
/// Deliveries waiting for a flusher before senders wait too (backpressure, not loss).
const WAITING: usize = 4 * 1024;
/// How long a batch's Redis push may take before the sweeper is left to enqueue it.
const ENQUEUE_TIMEOUT: Duration = Duration::from_millis(500);

/// Why a delivery could not be recorded; shared by every delivery of a failed batch.
pub type RecordError = Arc<sqlx::Error>;

/// Cheap to clone; dropping the last clone stops the flushers once they drain.
#[derive(Clone)]
pub struct Recorder {
    waiting: mpsc::Sender<Pending>,
}

struct Pending {
    provider: Provider,
    delivery: Delivery,
    body: Bytes,
    answer: oneshot::Sender<Result<Recorded, RecordError>>,
}

impl Recorder {
    /// Start the flushers on the current runtime.
    pub fn start(pool: PgPool, queue: QueueClient) -> Self {
        let (waiting, receiver) = mpsc::channel(WAITING);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..FLUSHERS {
            tokio::spawn(flush_forever(receiver.clone(), pool.clone(), queue.clone()));
        }
        Self { waiting }
    }

    /// Record a verified delivery and, if it is new, enqueue it; resolves once its batch
    /// has committed. Dropping the future loses nothing: the batch still commits and
    /// enqueues, and the provider's retry is answered `duplicate`.
    pub async fn record(
        &self,
        provider: Provider,
        delivery: Delivery,
        body: Bytes,
    ) -> Result<Recorded, RecordError> {
        let (answer, answered) = oneshot::channel();
        let pending = Pending {
            provider,
            delivery,
            body,
            answer,
        };
        self.waiting.send(pending).await.map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

fn stopped() -> RecordError {
    Arc::new(sqlx::Error::PoolClosed)
}

async fn flush_forever(
    receiver: Arc<Mutex<mpsc::Receiver<Pending>>>,
    pool: PgPool,
    queue: QueueClient,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        // Only the flusher holding the lock waits for work; it takes whatever is there.
        let received = receiver.lock().await.recv_many(&mut batch, MAX_BATCH).await;
        if received == 0 {
            return;
        }
        metrics::histogram!(INBOX_BATCH_SIZE).record(batch.len() as f64);
        flush(&pool, &queue, std::mem::take(&mut batch)).await;
    }
}

async fn flush(pool: &PgPool, queue: &QueueClient, batch: Vec<Pending>) {
    let answers: Vec<Result<Recorded, RecordError>> = match record(pool, &batch).await {
        Ok(answers) => answers.into_iter().map(Ok).collect(),
        // A row Postgres refuses (not a lost connection) must not fail its neighbours:
        // record them one by one so only the offending delivery is refused.
        Err(sqlx::Error::Database(_)) if batch.len() > 1 => one_by_one(pool, &batch).await,
        Err(e) => {
            let e = Arc::new(e);
            batch.iter().map(|_| Err(e.clone())).collect()
        }
    };
    enqueue_new(queue, &batch, &answers).await;
    for (pending, answer) in batch.into_iter().zip(answers) {
        // A receiver that gave up (deadline, disconnect) is fine: the row is durable.
        let _ = pending.answer.send(answer);
    }
}

async fn record(pool: &PgPool, batch: &[Pending]) -> Result<Vec<Recorded>, sqlx::Error> {
    let deliveries: Vec<NewDelivery<'_>> = batch
        .iter()
        .map(|p| NewDelivery {
            provider: p.provider,
            delivery: &p.delivery,
            body: &p.body,
        })
        .collect();
    inbox::record_batch(pool, &deliveries).await
}

async fn one_by_one(pool: &PgPool, batch: &[Pending]) -> Vec<Result<Recorded, RecordError>> {
    let mut answers = Vec::with_capacity(batch.len());
    for pending in batch {
        let answer = record(pool, std::slice::from_ref(pending))
            .await
            .and_then(|one| one.into_iter().next().ok_or(sqlx::Error::RowNotFound))
            .map_err(Arc::new);
        answers.push(answer);
    }
    answers
}

/// One push per queue for the batch's new deliveries. A failure is logged, never
/// surfaced: the rows are durable and the worker's sweeper enqueues them later.
async fn enqueue_new(
    queue: &QueueClient,
    batch: &[Pending],
    answers: &[Result<Recorded, RecordError>],
) {
    let mut jobs: Vec<(Queue, Vec<InboxJob>)> = Vec::new();
    for (pending, answer) in batch.iter().zip(answers) {
        let Ok(Recorded::New(inbox_id)) = answer else {
            continue;
        };
        let target = Queue::for_provider(pending.provider);
        let job = InboxJob {
            inbox_id: *inbox_id,
        };
        match jobs.iter_mut().find(|(q, _)| *q == target) {
            Some((_, list)) => list.push(job),
            None => jobs.push((target, vec![job])),
        }
    }
    for (target, list) in jobs {
        let error = match tokio::time::timeout(ENQUEUE_TIMEOUT, queue.push(target, &list)).await {
            Ok(Ok(())) => continue,
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("redis did not answer within {ENQUEUE_TIMEOUT:?}"),
        };
        metrics::counter!(ENQUEUE_FAILURES_TOTAL, "queue" => target.as_str())
            .increment(list.len() as u64);
        tracing::warn!(
            error,
            queue = target.as_str(),
            deliveries = list.len(),
            "enqueue failed; the sweeper will enqueue them later"
        );
    }
}
