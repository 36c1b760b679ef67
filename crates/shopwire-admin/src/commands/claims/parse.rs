//! `claims parse`: stdin lines → JSON lines
//! `{"text","intent","score","sku","quantity","outcome"}` on stdout (docs/contract.md §9):
//! what each line would become as a buy comment in a streamer's live now, against the
//! current catalog, lineup and pinned item. Nothing is recorded or reserved.
//!
//! Intent comes from the classifier `classify` uses; a buy scoring at least
//! `BUY_INTENT_THRESHOLD` is read by the claim reader (`shopwire_core::claims::read`) with
//! `MAX_CLAIM_QUANTITY` and `LIVE_LINEUP_ONLY`, as the worker reads a comment. Outcomes:
//! `claim` (`sku` and `quantity` set), `needs_variant` (`quantity` set, `sku` null),
//! `unmatched`, or `not_a_buy` (any other intent, or a buy below the threshold).
//!
//! Each line is read as the worker reads a message: its first `MESSAGE_MAX_CHARS`
//! characters, a NUL as U+FFFD ([`MessageText`]); `text` is that.

use anyhow::{Context, bail};
use serde::Serialize;
use shopwire_core::claims::{self, ClaimRules, Reading};
use shopwire_core::db::claims::{live_context, reader_catalog};
use shopwire_core::domain::MessageText;
use shopwire_insight::classify::{Classifier, Intent, RuleClassifier};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// `claims parse` reads messages from stdin, one per line.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Read against this streamer's lineup and pinned item (without it: the catalog only).
    #[arg(long)]
    streamer: Option<String>,
    /// Use the built-in rules even when INTENT_CLASSIFIER names an LLM.
    #[arg(long)]
    rules: bool,
}

/// One output line.
#[derive(Debug, Serialize)]
struct Line<'a> {
    /// The line as read: capped at `MESSAGE_MAX_CHARS` characters, a NUL as U+FFFD.
    text: &'a str,
    /// Its intent.
    intent: Intent,
    /// The intent's confidence in [0, 1].
    score: f32,
    /// The variant claimed; null unless the outcome is `claim`.
    sku: Option<&'a str>,
    /// Units asked for; null when unmatched or not a buy.
    quantity: Option<u32>,
    /// `claim`, `needs_variant`, `unmatched` or `not_a_buy`.
    outcome: &'static str,
}

/// Read the catalog and the streamer's live once, then each non-blank stdin line.
pub async fn run(args: Args, ctx: &crate::commands::Ctx) -> anyhow::Result<()> {
    let streamer = match args.streamer.as_deref().map(str::trim) {
        Some("") => bail!("--streamer must not be empty"),
        other => other,
    };
    let settings = &ctx.settings;
    let pool = ctx.pool().await?;
    let mut conn = pool
        .acquire()
        .await
        .context("failed to connect to Postgres")?;
    let catalog = reader_catalog(&mut conn)
        .await
        .context("failed to read the catalog")?;
    let live = live_context(
        &mut conn,
        streamer,
        chrono::Utc::now(),
        settings.claims.lineup_only,
    )
    .await
    .context("failed to read the streamer's lineup and pin")?;
    drop(conn);
    let rules = ClaimRules {
        max_quantity: settings.claims.max_quantity,
    };
    let classifier = if args.rules {
        Classifier::Rules(RuleClassifier::new())
    } else {
        Classifier::from_settings(settings)
    };

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut stdout = tokio::io::stdout();
    while let Some(line) = lines.next_line().await.context("failed to read stdin")? {
        let text = line.trim_end_matches('\r');
        if text.trim().is_empty() {
            continue;
        }
        let text = MessageText::new(text, settings.edge.message_max_chars);
        let class = classifier.classify(text.as_str()).await;
        let reading = (class.intent == Intent::Buy && class.score >= settings.buy_intent_threshold)
            .then(|| claims::read(text.as_str(), &catalog, &live, &rules));
        let mut json = serde_json::to_string(&Line {
            text: text.as_str(),
            intent: class.intent,
            score: class.score,
            sku: match &reading {
                Some(Reading::Claim { sku, .. }) => Some(sku),
                _ => None,
            },
            quantity: reading.as_ref().and_then(Reading::quantity),
            outcome: reading.as_ref().map_or("not_a_buy", Reading::outcome),
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
