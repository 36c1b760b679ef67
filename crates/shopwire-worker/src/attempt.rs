//! What every job attempt shares, below the job runner and the pipelines that both use it:
//! how a failure is classified ([`JobError`]) and how an attempt's effects commit together
//! with its row's final mark ([`commit`]). It imports nothing else of the worker, so the
//! runner, the pipelines and the provider clients can all depend on it without a cycle.

pub mod commit;
mod error;

pub use error::JobError;
