//! Pushing a replayed row's job, shared by every replay (`dlq replay`, `events replay`, the
//! console's DLQ): which queue a [`Target`] goes to, and the push after its reset committed.
//!
//! A replay resets its row in Postgres and commits first; only then is the job pushed. A
//! push that fails leaves a queued row that the worker's sweeper enqueues, so nothing is
//! lost either way: the failure is reported, not raised.

use shopwire_core::db::dead_letters::Target;
use shopwire_core::domain::Provider;
use shopwire_core::jobs::{InboxJob, JobRef, OutboundJob, Queue};

use crate::{QueueClient, QueueError};

/// The queue a replayed row goes to; `None` for a `jobs` row naming a queue no worker
/// drains (or a delivery of a provider this build does not know).
pub fn queue_of(target: &Target) -> Option<Queue> {
    match target {
        Target::Inbox { provider, .. } => {
            provider.parse::<Provider>().ok().map(Queue::for_provider)
        }
        Target::Job { queue, .. } => Queue::from_name(queue),
        Target::Outbound { .. } => Some(Queue::Outbound),
    }
}

/// Why a replayed row's job was not pushed. Its row is queued in Postgres either way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotPushed {
    /// The row names no queue a worker drains.
    #[error("no such queue; left queued in Postgres")]
    NoQueue,
    /// Redis refused or did not answer (this push, or an earlier one of the same replay).
    #[error("push failed ({0}); queued in Postgres, the sweeper will enqueue it")]
    Failed(String),
}

impl QueueClient {
    /// Push `target`'s job to its queue now, in one round trip; the queue it went to.
    /// Call it only after the transaction that reset the row has committed.
    pub async fn push_target(&self, target: &Target) -> Result<Queue, PushTargetError> {
        let queue = queue_of(target).ok_or(PushTargetError::NoQueue)?;
        match target {
            Target::Inbox { id, .. } => self.push(queue, &[InboxJob { inbox_id: *id }]).await?,
            Target::Job { id, .. } => self.push_refs(queue, &[JobRef { job_id: *id }]).await?,
            Target::Outbound { id } => {
                self.push_jobs(
                    queue,
                    &[OutboundJob {
                        delivery_id: id.get(),
                    }],
                )
                .await?
            }
        }
        Ok(queue)
    }
}

/// Why [`QueueClient::push_target`] pushed nothing.
#[derive(Debug, thiserror::Error)]
pub enum PushTargetError {
    /// The row names no queue a worker drains.
    #[error("no such queue")]
    NoQueue,
    /// Redis refused or did not answer.
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// Pushes the jobs of one replay's rows, each after its reset committed. After one failure
/// it stops trying (Redis is away, and each push would wait out its timeout) and reports
/// every later row as not pushed, with that failure.
#[derive(Debug)]
pub struct Pusher {
    client: QueueClient,
    broken: Option<String>,
}

impl Pusher {
    /// Push through `client`.
    pub fn new(client: QueueClient) -> Self {
        Self {
            client,
            broken: None,
        }
    }

    /// Push `target`'s job; the queue it went to, or why it stays for the sweeper.
    pub async fn push(&mut self, target: &Target) -> Result<Queue, NotPushed> {
        if let Some(error) = &self.broken {
            return Err(NotPushed::Failed(error.clone()));
        }
        match self.client.push_target(target).await {
            Ok(queue) => Ok(queue),
            Err(PushTargetError::NoQueue) => Err(NotPushed::NoQueue),
            Err(PushTargetError::Queue(e)) => {
                let error = e.to_string();
                self.broken = Some(error.clone());
                Err(NotPushed::Failed(error))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use shopwire_core::db::inbox::InboxId;
    use shopwire_core::db::jobs::JobId;
    use shopwire_core::outbound::DeliveryId;

    use super::*;

    #[test]
    fn each_target_goes_to_the_queue_its_row_names() {
        let inbox = |provider: &str| Target::Inbox {
            id: InboxId::new(1),
            provider: provider.to_owned(),
        };
        assert_eq!(queue_of(&inbox("stripe")), Some(Queue::StripeEvents));
        assert_eq!(queue_of(&inbox("comments")), Some(Queue::Messages));
        assert_eq!(queue_of(&inbox("tiktok-shop")), Some(Queue::TiktokShop));
        assert_eq!(queue_of(&inbox("nobody")), None);
        let job = |queue: &str| Target::Job {
            id: JobId::new(1),
            queue: queue.to_owned(),
        };
        assert_eq!(queue_of(&job("checkout")), Some(Queue::Checkout));
        assert_eq!(queue_of(&job("gone")), None);
        let outbound = Target::Outbound {
            id: DeliveryId::new(1),
        };
        assert_eq!(queue_of(&outbound), Some(Queue::Outbound));
    }

    #[test]
    fn a_row_not_pushed_says_the_sweeper_has_it() {
        let failed = NotPushed::Failed("redis: connection refused".into()).to_string();
        assert_eq!(
            failed,
            "push failed (redis: connection refused); queued in Postgres, the sweeper will enqueue it"
        );
        assert_eq!(
            NotPushed::NoQueue.to_string(),
            "no such queue; left queued in Postgres"
        );
    }
}
