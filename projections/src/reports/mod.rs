//! Pure report calculations over a [`model::Dataset`], exactly as
//! `docs/metrics.md` defines each figure. No database here: the caller
//! builds the dataset from the event store (respecting `known_at` and
//! retractions) and renders the outputs (JSON via serde, CSV via
//! [`csv::ToCsvRows`]).
//!
//! Conventions shared by every report:
//! - dates are calendar dates; periods are inclusive at both ends;
//! - "employed on D" means employed at the end of D (spells are half-open);
//! - every rate carries its exact numerator and denominator beside the
//!   rounded value (percentages to 1 decimal place);
//! - every report lists the [`Definition`] of each figure it returns.

pub mod board;
pub mod csv;
mod error;
pub mod leavers;
pub mod model;
pub mod names;
pub mod promotions;
pub mod retention;
pub mod selection;
pub mod turnover;
pub mod vacancies;

#[cfg(test)]
mod tests;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

pub use error::ReportError;
use model::{Person, Spell, SpellEnd};

/// An inclusive period of calendar dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// First day.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub to: NaiveDate,
}

impl Period {
    /// Checks that `from <= to`.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, ReportError> {
        if from > to {
            return Err(ReportError::InvalidPeriod { from, to });
        }
        Ok(Self { from, to })
    }

    /// Number of days, both ends included.
    pub fn days(&self) -> u64 {
        u64::try_from((self.to - self.from).num_days() + 1).unwrap_or(0)
    }

    /// Whether `d` falls inside the period (inclusive).
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.from <= d && d <= self.to
    }

    fn validate(&self) -> Result<(), ReportError> {
        Self::new(self.from, self.to).map(|_| ())
    }
}

/// A count over a count, with the percentage rounded to 1 decimal place
/// (`None` when the denominator is 0).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rate {
    /// Exact numerator.
    pub numerator: u64,
    /// Exact denominator.
    pub denominator: u64,
    /// 100 × numerator / denominator, rounded to 1 dp.
    pub percent: Option<f64>,
}

impl Rate {
    /// Builds the rate.
    pub fn new(numerator: u64, denominator: u64) -> Self {
        let percent = (denominator > 0).then(|| round(100.0 * numerator as f64 / denominator as f64, 1));
        Self {
            numerator,
            denominator,
            percent,
        }
    }
}

/// An FTE over an FTE (FTE sums rounded to 4 dp to drop floating-point
/// noise), with the percentage to 1 dp.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FteRate {
    /// Numerator FTE.
    pub numerator: f64,
    /// Denominator FTE.
    pub denominator: f64,
    /// 100 × numerator / denominator, rounded to 1 dp.
    pub percent: Option<f64>,
}

impl FteRate {
    /// Builds the rate.
    pub fn new(numerator: f64, denominator: f64) -> Self {
        let (numerator, denominator) = (round(numerator, 4), round(denominator, 4));
        let percent = (denominator > 0.0).then(|| round(100.0 * numerator / denominator, 1));
        Self {
            numerator,
            denominator,
            percent,
        }
    }
}

/// What a figure means: formula in words, numerator, denominator and the
/// population it counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Definition {
    /// Name of the figure as it appears in the output.
    pub figure: String,
    /// The formula in words.
    pub formula: String,
    /// What the numerator counts.
    pub numerator: String,
    /// What the denominator counts.
    pub denominator: String,
    /// Who is counted.
    pub population: String,
}

impl Definition {
    fn new(figure: &str, formula: &str, numerator: &str, denominator: &str, population: &str) -> Self {
        Self {
            figure: figure.into(),
            formula: formula.into(),
            numerator: numerator.into(),
            denominator: denominator.into(),
            population: population.into(),
        }
    }
}

/// Rounds half away from zero to `dp` decimal places.
pub fn round(x: f64, dp: i32) -> f64 {
    let f = 10f64.powi(dp);
    (x * f).round() / f
}

/// Days of the spell inside the period (employed at the end of each).
pub(crate) fn person_days(spell: &Spell, period: &Period) -> u64 {
    let start = spell.from.max(period.from);
    let after_period = period.to.checked_add_days(Days::new(1)).unwrap_or(NaiveDate::MAX);
    let end = spell.until.map_or(after_period, |u| u.min(after_period));
    u64::try_from((end - start).num_days()).unwrap_or(0)
}

/// The end of one employment with an organisation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Exit {
    /// Effective date.
    pub date: NaiveDate,
    /// Organisation left.
    pub organisation: String,
    /// Role held immediately before.
    pub role_code: String,
    /// Team held immediately before, when known.
    pub team: Option<String>,
    /// FTE of the role held before; `None` when no spell records it.
    pub fte: Option<f64>,
}

/// Every end of employment of `person`, per docs/metrics.md "Leaving an
/// organisation": for one organisation, leaving events there and
/// (non-rejoining) moves from it to another organisation; over all
/// organisations (`None`), leaving events only. Sorted by date.
///
/// Team and FTE are those of the spell the exit ended (docs/metrics.md,
/// decision 5): when several spells end the same day (left, rejoined and
/// moved on again), the k-th leaving that day ended the k-th spell ended by
/// a leaving, and the k-th move out the k-th spell followed by one at
/// another organisation, since both lists keep the order of the day.
pub(crate) fn exits(person: &Person, organisation: Option<&str>) -> Vec<Exit> {
    let mut out: Vec<Exit> = person
        .leavings
        .iter()
        .enumerate()
        .filter(|(_, l)| organisation.is_none_or(|o| l.organisation == o))
        .map(|(i, l)| {
            let nth = person.leavings[..i]
                .iter()
                .filter(|e| e.organisation == l.organisation && e.effective_on == l.effective_on)
                .count();
            let spell = ended_spell(person, &l.organisation, l.effective_on, nth, ended_by_leaving);
            Exit {
                date: l.effective_on,
                organisation: l.organisation.clone(),
                role_code: l.role_code.clone(),
                team: spell.and_then(|s| s.team.clone()),
                fte: Some(l.fte),
            }
        })
        .collect();
    if let Some(org) = organisation {
        let moves_out: Vec<_> = person
            .moves
            .iter()
            .filter(|m| !m.rejoining && m.from_organisation == org && m.to_organisation != org)
            .collect();
        out.extend(moves_out.iter().enumerate().map(|(i, m)| {
            let nth = moves_out[..i]
                .iter()
                .filter(|e| e.effective_on == m.effective_on)
                .count();
            let spell = ended_spell(person, org, m.effective_on, nth, ended_by_move_out);
            Exit {
                date: m.effective_on,
                organisation: org.to_string(),
                role_code: m.from_role.clone(),
                team: spell.and_then(|s| s.team.clone()),
                fte: spell.map(|s| s.fte),
            }
        }));
    }
    out.sort_by_key(|e| e.date);
    out
}

/// Whether spell `i` of `person` ended by a leaving.
fn ended_by_leaving(person: &Person, i: usize) -> bool {
    person.spells[i].ended_by == Some(SpellEnd::Leaving)
}

/// Whether spell `i` of `person` ended by a move to another organisation.
fn ended_by_move_out(person: &Person, i: usize) -> bool {
    let spell = &person.spells[i];
    spell.ended_by == Some(SpellEnd::RoleChange)
        && person
            .spells
            .get(i + 1)
            .is_some_and(|next| spell.until == Some(next.from) && next.organisation != spell.organisation)
}

/// The `nth` spell at `org` that ended on `date` in the way `ended` says;
/// failing that (a history without spell ends), the spell held at the end
/// of the day before.
fn ended_spell<'p>(
    person: &'p Person,
    org: &str,
    date: NaiveDate,
    nth: usize,
    ended: fn(&Person, usize) -> bool,
) -> Option<&'p Spell> {
    (0..person.spells.len())
        .filter(|i| {
            let s = &person.spells[*i];
            s.organisation == org && s.until == Some(date) && ended(person, *i)
        })
        .nth(nth)
        .map(|i| &person.spells[i])
        .or_else(|| date.pred_opt().and_then(|d| person.employment_on(Some(org), d)))
}
