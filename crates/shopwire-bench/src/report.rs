//! Latency histograms (HDR, microseconds) and the report every scenario ends with: a human
//! summary on stderr and exactly one JSON line on stdout.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{Map, Value, json};

/// Longest latency recorded, in microseconds (longer ones are clamped): 10 minutes.
const MAX_MICROS: u64 = 600_000_000;

/// An HDR histogram of latencies with 3 significant digits.
#[derive(Debug, Clone)]
pub struct Latency(Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        Self(Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("valid histogram bounds"))
    }
}

impl Latency {
    /// Records one latency.
    pub fn record(&mut self, latency: Duration) {
        let micros = (latency.as_micros() as u64).clamp(1, MAX_MICROS);
        self.0
            .record(micros)
            .expect("clamped into the histogram's range");
    }

    /// Percentiles in milliseconds.
    pub fn summary(&self) -> Summary {
        let ms = |micros: u64| micros as f64 / 1000.0;
        let at = |q: f64| {
            if self.0.is_empty() {
                0.0
            } else {
                ms(self.0.value_at_quantile(q))
            }
        };
        Summary {
            count: self.0.len(),
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p99_ms: at(0.99),
            p999_ms: at(0.999),
            max_ms: ms(self.0.max()),
        }
    }
}

/// Latency percentiles of one histogram, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// How many latencies were recorded.
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl Summary {
    /// `p50 1.23  p90 …  max …` for humans.
    pub fn line(&self) -> String {
        format!(
            "p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2} ms  (n={})",
            self.p50_ms, self.p90_ms, self.p99_ms, self.p999_ms, self.max_ms, self.count
        )
    }
}

/// Errors counted by kind (`http_503`, `connect`, `wrong_order_count`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Errors(BTreeMap<String, u64>);

impl Errors {
    /// Counts one error of `kind`.
    pub fn add(&mut self, kind: impl Into<String>) {
        *self.0.entry(kind.into()).or_default() += 1;
    }

    /// Counts `n` errors of `kind` (none when `n` is 0).
    pub fn add_n(&mut self, kind: impl Into<String>, n: u64) {
        if n > 0 {
            *self.0.entry(kind.into()).or_default() += n;
        }
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &Errors) {
        for (kind, n) in &other.0 {
            *self.0.entry(kind.clone()).or_default() += n;
        }
    }

    /// All errors.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// `http_503: 2, connect: 1`, or `none`.
    pub fn line(&self) -> String {
        if self.0.is_empty() {
            return "none".into();
        }
        self.0
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The end of a scenario: fields for the JSON line, lines for humans, errors by kind.
#[derive(Debug, Clone)]
pub struct Report {
    fields: Map<String, Value>,
    human: Vec<String>,
    /// Every error of the scenario.
    pub errors: Errors,
}

impl Report {
    /// A report for `scenario` against `target` (`web`, `ceiling`).
    pub fn new(scenario: &str, target: &str) -> Report {
        let mut fields = Map::new();
        fields.insert("scenario".into(), json!(scenario));
        fields.insert("target".into(), json!(target));
        Report {
            fields,
            human: vec![format!("{scenario} → {target}")],
            errors: Errors::default(),
        }
    }

    /// Adds a field to the JSON line.
    pub fn field(&mut self, key: &str, value: impl Into<Value>) -> &mut Self {
        self.fields.insert(key.into(), value.into());
        self
    }

    /// Adds `<prefix>p50_ms`, … `<prefix>max_ms` (and a human line labelled `label`).
    pub fn latency(&mut self, prefix: &str, label: &str, summary: &Summary) -> &mut Self {
        for (key, value) in [
            ("p50_ms", summary.p50_ms),
            ("p90_ms", summary.p90_ms),
            ("p99_ms", summary.p99_ms),
            ("p999_ms", summary.p999_ms),
            ("max_ms", summary.max_ms),
        ] {
            self.fields
                .insert(format!("{prefix}{key}"), json!(round3(value)));
        }
        self.human.push(format!("  {label:<22} {}", summary.line()));
        self
    }

    /// Adds a line for humans only.
    pub fn note(&mut self, line: impl Into<String>) -> &mut Self {
        self.human.push(format!("  {}", line.into()));
        self
    }

    /// The JSON line, with the error counts.
    pub fn json(&self) -> Value {
        let mut fields = self.fields.clone();
        fields.insert("errors".into(), json!(self.errors.total()));
        fields.insert("errors_by_kind".into(), json!(self.errors.0));
        Value::Object(fields)
    }

    /// The human summary.
    pub fn human(&self) -> String {
        let mut lines = self.human.clone();
        lines.push(format!("  {:<22} {}", "errors", self.errors.line()));
        lines.join("\n")
    }

    /// Prints the summary (stderr) and the JSON line (stdout); `Err` if there were errors
    /// and they are not allowed.
    pub fn finish(&self, allow_errors: bool) -> anyhow::Result<()> {
        eprintln!("{}", self.human());
        println!("{}", self.json());
        match self.errors.total() {
            0 => Ok(()),
            _ if allow_errors => Ok(()),
            n => anyhow::bail!("{n} errors ({})", self.errors.line()),
        }
    }
}

/// `x` rounded to 3 decimals, for readable JSON.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_recorded_latencies() {
        let mut latency = Latency::default();
        for ms in 1..=1000u64 {
            latency.record(Duration::from_millis(ms));
        }
        let s = latency.summary();
        assert_eq!(s.count, 1000);
        // Three significant digits: within 0.1 % of the exact order statistic.
        for (got, exact) in [
            (s.p50_ms, 500.0),
            (s.p90_ms, 900.0),
            (s.p99_ms, 990.0),
            (s.max_ms, 1000.0),
        ] {
            assert!((got - exact).abs() <= exact * 0.001, "{got} vs {exact}");
        }
    }

    #[test]
    fn an_empty_histogram_reports_zeros_not_a_panic() {
        let s = Latency::default().summary();
        assert_eq!((s.count, s.p50_ms, s.max_ms), (0, 0.0, 0.0));
    }

    #[test]
    fn huge_latencies_are_clamped_not_lost() {
        let mut latency = Latency::default();
        latency.record(Duration::from_secs(3600));
        latency.record(Duration::ZERO);
        assert_eq!(latency.summary().count, 2);
        assert!(latency.summary().max_ms >= 599_000.0);
    }

    #[test]
    fn the_json_line_has_the_scenario_latencies_and_errors_by_kind() {
        let mut latency = Latency::default();
        latency.record(Duration::from_micros(1500));
        let mut report = Report::new("ingest", "web");
        report.field("throughput", 123.4);
        report.latency("", "latency", &latency.summary());
        report.latency("dup_", "duplicate", &latency.summary());
        report.errors.add("http_503");
        report.errors.add("http_503");
        report.errors.add("connect");
        let line = report.json();
        assert_eq!(line["scenario"], "ingest");
        assert_eq!(line["target"], "web");
        assert_eq!(line["throughput"], 123.4);
        assert_eq!(line["p50_ms"], 1.5);
        assert_eq!(line["dup_p99_ms"], 1.5);
        assert_eq!(line["errors"], 3);
        assert_eq!(line["errors_by_kind"]["http_503"], 2);
        assert!(!line.to_string().contains('\n'));
        assert!(report.human().contains("connect: 1, http_503: 2"));
    }

    #[test]
    fn errors_fail_the_scenario_unless_allowed() {
        let mut report = Report::new("ingest", "web");
        assert!(report.finish(false).is_ok());
        report.errors.add("timeout");
        assert!(report.finish(false).is_err());
        assert!(report.finish(true).is_ok());
    }
}
