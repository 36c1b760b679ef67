//! The seller console (docs/contract.md §11).

use std::time::Duration;

use secrecy::SecretString;

use super::ConfigError;
use super::reader::Reader;

/// The console's settings, part of [`super::Settings`].
#[derive(Debug, Clone)]
pub struct ConsoleSettings {
    /// `CONSOLE_PORT`, default 8081.
    pub port: u16,
    /// `CONSOLE_PASSWORD`: the one sign-in password. Optional here (the web and the worker
    /// never read it); `shopwire-console` refuses to start without it.
    pub password: Option<SecretString>,
    /// `CONSOLE_SESSION_HOURS`, default 12 (1–720): how long a sign-in lasts.
    pub session_ttl: Duration,
}

impl ConsoleSettings {
    /// The shortest password the console accepts.
    pub const MIN_PASSWORD_CHARS: usize = 8;

    pub(super) fn read<F: Fn(&str) -> Option<String>>(
        r: &Reader<F>,
    ) -> Result<ConsoleSettings, ConfigError> {
        Ok(ConsoleSettings {
            port: r.number("CONSOLE_PORT", 8081, 0..=65535)?,
            password: r.secret("CONSOLE_PASSWORD"),
            session_ttl: Duration::from_secs(
                3600 * r.number("CONSOLE_SESSION_HOURS", 12u64, 1..=720)?,
            ),
        })
    }

    /// The password, or the one-line reason the console cannot start.
    pub fn required_password(&self) -> Result<&SecretString, ConfigError> {
        use secrecy::ExposeSecret;
        let Some(password) = &self.password else {
            return Err(ConfigError::new(
                "CONSOLE_PASSWORD",
                "is required: the console signs people in with it",
            ));
        };
        if password.expose_secret().chars().count() < Self::MIN_PASSWORD_CHARS {
            return Err(ConfigError::new(
                "CONSOLE_PASSWORD",
                format!("must be at least {} characters", Self::MIN_PASSWORD_CHARS),
            ));
        }
        Ok(password)
    }
}
