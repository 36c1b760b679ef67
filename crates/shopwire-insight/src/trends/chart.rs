//! Inline SVG line charts for the `trends top --html` page and the console's trends page: no
//! scripts, no external assets, styled by their own presentation attributes (a page's CSS
//! may override them), and every piece of text they embed escaped, so a chart can be
//! written into any HTML page as it is.

use std::fmt::Write;

/// One line of a chart.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// CSS colour.
    pub color: &'static str,
    /// Drawn dashed (projections).
    pub dashed: bool,
    /// `(x, y)` points, x ascending.
    pub points: Vec<(f64, f64)>,
}

const WIDTH: f64 = 440.0;
const HEIGHT: f64 = 190.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 34.0;
/// The attributes of a small grey label (axis ends, legend).
const LABEL: &str = r##"class="l" font-size="10" fill="#555""##;

/// A line chart titled `title`; x is hours from now (labelled with `x_label`), y from 0 to
/// `y_max` (or the data's maximum when `None`).
pub fn line_chart(title: &str, x_label: &str, series: &[Series], y_max: Option<f64>) -> String {
    let points = series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1, mut top) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64);
    for &(x, y) in points {
        x0 = x0.min(x);
        x1 = x1.max(x);
        top = top.max(y);
    }
    if !x0.is_finite() {
        (x0, x1) = (-1.0, 0.0);
    }
    if x1 - x0 < 1e-9 {
        x1 = x0 + 1.0;
    }
    let y1 = y_max.unwrap_or((top * 1.1).max(1.0));
    let px = |x: f64| LEFT + (x - x0) / (x1 - x0) * (WIDTH - LEFT - RIGHT);
    let py = |y: f64| TOP + (1.0 - (y / y1).clamp(0.0, 1.0)) * (HEIGHT - TOP - BOTTOM);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{t}"><title>{t}</title><text x="{LEFT}" y="15" class="t" font-size="12" font-weight="600">{t}</text>"##,
        t = escape(title),
    );
    let (bx, by) = (HEIGHT - BOTTOM, WIDTH - RIGHT);
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" y1="{bx}" x2="{by}" y2="{bx}" class="ax" stroke="#999"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bx}" class="ax" stroke="#999"/><text x="{lx}" y="{ty}" {LABEL} text-anchor="end">{ymax}</text><text x="{lx}" y="{bx}" {LABEL} text-anchor="end">0</text><text x="{LEFT}" y="{xl}" {LABEL}>{x0}</text><text x="{by}" y="{xl}" {LABEL} text-anchor="end">{x1}</text><text x="{mid}" y="{xl}" {LABEL} text-anchor="middle">{xlab}</text>"##,
        lx = LEFT - 4.0,
        ty = TOP + 4.0,
        ymax = number(y1),
        xl = HEIGHT - BOTTOM + 14.0,
        x0 = hours(x0),
        x1 = hours(x1),
        mid = (LEFT + WIDTH - RIGHT) / 2.0,
        xlab = escape(x_label),
    );
    if x0 < 0.0 && x1 > 0.0 {
        let nx = px(0.0);
        let _ = write!(
            svg,
            r##"<line x1="{nx:.1}" y1="{TOP}" x2="{nx:.1}" y2="{bx}" class="now" stroke="#bbb" stroke-dasharray="2 3"/>"##
        );
    }
    for (i, s) in series.iter().enumerate() {
        let coords: Vec<String> = s
            .points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        let dash = if s.dashed {
            r#" stroke-dasharray="5 4""#
        } else {
            ""
        };
        if coords.len() == 1 {
            let _ = write!(
                svg,
                r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"##,
                px(s.points[0].0),
                py(s.points[0].1),
                s.color
            );
        } else if !coords.is_empty() {
            let _ = write!(
                svg,
                r##"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{dash}/>"##,
                coords.join(" "),
                s.color,
            );
        }
        let lx = WIDTH - RIGHT - 120.0 * (series.len() - i) as f64;
        let _ = write!(
            svg,
            r##"<rect x="{lx}" y="{ly}" width="10" height="3" fill="{c}"/><text x="{tx}" y="{ty}" {LABEL}>{n}</text>"##,
            ly = HEIGHT - 9.0,
            c = s.color,
            tx = lx + 14.0,
            ty = HEIGHT - 5.0,
            n = escape(&s.name),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// `text` safe inside HTML and SVG text and attributes.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn number(y: f64) -> String {
    if y >= 10.0 {
        format!("{y:.0}")
    } else {
        format!("{y:.1}")
    }
}

fn hours(x: f64) -> String {
    match x {
        x if x.abs() < 0.05 => "now".to_owned(),
        x if x < 0.0 => format!("{:.0} h ago", -x),
        x => format!("+{x:.0} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_self_contained_svg_with_escaped_text() {
        let svg = line_chart(
            "Stock <of> \"A&B\"",
            "hours",
            &[Series {
                name: "stock".into(),
                color: "#2563eb",
                dashed: false,
                points: vec![(-24.0, 10.0), (0.0, 4.0)],
            }],
            None,
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
        assert!(
            svg.contains("Stock &lt;of&gt; &quot;A&amp;B&quot;"),
            "{svg}"
        );
        assert!(svg.contains("<polyline"), "{svg}");
        assert!(!svg.contains("href") && !svg.contains("<script"), "{svg}");
    }

    #[test]
    fn an_empty_chart_still_renders() {
        let svg = line_chart("nothing", "hours", &[], Some(100.0));
        assert!(svg.contains("</svg>"));
    }
}
