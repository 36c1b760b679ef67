//! [`PrefixedHmac`]: TikTok Shop's `Authorization: <hex>` scheme, HMAC over `app_key || body`.

use hmac::Mac;
use secrecy::ExposeSecret;

use super::{MAX_HEADER_LEN, Secrets, SignatureError, new_mac};

/// Verifier for TikTok Shop webhooks.
///
/// The `Authorization` header carries bare hex (no `Bearer `, no timestamp):
/// `hex(HMAC-SHA256(key = app_secret, msg = app_key || raw_body))`. There is no signed
/// time, so replays must be caught by deduplicating on `tts_notification_id`.
#[derive(Debug, Clone)]
pub struct PrefixedHmac {
    /// Prepended to the body before signing; public, not a secret.
    app_key: String,
    /// The app secret(s), tried in order.
    secrets: Secrets,
}

impl PrefixedHmac {
    /// The header TikTok Shop puts the signature in.
    pub const HEADER_NAME: &'static str = "Authorization";

    /// TikTok Shop: `app_key` is the app's public key, `secrets` its app secret(s).
    pub fn tiktok_shop(app_key: impl Into<String>, secrets: Secrets) -> Self {
        Self {
            app_key: app_key.into(),
            secrets,
        }
    }

    /// The header this scheme reads: `Authorization`.
    pub fn header_name(&self) -> &'static str {
        Self::HEADER_NAME
    }

    /// The configured secrets, in order.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// Checks `header` (bare hex, either case, surrounding ASCII whitespace ignored)
    /// against every configured secret over `app_key || body`, in constant time.
    pub fn verify(&self, header: Option<&[u8]>, body: &[u8]) -> Result<(), SignatureError> {
        let header = header.ok_or(SignatureError::Missing)?;
        if header.len() > MAX_HEADER_LEN {
            return Err(SignatureError::Malformed);
        }
        let mut sig = [0u8; 32];
        hex::decode_to_slice(header.trim_ascii(), &mut sig)
            .map_err(|_| SignatureError::Malformed)?;
        let matched = self.secrets.iter().any(|secret| {
            self.mac(secret.expose_secret(), body)
                .verify_slice(&sig)
                .is_ok()
        });
        if matched {
            Ok(())
        } else {
            Err(SignatureError::Mismatch)
        }
    }

    /// Produces the `Authorization` value for `body` signed with `secret` (lowercase hex).
    pub fn sign(&self, secret: &str, body: &[u8]) -> String {
        hex::encode(self.mac(secret, body).finalize().into_bytes())
    }

    /// The MAC state after absorbing `app_key || body`, keyed with `secret`.
    fn mac(&self, secret: &str, body: &[u8]) -> super::HmacSha256 {
        let mut mac = new_mac(secret.as_bytes());
        mac.update(self.app_key.as_bytes());
        mac.update(body);
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::test_fixtures::{fixture, vectors};

    const DOC_VECTOR: &str = "5dec0f11ec2f6783b8deee53c9ffbf8d024302f7c7e7fa55a35d17629031ac05";

    fn published_example() -> PrefixedHmac {
        PrefixedHmac::tiktok_shop("abcdef", Secrets::parse_list("123"))
    }

    fn doc_body() -> Vec<u8> {
        fixture("tiktok/shop.order_status_change.doc_vector.json")
    }

    #[test]
    fn all_tiktok_shop_known_vectors_verify_and_sign_reproduces_them() {
        let v = &vectors()["tiktok_shop"];
        let app_key = v["app_key"].as_str().expect("app_key");
        let secret = v["app_secret"].as_str().expect("app_secret");
        let verifier = PrefixedHmac::tiktok_shop(app_key, Secrets::parse_list(secret));
        let files = v["files"].as_object().expect("files");
        assert_eq!(files.len(), 8);
        for (file, expected) in files {
            let expected = expected.as_str().expect("signature");
            let body = fixture(file);
            assert_eq!(
                verifier.verify(Some(expected.as_bytes()), &body),
                Ok(()),
                "{file}"
            );
            assert_eq!(verifier.sign(secret, &body), expected, "{file}");
        }
    }

    #[test]
    fn the_published_tiktok_shop_example_verifies() {
        let verifier = published_example();
        assert_eq!(verifier.sign("123", &doc_body()), DOC_VECTOR);
        assert_eq!(
            verifier.verify(Some(DOC_VECTOR.as_bytes()), &doc_body()),
            Ok(())
        );
    }

    #[test]
    fn uppercase_hex_and_surrounding_whitespace_are_accepted() {
        let header = format!(" \t{}\r\n", DOC_VECTOR.to_ascii_uppercase());
        assert_eq!(
            published_example().verify(Some(header.as_bytes()), &doc_body()),
            Ok(())
        );
    }

    #[test]
    fn a_body_signed_without_the_app_key_prefix_is_a_mismatch() {
        let unprefixed = PrefixedHmac::tiktok_shop("", Secrets::parse_list("123"));
        let header = unprefixed.sign("123", &doc_body());
        assert!(header.starts_with("582e01fc"), "{header}");
        let result = published_example().verify(Some(header.as_bytes()), &doc_body());
        assert_eq!(result, Err(SignatureError::Mismatch));
    }

    #[test]
    fn a_tampered_body_or_wrong_secret_is_a_mismatch() {
        let mut body = doc_body();
        body[10] ^= 1;
        let verifier = published_example();
        assert_eq!(
            verifier.verify(Some(DOC_VECTOR.as_bytes()), &body),
            Err(SignatureError::Mismatch)
        );
        let wrong = PrefixedHmac::tiktok_shop("abcdef", Secrets::parse_list("124"));
        assert_eq!(
            wrong.verify(Some(DOC_VECTOR.as_bytes()), &doc_body()),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn the_right_secret_listed_second_still_verifies() {
        let verifier = PrefixedHmac::tiktok_shop("abcdef", Secrets::parse_list("old,123"));
        assert_eq!(
            verifier.verify(Some(DOC_VECTOR.as_bytes()), &doc_body()),
            Ok(())
        );
    }

    #[test]
    fn a_missing_header_is_missing() {
        assert_eq!(
            published_example().verify(None, &doc_body()),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn non_hex_junk_bearer_tokens_and_wrong_lengths_are_malformed_not_panics() {
        let bearer = format!("Bearer {DOC_VECTOR}");
        let huge = vec![b'a'; MAX_HEADER_LEN + 1];
        let junk: [&[u8]; 7] = [
            b"",
            b"zz",
            b"\xff\xfe\x00",
            bearer.as_bytes(),
            &DOC_VECTOR.as_bytes()[..62],
            b"abc",
            &huge,
        ];
        for header in junk {
            assert_eq!(
                published_example().verify(Some(header), &doc_body()),
                Err(SignatureError::Malformed)
            );
        }
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let printed = format!(
            "{:?}",
            PrefixedHmac::tiktok_shop("abcdef", Secrets::parse_list("s3cr3t_value"))
        );
        assert!(!printed.contains("s3cr3t_value"), "{printed}");
    }
}
