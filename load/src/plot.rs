//! Draws a run's timeline as an SVG: latency (p50 and p99 of each second) above,
//! throughput (sent and delivered per second) below, against seconds since the start.

use crate::progress::Second;
use std::fmt::Write;

const WIDTH: f64 = 900.0;
const PANEL: f64 = 250.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const GAP: f64 = 70.0;

/// A line to draw in a panel.
struct Series<'a> {
    name: &'a str,
    color: &'a str,
    values: Vec<f64>,
}

/// The SVG document for `timeline`, titled `title`.
pub fn svg(title: &str, timeline: &[Second]) -> String {
    let height = TOP + 2.0 * PANEL + GAP + 40.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="{}" y="22" font-size="15" text-anchor="middle">{}</text>"#,
        WIDTH / 2.0,
        escape(title)
    );
    let seconds: Vec<f64> = timeline.iter().map(|s| s.second as f64).collect();
    let latency = [
        Series {
            name: "p50",
            color: "#1f77b4",
            values: timeline.iter().map(|s| s.p50_ms).collect(),
        },
        Series {
            name: "p99",
            color: "#d62728",
            values: timeline.iter().map(|s| s.p99_ms).collect(),
        },
    ];
    let throughput = [
        Series {
            name: "delivered/s",
            color: "#2ca02c",
            values: timeline
                .iter()
                .map(|s| s.delivered_per_second as f64)
                .collect(),
        },
        Series {
            name: "sent/s",
            color: "#ff7f0e",
            values: timeline.iter().map(|s| s.sent_per_second as f64).collect(),
        },
    ];
    panel(&mut out, TOP, "latency (ms)", &seconds, &latency);
    panel(
        &mut out,
        TOP + PANEL + GAP,
        "per second",
        &seconds,
        &throughput,
    );
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle">seconds since start</text>"#,
        LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
        height - 8.0
    );
    out.push_str("</svg>\n");
    out
}

/// One panel at `top`: axes with ticks, a legend, and a polyline per series.
fn panel(out: &mut String, top: f64, label: &str, x: &[f64], series: &[Series]) {
    let inner = WIDTH - LEFT - RIGHT;
    let x_max = nice_ceiling(x.iter().copied().fold(1.0, f64::max));
    let y_max = nice_ceiling(
        series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .fold(0.0, f64::max),
    );
    let px = |v: f64| LEFT + v / x_max * inner;
    let py = |v: f64| top + PANEL - v / y_max * PANEL;
    let _ = writeln!(
        out,
        r##"<rect x="{LEFT}" y="{top}" width="{inner}" height="{PANEL}" fill="none" stroke="#888"/>"##
    );
    for i in 0..=5 {
        let (xv, yv) = (x_max * i as f64 / 5.0, y_max * i as f64 / 5.0);
        let _ = writeln!(
            out,
            r##"<line x1="{LEFT}" y1="{y}" x2="{}" y2="{y}" stroke="#eee"/><text x="{}" y="{}" text-anchor="end">{}</text>"##,
            LEFT + inner,
            LEFT - 6.0,
            py(yv) + 4.0,
            number(yv),
            y = py(yv)
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            px(xv),
            top + PANEL + 16.0,
            number(xv)
        );
    }
    let _ = writeln!(
        out,
        r#"<text x="18" y="{}" transform="rotate(-90 18 {})" text-anchor="middle">{label}</text>"#,
        top + PANEL / 2.0,
        top + PANEL / 2.0
    );
    for (i, s) in series.iter().enumerate() {
        let points: Vec<String> = x
            .iter()
            .zip(&s.values)
            .map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y)))
            .collect();
        let _ = writeln!(
            out,
            r#"<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"/>"#,
            s.color,
            points.join(" ")
        );
        let lx = LEFT + 10.0 + 110.0 * i as f64;
        let _ = writeln!(
            out,
            r#"<line x1="{lx}" y1="{y}" x2="{}" y2="{y}" stroke="{}" stroke-width="3"/><text x="{}" y="{}">{}</text>"#,
            lx + 20.0,
            s.color,
            lx + 25.0,
            top + 16.0,
            s.name,
            y = top + 12.0
        );
    }
}

/// The smallest of 1, 2 or 5 times a power of ten that is at least `v` (1 for nothing).
fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * power)
}

/// An axis label: whole numbers plainly, small ones with a few decimals.
fn number(v: f64) -> String {
    if v >= 10.0 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn second(second: u64, p99_ms: f64, delivered: u64) -> Second {
        Second {
            second,
            phase: "steady",
            connections: 4,
            sent_per_second: delivered / 4,
            delivered_per_second: delivered,
            p50_ms: p99_ms / 2.0,
            p99_ms,
            errors: 0,
            server_cpu_percent: None,
            server_rss_kib: None,
        }
    }

    #[test]
    fn the_plot_has_both_panels_and_a_line_per_series() {
        let timeline = [
            second(1, 3.0, 400),
            second(2, 8.0, 1200),
            second(3, 2.5, 800),
        ];
        let svg = svg("rooms <20>", &timeline);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 4);
        assert!(svg.contains("latency (ms)") && svg.contains("delivered/s"));
        assert!(svg.contains("rooms &lt;20&gt;"));
        // The y axes reach the next round number above the largest value.
        assert!(svg.contains(">10</text>") && svg.contains(">2000</text>"));
    }

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(3.2), 5.0);
        assert_eq!(nice_ceiling(120_000.0), 200_000.0);
        assert_eq!(nice_ceiling(0.04), 0.05);
        assert_eq!(number(0.4), "0.40");
        assert_eq!(number(40000.0), "40000");
    }
}
