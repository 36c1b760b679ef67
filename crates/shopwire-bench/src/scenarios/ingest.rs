//! `ingest` and `ingest-duplicates`: the mixed, signed delivery stream against shopwire-web
//! or the ceiling server, closed loop to saturation or open loop at a fixed rate.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use shopwire_core::domain::Provider;

use crate::args::{IngestArgs, LoadArgs};
use crate::load::{Budget, Engine, Mode, Run, Source};
use crate::payloads::{self, Signers};
use crate::report::{Errors, Latency, Report, round3};

/// In `ingest-duplicates`, an event's second send comes this many requests after its first
/// (far beyond the connection count, so the first has almost always been answered; when
/// the two do overlap, the server may answer the repeat `accepted` and the first
/// `duplicate`, which is right and is reported as `reordered`).
pub const DUP_LAG: u64 = 1024;

/// Whether request `i` is a first send or a repeat, and of which event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Send {
    /// The first delivery of event `n`.
    First(u64),
    /// The repeat of event `n`.
    Repeat(u64),
}

impl Send {
    /// Blocks of `2 × lag` requests: `lag` first sends, then the same `lag` events again.
    pub fn of(i: u64, lag: u64) -> Send {
        let (block, offset) = (i / (2 * lag), i % (2 * lag));
        if offset < lag {
            Send::First(block * lag + offset)
        } else {
            Send::Repeat(block * lag + offset - lag)
        }
    }
}

/// Runs `ingest` (or `ingest-duplicates` when `duplicates`).
pub async fn run(args: IngestArgs, duplicates: bool) -> anyhow::Result<()> {
    let signers = Arc::new(Signers::new(&args.signing));
    signers.require(&Provider::ALL)?;
    let load = &args.load;
    let engine = Engine::new(&load.url, load.timeout(), load.concurrency)?;
    if load.warmup > 0 {
        let warm = source(&signers, format!("{}w", payloads::run_id()), false);
        let closed = Mode::Closed {
            concurrency: load.concurrency,
        };
        engine
            .run(closed, Budget::Requests(load.warmup), warm, None)
            .await;
    }
    let (mode, budget) = pacing(load);
    let result = engine
        .run(
            mode,
            budget,
            source(&signers, payloads::run_id(), duplicates),
            None,
        )
        .await;
    let scenario = if duplicates {
        "ingest-duplicates"
    } else {
        "ingest"
    };
    report(scenario, load, mode, &result, duplicates).finish(load.allow_errors)
}

/// The mode and budget `load` asks for.
pub fn pacing(load: &LoadArgs) -> (Mode, Budget) {
    let mode = match load.rate {
        Some(rate) => Mode::Open { rate },
        None => Mode::Closed {
            concurrency: load.concurrency,
        },
    };
    let budget = match load.duration {
        Some(secs) => Budget::For(Duration::from_secs_f64(secs)),
        None => Budget::Requests(load.requests),
    };
    (mode, budget)
}

fn source(signers: &Arc<Signers>, run: String, duplicates: bool) -> Source {
    let signers = signers.clone();
    Arc::new(move |i| {
        let n = match duplicates {
            true => match Send::of(i, DUP_LAG) {
                Send::First(n) | Send::Repeat(n) => n,
            },
            false => i,
        };
        let provider = payloads::mix(n);
        signers.prepare(provider, payloads::body(provider, &run, n))
    })
}

fn report(scenario: &str, load: &LoadArgs, mode: Mode, run: &Run, duplicates: bool) -> Report {
    let mut report = Report::new(scenario, &load.target);
    let (mut all, mut first, mut repeat) =
        (Latency::default(), Latency::default(), Latency::default());
    let mut ok = 0u64;
    // Per event: the statuses it was answered with (duplicates only).
    let mut answers: HashMap<u64, Vec<&str>> = HashMap::new();
    let mut reordered = 0u64;
    for outcome in &run.outcomes {
        let ack = match &outcome.result {
            Ok(ack) => ack,
            Err(kind) => {
                report.errors.add(kind.clone());
                continue;
            }
        };
        let send = Send::of(outcome.index, DUP_LAG);
        let latency = match (duplicates, ack.status.as_str()) {
            (false, "accepted") | (true, "accepted") => &mut first,
            (true, "duplicate") => &mut repeat,
            (_, other) => {
                report.errors.add(format!("answered_{other}"));
                continue;
            }
        };
        ok += 1;
        latency.record(outcome.latency);
        all.record(outcome.latency);
        if duplicates {
            let (Send::First(n) | Send::Repeat(n)) = send;
            answers.entry(n).or_default().push(ack.status.as_str());
            reordered += u64::from(matches!(send, Send::Repeat(_)) && ack.status == "accepted");
        }
    }
    check_pairs(&answers, &mut report.errors);
    let secs = run.elapsed.as_secs_f64();
    let throughput = ok as f64 / secs.max(1e-9);
    report
        .field("mode", mode.name())
        .field("concurrency", load.concurrency as u64)
        .field("rate", load.rate)
        .field("requests", run.outcomes.len() as u64)
        .field("ok", ok)
        .field("elapsed_s", round3(secs))
        .field("throughput", round3(throughput))
        .note(format!(
            "{} loop{}: {} requests, {ok} ok in {secs:.2} s = {throughput:.0} req/s",
            mode.name(),
            match mode {
                Mode::Open { rate } => format!(" at {rate:.0}/s"),
                Mode::Closed { concurrency } => format!(", {concurrency} connections"),
            },
            run.outcomes.len(),
        ))
        .latency("", "latency", &all.summary());
    if duplicates {
        report
            .field("reordered", reordered)
            .latency("first_", "accepted answers", &first.summary())
            .latency("dup_", "duplicate answers", &repeat.summary());
    }
    report
}

/// Each event is new exactly once: two answers must be one `accepted` and one `duplicate`;
/// a lone answer (its twin failed or fell outside the run) may be either.
fn check_pairs(answers: &HashMap<u64, Vec<&str>>, errors: &mut Errors) {
    for statuses in answers.values() {
        let accepted = statuses.iter().filter(|s| **s == "accepted").count();
        match (statuses.len(), accepted) {
            (2, 1) | (1, _) => {}
            (_, 0) => errors.add("event_never_accepted"),
            _ => errors.add("event_accepted_twice"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_must_be_accepted_exactly_once_across_its_two_answers() {
        let answers = HashMap::from([
            (0, vec!["accepted", "duplicate"]),
            (1, vec!["duplicate", "accepted"]),
            (2, vec!["duplicate"]),
            (3, vec!["accepted"]),
            (4, vec!["accepted", "accepted"]),
            (5, vec!["duplicate", "duplicate"]),
        ]);
        let mut errors = Errors::default();
        check_pairs(&answers, &mut errors);
        assert_eq!(errors.total(), 2);
        assert_eq!(
            errors.line(),
            "event_accepted_twice: 1, event_never_accepted: 1"
        );
    }

    #[test]
    fn every_event_is_sent_exactly_twice_first_before_repeat() {
        let lag = 4;
        let sends: Vec<Send> = (0..3 * 2 * lag).map(|i| Send::of(i, lag)).collect();
        for n in 0..3 * lag {
            let first = sends
                .iter()
                .position(|s| *s == Send::First(n))
                .expect("first");
            let repeat = sends
                .iter()
                .position(|s| *s == Send::Repeat(n))
                .expect("repeat");
            assert_eq!(repeat - first, lag as usize, "event {n}");
            assert_eq!(
                sends
                    .iter()
                    .filter(|s| matches!(s, Send::First(m) | Send::Repeat(m) if *m == n))
                    .count(),
                2
            );
        }
    }
}
