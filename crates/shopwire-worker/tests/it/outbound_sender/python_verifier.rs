//! What the sender signs and sends, checked by the official Standard Webhooks library of
//! another language: `tests/standardwebhooks/verify.py` with the Python package, which
//! `scripts/test.sh` installs and names in `SHOPWIRE_TEST_PYTHON`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use bytes::Bytes;
use secrecy::SecretString;
use shopwire_worker::outbound::sign::signature_header;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::{BODY, ID, SECRET, client};

/// The secret a rotation replaces [`SECRET`] with.
const NEW_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const WRONG_SECRET: &str = "whsec_3cQmV1lC0P3kW8tq2Ff1Yk1S6c9o7hHb";

/// What the receiver got: the body and the three Standard Webhooks headers.
pub(crate) struct Received {
    pub body: Vec<u8>,
    pub id: String,
    pub timestamp: String,
    pub signature: String,
}

/// Sign [`BODY`] with `secrets` (current first), send it, and return what arrived.
async fn deliver_signed_by(secrets: &[&str]) -> Received {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let secrets: Vec<SecretString> = secrets
        .iter()
        .map(|s| SecretString::from((*s).to_owned()))
        .collect();
    let secrets: Vec<&SecretString> = secrets.iter().collect();
    let timestamp = chrono::Utc::now().timestamp();
    let signature = signature_header(&secrets, ID, timestamp, BODY.as_bytes()).expect("signs");
    client(true)
        .send(
            &server.uri(),
            ID,
            timestamp,
            &signature,
            Bytes::from_static(BODY.as_bytes()),
        )
        .await
        .expect("delivered");
    let requests = server.received_requests().await.expect("recorded");
    received(&requests[0])
}

pub(crate) fn received(request: &Request) -> Received {
    let header = |name: &str| {
        request.headers[name]
            .to_str()
            .expect("a text header")
            .to_owned()
    };
    Received {
        body: request.body.clone(),
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
    }
}

/// The interpreter with the `standardwebhooks` package.
fn python() -> PathBuf {
    match std::env::var_os("SHOPWIRE_TEST_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => panic!(
            "SHOPWIRE_TEST_PYTHON is not set: run scripts/test.sh, which makes .venv-test/ with \
             tests/standardwebhooks/requirements.txt, or set it to a Python that has that installed"
        ),
    }
}

/// Whether the Python library accepts `delivery` under `secret`. Panics if the verifier
/// itself fails, so a broken verifier never passes for a rejection.
pub(crate) fn python_accepts(secret: &str, delivery: &Received, body: &[u8]) -> bool {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/standardwebhooks/verify.py"
    );
    let python = python();
    let mut child = Command::new(&python)
        .arg(script)
        .args([
            secret,
            &delivery.id,
            &delivery.timestamp,
            &delivery.signature,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} (SHOPWIRE_TEST_PYTHON): {e}",
                python.display()
            )
        });
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(body)
        .expect("body written");
    let output = child.wait_with_output().expect("verifier ran");
    match output.status.code() {
        Some(0) => true,
        Some(1) => false,
        _ => panic!(
            "verify.py failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

#[tokio::test]
async fn the_python_library_verifies_what_we_send() {
    let delivery = deliver_signed_by(&[SECRET]).await;
    assert!(python_accepts(SECRET, &delivery, &delivery.body));
}

#[tokio::test]
async fn during_a_rotation_either_secret_verifies_alone() {
    let delivery = deliver_signed_by(&[NEW_SECRET, SECRET]).await;
    assert_eq!(delivery.signature.split(' ').count(), 2);
    assert!(
        python_accepts(NEW_SECRET, &delivery, &delivery.body),
        "new secret"
    );
    assert!(
        python_accepts(SECRET, &delivery, &delivery.body),
        "old secret"
    );
}

#[tokio::test]
async fn a_wrong_secret_or_a_tampered_body_is_rejected() {
    let delivery = deliver_signed_by(&[NEW_SECRET, SECRET]).await;
    assert!(!python_accepts(WRONG_SECRET, &delivery, &delivery.body));
    let tampered = String::from_utf8(delivery.body.clone())
        .expect("JSON")
        .replace("ORD-20261202-00001", "ORD-20261202-00002");
    assert_ne!(tampered.as_bytes(), delivery.body.as_slice());
    assert!(!python_accepts(NEW_SECRET, &delivery, tampered.as_bytes()));
    assert!(!python_accepts(SECRET, &delivery, tampered.as_bytes()));
}
