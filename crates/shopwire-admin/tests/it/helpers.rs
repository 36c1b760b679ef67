//! Run the built binary against a test's own database and read what it printed.

use std::process::Output;

use sqlx::PgPool;

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Everything on stdout.
    pub stdout: String,
    /// Everything on stderr.
    pub stderr: String,
}

impl Run {
    /// The one stdout JSON document; panics unless the run succeeded.
    pub fn json(&self) -> serde_json::Value {
        assert_eq!(self.code, Some(0), "failed: {self:?}");
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {self:?}"))
    }

    /// The failure's one stderr line; panics unless the run failed as the CLI promises:
    /// exit 1, nothing on stdout, exactly one `shopwire-admin: …` line on stderr.
    pub fn failure(&self) -> &str {
        assert_eq!(self.code, Some(1), "expected exit 1: {self:?}");
        assert_eq!(self.stdout, "", "stdout must be empty on failure: {self:?}");
        let line = self
            .stderr
            .strip_suffix('\n')
            .unwrap_or_else(|| panic!("stderr must end with a newline: {self:?}"));
        assert!(!line.contains('\n'), "stderr must be one line: {self:?}");
        line.strip_prefix("shopwire-admin: ")
            .unwrap_or_else(|| panic!("stderr must start with `shopwire-admin: `: {self:?}"))
    }
}

/// The binary, pointed at one database.
pub struct Admin {
    database_url: String,
}

impl Admin {
    /// Point the binary at the test database behind `pool`.
    pub fn new(pool: &PgPool) -> Self {
        Self::with_database_url(shopwire_testkit::database_url(pool))
    }

    /// Point the binary at any `DATABASE_URL`.
    pub fn with_database_url(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
        }
    }

    /// Run with `args`, in an environment holding only `DATABASE_URL` and `extra`.
    pub async fn run_with_env(&self, args: &[&str], extra: &[(&str, &str)]) -> Run {
        let output: Output = tokio::process::Command::new(env!("CARGO_BIN_EXE_shopwire-admin"))
            .args(args)
            .env_clear()
            .env("DATABASE_URL", &self.database_url)
            .envs(extra.iter().copied())
            .output()
            .await
            .expect("the binary runs");
        Run {
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }

    /// Run with `args`.
    pub async fn run(&self, args: &[&str]) -> Run {
        self.run_with_env(args, &[]).await
    }

    /// Run with `args` and `--json`; panics unless it succeeded with one JSON document.
    pub async fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut args = args.to_vec();
        args.push("--json");
        self.run(&args).await.json()
    }
}
