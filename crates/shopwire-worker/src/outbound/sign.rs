//! The `webhook-signature` header of a Standard Webhooks delivery, signed with the official
//! `standardwebhooks` crate: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` under each
//! secret in force, space-separated.

use secrecy::{ExposeSecret, SecretString};
use standardwebhooks::Webhook;

/// The prefix every endpoint secret carries (the schema checks it too).
const SECRET_PREFIX: &str = "whsec_";

/// Why a delivery could not be signed. Never shows a secret, or any part of one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The endpoint has no secret to sign with.
    #[error("no signing secret")]
    NoSecret,
    /// A secret is not `whsec_` followed by non-empty base64 (`index` 0 is the current one).
    #[error("signing secret {index} is not whsec_ followed by base64")]
    BadSecret {
        /// Its position in the list given.
        index: usize,
    },
    /// Standard Webhooks signs text: the body must be UTF-8 (JSON always is).
    #[error("the body to sign is not UTF-8")]
    NotUtf8,
}

/// The `webhook-signature` value for one attempt: one `v1,<base64>` per secret, in the
/// order given — the endpoint's current secret first, then its previous one while a rotation
/// keeps it valid (the caller decides which secrets are in force). `timestamp` is the
/// attempt's `webhook-timestamp` in unix seconds and `webhook_id` the delivery's id, the
/// same on every retry.
pub fn signature_header(
    secrets: &[&SecretString],
    webhook_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, SignError> {
    if secrets.is_empty() {
        return Err(SignError::NoSecret);
    }
    let signatures = secrets
        .iter()
        .enumerate()
        .map(|(index, secret)| {
            let webhook = signer(secret).ok_or(SignError::BadSecret { index })?;
            // The crate's errors are "invalid secret" (handled above) and a non-UTF-8 payload.
            webhook
                .sign(webhook_id, timestamp, body)
                .map_err(|_| SignError::NotUtf8)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(signatures.join(" "))
}

/// The crate's signer for one `whsec_` secret, or `None` if it is not one. The crate's own
/// error is dropped: base64's message names the offending byte of the secret.
fn signer(secret: &SecretString) -> Option<Webhook> {
    let encoded = secret.expose_secret().strip_prefix(SECRET_PREFIX)?;
    if encoded.is_empty() {
        return None;
    }
    Webhook::new(encoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The secret and known answer of the Standard Webhooks reference tests.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const OTHER: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const EXPECTED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn one_secret_gives_the_reference_signature() {
        let current = secret(SECRET);
        assert_eq!(
            signature_header(&[&current], ID, TIMESTAMP, BODY),
            Ok(EXPECTED.to_owned())
        );
    }

    #[test]
    fn two_secrets_give_two_signatures_current_first() {
        let (current, previous) = (secret(SECRET), secret(OTHER));
        let header = signature_header(&[&current, &previous], ID, TIMESTAMP, BODY).expect("signs");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2, "{header}");
        assert_eq!(parts[0], EXPECTED);
        assert!(parts[1].starts_with("v1,"), "{header}");
        assert_ne!(parts[0], parts[1]);
        assert_eq!(
            signature_header(&[&previous], ID, TIMESTAMP, BODY).as_deref(),
            Ok(parts[1])
        );
    }

    #[test]
    fn every_part_of_the_message_is_signed() {
        let current = secret(SECRET);
        let sign = |id, ts, body| signature_header(&[&current], id, ts, body).expect("signs");
        assert_ne!(sign("msg_other", TIMESTAMP, BODY), EXPECTED);
        assert_ne!(sign(ID, TIMESTAMP + 1, BODY), EXPECTED);
        assert_ne!(sign(ID, TIMESTAMP, br#"{"test": 2432232315}"#), EXPECTED);
    }

    #[test]
    fn bad_secrets_are_refused_without_showing_them() {
        let good = secret(SECRET);
        for bad in [
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_",
            "whsec_not*base64!",
        ] {
            let bad = secret(bad);
            let err = signature_header(&[&good, &bad], ID, TIMESTAMP, BODY).unwrap_err();
            assert_eq!(err, SignError::BadSecret { index: 1 });
            assert!(!err.to_string().contains("base64!"));
        }
        assert_eq!(
            signature_header(&[], ID, TIMESTAMP, BODY),
            Err(SignError::NoSecret)
        );
    }

    #[test]
    fn a_body_that_is_not_utf8_is_refused() {
        let current = secret(SECRET);
        assert_eq!(
            signature_header(&[&current], ID, TIMESTAMP, b"\xff\xfe"),
            Err(SignError::NotUtf8)
        );
    }
}
