//! The page's HTML, from `page.html` with minijinja (HTML auto-escaped).

use minijinja::{context, Environment, Value};

use super::{charts, Page};

const TEMPLATE: &str = include_str!("page.html");

/// The template, parsed once with its filters.
static PAGES: std::sync::LazyLock<Result<Environment<'static>, minijinja::Error>> = std::sync::LazyLock::new(|| {
    let mut env = Environment::new();
    env.add_filter("cell", cell);
    env.add_filter("percent", percent);
    env.add_filter("share", share);
    env.add_filter("months", months);
    env.add_template("page.html", TEMPLATE)?;
    Ok(env)
});

/// The page as HTML. Fails only if the template itself is broken, which the
/// tests would catch.
pub fn render(page: &Page) -> Result<String, minijinja::Error> {
    let env = PAGES.as_ref().map_err(|e| {
        minijinja::Error::new(
            minijinja::ErrorKind::SyntaxError,
            format!("the board page's template: {e}"),
        )
    })?;
    let chart = |id: &str, draw: fn(&serde_json::Value) -> Option<String>| {
        page.sections
            .iter()
            .find(|s| s.id == id)
            .and_then(|s| s.report.as_ref())
            .and_then(draw)
            .map(Value::from_safe_string)
    };
    let subject = subject(page);
    env.get_template("page.html")?.render(context! {
        page => Value::from(minijinja::value::Serde(page)),
        subject => subject.clone(),
        leavers_chart => chart("leavers", charts::leavers),
        retention_chart => chart("retention", charts::retention),
        running_header => css_string(&running_header(page, &subject)),
    })
}

/// What the page is about, in a line.
fn subject(page: &Page) -> String {
    let q = &page.query;
    let parts: Vec<&str> = [q.organisation.as_deref(), q.programme.as_deref(), q.cohort.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if parts.is_empty() {
        "every organisation".into()
    } else {
        parts.join(" · ")
    }
}

/// The provenance printed at the top of every page of the paper.
fn running_header(page: &Page, subject: &str) -> String {
    let known = match &page.query.known_at {
        Some(at) => format!("as known at {at}"),
        None => "as known when printed".into(),
    };
    let head = page
        .head
        .as_ref()
        .map(|h| {
            format!(
                " · log head {}… at {}",
                &h.hash[..h.hash.len().min(16)],
                h.global_position
            )
        })
        .unwrap_or_default();
    format!("{subject} · {known} · last event {}{head}", page.last_global_position)
}

/// A CSS string literal: the header goes into the print stylesheet's
/// `@page` margin box, the one place Chromium repeats on every page.
fn css_string(text: &str) -> Value {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '<' | '>' | '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out.push('"');
    Value::from_safe_string(out)
}

/// A count or figure as the board view gives it: a number, `<5` or `*`, or
/// (null) withheld.
fn cell(value: Value) -> String {
    if value.is_none() || value.is_undefined() {
        return "withheld".into();
    }
    match value.as_i64() {
        Some(n) => n.to_string(),
        // Two places, as the reports round headcounts, ratios and intervals.
        None => match f64::try_from(value.clone()) {
            Ok(x) => format!("{x:.2}"),
            Err(_) => value.to_string(),
        },
    }
}

/// A percentage to one place, or withheld.
fn percent(value: Value) -> String {
    match f64::try_from(value.clone()) {
        Ok(x) if !value.is_none() => format!("{x:.1}%"),
        _ => "withheld".into(),
    }
}

/// A share from 0 to 1 as a percentage to one place, or withheld.
fn share(value: Value) -> String {
    match f64::try_from(value.clone()) {
        Ok(x) if !value.is_none() => format!("{:.1}%", 100.0 * x),
        _ => "withheld".into(),
    }
}

/// Months to one place, as the reports round them, or withheld.
fn months(value: Value) -> String {
    match f64::try_from(value.clone()) {
        Ok(x) if !value.is_none() => format!("{x:.1}"),
        _ => "withheld".into(),
    }
}
