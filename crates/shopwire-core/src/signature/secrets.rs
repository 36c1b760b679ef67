//! [`Secrets`]: the signing secrets of one webhook endpoint, several at once during a rotation.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// The active signing secrets of one endpoint, tried in order.
///
/// More than one secret is configured while a secret is being rotated: a delivery is
/// accepted if it was signed with any of them. Empty secrets are never stored (an empty
/// HMAC key would let anyone sign). `Debug` prints only how many secrets there are.
#[derive(Clone, Default)]
pub struct Secrets(Vec<SecretString>);

impl Secrets {
    /// Builds the list from individual secrets, in order, dropping empty ones.
    pub fn new(secrets: impl IntoIterator<Item = SecretString>) -> Self {
        Self(
            secrets
                .into_iter()
                .filter(|s| !s.expose_secret().is_empty())
                .collect(),
        )
    }

    /// Parses a comma-separated list such as `"whsec_new,whsec_old"`.
    ///
    /// Each item is trimmed of surrounding whitespace; empty items are dropped.
    pub fn parse_list(list: &str) -> Self {
        Self::new(
            list.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(SecretString::from),
        )
    }

    /// True when no secret is configured (nothing can verify).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many secrets are configured.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The first (preferred) secret: the one used to sign outgoing test deliveries.
    pub fn first(&self) -> Option<&SecretString> {
        self.0.first()
    }

    /// The secrets in configured order.
    pub fn iter(&self) -> impl Iterator<Item = &SecretString> {
        self.0.iter()
    }
}

impl FromIterator<SecretString> for Secrets {
    fn from_iter<I: IntoIterator<Item = SecretString>>(iter: I) -> Self {
        Self::new(iter)
    }
}

impl From<Vec<SecretString>> for Secrets {
    fn from(secrets: Vec<SecretString>) -> Self {
        Self::new(secrets)
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[REDACTED; {} secrets]", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exposed(secrets: &Secrets) -> Vec<&str> {
        secrets.iter().map(|s| s.expose_secret()).collect()
    }

    #[test]
    fn parse_list_splits_on_commas_trims_and_drops_empties() {
        let secrets = Secrets::parse_list(" whsec_new , ,whsec_old,,\t");
        assert_eq!(exposed(&secrets), ["whsec_new", "whsec_old"]);
        assert_eq!(secrets.len(), 2);
        assert_eq!(
            secrets.first().map(|s| s.expose_secret()),
            Some("whsec_new")
        );
    }

    #[test]
    fn an_empty_or_blank_list_is_empty() {
        assert!(Secrets::parse_list("").is_empty());
        assert!(Secrets::parse_list(" , ,").is_empty());
        assert!(Secrets::default().is_empty());
        assert!(Secrets::new([SecretString::from("")]).is_empty());
    }

    #[test]
    fn debug_output_shows_only_the_count() {
        let secrets = Secrets::parse_list("whsec_topsecret,other_secret");
        let printed = format!("{secrets:?} {secrets:#?}");
        assert_eq!(format!("{secrets:?}"), "[REDACTED; 2 secrets]");
        assert!(!printed.contains("topsecret"));
        assert!(!printed.contains("other_secret"));
    }
}
