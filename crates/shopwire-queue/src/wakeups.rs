//! Wake idle workers the moment a job is pushed, instead of at their next poll tick.
//!
//! Every push that is due now publishes on its queue's `wake_channel`. One pub/sub
//! connection per worker process turns those messages into wake-ups for that queue's
//! worker. Polling stays underneath as the fallback: a lost
//! message or a dropped subscription costs at most one poll interval, never a job.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Context;
use std::time::Duration;

use futures::StreamExt;
use futures::task::AtomicWaker;
use shopwire_core::jobs::Queue;

use crate::QueueClient;

/// A flag a queue's worker checks before sleeping; set by a push notification.
#[derive(Debug, Default)]
pub struct Wakeup {
    set: AtomicBool,
    waker: AtomicWaker,
}

impl Wakeup {
    /// A new, unset wake-up to share between the listener and one queue's workers.
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Wake whoever waits on this queue (now, or at its next look).
    pub fn signal(&self) {
        self.set.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// True (and reset) if signalled since the last call; otherwise remember `cx`'s waker
    /// so the next signal wakes it. Registers before the second check: no lost wake-up.
    pub fn take(&self, cx: &Context<'_>) -> bool {
        if self.set.swap(false, Ordering::AcqRel) {
            return true;
        }
        self.waker.register(cx.waker());
        self.set.swap(false, Ordering::AcqRel)
    }
}

/// How long to wait before subscribing again after the subscription failed or ended.
const RESUBSCRIBE_AFTER: Duration = Duration::from_secs(1);
/// Deadline for opening the pub/sub connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

impl QueueClient {
    /// The channel a push to `queue` publishes on.
    pub fn wake_channel(&self, queue: Queue) -> String {
        format!("{}:pushed", queue.key(self.prefix()))
    }

    /// Turn push notifications into wake-ups, for as long as the returned future runs
    /// (spawn it; drop or abort it on shutdown). Reconnects by itself; after every
    /// (re)subscription it wakes every queue once, in case a push went unheard meanwhile.
    pub async fn listen_for_pushes(self, wakeups: Vec<(Queue, Arc<Wakeup>)>) {
        let channels: HashMap<String, Arc<Wakeup>> = wakeups
            .into_iter()
            .map(|(queue, wakeup)| (self.wake_channel(queue), wakeup))
            .collect();
        loop {
            match self.subscribe(&channels).await {
                Ok(pubsub) => {
                    channels.values().for_each(|w| w.signal());
                    let mut messages = pubsub.into_on_message();
                    while let Some(message) = messages.next().await {
                        if let Some(wakeup) = channels.get(message.get_channel_name()) {
                            wakeup.signal();
                        }
                    }
                    tracing::warn!("push notifications stopped; polling until resubscribed");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot subscribe to push notifications; polling meanwhile");
                }
            }
            tokio::time::sleep(RESUBSCRIBE_AFTER).await;
        }
    }

    async fn subscribe(
        &self,
        channels: &HashMap<String, Arc<Wakeup>>,
    ) -> Result<redis::aio::PubSub, crate::QueueError> {
        let connect = async {
            let mut pubsub = self.client.get_async_pubsub().await?;
            for channel in channels.keys() {
                pubsub.subscribe(channel).await?;
            }
            Ok::<_, redis::RedisError>(pubsub)
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(crate::QueueError::Timeout(CONNECT_TIMEOUT)),
        }
    }
}
