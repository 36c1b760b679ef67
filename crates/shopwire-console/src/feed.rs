//! The live feed: one `LISTEN shopwire_events` connection per console process, whatever
//! the number of open pages. Each notification names a committed outbox event; the feed
//! reads the batch once, renders each claim's line once, and fans it out to every live page
//! of its streamer. A streamer whose claims or orders moved gets its panel (stock, holds,
//! waitlists) re-read and re-rendered at most every [`PANEL_EVERY`], and only while
//! someone watches — so the database work does not grow with the number of viewers.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use shopwire_core::db::feed::{self, FeedEvent};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;

use crate::live_view::{Panel, claim_row};

/// How often a changed panel is re-read, at most.
pub const PANEL_EVERY: Duration = Duration::from_millis(250);
/// Notifications read into one batch, at most.
const BATCH: usize = 500;
/// Updates a slow page may fall behind before it is told to reload.
const BACKLOG: usize = 4096;

/// One thing a live page must show.
#[derive(Debug, Clone)]
pub enum Update {
    /// A claim's outcome, as its table row.
    Claim {
        /// Whose live.
        streamer: Arc<str>,
        /// The outbox event.
        event_id: i64,
        /// `tr.claim` HTML.
        html: Arc<str>,
    },
    /// A streamer's panel, re-rendered.
    Panel {
        /// Whose live.
        streamer: Arc<str>,
        /// `#panel` contents.
        html: Arc<str>,
    },
    /// The feed lost its connection and may have missed events: pages reload.
    Resync,
}

impl Update {
    /// The streamer it is for (`None`: everyone).
    pub fn streamer(&self) -> Option<&str> {
        match self {
            Update::Claim { streamer, .. } | Update::Panel { streamer, .. } => Some(streamer),
            Update::Resync => None,
        }
    }
}

/// The feed's handle (cheap to clone).
#[derive(Clone)]
pub struct Feed {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    updates: broadcast::Sender<Update>,
    watched: Mutex<HashMap<String, usize>>,
    dirty: Mutex<HashSet<String>>,
    listening: tokio::sync::watch::Sender<bool>,
}

/// Held by each open stream; the streamer is unwatched when the last one drops.
pub struct Watch {
    feed: Feed,
    streamer: String,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let mut watched = lock(&self.feed.inner.watched);
        if let Some(n) = watched.get_mut(&self.streamer) {
            *n -= 1;
            if *n == 0 {
                watched.remove(&self.streamer);
            }
        }
    }
}

impl Feed {
    /// Start listening on `pool`'s database (tasks end with the runtime).
    pub fn start(pool: PgPool) -> Feed {
        let (updates, _) = broadcast::channel(BACKLOG);
        let feed = Feed {
            inner: Arc::new(Inner {
                pool,
                updates,
                watched: Mutex::new(HashMap::new()),
                dirty: Mutex::new(HashSet::new()),
                listening: tokio::sync::watch::Sender::new(false),
            }),
        };
        tokio::spawn(feed.clone().listen());
        tokio::spawn(feed.clone().refresh_panels());
        feed
    }

    /// Watch `streamer`: updates from now on (filter them with [`Update::streamer`]).
    pub fn watch(&self, streamer: &str) -> (Watch, broadcast::Receiver<Update>) {
        let receiver = self.inner.updates.subscribe();
        *lock(&self.inner.watched)
            .entry(streamer.to_owned())
            .or_default() += 1;
        (
            Watch {
                feed: self.clone(),
                streamer: streamer.to_owned(),
            },
            receiver,
        )
    }

    /// Re-render `streamer`'s panel soon (after a change that sends no event, e.g. a pin).
    pub fn touch(&self, streamer: &str) {
        lock(&self.inner.dirty).insert(streamer.to_owned());
    }

    /// Re-render every watched streamer's panel soon (after a change that may touch any
    /// live, e.g. a stock edit).
    pub fn touch_all(&self) {
        let watched: Vec<String> = lock(&self.inner.watched).keys().cloned().collect();
        lock(&self.inner.dirty).extend(watched);
    }

    /// True while the LISTEN connection is up.
    pub fn is_listening(&self) -> bool {
        *self.inner.listening.borrow()
    }

    /// Wait until the LISTEN connection is up (tests).
    pub async fn listening(&self) {
        let mut rx = self.inner.listening.subscribe();
        let _ = rx.wait_for(|up| *up).await;
    }

    async fn listen(self) {
        let mut retry = Duration::from_millis(200);
        loop {
            match self.listen_once().await {
                Ok(()) => return,
                Err(e) => {
                    self.inner.listening.send_replace(false);
                    tracing::warn!(error = %e, "console feed: LISTEN connection lost; reconnecting");
                    // Whatever was committed meanwhile is not in the pages' streams.
                    let _ = self.inner.updates.send(Update::Resync);
                    tokio::time::sleep(retry).await;
                    retry = (retry * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    async fn listen_once(&self) -> Result<(), sqlx::Error> {
        let mut listener = PgListener::connect_with(&self.inner.pool).await?;
        listener.ignore_pool_close_event(true);
        listener.listen(feed::CHANNEL).await?;
        self.inner.listening.send_replace(true);
        tracing::info!("console feed: listening for committed events");
        loop {
            // `try_recv` says when the connection dropped (the next call reconnects):
            // notifications sent meanwhile are lost, so the pages must reload.
            let Some(first) = listener.try_recv().await? else {
                tracing::warn!("console feed: LISTEN connection dropped; pages will reload");
                let _ = self.inner.updates.send(Update::Resync);
                continue;
            };
            let mut ids = Vec::with_capacity(16);
            ids.extend(first.payload().parse::<i64>().ok());
            while ids.len() < BATCH {
                match listener.next_buffered() {
                    Some(n) => ids.extend(n.payload().parse::<i64>().ok()),
                    None => break,
                }
            }
            if ids.is_empty() {
                continue;
            }
            let events = feed::by_ids(&self.inner.pool, &ids).await?;
            self.publish(&events);
        }
    }

    fn publish(&self, events: &[FeedEvent]) {
        let watched = lock(&self.inner.watched).clone();
        for event in events {
            let Some(streamer) = event.streamer() else {
                continue;
            };
            if !watched.contains_key(streamer) {
                continue;
            }
            lock(&self.inner.dirty).insert(streamer.to_owned());
            if event.is_claim() {
                let _ = self.inner.updates.send(Update::Claim {
                    streamer: streamer.into(),
                    event_id: event.id,
                    html: claim_row(event).into_string().into(),
                });
            }
        }
    }

    async fn refresh_panels(self) {
        let mut tick = tokio::time::interval(PANEL_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let due: Vec<String> = {
                let watched = lock(&self.inner.watched);
                let mut dirty = lock(&self.inner.dirty);
                let due = dirty
                    .iter()
                    .filter(|s| watched.contains_key(*s))
                    .cloned()
                    .collect();
                dirty.clear();
                due
            };
            for streamer in due {
                match Panel::load(&self.inner.pool, &streamer).await {
                    Ok(panel) => {
                        let _ = self.inner.updates.send(Update::Panel {
                            html: panel.render().into_string().into(),
                            streamer: streamer.into(),
                        });
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, %streamer, "console feed: panel read failed");
                        lock(&self.inner.dirty).insert(streamer);
                    }
                }
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
