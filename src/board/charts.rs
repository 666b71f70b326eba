//! The page's charts as inline SVG, drawn on the server from the board view
//! (so a chart can show nothing the tables withhold). Each has a title and a
//! description for screen readers, and the table beside it holds the numbers
//! behind it.

use std::fmt::Write;

use serde_json::Value;

const WIDTH: f64 = 640.0;
const LEFT: f64 = 150.0;
const RIGHT: f64 = 20.0;
/// Before (lighter) and after (darker) bars; both at least 3:1 on white.
const BEFORE: &str = "#5b7fa6";
const AFTER: &str = "#1f3b5c";
const INK: &str = "#1a1a1a";

/// An SVG `id` of `height` with its title and description for screen
/// readers, open for the chart's shapes.
fn open(id: &str, height: f64, title: &str, description: &str) -> String {
    format!(
        r#"<svg role="img" aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {WIDTH} {height}" width="100%" xmlns="http://www.w3.org/2000/svg"><title id="{id}-title">{title}</title><desc id="{id}-desc">{description}</desc>"#
    )
}

/// Bars of each role's leaver rate, before and after, for the rows whose
/// rates are shown. `None` when no rate is shown at all.
pub(super) fn leavers(report: &Value) -> Option<String> {
    let rows: Vec<&Value> = report["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(std::iter::once(&report["total"]))
        .collect();
    let rate = |row: &Value, key: &str| row[key]["leaver_rate_percent"].as_f64();
    let shown: Vec<(&str, Option<f64>, Option<f64>)> = rows
        .iter()
        .map(|r| {
            (
                r["role_code"].as_str().unwrap_or(""),
                rate(r, "before"),
                rate(r, "period"),
            )
        })
        .filter(|(_, b, a)| b.is_some() || a.is_some())
        .collect();
    if shown.is_empty() {
        return None;
    }
    let most = shown
        .iter()
        .flat_map(|(_, b, a)| [*b, *a])
        .flatten()
        .fold(1.0_f64, f64::max)
        * 1.15;
    let band = 44.0;
    let height = 40.0 + band * shown.len() as f64;
    let scale = |v: f64| (WIDTH - LEFT - RIGHT) * v / most;
    let mut svg = open(
        "leavers-chart",
        height,
        "Leaver rate by role, before and after",
        "Leavers as a percentage of average headcount in each period; the numbers are in the table above. \
         Withheld rates are not drawn.",
    );
    let _ = write!(
        svg,
        r#"<g font-family="sans-serif" font-size="12" fill="{INK}"><rect x="{LEFT}" y="4" width="12" height="12" fill="{BEFORE}"/><text x="{}" y="14">before</text><rect x="{}" y="4" width="12" height="12" fill="{AFTER}"/><text x="{}" y="14">after</text>"#,
        LEFT + 16.0,
        LEFT + 80.0,
        LEFT + 96.0
    );
    for (i, (role, before, after)) in shown.iter().enumerate() {
        let y = 30.0 + band * i as f64;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            LEFT - 8.0,
            y + 22.0,
            super::escape(role)
        );
        for (k, (value, colour)) in [(*before, BEFORE), (*after, AFTER)].into_iter().enumerate() {
            let top = y + 4.0 + 18.0 * k as f64;
            match value {
                Some(v) => {
                    let _ = write!(
                        svg,
                        r#"<rect x="{LEFT}" y="{top}" width="{:.1}" height="16" fill="{colour}"/><text x="{:.1}" y="{}">{v:.1}%</text>"#,
                        scale(v),
                        LEFT + scale(v) + 4.0,
                        top + 12.0
                    );
                }
                None => {
                    let _ = write!(svg, r#"<text x="{}" y="{}">withheld</text>"#, LEFT + 4.0, top + 12.0);
                }
            }
        }
    }
    svg.push_str("</g></svg>");
    Some(svg)
}

/// The Kaplan–Meier curve with its 95% band, at the points the board view
/// shows (a withheld stretch is left blank). `None` when none is shown.
pub(super) fn retention(report: &Value) -> Option<String> {
    let points: Vec<(f64, f64, f64, f64)> = report["curve"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            Some((
                p["month"].as_f64()?,
                p["survival"].as_f64()?,
                p["lower"].as_f64()?,
                p["upper"].as_f64()?,
            ))
        })
        .collect();
    if points.is_empty() {
        return None;
    }
    let last_month = report["curve"]
        .as_array()
        .and_then(|c| c.last())
        .and_then(|p| p["month"].as_f64())
        .unwrap_or(1.0)
        .max(1.0);
    let (height, top, bottom, left) = (280.0, 16.0, 36.0, 48.0);
    let x = |m: f64| left + (WIDTH - left - RIGHT) * m / last_month;
    let y = |s: f64| top + (height - top - bottom) * (1.0 - s);
    let mut svg = open(
        "retention-chart",
        height,
        "Share of the cohort still employed, by month",
        "Kaplan–Meier estimate with its 95% confidence band; the numbers at risk and the estimates are in the \
         table below. Months withheld on a board are left blank.",
    );
    let _ = write!(svg, r#"<g font-family="sans-serif" font-size="12" fill="{INK}">"#);
    for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let _ = write!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{:.1}" y2="{:.1}" stroke="#c8c8c8"/><text x="{}" y="{:.1}" text-anchor="end">{:.0}%</text>"##,
            WIDTH - RIGHT,
            y(tick),
            y(tick),
            left - 6.0,
            y(tick) + 4.0,
            tick * 100.0
        );
    }
    let mut month = 0.0;
    while month <= last_month {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{month:.0}</text>"#,
            x(month),
            height - bottom + 16.0
        );
        month += 12.0;
    }
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="{}" text-anchor="middle">months since the cohort started</text>"#,
        left + (WIDTH - left - RIGHT) / 2.0,
        height - 4.0
    );
    // Runs of consecutive months shown, each drawn as steps with its band.
    let mut runs: Vec<Vec<(f64, f64, f64, f64)>> = Vec::new();
    for p in points {
        match runs.last_mut() {
            Some(run) if run.last().is_some_and(|q| p.0 - q.0 <= 1.0) => run.push(p),
            _ => runs.push(vec![p]),
        }
    }
    for run in runs {
        let steps = |pick: fn(&(f64, f64, f64, f64)) -> f64| {
            let mut path = Vec::new();
            for (i, p) in run.iter().enumerate() {
                if i > 0 {
                    path.push((x(p.0), y(pick(&run[i - 1]))));
                }
                path.push((x(p.0), y(pick(p))));
            }
            path
        };
        let upper = steps(|p| p.3);
        let mut lower = steps(|p| p.2);
        lower.reverse();
        let band: Vec<String> = upper
            .iter()
            .chain(&lower)
            .map(|(a, b)| format!("{a:.1},{b:.1}"))
            .collect();
        let line: Vec<String> = steps(|p| p.1).iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
        let _ = write!(
            svg,
            r##"<polygon points="{}" fill="#b9cde2" stroke="none"/><polyline points="{}" fill="none" stroke="{AFTER}" stroke-width="2"/>"##,
            band.join(" "),
            line.join(" ")
        );
    }
    svg.push_str("</g></svg>");
    Some(svg)
}
