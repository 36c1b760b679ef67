//! What the trend charts are drawn from and how: per product, its stock over the last day
//! and its projection to stockout, and its best signal's score history; per signal, its
//! score history ([`Charts`]). The console's trends page embeds them; `trends top --html`
//! writes them into one self-contained HTML file ([`Page`]: inline CSS and SVG, no scripts,
//! no external assets).

use std::collections::HashMap;
use std::fmt::Write;

use chrono::{DateTime, Utc};
use shopwire_core::db::trends::SignalId;
use shopwire_core::db::trends::report::{self, ProductReport, ScorePoint, SignalReport};
use shopwire_core::db::trends::velocity::{self, SaleRow};
use sqlx::PgPool;

use super::chart::{Series, escape, line_chart};

/// How far back the stock charts look.
const STOCK_HOURS: i64 = 24;
/// How far ahead a stock projection goes at most.
const PROJECTION_HOURS: f64 = 48.0;

/// The histories and sales the charts of some products and signals are drawn from, as of
/// one moment.
#[derive(Debug, Clone)]
pub struct Charts {
    /// Score history by signal id.
    histories: HashMap<SignalId, Vec<ScorePoint>>,
    /// The last day's sales by product id.
    sales: HashMap<i64, Vec<SaleRow>>,
    /// When the charts were made: x = 0.
    now: DateTime<Utc>,
}

impl Charts {
    /// Read the score history of each of `signals` and the last day's sales, as of `now`.
    pub async fn load(
        pool: &PgPool,
        signals: &[SignalReport],
        now: DateTime<Utc>,
    ) -> Result<Charts, sqlx::Error> {
        let mut histories = HashMap::new();
        for s in signals {
            histories.insert(s.id, report::history(pool, s.id).await?);
        }
        let mut sales: HashMap<i64, Vec<SaleRow>> = HashMap::new();
        let since = now - chrono::Duration::hours(STOCK_HOURS);
        for sale in velocity::sales_since(pool, since).await? {
            sales.entry(sale.product_id).or_default().push(sale);
        }
        Ok(Charts::new(histories, sales, now))
    }

    /// Charts from histories and sales already read.
    pub fn new(
        histories: HashMap<SignalId, Vec<ScorePoint>>,
        sales: HashMap<i64, Vec<SaleRow>>,
        now: DateTime<Utc>,
    ) -> Charts {
        Charts {
            histories,
            sales,
            now,
        }
    }

    /// When the charts were made.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// SVG: the product's available stock over the last 24 h and its projection.
    pub fn stock(&self, p: &ProductReport) -> String {
        line_chart(
            "Available stock: last 24 h and projection",
            "hours",
            &self.stock_series(p),
            None,
        )
    }

    /// SVG: the signal's trend and urgency score over time.
    pub fn score(&self, s: &SignalReport) -> String {
        line_chart(
            "Trend and urgency score",
            "captured",
            &self.score_series(s.id),
            Some(100.0),
        )
    }

    /// SVG: the score history of the product's best signal, when it is among `signals`.
    pub fn best_signal_score(&self, p: &ProductReport, signals: &[SignalReport]) -> Option<String> {
        let best = best_signal(p, signals)?;
        Some(line_chart(
            &format!("Score of {}", label(best)),
            "captured",
            &self.score_series(best.id),
            Some(100.0),
        ))
    }

    /// Stock in the past (what is available now plus what sold since) and the projection
    /// at max(6 h, 24 h velocity) until it reaches zero or 48 h.
    fn stock_series(&self, p: &ProductReport) -> Vec<Series> {
        let sales = self.sales.get(&p.id).map_or(&[][..], Vec::as_slice);
        let available = f64::from(p.available.max(0));
        let past: Vec<(f64, f64)> = (0..=STOCK_HOURS)
            .map(|h| {
                let at = self.now - chrono::Duration::hours(STOCK_HOURS - h);
                let sold_since: i32 = sales.iter().filter(|s| s.at > at).map(|s| s.units).sum();
                ((h - STOCK_HOURS) as f64, available + f64::from(sold_since))
            })
            .collect();
        let rate = p
            .velocity_6h
            .unwrap_or(0.0)
            .max(p.velocity_24h.unwrap_or(0.0));
        let horizon = if rate > 0.0 {
            (available / rate).min(PROJECTION_HOURS)
        } else {
            STOCK_HOURS as f64
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

    fn score_series(&self, signal: SignalId) -> Vec<Series> {
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

/// The product's best signal (the first of its signals, `kind:key`), when it is among
/// `signals`.
pub fn best_signal<'a>(p: &ProductReport, signals: &'a [SignalReport]) -> Option<&'a SignalReport> {
    let first = p.signals.first()?;
    signals.iter().find(|s| label(s) == *first)
}

/// `kind:key`, as a product names its signals ([`ProductReport::signals`]).
pub fn label(s: &SignalReport) -> String {
    format!("{}:{}", s.kind, s.key)
}

/// The `trends top --html` page: everything it shows.
pub struct Page<'a> {
    /// Products, best first.
    pub products: &'a [ProductReport],
    /// Signals, best first.
    pub signals: &'a [SignalReport],
    /// Their charts.
    pub charts: &'a Charts,
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:24px;color:#111;background:#fafafa}\
h1{font-size:20px}h2{font-size:16px;margin:28px 0 8px}\
.card{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px;margin:10px 0}\
.row{display:flex;flex-wrap:wrap;gap:12px}.meta{color:#444;margin:4px 0 8px}\
.alert-critical{color:#b91c1c;font-weight:600}.alert-low{color:#c2410c}.alert-medium{color:#a16207}\
.alert-high{color:#15803d}";

impl Page<'_> {
    /// The whole HTML document.
    pub fn render(&self) -> String {
        let mut html = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Shopwire trends</title><style>{STYLE}</style></head><body><h1>Shopwire trends — {}</h1>",
            self.charts.now().format("%Y-%m-%d %H:%M UTC")
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
            let chart = self.charts.score(s);
            let _ = write!(
                html,
                "<div class=\"card\"><b>{}</b> <span class=\"meta\">trend {:.1} · urgency {:.1} · {} views · growth {:.1}%/h · engagement {:.1}% · {} · SKUs: {}</span><div class=\"meta\">{}</div>{chart}</div>",
                escape(&label(s)),
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
        html.push_str(&self.charts.stock(p));
        if let Some(chart) = self.charts.best_signal_score(p, self.signals) {
            html.push_str(&chart);
        }
        html.push_str("</div></div>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(now: DateTime<Utc>) -> SignalReport {
        SignalReport {
            id: 7,
            kind: "hashtag".into(),
            key: "<b>y2k</b>".into(),
            trend_score: 80.0,
            urgency_score: 60.0,
            growth_rate: 0.5,
            engagement_rate: 0.1,
            views: 1000,
            reasoning: "views <script>alert(1)</script> & more".into(),
            scorer: "formula".into(),
            captured_at: now,
            skus: vec!["JKT-<1>".into()],
        }
    }

    fn product() -> ProductReport {
        ProductReport {
            id: 1,
            sku: "JKT-<1>".into(),
            title: "Jacket \"<img src=x onerror=alert(1)>\"".into(),
            available: 4,
            trend_score: 80.0,
            urgency_score: 60.0,
            signals: vec!["hashtag:<b>y2k</b>".into()],
            velocity_6h: Some(2.0),
            velocity_24h: Some(1.0),
            velocity_trend: Some("increasing".into()),
            hours_to_stockout: Some(2.0),
            alert: Some("critical".into()),
            reorder_units: Some(12),
            reorder_confidence: Some(0.8),
        }
    }

    fn charts(now: DateTime<Utc>) -> Charts {
        let history = vec![
            ScorePoint {
                at: now - chrono::Duration::hours(2),
                trend_score: 40.0,
                urgency_score: 30.0,
            },
            ScorePoint {
                at: now,
                trend_score: 80.0,
                urgency_score: 60.0,
            },
        ];
        let sales = vec![SaleRow {
            product_id: 1,
            at: now - chrono::Duration::hours(3),
            units: 2,
        }];
        Charts::new(
            HashMap::from([(7, history)]),
            HashMap::from([(1, sales)]),
            now,
        )
    }

    #[test]
    fn a_product_is_charted_with_its_stock_and_its_best_signal() {
        let now = Utc::now();
        let (p, s) = (product(), signal(now));
        let charts = charts(now);
        let stock = charts.stock(&p);
        assert!(
            stock.starts_with("<svg") && stock.contains("projected 2.00/h"),
            "{stock}"
        );
        let best = charts
            .best_signal_score(&p, std::slice::from_ref(&s))
            .expect("its signal is among those shown");
        assert!(
            best.contains("Score of hashtag:&lt;b&gt;y2k&lt;/b&gt;"),
            "{best}"
        );
        assert!(!best.contains("<b>"), "{best}");
        // A signal that is not shown is not charted.
        assert_eq!(charts.best_signal_score(&p, &[]), None);
    }

    #[test]
    fn the_page_escapes_every_text_it_shows() {
        let now = Utc::now();
        let (products, signals) = ([product()], [signal(now)]);
        let charts = charts(now);
        let page = Page {
            products: &products,
            signals: &signals,
            charts: &charts,
        }
        .render();
        assert!(page.starts_with("<!doctype html>"), "{page}");
        assert_eq!(page.matches("<svg").count(), 3, "{page}");
        for raw in ["<script", "<img", "<b>y2k", "<1>"] {
            assert!(!page.contains(raw), "{raw} in {page}");
        }
        assert!(
            page.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{page}"
        );
        assert!(page.contains("views &lt;script&gt;"), "{page}");
    }
}
