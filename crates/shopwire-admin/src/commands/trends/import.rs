//! `trends import FILE`: one JSON object per line —
//! `{"hashtag": "y2kfashion" | "video_id": "7312…", "skus": ["SKU", …], "views": N,
//!   "likes": N, "comments": N, "shares": N, "captured_at": "RFC 3339"}`.
//! Each good line is stored in its own transaction; bad lines are reported on stderr by
//! line number and skipped. A snapshot already stored (same signal, same moment) is a
//! duplicate, not an error, so importing a file twice changes nothing. Any `growth_rate`
//! in the input is ignored: growth is computed from successive snapshots.

use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shopwire_core::db::trends::{self, SnapshotSource};
use shopwire_core::trends::{SignalKind, Snapshot};
use sqlx::PgPool;

/// `trends import` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A JSON-lines file of signal snapshots (`-` for stdin).
    file: PathBuf,
}

/// One line as written.
#[derive(Debug, Deserialize)]
struct RawLine {
    hashtag: Option<String>,
    video_id: Option<String>,
    #[serde(default)]
    skus: Vec<String>,
    views: u64,
    #[serde(default)]
    likes: u64,
    #[serde(default)]
    comments: u64,
    #[serde(default)]
    shares: u64,
    captured_at: DateTime<Utc>,
}

/// A line that makes sense.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalLine {
    /// Hashtag or video.
    pub kind: SignalKind,
    /// Lowercase hashtag without `#`, or the video id.
    pub key: String,
    /// Products it sells.
    pub skus: Vec<String>,
    /// Its counters.
    pub snapshot: Snapshot,
}

impl TryFrom<RawLine> for SignalLine {
    type Error = String;

    fn try_from(raw: RawLine) -> Result<Self, String> {
        let (kind, key) = match (raw.hashtag, raw.video_id) {
            (Some(tag), None) => (
                SignalKind::Hashtag,
                tag.trim().trim_start_matches('#').to_lowercase(),
            ),
            (None, Some(id)) => (SignalKind::Video, id.trim().to_owned()),
            _ => return Err("give exactly one of `hashtag` and `video_id`".into()),
        };
        if key.is_empty() || key.chars().count() > 256 || key.chars().any(char::is_whitespace) {
            return Err(format!(
                "{} must be 1 to 256 characters without spaces",
                kind.as_str()
            ));
        }
        let max = i64::MAX as u64;
        if [raw.views, raw.likes, raw.comments, raw.shares]
            .iter()
            .any(|n| *n > max)
        {
            return Err("a count is too large".into());
        }
        if raw.captured_at > Utc::now() + chrono::Duration::hours(1) {
            return Err("captured_at is in the future".into());
        }
        Ok(SignalLine {
            kind,
            key,
            skus: raw.skus.iter().map(|s| s.trim().to_owned()).collect(),
            snapshot: Snapshot {
                captured_at: raw.captured_at,
                views: raw.views,
                likes: raw.likes,
                comments: raw.comments,
                shares: raw.shares,
            },
        })
    }
}

/// Parse one line; the error is the reason, for `line N: reason`.
pub fn parse_line(text: &str) -> Result<SignalLine, String> {
    let raw: RawLine = serde_json::from_str(text).map_err(|e| {
        // serde's message without its " at line 1 column N" suffix: the line is ours.
        let message = e.to_string();
        match message.rfind(" at line ") {
            Some(cut) => message[..cut].to_owned(),
            None => message,
        }
    })?;
    SignalLine::try_from(raw)
}

/// What `trends import` prints.
#[derive(Debug, Serialize)]
struct Summary {
    lines: usize,
    imported: usize,
    duplicates: usize,
    bad: usize,
    scoring_job: Option<i64>,
}

/// Import the file, report bad lines, enqueue a scoring run.
pub async fn run(args: Args, ctx: &crate::commands::Ctx) -> anyhow::Result<()> {
    let name = args.file.display().to_string();
    let text = if name == "-" {
        std::io::read_to_string(std::io::stdin()).context("failed to read stdin")?
    } else {
        std::fs::read_to_string(&args.file).with_context(|| format!("failed to read {name}"))?
    };
    let pool = ctx.pool().await?;
    let mut summary = Summary {
        lines: 0,
        imported: 0,
        duplicates: 0,
        bad: 0,
        scoring_job: None,
    };
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        summary.lines += 1;
        let stored = match parse_line(line) {
            Ok(signal) => store(&pool, &signal).await,
            Err(reason) => Err(reason),
        };
        match stored {
            Ok(true) => summary.imported += 1,
            Ok(false) => summary.duplicates += 1,
            Err(reason) => {
                summary.bad += 1;
                eprintln!("{name}: line {}: {reason}", index + 1);
            }
        }
    }
    if summary.lines == 0 {
        bail!("{name} has no signals");
    }
    if summary.imported + summary.duplicates == 0 {
        bail!("no valid lines in {name} ({} bad)", summary.bad);
    }
    if summary.imported > 0 {
        let newest = trends::latest_snapshot_id(&pool).await?.unwrap_or_default();
        let key = format!("trends:import:{newest}");
        summary.scoring_job = super::enqueue_scoring(ctx, &pool, &key)
            .await?
            .map(|job| job.get());
    }
    ctx.out.either(&summary, || {
        format!(
            "{} lines: {} imported, {} already present, {} bad; scoring {}",
            summary.lines,
            summary.imported,
            summary.duplicates,
            summary.bad,
            match (summary.imported, summary.scoring_job) {
                (0, _) => "not needed".to_owned(),
                (_, Some(job)) => format!("job {job} enqueued"),
                (_, None) => "job left to the worker's sweeper (Redis did not answer)".to_owned(),
            }
        )
    })
}

/// Store one signal line; `Ok(false)` for a snapshot already stored, `Err` with the reason
/// for a line that cannot be stored (an unknown SKU, or the database refusing it), which is
/// then reported like any bad line while the rest of the file goes on.
async fn store(pool: &PgPool, line: &SignalLine) -> Result<bool, String> {
    let attempt = async {
        let mut tx = pool.begin().await?;
        let signal = trends::upsert_signal(&mut tx, line.kind, &line.key).await?;
        for sku in &line.skus {
            if !trends::link_product(&mut tx, signal, sku).await? {
                return Ok(Err(format!("unknown SKU `{sku}`")));
            }
        }
        let inserted =
            trends::insert_snapshot(&mut tx, signal, &line.snapshot, SnapshotSource::Import)
                .await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(Ok(inserted))
    };
    match attempt.await {
        Ok(result) => result,
        Err(e) => Err(format!("not stored: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashtags_are_normalised_and_growth_from_input_is_ignored() {
        let line = parse_line(
            r##"{"hashtag":" #Y2KFashion","skus":["A-1"],"views":10,"likes":2,"growth_rate":900,"captured_at":"2026-11-22T06:00:00Z"}"##,
        )
        .expect("valid");
        assert_eq!(
            (line.kind, line.key.as_str()),
            (SignalKind::Hashtag, "y2kfashion")
        );
        assert_eq!((line.snapshot.views, line.snapshot.shares), (10, 0));
    }

    #[test]
    fn bad_lines_say_why_in_one_line() {
        for (text, reason) in [
            ("not json", "expected"),
            (
                r#"{"views":1,"captured_at":"2026-11-22T06:00:00Z"}"#,
                "exactly one",
            ),
            (
                r#"{"hashtag":"a b","views":1,"captured_at":"2026-11-22T06:00:00Z"}"#,
                "without spaces",
            ),
            (
                r#"{"hashtag":"x","views":-3,"captured_at":"2026-11-22T06:00:00Z"}"#,
                "invalid value",
            ),
            (
                r#"{"video_id":"1","views":1,"captured_at":"yesterday"}"#,
                "input contains invalid characters",
            ),
            (
                r#"{"video_id":"1","views":1,"captured_at":"2999-01-01T00:00:00Z"}"#,
                "future",
            ),
        ] {
            let err = parse_line(text).expect_err(text);
            assert!(err.contains(reason), "{text}: {err}");
            assert!(!err.contains('\n') && !err.contains("at line"), "{err}");
        }
    }
}
