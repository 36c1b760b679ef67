//! The one classification of a failed attempt: worth retrying or not, with the provider's
//! `Retry-After` and the error that caused it (its source chain is kept for the logs).

use std::error::Error as StdError;
use std::time::Duration;

/// Why an attempt failed, and whether trying again could help.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth retrying (network, 5xx, lock timeout); optionally not before `retry_after`.
    #[error("{message}")]
    Transient {
        /// What went wrong.
        message: String,
        /// The provider's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
        /// The error behind it, if any.
        #[source]
        source: Option<Box<dyn StdError + Send + Sync>>,
    },
    /// Retrying cannot help (bad payload, unknown product): straight to the dead-letter queue.
    #[error("{message}")]
    Permanent {
        /// What went wrong.
        message: String,
        /// The error behind it, if any.
        #[source]
        source: Option<Box<dyn StdError + Send + Sync>>,
    },
}

impl JobError {
    /// A transient failure without `Retry-After`.
    pub fn transient(message: impl Into<String>) -> Self {
        JobError::Transient {
            message: message.into(),
            retry_after: None,
            source: None,
        }
    }

    /// A transient failure the provider asked us to retry no sooner than `retry_after`.
    pub fn transient_after(message: impl Into<String>, retry_after: Option<Duration>) -> Self {
        JobError::Transient {
            message: message.into(),
            retry_after,
            source: None,
        }
    }

    /// A failure no retry can fix.
    pub fn permanent(message: impl Into<String>) -> Self {
        JobError::Permanent {
            message: message.into(),
            source: None,
        }
    }

    /// The same failure, keeping `source` as its cause.
    pub fn caused_by(mut self, cause: impl StdError + Send + Sync + 'static) -> Self {
        let slot = match &mut self {
            JobError::Transient { source, .. } | JobError::Permanent { source, .. } => source,
        };
        *slot = Some(Box::new(cause));
        self
    }

    /// True when no retry should be attempted.
    pub fn is_permanent(&self) -> bool {
        matches!(self, JobError::Permanent { .. })
    }

    /// The provider's requested delay, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            JobError::Transient { retry_after, .. } => *retry_after,
            JobError::Permanent { .. } => None,
        }
    }

    /// The message with its causes, as recorded in `last_error` and the logs.
    pub fn report(&self) -> String {
        let mut text = self.to_string();
        let mut cause = self.source();
        while let Some(e) = cause {
            let next = e.to_string();
            if !text.contains(&next) {
                text.push_str(": ");
                text.push_str(&next);
            }
            cause = e.source();
        }
        text
    }
}

/// SQLSTATE class 22, "data exception": the values themselves are refused (a NUL in text,
/// 22021 `character_not_in_repertoire`; `\u0000` in JSON, 22P05 `untranslatable_character`;
/// a number out of range, a malformed literal …). The same values fail the same way on
/// every attempt, so no retry can help.
const DATA_EXCEPTION_CLASS: &str = "22";

impl From<sqlx::Error> for JobError {
    /// A data exception is permanent (the delivery is marked dead at once, its SQLSTATE in
    /// `last_error`); any other database error is transient.
    fn from(e: sqlx::Error) -> Self {
        let refused = match &e {
            sqlx::Error::Database(db) => db
                .code()
                .filter(|code| code.starts_with(DATA_EXCEPTION_CLASS))
                .map(|code| code.into_owned()),
            _ => None,
        };
        match refused {
            Some(code) => {
                JobError::permanent(format!("database refused the data (SQLSTATE {code})"))
                    .caused_by(e)
            }
            None => JobError::transient("database").caused_by(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_error_is_transient_and_keeps_its_cause() {
        let error = JobError::from(sqlx::Error::PoolTimedOut);
        assert!(!error.is_permanent());
        assert!(error.source().is_some());
        assert!(
            error.report().starts_with("database: "),
            "{}",
            error.report()
        );
    }

    /// A database error with `code`, as Postgres would answer.
    #[derive(Debug)]
    struct Refused(&'static str);

    impl std::fmt::Display for Refused {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "invalid byte sequence for encoding \"UTF8\": 0x00")
        }
    }

    impl StdError for Refused {}

    impl sqlx::error::DatabaseError for Refused {
        fn message(&self) -> &str {
            "invalid byte sequence for encoding \"UTF8\": 0x00"
        }
        fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
            Some(self.0.into())
        }
        fn as_error(&self) -> &(dyn StdError + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn StdError + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn StdError + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    #[test]
    fn a_nul_the_database_refuses_is_permanent_and_names_its_sqlstate() {
        for code in ["22021", "22P05", "22003"] {
            let error = JobError::from(sqlx::Error::Database(Box::new(Refused(code))));
            assert!(error.is_permanent(), "{code} must not be retried");
            let report = error.report();
            assert!(
                report.contains(&format!("SQLSTATE {code}")) && report.contains("0x00"),
                "{report}"
            );
        }
    }

    #[test]
    fn other_database_errors_stay_transient() {
        // 40001 serialization_failure and 23505 unique_violation: another attempt may pass.
        for code in ["40001", "23505", "57014"] {
            let error = JobError::from(sqlx::Error::Database(Box::new(Refused(code))));
            assert!(!error.is_permanent(), "{code} is worth retrying");
        }
    }

    #[test]
    fn retry_after_belongs_to_transient_failures_only() {
        let wait = Some(Duration::from_secs(7));
        assert_eq!(JobError::transient_after("429", wait).retry_after(), wait);
        assert_eq!(JobError::permanent("bad").retry_after(), None);
        assert!(JobError::permanent("bad").is_permanent());
    }
}
