//! §2 Leavers by role and period, before and after.
//!
//! A leaver is an employment with the organisation that ended inside the
//! period (for one organisation: a leaving event there or a move to another
//! organisation; over all organisations: a leaving event), grouped by the
//! role held immediately before. With a `before` period the report adds the
//! change and the exact conditional rate-ratio test from [`crate::stats`].

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::model::{Dataset, Person};
use super::{exits, person_days, round, Definition, Period, ReportError};
use crate::stats::{compare_poisson_rates, NoTest, RateRatioTest};

/// role → (leavers, person-days) in one period.
type Tally = BTreeMap<String, (u64, u64)>;

/// Counts below this are flagged `small_numbers`.
pub const SMALL_NUMBER: u64 = 10;

/// Which exposure the rate-ratio test uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExposureBasis {
    /// Person-days in the role (falls back to equal when either side is 0).
    #[default]
    PersonDays,
    /// Equal exposure in both periods.
    Equal,
}

/// Inputs of the leavers report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaversParams {
    /// Organisation, or `None` for all organisations.
    pub organisation: Option<String>,
    /// The (after) period.
    pub period: Period,
    /// Optional comparison (before) period.
    pub before: Option<Period>,
    /// Only these role codes (role held immediately before leaving).
    pub roles: Option<Vec<String>>,
    /// Only this team (team held immediately before leaving).
    pub team: Option<String>,
    /// Only these participants (programme or cohort membership).
    pub population: Option<HashSet<Uuid>>,
    /// Exposure used by the test.
    pub exposure: ExposureBasis,
}

/// Figures of one role (or the total) in one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodFigures {
    /// The period.
    pub period: Period,
    /// Leavers.
    pub leavers: u64,
    /// Person-days in the role in the period.
    pub person_days: u64,
    /// Days in the period.
    pub days_in_period: u64,
    /// person_days / days_in_period, 2 dp.
    pub average_headcount: f64,
    /// 100 × leavers / average headcount, 1 dp (`None` with no headcount).
    pub leaver_rate_percent: Option<f64>,
    /// leavers < 10.
    pub small_numbers: bool,
}

/// Before/after comparison of one row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// after − before.
    pub change: i64,
    /// 100 × (after − before) / before, 1 dp (`None` when before = 0).
    pub percent_change: Option<f64>,
    /// Exposure actually used.
    pub exposure_basis: ExposureBasis,
    /// Rate ratio after/before, 2 dp (`None`: infinite or no test).
    pub rate_ratio: Option<f64>,
    /// Lower 95% bound, 2 dp.
    pub ci_lower: Option<f64>,
    /// Upper 95% bound, 2 dp (`None`: unbounded or no test).
    pub ci_upper: Option<f64>,
    /// Two-sided p, 3 dp.
    pub p_value: Option<f64>,
    /// Unrounded test result.
    pub test: Option<RateRatioTest>,
    /// Why there is no test, when there is none.
    pub no_test_reason: Option<String>,
    /// Either count < 10: fragile evidence.
    pub small_numbers: bool,
    /// The comparison in one sentence a board can read next to the figure.
    pub reading: String,
}

/// Says in words what a before/after comparison does and does not show;
/// without a test, why there is none (`no_test`), as the comparison says.
fn reading(before: u64, after: u64, t: Result<&RateRatioTest, &NoTest>, small: bool) -> String {
    let counts = format!("{before} leavers before, {after} after");
    let t = match t {
        Ok(t) => t,
        Err(no_test) => return format!("{counts}: no test is possible: {no_test}."),
    };
    let ratio = t.rate_ratio.map_or("unbounded".to_string(), |r| format!("{r:.2}"));
    let upper = t.ci_upper.map_or("unbounded".to_string(), |u| format!("{u:.2}"));
    let evidence = if t.p_value < 0.05 {
        "the change is unlikely to be chance alone (p < 0.05)"
    } else {
        "p ≥ 0.05, so this could be chance: on its own it is not strong evidence"
    };
    let fragile = if small {
        "; counts below 10 are fragile evidence"
    } else {
        ""
    };
    format!(
        "{counts}: rate ratio {ratio} (95% CI {:.2}–{upper}), exact p = {:.3}; {evidence}{fragile}.",
        t.ci_lower, t.p_value
    )
}

/// One row: a role, or the total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeaverRow {
    /// Role code, or "total".
    pub role_code: String,
    /// The (after) period.
    pub period: PeriodFigures,
    /// The before period, when asked.
    pub before: Option<PeriodFigures>,
    /// The comparison, when there is a before period.
    pub comparison: Option<Comparison>,
}

/// The leavers report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeaversReport {
    /// Organisation, or `None` for all.
    pub organisation: Option<String>,
    /// One row per role (by role code), then the total.
    pub rows: Vec<LeaverRow>,
    /// The total row.
    pub total: LeaverRow,
    /// Definitions.
    pub definitions: Vec<Definition>,
}

/// Computes §2.
pub fn compute(dataset: &Dataset, params: &LeaversParams) -> Result<LeaversReport, ReportError> {
    let period = params.period;
    period.validate()?;
    if let Some(b) = params.before {
        b.validate()?;
    }
    let after = tally(dataset, params, &period);
    let before = params.before.map(|b| (b, tally(dataset, params, &b)));
    let mut roles: Vec<&String> = after.keys().collect();
    if let Some((_, b)) = &before {
        roles.extend(b.keys());
    }
    roles.sort();
    roles.dedup();
    let build = |role: &str, get: &dyn Fn(&Tally) -> (u64, u64)| {
        let figures = |p: &Period, t: &Tally| period_figures(p, get(t));
        let after_f = figures(&period, &after);
        let before_f = before.as_ref().map(|(p, t)| figures(p, t));
        let comparison = before_f.as_ref().map(|b| compare(b, &after_f, params.exposure));
        LeaverRow {
            role_code: role.into(),
            period: after_f,
            before: before_f,
            comparison,
        }
    };
    let rows: Vec<LeaverRow> = roles
        .iter()
        .map(|r| build(r, &|t| t.get(*r).copied().unwrap_or((0, 0))))
        .collect();
    let sum = |t: &Tally| t.values().fold((0, 0), |(l, d), (a, b)| (l + a, d + b));
    let total = build("total", &sum);
    Ok(LeaversReport {
        organisation: params.organisation.clone(),
        rows,
        total,
        definitions: definitions(params),
    })
}

/// role → (leavers, person-days) in one period, after the filters.
fn tally(dataset: &Dataset, params: &LeaversParams, period: &Period) -> Tally {
    let org = params.organisation.as_deref();
    let role_ok = |r: &str| params.roles.as_ref().is_none_or(|rs| rs.iter().any(|x| x == r));
    let team_ok = |t: Option<&String>| params.team.as_ref().is_none_or(|want| t == Some(want));
    let mut out: Tally = BTreeMap::new();
    for person in dataset.people.iter().filter(|p| in_population(p, params)) {
        for exit in exits(person, org) {
            if period.contains(exit.date) && role_ok(&exit.role_code) && team_ok(exit.team.as_ref()) {
                out.entry(exit.role_code).or_default().0 += 1;
            }
        }
        for spell in &person.spells {
            if org.is_none_or(|o| spell.organisation == o) && role_ok(&spell.role_code) && team_ok(spell.team.as_ref())
            {
                let days = person_days(spell, period);
                if days > 0 {
                    out.entry(spell.role_code.clone()).or_default().1 += days;
                }
            }
        }
    }
    out
}

fn in_population(person: &Person, params: &LeaversParams) -> bool {
    params
        .population
        .as_ref()
        .is_none_or(|ids| ids.contains(&person.participant_id))
}

fn period_figures(period: &Period, (leavers, person_days): (u64, u64)) -> PeriodFigures {
    let days = period.days();
    PeriodFigures {
        period: *period,
        leavers,
        person_days,
        days_in_period: days,
        average_headcount: round(person_days as f64 / days as f64, 2),
        leaver_rate_percent: (person_days > 0)
            .then(|| round(100.0 * leavers as f64 * days as f64 / person_days as f64, 1)),
        small_numbers: leavers < SMALL_NUMBER,
    }
}

fn compare(before: &PeriodFigures, after: &PeriodFigures, basis: ExposureBasis) -> Comparison {
    let (b, a) = (before.leavers, after.leavers);
    // "Equal exposure when there is no headcount data": only when neither
    // period has any person-days. One empty period is data: no test.
    let use_days = basis == ExposureBasis::PersonDays && (before.person_days > 0 || after.person_days > 0);
    let (exposure_basis, eb, ea) = if use_days {
        (
            ExposureBasis::PersonDays,
            before.person_days as f64,
            after.person_days as f64,
        )
    } else {
        (ExposureBasis::Equal, 1.0, 1.0)
    };
    let test = compare_poisson_rates(b, a, eb, ea);
    let small_numbers = b < SMALL_NUMBER || a < SMALL_NUMBER;
    let reading = reading(b, a, test.as_ref(), small_numbers);
    let (t, reason) = match test {
        Ok(t) => (Some(t), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Comparison {
        reading,
        change: a as i64 - b as i64,
        percent_change: (b > 0).then(|| round(100.0 * (a as f64 - b as f64) / b as f64, 1)),
        exposure_basis,
        rate_ratio: t.as_ref().and_then(|t| t.rate_ratio).map(|x| round(x, 2)),
        ci_lower: t.as_ref().map(|t| round(t.ci_lower, 2)),
        ci_upper: t.as_ref().and_then(|t| t.ci_upper).map(|x| round(x, 2)),
        p_value: t.as_ref().map(|t| round(t.p_value, 3)),
        test: t,
        no_test_reason: reason,
        small_numbers,
    }
}

fn definitions(params: &LeaversParams) -> Vec<Definition> {
    let org = params.organisation.as_deref().unwrap_or("all organisations");
    let population = format!(
        "employments with {org}{}{}{}",
        params
            .roles
            .as_ref()
            .map_or(String::new(), |r| format!(", roles {}", r.join("/"))),
        params.team.as_ref().map_or(String::new(), |t| format!(", team {t}")),
        if params.population.is_some() {
            ", participants in the selected programme/cohorts"
        } else {
            ""
        },
    );
    let leaving = if params.organisation.is_some() {
        "a leaving event at the organisation or a move to another organisation"
    } else {
        "a leaving event (external moves keep the person in the workforce)"
    };
    vec![
        Definition::new(
            "leavers",
            &format!(
                "employments ended inside the period (inclusive) by {leaving}, grouped by the role held immediately \
                 before; a person who leaves, rejoins and leaves again counts twice; moves inside the organisation \
                 are not leavers"
            ),
            "employments ended in the period",
            "not applicable",
            &population,
        ),
        Definition::new(
            "average_headcount",
            "person-days in the role in the period (employed at the end of each day) / days in the period",
            "person-days in the role",
            "days in the period",
            &population,
        ),
        Definition::new(
            "leaver_rate_percent",
            "100 × leavers / average headcount (not annualised)",
            "leavers",
            "average headcount",
            &population,
        ),
        Definition::new(
            "change and percent_change",
            "after − before; 100 × (after − before) / before",
            "after − before",
            "leavers before",
            &population,
        ),
        Definition::new(
            "rate_ratio, ci_lower, ci_upper, p_value",
            "exact conditional test: given n = before + after leavers, after ~ Binomial(n, π0) with π0 = \
             exposure_after / (exposure_before + exposure_after), exposure = person-days in the role (equal \
             exposure when neither period has person-days, or when asked; no test when only one has); p sums the probabilities of all outcomes no more \
             likely than the observed; 95% Clopper–Pearson interval for π mapped by RR = π/(1−π) × \
             exposure_before / exposure_after. small_numbers flags any count below 10: fragile evidence",
            "leavers after / exposure after",
            "leavers before / exposure before",
            &population,
        ),
    ]
}

#[cfg(test)]
mod reading_tests {
    use super::*;

    #[test]
    fn the_reading_of_19_to_9_says_it_could_be_chance_and_is_fragile() {
        // Equal exposure: RR = 9/19 = 0.47, CI 0.19–1.10, p = 0.087 (docs/metrics.md §2).
        let t = compare_poisson_rates(19, 9, 1.0, 1.0).unwrap();
        let text = reading(19, 9, Ok(&t), true);
        assert!(
            text.contains("rate ratio 0.47 (95% CI 0.19–1.10), exact p = 0.087"),
            "{text}"
        );
        assert!(text.contains("could be chance"), "{text}");
        assert!(text.contains("fragile"), "{text}");
    }

    #[test]
    fn without_a_test_the_reading_gives_the_reason_not_a_lack_of_leavers() {
        // One leaver in each period, but no person-days before (nobody in
        // role then): the exposures cannot be compared, though there were
        // leavers in both periods.
        let no_test = compare_poisson_rates(1, 1, 0.0, 365.0).unwrap_err();
        let text = reading(1, 1, Err(&no_test), true);
        assert_eq!(
            text,
            "1 leavers before, 1 after: no test is possible: each period needs a positive, finite exposure."
        );
        let none = compare_poisson_rates(0, 0, 1.0, 1.0).unwrap_err();
        assert!(
            reading(0, 0, Err(&none), true).ends_with("no events in either period, so the rates cannot be compared.")
        );
    }
}
