//! §3 Cohort retention: retained at `as_at` and a Kaplan–Meier curve of
//! "still employed by the organisation" by whole month since cohort start.
//!
//! Decisions (docs/metrics.md §3, decisions 4, 7 and 8):
//! - withdrawn members stay members: retention of an intake is about
//!   employment, not about finishing the programme (counted in `withdrawn`);
//! - members enrolled after `as_at` are not members yet (footnoted);
//! - an exclusion in force on `as_at` removes the member from both the
//!   numerator and the denominator; on the curve the member is censored at
//!   that exclusion's start (a lifted exclusion changes nothing), or is not
//!   on the curve at all when the exclusion began on or before enrolment;
//! - the curve is the Kaplan–Meier estimate on exact days since the cohort
//!   start (a leaving on D: not employed at the end of D), read at each
//!   month boundary start + m calendar months up to `as_at`;
//! - only members employed by the organisation at the end of their
//!   enrolment date enter the curve (the others are counted in
//!   `not_employed_at_enrolment`; they stay in the rate's denominator).

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::model::{Dataset, Person, Span};
use super::{exits, Definition, Rate, ReportError};
use crate::stats::{kaplan_meier, KmStep, Observation};

/// Inputs of the retention report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetentionParams {
    /// The cohort (intake).
    pub cohort_id: Uuid,
    /// Organisation; `None` = each member's employer at enrolment.
    pub organisation: Option<String>,
    /// Status date.
    pub as_at: NaiveDate,
}

/// One whole month of the curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurvePoint {
    /// Months since cohort start.
    pub month: u32,
    /// Cohort start + `month` calendar months.
    pub date: NaiveDate,
    /// Members still followed at this month.
    pub at_risk: u64,
    /// Leavings counted at this month.
    pub events: u64,
    /// Censorings at this month.
    pub censored: u64,
    /// Kaplan–Meier estimate of still employed.
    pub survival: f64,
    /// Lower 95% bound (Greenwood, log(−log)).
    pub lower: f64,
    /// Upper 95% bound.
    pub upper: f64,
}

/// The retention report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetentionReport {
    /// Cohort.
    pub cohort_id: Uuid,
    /// Cohort name.
    pub cohort_name: String,
    /// Cohort start (month 0).
    pub starts_on: NaiveDate,
    /// Status date.
    pub as_at: NaiveDate,
    /// The organisation asked for (`None`: employer at enrolment).
    pub organisation: Option<String>,
    /// Members enrolled on or before `as_at`.
    pub members: u64,
    /// Of whom withdrew on or before `as_at` (still counted).
    pub withdrawn: u64,
    /// Of whom excluded on `as_at` (not counted).
    pub excluded: u64,
    /// Of whom not employed by the organisation at enrolment.
    pub not_employed_at_enrolment: u64,
    /// Footnote: enrolled after `as_at` (not members yet, not counted).
    pub not_yet_enrolled: u64,
    /// Retained / (members − excluded).
    pub retention: Rate,
    /// Curve for months 0..=months(as_at).
    pub curve: Vec<CurvePoint>,
    /// First month with S ≤ 0.5.
    pub median_months: Option<u32>,
    /// Definitions.
    pub definitions: Vec<Definition>,
}

/// Computes §3.
pub fn compute(dataset: &Dataset, params: &RetentionParams) -> Result<RetentionReport, ReportError> {
    let cohort = dataset
        .cohorts
        .iter()
        .find(|c| c.cohort_id == params.cohort_id)
        .ok_or(ReportError::UnknownCohort(params.cohort_id))?;
    let (start, as_at) = (cohort.starts_on, params.as_at);
    if as_at < start {
        return Err(ReportError::AsAtBeforeStart {
            as_at,
            starts_on: start,
        });
    }
    let no_history = Person::default();
    let (mut withdrawn, mut excluded, mut not_employed, mut retained, mut not_yet_enrolled) = (0, 0, 0, 0, 0);
    let mut observations = Vec::new();
    for member in &cohort.members {
        if member.enrolled_on > as_at {
            not_yet_enrolled += 1;
            continue;
        }
        let person = dataset
            .people
            .iter()
            .find(|p| p.participant_id == member.participant_id)
            .unwrap_or(&no_history);
        withdrawn += u64::from(member.withdrawn_on.is_some_and(|w| w <= as_at));
        let org = params.organisation.clone().or_else(|| {
            person
                .employment_on(None, member.enrolled_on)
                .map(|s| s.organisation.clone())
        });
        if person.excluded_on(as_at) {
            excluded += 1;
        } else if org
            .as_deref()
            .is_some_and(|o| person.employment_on(Some(o), as_at).is_some())
        {
            retained += 1;
        }
        match org
            .as_deref()
            .filter(|o| person.employment_on(Some(o), member.enrolled_on).is_some())
        {
            // Excluded since before enrolling and still on as_at: never
            // followed outside the exclusion, so not on the curve at all.
            Some(_) if excluded_throughout(person, member.enrolled_on, as_at) => {}
            Some(o) => observations.push(observe(person, o, member.enrolled_on, start, as_at)),
            None => not_employed += 1,
        }
    }
    let members = cohort.members.len() as u64 - not_yet_enrolled;
    let steps = kaplan_meier(&observations);
    let curve = curve(start, as_at, &observations, &steps);
    let median_months = curve.iter().find(|p| p.survival <= 0.5).map(|p| p.month);
    Ok(RetentionReport {
        cohort_id: cohort.cohort_id,
        cohort_name: cohort.name.clone(),
        starts_on: start,
        as_at,
        organisation: params.organisation.clone(),
        members,
        withdrawn,
        excluded,
        not_employed_at_enrolment: not_employed,
        not_yet_enrolled,
        retention: Rate::new(retained, members - excluded),
        curve,
        median_months,
        definitions: definitions(params),
    })
}

/// The day-level Kaplan–Meier estimate read at each whole month since
/// `start` up to `as_at`. Events and censorings of month m are those after
/// the previous month's boundary and on or before this one; at risk are the
/// members still followed after the previous boundary.
fn curve(start: NaiveDate, as_at: NaiveDate, observations: &[Observation], steps: &[KmStep]) -> Vec<CurvePoint> {
    let day = |m: u32| (add_months(start, m) - start).num_days() as f64;
    (0..=floor_months(start, as_at))
        .map(|m| {
            let (previous, boundary) = (if m == 0 { f64::NEG_INFINITY } else { day(m - 1) }, day(m));
            let within = |o: &&Observation| o.time > previous && o.time <= boundary;
            let current = steps.iter().rev().find(|s| s.time <= boundary);
            CurvePoint {
                month: m,
                date: add_months(start, m),
                at_risk: observations.iter().filter(|o| o.time > previous).count() as u64,
                events: observations.iter().filter(within).filter(|o| o.event).count() as u64,
                censored: observations.iter().filter(within).filter(|o| !o.event).count() as u64,
                survival: current.map_or(1.0, |s| s.survival),
                lower: current.map_or(1.0, |s| s.lower),
                upper: current.map_or(1.0, |s| s.upper),
            }
        })
        .collect()
}

/// Whether one exclusion is in force from the end of `enrolled_on` to the
/// end of `as_at` (exclusions are contiguous, so covering both ends covers
/// every day between).
fn excluded_throughout(person: &Person, enrolled_on: NaiveDate, as_at: NaiveDate) -> bool {
    person
        .exclusions
        .iter()
        .any(|e| e.covers(enrolled_on) && e.covers(as_at))
}

/// Follow-up of one member in days since the cohort start: the first end of
/// employment with `org` after enrolment (event), else censored at the
/// start of an exclusion in force on `as_at` or at `as_at`.
fn observe(person: &Person, org: &str, enrolled_on: NaiveDate, start: NaiveDate, as_at: NaiveDate) -> Observation {
    let left = exits(person, Some(org))
        .into_iter()
        .map(|e| e.date)
        .find(|d| *d > enrolled_on && *d <= as_at);
    let excluded = person
        .exclusions
        .iter()
        .filter(|e| e.covers(as_at))
        .map(|e| e.from)
        .min();
    let days = |d: NaiveDate| (d - start).num_days().max(0) as f64;
    match (left, excluded) {
        (Some(l), Some(x)) if x < l => Observation {
            time: days(x),
            event: false,
        },
        (Some(l), _) => Observation {
            time: days(l),
            event: true,
        },
        (None, censor) => Observation {
            time: days(censor.unwrap_or(as_at)),
            event: false,
        },
    }
}

/// `start` + `m` calendar months (clamped to the month's last day).
pub(crate) fn add_months(start: NaiveDate, m: u32) -> NaiveDate {
    start.checked_add_months(Months::new(m)).unwrap_or(NaiveDate::MAX)
}

/// Largest m ≥ 0 with start + m months ≤ d (0 when d is before start).
pub(crate) fn floor_months(start: NaiveDate, d: NaiveDate) -> u32 {
    if d <= start {
        return 0;
    }
    let guess = (d.year() - start.year()) * 12 + d.month() as i32 - start.month() as i32;
    let mut m = u32::try_from(guess.max(0)).unwrap_or(0);
    while m > 0 && add_months(start, m) > d {
        m -= 1;
    }
    m
}

fn definitions(params: &RetentionParams) -> Vec<Definition> {
    let org = params
        .organisation
        .clone()
        .unwrap_or_else(|| "the organisation employing each member at the end of their enrolment date".into());
    let population = "members enrolled in the cohort (withdrawn members included), less members under an exclusion \
                      from analysis on as_at";
    vec![
        Definition::new(
            "retention",
            &format!(
                "members employed by {org} at the end of {} / (members − excluded)",
                params.as_at
            ),
            "members employed by the organisation on as_at (not left, or rejoined by then)",
            "members − excluded",
            population,
        ),
        Definition::new(
            "curve.survival, lower, upper, at_risk",
            "Kaplan–Meier estimate of still employed, on days since the cohort start, read at each whole month m \
             (start + m calendar months); event = first end of employment with the organisation (leaving or move \
             to another organisation; rejoining ignored), not employed at the end of its day; censored at the \
             start of an exclusion in force on as_at, or at as_at (a member under one exclusion from \
             enrolment to as_at is not on the curve); at_risk = members followed after the previous \
             month's boundary; 95% bounds S^exp(±1.96·se), se = sqrt(Σ d/(n(n−d))) / |ln S|",
            "not applicable",
            "members at risk at each month",
            "members employed by the organisation at the end of their enrolment date",
        ),
        Definition::new(
            "median_months",
            "first whole month at which the Kaplan–Meier estimate is at or below 0.5",
            "not applicable",
            "not applicable",
            "as for the curve",
        ),
    ]
}
