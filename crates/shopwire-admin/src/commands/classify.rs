//! `classify`: stdin lines → JSON lines `{"text","intent","score"}` on stdout
//! (docs/contract.md §5).
//!
//! Needs no database. With the full environment it uses the configured classifier
//! (`INTENT_CLASSIFIER`); without `DATABASE_URL` it uses the built-in rules. Each line is
//! read as the worker reads a message: its first `MESSAGE_MAX_CHARS` characters (2000
//! without the full environment), a NUL as U+FFFD ([`MessageText`]).

use anyhow::Context;
use serde::Serialize;
use shopwire_core::config::Settings;
use shopwire_core::domain::MessageText;
use shopwire_core::domain::message_text::DEFAULT_MAX_CHARS;
use shopwire_insight::classify::{Classifier, Intent, RuleClassifier};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// `classify` reads messages from stdin, one per line.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Use the built-in rules even when INTENT_CLASSIFIER names an LLM.
    #[arg(long)]
    pub rules: bool,
}

/// One output line.
#[derive(Debug, Serialize)]
pub struct Line<'a> {
    /// The line as read: capped at `MESSAGE_MAX_CHARS` characters, a NUL as U+FFFD.
    pub text: &'a str,
    /// Its intent.
    pub intent: Intent,
    /// Confidence in [0, 1].
    pub score: f32,
}

/// The settings when the environment has them, or `None` when only `DATABASE_URL` is
/// missing (this command has no use for it); any other bad value fails as everywhere.
pub fn settings() -> anyhow::Result<Option<Settings>> {
    match Settings::from_env() {
        Ok(settings) => Ok(Some(settings)),
        Err(e) if e.var() == "DATABASE_URL" => Ok(None),
        Err(e) => Err(anyhow::Error::new(e).context("invalid configuration")),
    }
}

/// Classify each non-blank stdin line and print it as one JSON line.
pub async fn run(args: Args, settings: Option<&Settings>) -> anyhow::Result<()> {
    let classifier = match settings {
        Some(settings) if !args.rules => Classifier::from_settings(settings),
        _ => Classifier::Rules(RuleClassifier::new()),
    };
    let max_chars = settings.map_or(DEFAULT_MAX_CHARS, |s| s.edge.message_max_chars);
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut stdout = tokio::io::stdout();
    while let Some(line) = lines.next_line().await.context("failed to read stdin")? {
        let text = line.trim_end_matches('\r');
        if text.trim().is_empty() {
            continue;
        }
        let text = MessageText::new(text, max_chars);
        let class = classifier.classify(text.as_str()).await;
        let mut json = serde_json::to_string(&Line {
            text: text.as_str(),
            intent: class.intent,
            score: class.score,
        })
        .context("failed to encode JSON")?;
        json.push('\n');
        stdout
            .write_all(json.as_bytes())
            .await
            .context("failed to write to stdout")?;
    }
    stdout.flush().await.context("failed to write to stdout")
}
