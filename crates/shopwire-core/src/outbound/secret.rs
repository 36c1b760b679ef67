//! Endpoint signing secrets: `whsec_` + base64 of random bytes, the form the Standard
//! Webhooks libraries accept. Never printed by `Debug`.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

/// The prefix every endpoint secret carries (the `endpoints.secret` CHECK requires it).
pub const SECRET_PREFIX: &str = "whsec_";

/// Random bytes in a new secret: 192 bits, as Svix generates, within the 24–64 bytes the
/// Standard Webhooks spec asks for.
const SECRET_BYTES: usize = 24;

/// One endpoint's HMAC key, as stored: `whsec_<base64>`.
#[derive(Clone)]
pub struct EndpointSecret(SecretString);

/// A stored or given secret that is not `whsec_` + base64 of at least 24 bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a whsec_ secret: {0}")]
pub struct BadSecret(&'static str);

impl EndpointSecret {
    /// A fresh secret from the thread's CSPRNG (ChaCha, seeded by the OS).
    pub fn generate() -> Self {
        let mut bytes = [0u8; SECRET_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self(SecretString::from(format!(
            "{SECRET_PREFIX}{}",
            STANDARD.encode(bytes)
        )))
    }

    /// Check a secret's form (a stored one, or one an operator gives).
    pub fn parse(text: &str) -> Result<Self, BadSecret> {
        let secret = Self(SecretString::from(text.to_owned()));
        let key = secret.key()?;
        if key.len() < SECRET_BYTES {
            return Err(BadSecret("shorter than 24 bytes"));
        }
        Ok(secret)
    }

    /// The whole `whsec_…` text: shown to the operator once, or given to a signer.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The secret as a `SecretString`, for a signer (no copy of the secret is made).
    pub fn as_secret(&self) -> &SecretString {
        &self.0
    }

    /// The HMAC key: the bytes the base64 after `whsec_` encodes.
    pub fn key(&self) -> Result<Vec<u8>, BadSecret> {
        let encoded = self
            .expose()
            .strip_prefix(SECRET_PREFIX)
            .ok_or(BadSecret("no whsec_ prefix"))?;
        STANDARD
            .decode(encoded)
            .map_err(|_| BadSecret("not base64 after whsec_"))
    }
}

impl fmt::Debug for EndpointSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EndpointSecret([REDACTED])")
    }
}

impl sqlx::Type<sqlx::Postgres> for EndpointSecret {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <&str as sqlx::Type<sqlx::Postgres>>::type_info()
    }

    fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
        <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Postgres> for EndpointSecret {
    /// Read as stored, without re-checking its form: a secret that cannot be decoded is
    /// the signer's error to report, not a reason to hide the endpoint from `list`.
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
        Ok(Self(SecretString::from(text.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_whsec_base64_of_24_random_bytes() {
        let a = EndpointSecret::generate();
        let b = EndpointSecret::generate();
        assert!(a.expose().starts_with("whsec_"), "{}", a.expose());
        assert_eq!(a.key().expect("base64").len(), 24);
        assert_eq!(a.expose().len(), "whsec_".len() + 32);
        assert_ne!(a.expose(), b.expose());
        assert!(EndpointSecret::parse(a.expose()).is_ok());
    }

    #[test]
    fn the_standard_webhooks_test_secret_parses() {
        // The secret of the Standard Webhooks spec's examples.
        let s = EndpointSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("valid");
        assert_eq!(s.key().expect("key").len(), 24);
    }

    #[test]
    fn malformed_secrets_are_refused() {
        assert_eq!(
            EndpointSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").err(),
            Some(BadSecret("no whsec_ prefix"))
        );
        assert!(EndpointSecret::parse("whsec_!!!").is_err());
        assert!(EndpointSecret::parse("whsec_c2hvcnQ=").is_err());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let s = EndpointSecret::generate();
        let debug = format!("{s:?} {:?}", Some(s.clone()));
        assert!(!debug.contains(s.expose()), "{debug}");
        assert!(!debug.contains("whsec_"), "{debug}");
    }
}
