//! What commands print: human tables by default, or with `--json` exactly one JSON
//! document (an array for lists) and nothing else on stdout.

use std::io::Write;

use anyhow::Context;
use serde::Serialize;

/// A value that prints as one row of a human table.
pub trait Tabular {
    /// Column titles.
    const HEADERS: &'static [&'static str];
    /// This row's cells, in `HEADERS` order.
    fn cells(&self) -> Vec<String>;
}

/// Where and how a command prints its result.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    json: bool,
}

impl Output {
    /// Human output, or JSON when `json` is set.
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    /// True with `--json`.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// A list: a JSON array, or a table.
    pub fn list<T: Serialize + Tabular>(&self, rows: &[T]) -> anyhow::Result<()> {
        if self.json {
            return self.json_document(&rows);
        }
        let cells: Vec<Vec<String>> = rows.iter().map(Tabular::cells).collect();
        let mut text = table(T::HEADERS, &cells);
        if rows.is_empty() {
            text.push_str("(none)\n");
        }
        write_stdout(&text)
    }

    /// The first rows of a longer list: the list, then (on stderr, so `--json` stdout stays
    /// one document) `N of M shown; --limit` when `total` is more than was shown.
    pub fn list_of<T: Serialize + Tabular>(&self, rows: &[T], total: i64) -> anyhow::Result<()> {
        self.list(rows)?;
        if let Some(note) = shown_of(rows.len(), total) {
            eprintln!("{note}");
        }
        Ok(())
    }

    /// One record: a JSON object, or one `FIELD  value` line per column.
    pub fn record<T: Serialize + Tabular>(&self, row: &T) -> anyhow::Result<()> {
        if self.json {
            return self.json_document(row);
        }
        write_stdout(&fields(T::HEADERS, &row.cells()))
    }

    /// Any value as JSON, or the text `human` builds.
    pub fn either<T: Serialize>(
        &self,
        value: &T,
        human: impl FnOnce() -> String,
    ) -> anyhow::Result<()> {
        if self.json {
            return self.json_document(value);
        }
        let mut text = human();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        write_stdout(&text)
    }

    /// The one JSON document of this run.
    fn json_document<T: Serialize + ?Sized>(&self, value: &T) -> anyhow::Result<()> {
        let mut text = serde_json::to_string_pretty(value).context("failed to encode JSON")?;
        text.push('\n');
        write_stdout(&text)
    }
}

fn write_stdout(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .context("failed to write to stdout")
}

/// Left-aligned columns separated by two spaces, headers first.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let header_row: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    let mut out = String::new();
    for row in std::iter::once(&header_row).chain(rows) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// One `FIELD  value` line per column, names aligned.
pub fn fields(headers: &[&str], cells: &[String]) -> String {
    let width = headers.iter().map(|h| h.chars().count()).max().unwrap_or(0);
    headers
        .iter()
        .zip(cells)
        .map(|(h, c)| format!("{h:<width$}  {c}\n"))
        .collect()
}

/// `N of M shown; --limit` when `shown` is less than `total`.
pub fn shown_of(shown: usize, total: i64) -> Option<String> {
    let shown_count = i64::try_from(shown).unwrap_or(i64::MAX);
    (shown_count < total).then(|| format!("{shown} of {total} shown; --limit"))
}

/// `value`, or `-` when absent.
pub fn or_dash<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// A timestamp for people: UTC to the second.
pub fn time(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// At most `max` characters of `text` on one line, with `…` when cut.
pub fn clip(text: &str, max: usize) -> String {
    let flat = text.replace(['\n', '\r', '\t'], " ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns_and_trim_trailing_space() {
        let text = table(
            &["SKU", "TITLE"],
            &[
                vec!["A-1".into(), "Jacket".into()],
                vec!["LONG-SKU".into(), "".into()],
            ],
        );
        assert_eq!(text, "SKU       TITLE\nA-1       Jacket\nLONG-SKU\n");
    }

    #[test]
    fn a_cut_list_says_how_much_it_shows() {
        assert_eq!(
            shown_of(50, 212).as_deref(),
            Some("50 of 212 shown; --limit")
        );
        assert_eq!(shown_of(3, 3), None);
        assert_eq!(shown_of(0, 0), None);
    }

    #[test]
    fn clip_cuts_long_text_to_one_short_line() {
        assert_eq!(clip("a\nb", 10), "a b");
        assert_eq!(clip("abcdef", 4), "abc…");
    }
}
