//! The counts of the leavers and promotions reports, where each is shown,
//! what is built on it, and the sums between them.

use super::{rows_then_total, Place, Table};
use crate::reports::leavers::LeaversReport;
use crate::reports::promotions::{CohortColumn, PromotionsReport};

/// Leavers: one count per role and period; each period's total is the sum
/// of its roles. Rates, the comparison and its sentence are built on them.
pub(crate) fn leavers(r: &LeaversReport) -> Table {
    let mut table = Table::default();
    let rows = rows_then_total(&r.rows, &r.total);
    for (key, prefix, present) in [
        ("period", "after", true),
        ("before", "before", r.total.before.is_some()),
    ] {
        if !present {
            continue;
        }
        let cells: Vec<usize> = rows
            .iter()
            .map(|(base, csv_row, row)| {
                let value = if key == "period" {
                    row.period.leavers
                } else {
                    row.before.as_ref().map_or(0, |b| b.leavers)
                };
                let mut built_on = vec![Place::new(
                    format!("{base}/{key}/leaver_rate_percent"),
                    *csv_row,
                    &format!("{prefix}_leaver_rate_percent"),
                )];
                if row.comparison.is_some() {
                    built_on.extend(comparison(base, *csv_row));
                }
                table.count(
                    value,
                    Place::new(format!("{base}/{key}/leavers"), *csv_row, &format!("{prefix}_leavers")),
                    built_on,
                )
            })
            .collect();
        let (total, roles) = cells.split_last().expect("the total row is always there");
        table.sum(*total, roles.to_vec());
    }
    table
}

/// Everything a comparison of two periods derives from their counts.
fn comparison(base: &str, csv_row: usize) -> Vec<Place> {
    let mut places: Vec<Place> = [
        "change",
        "percent_change",
        "rate_ratio",
        "ci_lower",
        "ci_upper",
        "p_value",
    ]
    .iter()
    .map(|f| Place::new(format!("{base}/comparison/{f}"), csv_row, f))
    .collect();
    places.extend(
        ["test", "reading"]
            .iter()
            .map(|f| Place::json(format!("{base}/comparison/{f}"))),
    );
    places
}

/// Promotions: outcomes by cohort with row and column totals. Each cohort's
/// size is the sum of its outcomes; each figure of the total column is the
/// sum of the cohorts'. The rate of promotion to the targets is built on the
/// targets' sum (itself a count), its internal share on that, shares of the
/// total on each outcome and the grand total.
pub(crate) fn promotions(r: &PromotionsReport) -> Table {
    let mut table = Table::default();
    let columns: Vec<(String, usize, Option<usize>, &CohortColumn)> = r
        .cohorts
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("/cohorts/{i}"), i + 1, Some(i), c))
        .chain(std::iter::once((
            "/total".to_string(),
            r.cohorts.len() + 1,
            None,
            &r.total,
        )))
        .collect();
    let outcome_names: Vec<String> = r
        .targets
        .iter()
        .map(|t| format!("promoted_to_{t}"))
        .chain(["promoted_other", "sideways", "left", "remained"].map(String::from))
        .collect();
    let rows = r.cohorts.len() + 1;
    // Per column: [size, outcomes…, targets, internal, external, withdrawn, excluded, not yet enrolled].
    let mut by_column: Vec<Vec<usize>> = Vec::new();
    for (base, csv_row, index, c) in &columns {
        let csv_row = *csv_row;
        let share = |k: usize, field: &str| match index {
            Some(i) => format!("/outcomes/{k}/by_cohort_share_of_total/{i}/{field}"),
            None => format!("/outcomes/{k}/share_of_total/{field}"),
        };
        let mut size_at = Place::new(format!("{base}/cohort_size"), csv_row, "cohort_size").also(Place::new(
            format!("{base}/promoted_to_targets/denominator"),
            csv_row,
            "promoted_to_targets_denominator",
        ));
        let mut size_built_on = vec![Place::new(
            format!("{base}/promoted_to_targets/percent"),
            csv_row,
            "promoted_to_targets_percent",
        )];
        if index.is_none() {
            // The grand total is every share's denominator, on every CSV row.
            for k in 0..outcome_names.len() {
                size_at = size_at.also(Place::json(format!("/outcomes/{k}/share_of_total/denominator")));
                size_built_on.push(Place::json(format!("/outcomes/{k}/share_of_total/percent")));
                for i in 0..r.cohorts.len() {
                    size_at = size_at.also(Place::json(format!(
                        "/outcomes/{k}/by_cohort_share_of_total/{i}/denominator"
                    )));
                    size_built_on.push(Place::json(format!(
                        "/outcomes/{k}/by_cohort_share_of_total/{i}/percent"
                    )));
                }
            }
            for row in 1..=rows {
                size_at.csv.push((row, "grand_total".into()));
                for name in &outcome_names {
                    size_built_on.push(Place {
                        json: Vec::new(),
                        csv: vec![(row, format!("{name}_share_of_total_percent"))],
                    });
                }
            }
        }
        let mut cells = vec![table.count(c.cohort_size, size_at, size_built_on)];
        let outcome_values = c
            .promoted_to
            .iter()
            .copied()
            .chain([c.promoted_other, c.sideways, c.left, c.remained]);
        for (k, (value, name)) in outcome_values.zip(&outcome_names).enumerate() {
            let field = match k.checked_sub(r.targets.len()) {
                None => format!("{base}/promoted_to/{k}"),
                Some(_) => format!("{base}/{name}"),
            };
            let in_outcomes = match index {
                Some(i) => format!("/outcomes/{k}/by_cohort/{i}"),
                None => format!("/outcomes/{k}/total"),
            };
            let at = Place::new(field, csv_row, name)
                .also(Place::json(in_outcomes))
                .also(Place::json(share(k, "numerator")));
            let built_on = vec![Place::new(
                share(k, "percent"),
                csv_row,
                &format!("{name}_share_of_total_percent"),
            )];
            cells.push(table.count(value, at, built_on));
        }
        let targets = table.count(
            c.promoted_to_targets.numerator,
            Place::new(
                format!("{base}/promoted_to_targets/numerator"),
                csv_row,
                "promoted_to_targets_numerator",
            )
            .also(Place::new(
                format!("{base}/internal_target_promotions/denominator"),
                csv_row,
                "internal_denominator",
            )),
            vec![
                Place::new(
                    format!("{base}/promoted_to_targets/percent"),
                    csv_row,
                    "promoted_to_targets_percent",
                ),
                Place::new(
                    format!("{base}/internal_target_promotions/percent"),
                    csv_row,
                    "internal_percent",
                ),
                Place::new(
                    format!("{base}/median_months_to_target"),
                    csv_row,
                    "median_months_to_target",
                ),
            ],
        );
        let internal = c.internal_target_promotions.numerator;
        let internal_cell = table.count(
            internal,
            Place::new(
                format!("{base}/internal_target_promotions/numerator"),
                csv_row,
                "internal_numerator",
            ),
            vec![Place::new(
                format!("{base}/internal_target_promotions/percent"),
                csv_row,
                "internal_percent",
            )],
        );
        // Promoted to a target from another organisation: not printed, but
        // a reader gets it by subtraction.
        let external = table.count(
            c.promoted_to_targets.numerator.saturating_sub(internal),
            Place::default(),
            Vec::new(),
        );
        let target_outcomes: Vec<usize> = cells[1..=r.targets.len()].to_vec();
        table.sum(targets, target_outcomes);
        table.sum(targets, vec![internal_cell, external]);
        let outcomes: Vec<usize> = cells[1..].to_vec();
        table.sum(cells[0], outcomes);
        cells.extend([targets, internal_cell, external]);
        for (value, field) in [
            (c.withdrawn, "withdrawn"),
            (c.excluded, "excluded"),
            (c.not_yet_enrolled, "not_yet_enrolled"),
        ] {
            cells.push(table.count(value, Place::new(format!("{base}/{field}"), csv_row, field), Vec::new()));
        }
        by_column.push(cells);
    }
    let (total, cohorts) = by_column.split_last().expect("the total column is always there");
    for (k, &total_cell) in total.iter().enumerate() {
        table.sum(total_cell, cohorts.iter().map(|c| c[k]).collect());
    }
    table
}
