//! The counts of the retention, turnover and vacancies reports.

use super::{rows_then_total, Place, Table};
use crate::reports::retention::RetentionReport;
use crate::reports::turnover::TurnoverReport;
use crate::reports::vacancies::VacancyReport;

/// Retention: the cohort's counts, and the curve shown only where it does
/// not give away a small number of leavers (see [`curve`]).
pub(crate) fn retention(r: &RetentionReport, threshold: u64) -> Table {
    let mut table = Table::default();
    let rows = 1..=r.curve.len();
    let on_every_row = |json: &str, column: &str| Place {
        json: vec![json.to_string()],
        csv: rows.clone().map(|row| (row, column.to_string())).collect(),
    };
    let percent = on_every_row("/retention/percent", "retention_percent");
    let members = table.count(r.members, on_every_row("/members", "members"), Vec::new());
    table.count(r.withdrawn, on_every_row("/withdrawn", "withdrawn"), Vec::new());
    let excluded = table.count(r.excluded, on_every_row("/excluded", "excluded"), Vec::new());
    table.count(
        r.not_employed_at_enrolment,
        Place::json("/not_employed_at_enrolment"),
        Vec::new(),
    );
    table.count(r.not_yet_enrolled, Place::json("/not_yet_enrolled"), Vec::new());
    let retained = table.count(
        r.retention.numerator,
        on_every_row("/retention/numerator", "retained"),
        vec![percent.clone()],
    );
    let denominator = table.count(
        r.retention.denominator,
        on_every_row("/retention/denominator", "denominator"),
        vec![percent],
    );
    // Members counted who did not stay: printed nowhere, got by subtraction.
    let left = table.count(
        r.retention.denominator.saturating_sub(r.retention.numerator),
        Place::default(),
        Vec::new(),
    );
    table.sum(members, vec![denominator, excluded]);
    table.sum(denominator, vec![retained, left]);
    table.withheld.extend(curve(r, threshold));
    table
}

/// The curve's places withheld on a board. A month's leavers and
/// censorings are never shown (a month is a small group); a point's numbers
/// at risk, survival and band are shown only while at least `threshold` are
/// followed and the leavers since the last point shown are none or at least
/// `threshold`, since survival over the numbers at risk gives the leavers
/// between two points shown. The median is shown only at a point shown.
fn curve(r: &RetentionReport, threshold: u64) -> Vec<(Place, String)> {
    let mut withheld = Vec::new();
    let mut leavers_since_shown = 0;
    let mut shown_months = Vec::new();
    for (i, point) in r.curve.iter().enumerate() {
        let row = i + 1;
        for field in ["events", "censored"] {
            withheld.push((
                Place::new(format!("/curve/{i}/{field}"), row, field),
                "a month's leavers and censorings are not shown on a board".to_string(),
            ));
        }
        leavers_since_shown += point.events;
        let reason = if point.at_risk < threshold {
            Some(format!("fewer than {threshold} members still followed"))
        } else if leavers_since_shown > 0 && leavers_since_shown < threshold {
            Some(format!("fewer than {threshold} leavers since the last point shown"))
        } else {
            None
        };
        match reason {
            Some(reason) => {
                for field in ["at_risk", "survival", "lower", "upper"] {
                    withheld.push((Place::new(format!("/curve/{i}/{field}"), row, field), reason.clone()));
                }
            }
            None => {
                leavers_since_shown = 0;
                shown_months.push(point.month);
            }
        }
    }
    if r.median_months.is_some_and(|m| !shown_months.contains(&m)) {
        let rows = 1..=r.curve.len();
        withheld.push((
            Place {
                json: vec!["/median_months".into()],
                csv: rows.map(|row| (row, "median_months".to_string())).collect(),
            },
            "the curve is not shown where it crosses one half".to_string(),
        ));
    }
    withheld
}

/// Turnover: headcounts with their FTE; rates built on them. People in post
/// at the start who did not stay are got by subtraction from the stable.
pub(crate) fn turnover(r: &TurnoverReport) -> Table {
    let mut table = Table::default();
    let both = |json: &str, column: &str| Place::new(json, 1, column);
    let turnover_rate = vec![
        Place::json("/turnover/numerator"),
        Place::json("/turnover/denominator"),
        both("/turnover/percent", "turnover_percent"),
    ];
    let stability = both("/stability_index/percent", "stability_percent");
    let headcount_rate = Place::json("/headcount_turnover/percent");
    let mut leavers_built_on = vec![both("/leavers/fte", "leavers_fte"), headcount_rate.clone()];
    leavers_built_on.extend(turnover_rate.clone());
    table.count(
        r.leavers.headcount,
        both("/leavers/headcount", "leavers").also(Place::json("/headcount_turnover/numerator")),
        leavers_built_on,
    );
    table.count(
        r.starters.headcount,
        both("/starters/headcount", "starters"),
        vec![both("/starters/fte", "starters_fte")],
    );
    let start = table.count(
        r.in_post_at_start.headcount,
        both("/in_post_at_start/headcount", "in_post_start").also(Place::json("/stability_index/denominator")),
        vec![both("/in_post_at_start/fte", "in_post_start_fte"), stability.clone()],
    );
    let mut end_built_on = vec![both("/in_post_at_end/fte", "in_post_end_fte"), headcount_rate];
    end_built_on.extend(turnover_rate);
    table.count(
        r.in_post_at_end.headcount,
        both("/in_post_at_end/headcount", "in_post_end").also(Place::json("/headcount_turnover/denominator")),
        end_built_on,
    );
    let stable = table.count(
        r.stability_index.numerator,
        both("/stability_index/numerator", "stable"),
        vec![stability],
    );
    let ended = table.count(
        r.in_post_at_start.headcount.saturating_sub(r.stability_index.numerator),
        Place::default(),
        Vec::new(),
    );
    table.sum(start, vec![stable, ended]);
    table
}

/// Vacancies: posts by role with a total row; established = filled +
/// vacant, filled = covered + acting only + permanent (not printed).
pub(crate) fn vacancies(r: &VacancyReport) -> Table {
    let mut table = Table::default();
    let rows = rows_then_total(&r.rows, &r.total);
    let mut by_row: Vec<[usize; 6]> = Vec::new();
    for (base, csv_row, row) in &rows {
        let at = |field: &str, column: &str| Place::new(format!("{base}/{field}"), *csv_row, column);
        let vacancy_percent = at("vacancy_rate/percent", "vacancy_percent");
        let cover_percent = at("cover_rate/percent", "cover_percent");
        let established = table.count(
            row.established,
            at("established", "established").also(Place::json(format!("{base}/vacancy_rate/denominator"))),
            vec![vacancy_percent.clone()],
        );
        let filled = table.count(
            row.filled,
            at("filled", "filled").also(Place::json(format!("{base}/cover_rate/denominator"))),
            vec![cover_percent.clone()],
        );
        let vacant = table.count(
            row.vacant,
            at("vacant", "vacant").also(Place::json(format!("{base}/vacancy_rate/numerator"))),
            vec![vacancy_percent],
        );
        let covered = table.count(
            row.covered,
            at("covered", "covered").also(Place::json(format!("{base}/cover_rate/numerator"))),
            vec![cover_percent],
        );
        let acting_only = table.count(row.acting_only, at("acting_only", "acting_only"), Vec::new());
        let permanent = table.count(
            row.filled.saturating_sub(row.covered + row.acting_only),
            Place::default(),
            Vec::new(),
        );
        table.sum(established, vec![filled, vacant]);
        table.sum(filled, vec![covered, acting_only, permanent]);
        by_row.push([established, filled, vacant, covered, acting_only, permanent]);
    }
    let (total, roles) = by_row.split_last().expect("the total row is always there");
    for (k, &total_cell) in total.iter().enumerate() {
        table.sum(total_cell, roles.iter().map(|r| r[k]).collect());
    }
    table
}
