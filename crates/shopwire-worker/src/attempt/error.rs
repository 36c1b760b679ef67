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

impl From<sqlx::Error> for JobError {
    fn from(e: sqlx::Error) -> Self {
        JobError::transient("database").caused_by(e)
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

    #[test]
    fn retry_after_belongs_to_transient_failures_only() {
        let wait = Some(Duration::from_secs(7));
        assert_eq!(JobError::transient_after("429", wait).retry_after(), wait);
        assert_eq!(JobError::permanent("bad").retry_after(), None);
        assert!(JobError::permanent("bad").is_permanent());
    }
}
