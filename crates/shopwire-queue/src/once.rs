//! "Only one process does this": a short-lived Redis key per piece of work, set only if
//! absent. Several workers hear the same Postgres notification; the one that sets the key
//! acts, the others skip. Losing the key (Redis flushed) at worst makes two workers act,
//! which the jobs' own fencing makes harmless.

use std::time::Duration;

use crate::{QueueClient, QueueError};

impl QueueClient {
    /// For each of `names`, true if this call is the first to claim it within `ttl`. One
    /// round trip for all of them.
    pub async fn first_claims(
        &self,
        scope: &str,
        names: &[String],
        ttl: Duration,
    ) -> Result<Vec<bool>, QueueError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for name in names {
            pipe.cmd("SET")
                .arg(format!("{}:once:{scope}:{name}", self.prefix()))
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(ttl.as_millis() as u64);
        }
        let mut conn = self.connection();
        let answers: Vec<Option<String>> = pipe.query_async(&mut conn).await?;
        Ok(answers.into_iter().map(|a| a.is_some()).collect())
    }
}
