//! Job payloads and queue names shared by the web (producer) and the worker (consumer).
//!
//! A job carries an inbox id and nothing else: the payload stays in Postgres, and a job
//! that Redis loses is re-created from the inbox by the sweeper.

use serde::{Deserialize, Serialize};

use crate::db::inbox::InboxId;
use crate::db::jobs::JobId;
use crate::domain::Provider;

/// The one job shape on every queue: "process this inbox row".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxJob {
    /// The delivery to process.
    pub inbox_id: InboxId,
}

/// A later-stage job (a `jobs` row, e.g. creating a Checkout Session): "run this job".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRef {
    /// The `jobs` row to run.
    pub job_id: JobId,
}

/// "Allocate this variant's due claims": the allocator's job, scheduled for when a claim's
/// fairness window ends (one per variant at a time: the same member in Redis).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocateJob {
    /// The variant (product row) whose claims to allocate.
    pub product_id: i64,
}

/// "Send this outbound delivery" (docs/contract.md §10): an `outbound_deliveries` row, one
/// event for one endpoint. Serialized as `{"delivery_id": N}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundJob {
    /// The delivery to send.
    pub delivery_id: i64,
}

impl From<crate::outbound::DeliveryId> for OutboundJob {
    fn from(id: crate::outbound::DeliveryId) -> Self {
        OutboundJob {
            delivery_id: id.get(),
        }
    }
}

/// The queues the worker drains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Queue {
    /// TikTok DMs, other TikTok events and live comments: classify, resolve, reserve, order.
    Messages,
    /// Stripe events: the order state machine.
    StripeEvents,
    /// TikTok Shop notifications: order sync.
    TiktokShop,
    /// Stripe Checkout Sessions for new orders (`jobs` rows, [`JobRef`] payloads).
    Checkout,
    /// Replies to buyers' DMs with their checkout link (`jobs` rows, [`JobRef`] payloads).
    Replies,
    /// Trend scoring and stock velocity (`jobs` rows, [`JobRef`] payloads).
    Trends,
    /// Claim allocation per variant ([`AllocateJob`] payloads; the claims table is the truth).
    Claims,
    /// Outbound event deliveries ([`OutboundJob`] payloads; `outbound_deliveries` is the truth).
    Outbound,
}

impl Queue {
    /// Every queue.
    pub const ALL: [Queue; 8] = [
        Queue::Messages,
        Queue::StripeEvents,
        Queue::TiktokShop,
        Queue::Checkout,
        Queue::Replies,
        Queue::Trends,
        Queue::Claims,
        Queue::Outbound,
    ];

    /// The queue named `name` (as stored in `jobs.queue` and `dead_jobs.queue`).
    pub fn from_name(name: &str) -> Option<Queue> {
        Queue::ALL.into_iter().find(|q| q.as_str() == name)
    }

    /// The queue a provider's deliveries go to.
    pub fn for_provider(provider: Provider) -> Queue {
        match provider {
            Provider::Stripe => Queue::StripeEvents,
            Provider::TiktokShop => Queue::TiktokShop,
            Provider::Tiktok | Provider::Comments => Queue::Messages,
        }
    }

    /// The queue of deliveries stored under provider `name` (messages for an unknown one).
    pub fn for_provider_name(name: &str) -> Queue {
        name.parse::<Provider>()
            .map_or(Queue::Messages, Queue::for_provider)
    }

    /// Short name, as shown by `queues` and in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Queue::Messages => "messages",
            Queue::StripeEvents => "stripe-events",
            Queue::TiktokShop => "tiktok-shop",
            Queue::Checkout => "checkout",
            Queue::Replies => "replies",
            Queue::Trends => "trends",
            Queue::Claims => "claims",
            Queue::Outbound => "outbound",
        }
    }

    /// The Redis namespace of this queue under `prefix` (tests use a prefix each).
    pub fn key(self, prefix: &str) -> String {
        format!("{prefix}:{}", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbox_jobs_serialize_as_a_bare_id() {
        let json = serde_json::to_string(&InboxJob {
            inbox_id: InboxId::new(42),
        })
        .expect("serializes");
        assert_eq!(json, r#"{"inbox_id":42}"#);
    }

    #[test]
    fn job_refs_serialize_as_a_bare_id_and_checkout_has_its_queue() {
        let json = serde_json::to_string(&JobRef {
            job_id: JobId::new(7),
        })
        .expect("serializes");
        assert_eq!(json, r#"{"job_id":7}"#);
        assert_eq!(Queue::Checkout.key("t1"), "t1:checkout");
    }

    #[test]
    fn outbound_jobs_serialize_as_a_bare_delivery_id() {
        let json = serde_json::to_string(&OutboundJob { delivery_id: 9 }).expect("serializes");
        assert_eq!(json, r#"{"delivery_id":9}"#);
        assert_eq!(Queue::from_name("outbound"), Some(Queue::Outbound));
        assert_eq!(Queue::Outbound.key("t1"), "t1:outbound");
    }

    #[test]
    fn every_provider_has_a_queue_and_keys_are_prefixed() {
        assert_eq!(Queue::for_provider(Provider::Comments), Queue::Messages);
        assert_eq!(
            Queue::for_provider(Provider::Stripe).key("t1"),
            "t1:stripe-events"
        );
    }
}
