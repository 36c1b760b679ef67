//! Log levels that fit (issue #11), read off the real binary's JSON logs: a bad signature
//! or body is the sender's doing (WARN), shed load is the limit doing its job (INFO), and
//! only Postgres refusing a delivery is an ERROR — what Sentry receives and someone is paged
//! for.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use shopwire_core::domain::Provider;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::{COMMENTS_SECRET, STRIPE_SECRET, route, sign_with_test_secrets, unix_now};
use crate::raw::{finish, half_sent};

/// The web binary, logging JSON, and every line it has logged so far.
struct LoggingWeb {
    child: Child,
    lines: Arc<Mutex<Vec<Value>>>,
    address: String,
}

impl LoggingWeb {
    /// Start `shopwire-web` in production mode with Postgres unreachable and one delivery
    /// allowed in flight; wait until it says which port it listens on.
    async fn start() -> LoggingWeb {
        let mut child = Command::new(env!("CARGO_BIN_EXE_shopwire-web"))
            .env_clear()
            .env("APP_ENV", "production")
            .env("RUST_LOG", "info,tower_http=debug")
            .env(
                "DATABASE_URL",
                "postgres://postgres@127.0.0.1:1/unreachable",
            )
            .env("REDIS_URL", shopwire_testkit::redis_url())
            .env(
                "QUEUE_PREFIX",
                format!("test-{:016x}", rand::random::<u64>()),
            )
            .env("PORT", "0")
            .env("WEBHOOK_MAX_IN_FLIGHT", "1")
            .env("STRIPE_WEBHOOK_SECRETS", STRIPE_SECRET)
            .env("COMMENTS_WEBHOOK_SECRETS", COMMENTS_SECRET)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the web binary runs");
        let stderr = child.stderr.take().expect("stderr is piped");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
                sink.lock().expect("lines lock").push(value);
            }
        });
        let mut web = LoggingWeb {
            child,
            lines,
            address: String::new(),
        };
        let listening = web.wait_for("the web says where it listens", |line| {
            message(line) == "shopwire-web listening"
        });
        let port = listening.await["fields"]["port"]
            .as_u64()
            .expect("the listening line names its port");
        web.address = format!("127.0.0.1:{port}");
        web
    }

    /// The first line `matches` accepts, waiting up to 15 s for it.
    async fn wait_for(&self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let mut found = None;
        shopwire_testkit::wait_until(what, Duration::from_secs(15), || {
            found = self
                .lines
                .lock()
                .expect("lines lock")
                .iter()
                .find(|line| matches(line))
                .cloned();
            let done = found.is_some();
            async move { done }
        })
        .await;
        found.expect("found")
    }

    /// The lines logged so far at `level`.
    fn at(&self, level: &str) -> Vec<Value> {
        self.lines
            .lock()
            .expect("lines lock")
            .iter()
            .filter(|line| line["level"] == level)
            .cloned()
            .collect()
    }

    async fn post(&self, headers: &[(&str, &str)], body: &[u8]) -> (u16, Value) {
        let mut request = reqwest::Client::new()
            .post(format!(
                "http://{}{}",
                self.address,
                route(Provider::Stripe)
            ))
            .timeout(Duration::from_secs(20))
            .body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the web answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON answer"))
    }
}

fn message(line: &Value) -> &str {
    line["fields"]["message"].as_str().unwrap_or_default()
}

fn code(line: &Value) -> &str {
    line["fields"]["error.code"].as_str().unwrap_or_default()
}

fn stripe_event(id: &str) -> Vec<u8> {
    format!(r#"{{"id":"{id}","object":"event","type":"charge.refunded","data":{{"object":{{}}}}}}"#)
        .into_bytes()
}

#[tokio::test]
async fn shed_load_and_senders_mistakes_are_not_errors_but_postgres_refusing_a_delivery_is() {
    let mut web = LoggingWeb::start().await;

    // The sender's mistakes: a bad signature, a signature too old to trust (a malformed
    // body would be kept as rejected, which needs the Postgres this web cannot reach).
    let (status, _) = web
        .post(
            &[("Stripe-Signature", "t=1,v1=00")],
            &stripe_event("evt_bad"),
        )
        .await;
    assert_eq!(status, 401);
    let stale = stripe_event("evt_stale");
    let (name, value) = sign_with_test_secrets(Provider::Stripe, &stale, unix_now() - 3_600);
    let (status, _) = web.post(&[(name, value.as_str())], &stale).await;
    assert_eq!(status, 401);

    // Shed load: one delivery held half-sent takes the only slot.
    let held_body = stripe_event("evt_held");
    let (name, value) = sign_with_test_secrets(Provider::Stripe, &held_body, unix_now());
    let addr = web.address.parse().expect("ip:port");
    let (held, rest) = half_sent(addr, &route(Provider::Stripe), (name, &value), &held_body).await;
    let shed_body = stripe_event("evt_shed");
    let (name, value) = sign_with_test_secrets(Provider::Stripe, &shed_body, unix_now());
    shopwire_testkit::wait_until(
        "a signed delivery is shed",
        Duration::from_secs(10),
        || async {
            let (status, answer) = web.post(&[(name, value.as_str())], &shed_body).await;
            status == 503 && answer["error"] == "overloaded"
        },
    )
    .await;

    web.wait_for("the shed delivery is logged", |line| {
        code(line) == "overloaded"
    })
    .await;
    web.wait_for("the stale signature is logged", |line| {
        code(line) == "timestamp_out_of_tolerance"
    })
    .await;
    assert_eq!(
        web.at("ERROR"),
        Vec::<Value>::new(),
        "nothing so far needs a person"
    );
    for line in web.lines.lock().expect("lines lock").iter() {
        match code(line) {
            "invalid_signature" | "timestamp_out_of_tolerance" => {
                assert_eq!(line["level"], "WARN", "{line}")
            }
            "overloaded" => assert_eq!(line["level"], "INFO", "{line}"),
            _ => {}
        }
    }

    // Postgres refusing the held delivery once it is whole: that one is an ERROR.
    let (status, body) = finish(held, &rest).await;
    assert!(status.starts_with("HTTP/1.1 503"), "{status} {body}");
    assert!(body.contains(r#""error":"unavailable""#), "{body}");
    let error = web
        .wait_for("the refused delivery is logged", |line| {
            code(line) == "unavailable"
        })
        .await;
    assert_eq!(error["level"], "ERROR", "{error}");
    let errors = web.at("ERROR");
    assert!(
        errors.iter().all(|line| code(line) == "unavailable"),
        "only the refused delivery is an error: {errors:?}"
    );
    let _ = web.child.start_kill();
}
