//! Typed reads of single variables, each error naming its variable.

use std::ops::RangeInclusive;
use std::str::FromStr;

use secrecy::SecretString;

use super::ConfigError;
use crate::signature::Secrets;

/// Reads variables through a lookup function; empty values count as unset.
pub(super) struct Reader<F> {
    lookup: F,
}

impl<F: Fn(&str) -> Option<String>> Reader<F> {
    pub(super) fn new(lookup: F) -> Self {
        Self { lookup }
    }

    pub(super) fn string(&self, var: &str) -> Option<String> {
        (self.lookup)(var)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub(super) fn secret(&self, var: &str) -> Option<SecretString> {
        self.string(var).map(SecretString::from)
    }

    pub(super) fn required_secret(&self, var: &'static str) -> Result<SecretString, ConfigError> {
        self.secret(var)
            .ok_or_else(|| ConfigError::new(var, "is required but not set"))
    }

    pub(super) fn secrets(&self, var: &str) -> Secrets {
        Secrets::parse_list(&self.string(var).unwrap_or_default())
    }

    pub(super) fn number<T>(
        &self,
        var: &'static str,
        default: T,
        range: RangeInclusive<T>,
    ) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + Copy + std::fmt::Display,
    {
        let Some(raw) = self.string(var) else {
            return Ok(default);
        };
        let value: T = raw
            .parse()
            .map_err(|_| ConfigError::new(var, format!("`{raw}` is not a number")))?;
        if !range.contains(&value) {
            return Err(ConfigError::new(
                var,
                format!("{value} is outside {}..={}", range.start(), range.end()),
            ));
        }
        Ok(value)
    }

    pub(super) fn fraction(&self, var: &'static str, default: f32) -> Result<f32, ConfigError> {
        let value = self.number(var, default, 0.0..=1.0)?;
        if value.is_nan() {
            return Err(ConfigError::new(var, "is not a number"));
        }
        Ok(value)
    }

    pub(super) fn flag(&self, var: &'static str) -> Result<bool, ConfigError> {
        match self.string(var).as_deref() {
            None => Ok(false),
            Some("true" | "1" | "yes") => Ok(true),
            Some("false" | "0" | "no") => Ok(false),
            Some(other) => Err(ConfigError::new(
                var,
                format!("`{other}` is not true or false"),
            )),
        }
    }

    pub(super) fn optional_url(&self, var: &'static str) -> Result<Option<String>, ConfigError> {
        match self.string(var) {
            None => Ok(None),
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                Ok(Some(url.trim_end_matches('/').to_owned()))
            }
            Some(url) => Err(ConfigError::new(
                var,
                format!("`{url}` is not an http(s) URL"),
            )),
        }
    }

    pub(super) fn url(&self, var: &'static str, default: &str) -> Result<String, ConfigError> {
        Ok(self
            .optional_url(var)?
            .unwrap_or_else(|| default.to_owned()))
    }
}
