//! The `trends top --html` page: one self-contained HTML file (inline CSS and SVG, no
//! scripts, no external assets) with, per product, its stock over the last day and its
//! projection to stockout, and its best signal's score history; then every signal's.

use std::collections::HashMap;
use std::fmt::Write;

use chrono::{DateTime, Utc};
use shopwire_core::db::trends::report::{ProductReport, ScorePoint, SignalReport};
use shopwire_core::db::trends::velocity::SaleRow;

use super::chart::{Series, escape, line_chart};

/// Everything the page shows.
pub struct Page<'a> {
    /// Products, best first.
    pub products: &'a [ProductReport],
    /// Signals, best first.
    pub signals: &'a [SignalReport],
    /// Score history by signal id.
    pub histories: &'a HashMap<i64, Vec<ScorePoint>>,
    /// The last day's sales by product id.
    pub sales: &'a HashMap<i64, Vec<SaleRow>>,
    /// When the page was made.
    pub now: DateTime<Utc>,
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:24px;color:#111;background:#fafafa}\
h1{font-size:20px}h2{font-size:16px;margin:28px 0 8px}\
.card{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px;margin:10px 0}\
.row{display:flex;flex-wrap:wrap;gap:12px}.meta{color:#444;margin:4px 0 8px}\
.alert-critical{color:#b91c1c;font-weight:600}.alert-low{color:#c2410c}.alert-medium{color:#a16207}\
.alert-high{color:#15803d}svg .t{font-size:12px;font-weight:600}svg .l{font-size:10px;fill:#555}\
svg .ax{stroke:#999}svg .now{stroke:#bbb;stroke-dasharray:2 3}";

impl Page<'_> {
    /// The whole HTML document.
    pub fn render(&self) -> String {
        let mut html = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Shopwire trends</title><style>{STYLE}</style></head><body><h1>Shopwire trends — {}</h1>",
            self.now.format("%Y-%m-%d %H:%M UTC")
        );
        html.push_str("<h2>Products</h2>");
        if self.products.is_empty() {
            html.push_str("<p>No product is linked to a scored signal yet.</p>");
        }
        for p in self.products {
            self.product_card(&mut html, p);
        }
        html.push_str("<h2>Signals</h2>");
        for s in self.signals {
            let chart = line_chart(
                "Trend and urgency score",
                "captured",
                &self.score_series(s.id),
                Some(100.0),
            );
            let _ = write!(
                html,
                "<div class=\"card\"><b>{}</b> <span class=\"meta\">trend {:.1} · urgency {:.1} · {} views · growth {:.1}%/h · engagement {:.1}% · {} · SKUs: {}</span><div class=\"meta\">{}</div>{chart}</div>",
                escape(&format!("{}:{}", s.kind, s.key)),
                s.trend_score,
                s.urgency_score,
                s.views,
                s.growth_rate * 100.0,
                s.engagement_rate * 100.0,
                escape(&s.scorer),
                escape(&s.skus.join(", ")),
                escape(&s.reasoning),
            );
        }
        html.push_str("</body></html>\n");
        html
    }

    fn product_card(&self, html: &mut String, p: &ProductReport) {
        let alert = p.alert.as_deref().unwrap_or("unknown");
        let stockout = p.hours_to_stockout.map_or("not selling".to_owned(), |h| {
            format!("{h:.1} h to stockout")
        });
        let _ = write!(
            html,
            "<div class=\"card\"><b>{}</b> {} <div class=\"meta\">trend {:.1} · urgency {:.1} · {} available · <span class=\"alert-{}\">{} ({})</span> · reorder {} (confidence {:.0}%)</div><div class=\"row\">",
            escape(&p.sku),
            escape(&p.title),
            p.trend_score,
            p.urgency_score,
            p.available,
            escape(alert),
            escape(alert),
            stockout,
            p.reorder_units.unwrap_or(0),
            p.reorder_confidence.unwrap_or(0.0) * 100.0,
        );
        html.push_str(&line_chart(
            "Available stock: last 24 h and projection",
            "hours",
            &self.stock_series(p),
            None,
        ));
        let best = p.signals.first().and_then(|label| {
            self.signals
                .iter()
                .find(|s| format!("{}:{}", s.kind, s.key) == *label)
        });
        if let Some(signal) = best {
            html.push_str(&line_chart(
                &format!("Score of {}:{}", signal.kind, signal.key),
                "captured",
                &self.score_series(signal.id),
                Some(100.0),
            ));
        }
        html.push_str("</div></div>");
    }

    /// Stock in the past (what is available now plus what sold since) and the projection
    /// at max(6 h, 24 h velocity) until it reaches zero or 48 h.
    fn stock_series(&self, p: &ProductReport) -> Vec<Series> {
        let sales = self.sales.get(&p.id).map_or(&[][..], Vec::as_slice);
        let available = f64::from(p.available.max(0));
        let past: Vec<(f64, f64)> = (0..=24)
            .map(|h| {
                let at = self.now - chrono::Duration::hours(24 - h);
                let sold_since: i32 = sales.iter().filter(|s| s.at > at).map(|s| s.units).sum();
                ((h - 24) as f64, available + f64::from(sold_since))
            })
            .collect();
        let rate = p
            .velocity_6h
            .unwrap_or(0.0)
            .max(p.velocity_24h.unwrap_or(0.0));
        let horizon = if rate > 0.0 {
            (available / rate).min(48.0)
        } else {
            24.0
        };
        let projection = vec![
            (0.0, available),
            (horizon, (available - rate * horizon).max(0.0)),
        ];
        vec![
            Series {
                name: "available".into(),
                color: "#2563eb",
                dashed: false,
                points: past,
            },
            Series {
                name: format!("projected {rate:.2}/h"),
                color: "#dc2626",
                dashed: true,
                points: projection,
            },
        ]
    }

    fn score_series(&self, signal: i64) -> Vec<Series> {
        let history = self.histories.get(&signal).map_or(&[][..], Vec::as_slice);
        let x = |p: &ScorePoint| (p.at - self.now).num_seconds() as f64 / 3600.0;
        vec![
            Series {
                name: "trend".into(),
                color: "#7c3aed",
                dashed: false,
                points: history.iter().map(|p| (x(p), p.trend_score)).collect(),
            },
            Series {
                name: "urgency".into(),
                color: "#ea580c",
                dashed: false,
                points: history.iter().map(|p| (x(p), p.urgency_score)).collect(),
            },
        ]
    }
}
