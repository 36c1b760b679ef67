//! The console's side of the scenario: one sign-in, then each viewer opens the live page
//! (for its `data-after`, as the page's script does) and its event stream, and notes when
//! each claim row arrived.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, SET_COOKIE};
use tokio::sync::watch;

use super::sse::{Row, SseEvent, SseParser, attribute};

/// The console's session cookie.
const SESSION_COOKIE: &str = "shopwire_console";

/// A signed-in client of the console.
#[derive(Clone)]
pub struct Console {
    client: reqwest::Client,
    base: String,
    /// `shopwire_console=<token>`.
    cookie: String,
}

impl Console {
    /// Signs in once (`POST /signin` with the form, as the page does): a 303 with the
    /// session cookie.
    pub async fn sign_in(base: &str, password: &str) -> anyhow::Result<Console> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .build()
            .context("failed to build the console client")?;
        let base = base.trim_end_matches('/').to_owned();
        let response = client
            .post(format!("{base}/signin"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!("password={}&next=/", form_encode(password)))
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .with_context(|| format!("the console at {base} did not answer the sign-in"))?;
        if response.status() != StatusCode::SEE_OTHER {
            bail!(
                "signing in answered {} (not 303): is CONSOLE_PASSWORD the console's?",
                response.status()
            );
        }
        let cookie = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
            .map(str::to_owned)
            .context("the sign-in set no session cookie")?;
        Ok(Console {
            client,
            base,
            cookie,
        })
    }

    /// `GET /live/{streamer}`: the page; returns its `data-after` (the newest claim event it
    /// shows, where its stream starts).
    pub async fn open_page(&self, streamer: &str) -> anyhow::Result<i64> {
        let response = self
            .client
            .get(format!("{}/live/{streamer}", self.base))
            .header(COOKIE, &self.cookie)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .context("the live page did not answer")?;
        if response.status() != StatusCode::OK {
            bail!("the live page answered {}", response.status());
        }
        let html = response
            .text()
            .await
            .context("failed to read the live page")?;
        attribute(&html, "data-after")
            .and_then(|a| a.parse().ok())
            .context("the live page has no data-after")
    }

    /// Opens `streamer`'s event stream after event `after` and reads it into `log` until
    /// `stop` turns true or the stream ends.
    pub async fn watch(
        self,
        streamer: String,
        after: i64,
        log: Arc<Mutex<ViewerLog>>,
        mut stop: watch::Receiver<bool>,
    ) {
        let sent = self
            .client
            .get(format!(
                "{}/live/{streamer}/events?after={after}",
                self.base
            ))
            .header(COOKIE, &self.cookie)
            .header(ACCEPT, "text/event-stream")
            .send()
            .await;
        let mut response = match sent {
            Ok(r) if r.status() == StatusCode::OK => r,
            Ok(r) => {
                lock(&log).ended = Some(format!("events_http_{}", r.status().as_u16()));
                return;
            }
            Err(_) => {
                lock(&log).ended = Some("events_connect".into());
                return;
            }
        };
        let mut parser = SseParser::keeping(&["claim"]);
        let mut events = Vec::new();
        loop {
            let chunk = tokio::select! {
                _ = stop.wait_for(|stop| *stop) => return,
                chunk = response.chunk() => chunk,
            };
            let at = Instant::now();
            match chunk {
                Ok(Some(bytes)) => {
                    parser.feed(&bytes, &mut events);
                    let mut log = lock(&log);
                    log.bytes += bytes.len() as u64;
                    for event in events.drain(..) {
                        log.note(&event, at);
                    }
                }
                Ok(None) => {
                    lock(&log).ended = Some("stream_ended".into());
                    return;
                }
                Err(_) => {
                    lock(&log).ended = Some("stream_error".into());
                    return;
                }
            }
        }
    }
}

/// What one viewer saw.
#[derive(Debug, Default)]
pub struct ViewerLog {
    /// When its `hello` arrived.
    pub hello: Option<Instant>,
    /// `panel` events.
    pub panels: u64,
    /// Each claim row's first arrival: claim id → (outbox event id, when).
    pub rows: HashMap<i64, (i64, Instant)>,
    /// Rows of a claim already shown (the page would show it twice).
    pub repeated: u64,
    /// `claim` events whose HTML had no claim or event id.
    pub unreadable: u64,
    /// `reload` events (the console says the page missed events and must reload).
    pub reloads: u64,
    /// Events of any other type.
    pub other: u64,
    /// Bytes of the stream.
    pub bytes: u64,
    /// Why the stream ended before the run did.
    pub ended: Option<String>,
}

impl ViewerLog {
    fn note(&mut self, event: &SseEvent, at: Instant) {
        match event.event.as_str() {
            "hello" => {
                self.hello.get_or_insert(at);
            }
            "panel" => self.panels += 1,
            "claim" => match Row::parse(&event.data) {
                Some(row) => match self.rows.entry(row.claim_id) {
                    Entry::Vacant(e) => {
                        e.insert((row.event_id, at));
                    }
                    Entry::Occupied(_) => self.repeated += 1,
                },
                None => self.unreadable += 1,
            },
            "reload" => self.reloads += 1,
            _ => self.other += 1,
        }
    }
}

/// Locks a viewer's log (a panicked viewer's log is still read).
pub fn lock(log: &Mutex<ViewerLog>) -> std::sync::MutexGuard<'_, ViewerLog> {
    log.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `application/x-www-form-urlencoded` value encoding (unreserved bytes kept, the rest `%XX`).
pub fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b));
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_sent_form_encoded() {
        assert_eq!(
            form_encode("open sesame, please&next=/x"),
            "open%20sesame%2C%20please%26next%3D%2Fx"
        );
        assert_eq!(form_encode("plain-1.2_3~"), "plain-1.2_3~");
        assert_eq!(form_encode("ü"), "%C3%BC");
    }

    #[test]
    fn a_viewer_keeps_the_first_arrival_of_each_claim_and_counts_repeats() {
        let mut log = ViewerLog::default();
        let t0 = Instant::now();
        let claim = |claim: i64, event: i64| SseEvent {
            event: "claim".into(),
            id: Some(event.to_string()),
            data: format!(
                r#"<tr class="claim" data-event-id="{event}" data-claim-id="{claim}" data-outcome="reserved">"#
            ),
        };
        log.note(
            &SseEvent {
                event: "hello".into(),
                id: None,
                data: "connected".into(),
            },
            t0,
        );
        log.note(&claim(1, 10), t0);
        log.note(&claim(1, 10), t0 + Duration::from_millis(5));
        log.note(&claim(2, 11), t0);
        log.note(
            &SseEvent {
                event: "reload".into(),
                id: None,
                data: "reload".into(),
            },
            t0,
        );
        assert_eq!(log.hello, Some(t0));
        assert_eq!(log.rows.len(), 2);
        assert_eq!(log.rows[&1], (10, t0));
        assert_eq!((log.repeated, log.reloads), (1, 1));
    }
}
