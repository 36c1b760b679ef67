//! [`TimestampedHmac`]: the `t=<unix>,<key>=<hex>` scheme shared by Stripe, TikTok and our relay.

use hmac::Mac;
use secrecy::ExposeSecret;

use super::{HmacSha256, MAX_HEADER_LEN, Secrets, SignatureError, new_mac};

/// Verifier for headers of the form `t=<unix>,<key>=<hex>[,<key>=<hex>…]`.
///
/// Each signature is `hex(HMAC-SHA256(key = secret, msg = "<t>." || raw_body))`, the secret
/// used verbatim as UTF-8 bytes (Stripe's `whsec_` prefix included). Items with other keys
/// (Stripe's `v0`, unknown schemes) are ignored, so a header cannot downgrade the scheme.
#[derive(Debug, Clone)]
pub struct TimestampedHmac {
    /// The request header carrying the signature.
    header_name: &'static str,
    /// The item key of signatures in our scheme (`v1`, `s`).
    key: &'static str,
    /// The signing secrets, tried in order.
    secrets: Secrets,
    /// Maximum distance between the signed `t` and now, both directions.
    tolerance_secs: i64,
}

impl TimestampedHmac {
    /// A verifier reading `header_name`, taking signatures from items keyed `key`, and
    /// accepting timestamps at most `tolerance_secs` away from now in either direction.
    pub fn new(
        header_name: &'static str,
        key: &'static str,
        secrets: Secrets,
        tolerance_secs: i64,
    ) -> Self {
        Self {
            header_name,
            key,
            secrets,
            tolerance_secs,
        }
    }

    /// Stripe: header `Stripe-Signature`, signatures keyed `v1`.
    pub fn stripe(secrets: Secrets, tolerance_secs: i64) -> Self {
        Self::new("Stripe-Signature", "v1", secrets, tolerance_secs)
    }

    /// The comment relay: header `Shopwire-Signature`, signatures keyed `v1`.
    pub fn comments(secrets: Secrets, tolerance_secs: i64) -> Self {
        Self::new("Shopwire-Signature", "v1", secrets, tolerance_secs)
    }

    /// TikTok for Developers: header `TikTok-Signature`, signatures keyed `s`.
    pub fn tiktok(secrets: Secrets, tolerance_secs: i64) -> Self {
        Self::new("TikTok-Signature", "s", secrets, tolerance_secs)
    }

    /// The header this verifier reads.
    pub fn header_name(&self) -> &'static str {
        self.header_name
    }

    /// The configured secrets, in order.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// How far (seconds) the signed timestamp may be from now, in either direction.
    pub fn tolerance_secs(&self) -> i64 {
        self.tolerance_secs
    }

    /// Verifies `header` against the exact `body` bytes at unix time `now`.
    ///
    /// Accepts if any signature item matches any secret (constant-time compare); only then is
    /// the timestamp checked, two-sided. A negative tolerance is treated as zero.
    pub fn verify(
        &self,
        header: Option<&[u8]>,
        body: &[u8],
        now: i64,
    ) -> Result<(), SignatureError> {
        let header = header.ok_or(SignatureError::Missing)?;
        if header.len() > MAX_HEADER_LEN {
            return Err(SignatureError::Malformed);
        }
        let t = self.parse(header)?;
        let matched = self.secrets.iter().any(|secret| {
            let mac = signed_payload_mac(secret.expose_secret(), t, body);
            self.signatures(header)
                .any(|sig| mac.clone().verify_slice(&sig).is_ok())
        });
        if !matched {
            return Err(SignatureError::Mismatch);
        }
        let tolerance = self.tolerance_secs.max(0).unsigned_abs();
        match now.checked_sub(t) {
            Some(skew) if skew.unsigned_abs() <= tolerance => Ok(()),
            _ => Err(SignatureError::TimestampOutOfTolerance),
        }
    }

    /// Produces a header value `t=<t>,<key>=<hex>` for `body` signed with `secret` at time `t`.
    pub fn sign(&self, secret: &str, t: i64, body: &[u8]) -> String {
        let sig = signed_payload_mac(secret, t, body).finalize().into_bytes();
        format!("t={t},{}={}", self.key, hex::encode(sig))
    }

    /// Returns the single `t`, after checking that at least one item carries our key.
    fn parse(&self, header: &[u8]) -> Result<i64, SignatureError> {
        let mut t = None;
        let mut has_signature = false;
        for (key, value) in items(header) {
            if key == b"t" {
                let parsed = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.parse::<i64>().ok());
                match (t, parsed) {
                    (None, Some(parsed)) => t = Some(parsed),
                    _ => return Err(SignatureError::Malformed), // unparsable or repeated `t`
                }
            } else if key == self.key.as_bytes() {
                has_signature = true;
            }
        }
        match t {
            Some(t) if has_signature => Ok(t),
            _ => Err(SignatureError::Malformed),
        }
    }

    /// The decoded signatures carrying our key; values that are not 32 bytes of hex are skipped.
    fn signatures<'h>(&self, header: &'h [u8]) -> impl Iterator<Item = [u8; 32]> + 'h {
        let key = self.key.as_bytes();
        items(header)
            .filter(move |(k, _)| *k == key)
            .filter_map(|(_, value)| {
                let mut sig = [0u8; 32];
                hex::decode_to_slice(value, &mut sig).ok().map(|()| sig)
            })
    }
}

/// Splits a header on `,` and each item on its first `=`; items without `=` are dropped.
fn items(header: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    header
        .trim_ascii()
        .split(|&b| b == b',')
        .filter_map(|item| {
            let eq = item.iter().position(|&b| b == b'=')?;
            Some((&item[..eq], &item[eq + 1..]))
        })
}

/// The MAC state after absorbing `"<t>." || body`, keyed with `secret`.
fn signed_payload_mac(secret: &str, t: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = new_mac(secret.as_bytes());
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::test_fixtures::{fixture, vectors};

    const T: i64 = 1_752_667_200;
    const TOL: i64 = 300;

    fn stripe(secrets: &str) -> TimestampedHmac {
        TimestampedHmac::stripe(Secrets::parse_list(secrets), TOL)
    }

    fn check(
        verifier: &TimestampedHmac,
        header: &str,
        body: &[u8],
        now: i64,
    ) -> Result<(), SignatureError> {
        verifier.verify(Some(header.as_bytes()), body, now)
    }

    /// Checks every file of one fixture section, and that `sign` reproduces its header.
    fn known_answers(
        section: &str,
        secret_field: &str,
        verifier: fn(Secrets, i64) -> TimestampedHmac,
    ) -> usize {
        let v = &vectors()[section];
        let secret = v[secret_field].as_str().expect("secret");
        let t = v["timestamp"].as_i64().expect("timestamp");
        let verifier = verifier(Secrets::parse_list(secret), TOL);
        assert_eq!(
            verifier.header_name(),
            v["header"].as_str().expect("header")
        );
        let files = v["files"].as_object().expect("files");
        for (file, header) in files {
            let header = header.as_str().expect("header value");
            let body = fixture(file);
            assert_eq!(check(&verifier, header, &body, t), Ok(()), "{file}");
            assert_eq!(verifier.sign(secret, t, &body), header, "{file}");
        }
        files.len()
    }

    #[test]
    fn all_stripe_known_vectors_verify_and_sign_reproduces_them() {
        assert_eq!(
            known_answers("stripe", "secret", TimestampedHmac::stripe),
            5
        );
    }

    #[test]
    fn the_tiktok_developers_known_vector_verifies_and_sign_reproduces_it() {
        assert_eq!(
            known_answers(
                "tiktok_developers",
                "client_secret",
                TimestampedHmac::tiktok
            ),
            1
        );
    }

    #[test]
    fn a_tampered_body_byte_is_a_mismatch() {
        let header = stripe("whsec_a").sign("whsec_a", T, b"{\"id\":\"evt_1\"}");
        assert_eq!(
            check(&stripe("whsec_a"), &header, b"{\"id\":\"evt_2\"}", T),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_wrong_secret_is_a_mismatch() {
        let header = stripe("whsec_a").sign("whsec_a", T, b"{}");
        assert_eq!(
            check(&stripe("whsec_b"), &header, b"{}", T),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn stale_and_future_timestamps_are_out_of_tolerance() {
        let header = stripe("whsec_a").sign("whsec_a", T, b"{}");
        let out = Err(SignatureError::TimestampOutOfTolerance);
        assert_eq!(check(&stripe("whsec_a"), &header, b"{}", T + TOL + 1), out);
        assert_eq!(check(&stripe("whsec_a"), &header, b"{}", T - TOL - 1), out);
    }

    #[test]
    fn timestamps_exactly_at_either_edge_are_accepted() {
        let header = stripe("whsec_a").sign("whsec_a", T, b"{}");
        assert_eq!(check(&stripe("whsec_a"), &header, b"{}", T + TOL), Ok(()));
        assert_eq!(check(&stripe("whsec_a"), &header, b"{}", T - TOL), Ok(()));
    }

    #[test]
    fn the_signature_is_checked_before_the_timestamp() {
        let header = stripe("whsec_a").sign("whsec_other", T, b"{}");
        assert_eq!(
            check(&stripe("whsec_a"), &header, b"{}", T + 10 * TOL),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_v0_only_header_is_malformed_even_when_v0_is_valid() {
        let v1 = stripe("whsec_a").sign("whsec_a", T, b"{}");
        let v0_only = v1.replace(",v1=", ",v0=");
        assert_eq!(
            check(&stripe("whsec_a"), &v0_only, b"{}", T),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn v0_and_unknown_items_are_ignored_next_to_a_valid_v1() {
        let v1 = stripe("whsec_a").sign("whsec_a", T, b"{}");
        let header = format!("v0=00,{v1},x=y,novalue,,v2=zz");
        assert_eq!(check(&stripe("whsec_a"), &header, b"{}", T), Ok(()));
    }

    #[test]
    fn a_rotation_header_with_two_v1_values_verifies_under_either_secret() {
        let old = stripe("").sign("whsec_old", T, b"{}");
        let new = stripe("").sign("whsec_new", T, b"{}");
        let header = format!("{old},{}", new.split_once(',').expect("comma").1);
        assert_eq!(check(&stripe("whsec_old"), &header, b"{}", T), Ok(()));
        assert_eq!(check(&stripe("whsec_new"), &header, b"{}", T), Ok(()));
        assert_eq!(
            check(&stripe("whsec_gone"), &header, b"{}", T),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn the_right_secret_listed_second_still_verifies() {
        let header = stripe("").sign("whsec_b", T, b"{}");
        assert_eq!(check(&stripe("whsec_a,whsec_b"), &header, b"{}", T), Ok(()));
    }

    #[test]
    fn a_missing_header_is_missing() {
        assert_eq!(
            stripe("whsec_a").verify(None, b"{}", T),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn a_missing_repeated_or_non_numeric_t_is_malformed() {
        let sig = "v1=".to_owned() + &"ab".repeat(32);
        for header in [
            sig.clone(),
            format!("t=x,{sig}"),
            format!("t=1,t=1,{sig}"),
            format!("t=,{sig}"),
        ] {
            assert_eq!(
                check(&stripe("whsec_a"), &header, b"{}", T),
                Err(SignatureError::Malformed),
                "{header}"
            );
        }
    }

    #[test]
    fn non_hex_signature_values_are_skipped_not_fatal() {
        let valid = stripe("whsec_a").sign("whsec_a", T, b"{}");
        let header = format!(
            "t={T},v1=not-hex,v1=abc,{}",
            valid.split_once(',').expect("comma").1
        );
        assert_eq!(check(&stripe("whsec_a"), &header, b"{}", T), Ok(()));
        let junk_only = format!("t={T},v1=zz\u{fffd}");
        assert_eq!(
            check(&stripe("whsec_a"), &junk_only, b"{}", T),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn garbage_and_oversized_headers_are_errors_not_panics() {
        let huge = format!("t={T},v1={}", "a".repeat(MAX_HEADER_LEN));
        let garbage: [&[u8]; 5] = [
            b"",
            b"\xff\xfe=\x00,,=",
            b"t=\xff,v1=\xff",
            b"=,=,=",
            huge.as_bytes(),
        ];
        for header in garbage {
            assert!(stripe("whsec_a").verify(Some(header), b"{}", T).is_err());
        }
    }

    #[test]
    fn extreme_timestamps_and_tolerances_do_not_overflow() {
        for (t, now, tol) in [
            (i64::MIN, i64::MAX, TOL),
            (i64::MAX, i64::MIN, i64::MAX),
            (T, T + 1, 0),
            (T, T, -5),
        ] {
            let verifier = TimestampedHmac::stripe(Secrets::parse_list("whsec_a"), tol);
            let header = verifier.sign("whsec_a", t, b"{}");
            let expected = if t == now {
                Ok(())
            } else {
                Err(SignatureError::TimestampOutOfTolerance)
            };
            assert_eq!(
                check(&verifier, &header, b"{}", now),
                expected,
                "{t} {now} {tol}"
            );
        }
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let printed = format!("{:?}", stripe("whsec_supersecret"));
        assert!(!printed.contains("supersecret"), "{printed}");
    }
}
