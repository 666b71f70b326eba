//! §4 Turnover by period (workforce-census style) for one organisation:
//! leavers, starters, in post at period end, turnover rate and stability.

use serde::{Deserialize, Serialize};

use super::model::{Dataset, SpellEnd};
use super::{exits, round, Definition, FteRate, Period, Rate, ReportError};

/// Inputs of the turnover report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnoverParams {
    /// Organisation.
    pub organisation: String,
    /// Period (typically the year to 30 September).
    pub period: Period,
}

/// A headcount with its FTE.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Count {
    /// People (or employments, for leavers and starters).
    pub headcount: u64,
    /// FTE, 4 dp.
    pub fte: f64,
}

/// The turnover report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TurnoverReport {
    /// Organisation.
    pub organisation: String,
    /// Period.
    pub period: Period,
    /// Employments with the organisation that ended in the period.
    pub leavers: Count,
    /// Joinings, rejoinings and moves in from another organisation.
    pub starters: Count,
    /// Employed at the end of the period's first day.
    pub in_post_at_start: Count,
    /// Employed at the end of the period's last day.
    pub in_post_at_end: Count,
    /// FTE leavers / FTE in post at period end.
    pub turnover: FteRate,
    /// Headcount leavers / headcount in post at period end (for reference).
    pub headcount_turnover: Rate,
    /// In post on the first day and not ended during the period / in post
    /// on the first day.
    pub stability_index: Rate,
    /// Data problems met (for example a leaver with no recorded FTE).
    pub data_warnings: Vec<String>,
    /// Definitions.
    pub definitions: Vec<Definition>,
}

/// Computes §4.
pub fn compute(dataset: &Dataset, params: &TurnoverParams) -> Result<TurnoverReport, ReportError> {
    let period = params.period;
    period.validate()?;
    let org = params.organisation.as_str();
    let mut leavers = (0, 0.0);
    let mut starters = (0, 0.0);
    let mut start = (0, 0.0);
    let mut end = (0, 0.0);
    let mut stable = 0;
    let mut warnings = Vec::new();
    for person in &dataset.people {
        let person_exits: Vec<_> = exits(person, Some(org))
            .into_iter()
            .filter(|e| period.contains(e.date))
            .collect();
        for exit in &person_exits {
            leavers.0 += 1;
            match exit.fte {
                Some(fte) => leavers.1 += fte,
                None => warnings.push(format!(
                    "participant {} left {org} on {} with no recorded FTE; counted as 0 FTE",
                    person.participant_id, exit.date
                )),
            }
        }
        for (i, spell) in person.spells.iter().enumerate() {
            if spell.organisation != org || !period.contains(spell.from) {
                continue;
            }
            // A spell carries on the one just before it when that ended the
            // same day at the same organisation by a change of terms.
            let continues = i.checked_sub(1).map(|j| &person.spells[j]).is_some_and(|p| {
                p.organisation == org && p.until == Some(spell.from) && p.ended_by != Some(SpellEnd::Leaving)
            });
            if !continues {
                starters.0 += 1;
                starters.1 += spell.fte;
            }
        }
        if let Some(s) = person.employment_on(Some(org), period.from) {
            start.0 += 1;
            start.1 += s.fte;
            // In post at the end of the first day: an exit that day ended an
            // earlier employment (left and rejoined the same day).
            stable += u64::from(person_exits.iter().all(|e| e.date == period.from));
        }
        if let Some(s) = person.employment_on(Some(org), period.to) {
            end.0 += 1;
            end.1 += s.fte;
        }
    }
    let count = |(headcount, fte): (u64, f64)| Count {
        headcount,
        fte: round(fte, 4),
    };
    Ok(TurnoverReport {
        organisation: params.organisation.clone(),
        period,
        leavers: count(leavers),
        starters: count(starters),
        in_post_at_start: count(start),
        in_post_at_end: count(end),
        turnover: FteRate::new(leavers.1, end.1),
        headcount_turnover: Rate::new(leavers.0, end.0),
        stability_index: Rate::new(stable, start.0),
        data_warnings: warnings,
        definitions: definitions(params),
    })
}

fn definitions(params: &TurnoverParams) -> Vec<Definition> {
    let org = &params.organisation;
    let (from, to) = (params.period.from, params.period.to);
    vec![
        Definition::new(
            "leavers",
            &format!(
                "employments with {org} ended from {from} to {to} inclusive by a leaving event there or a move to \
                 another organisation; FTE of the role held immediately before"
            ),
            "ended employments (headcount) and their FTE",
            "not applicable",
            &format!("everyone employed by {org} at any time in the period"),
        ),
        Definition::new(
            "starters",
            &format!(
                "employments with {org} starting in the period by a joining, a rejoining or a move in from another \
                 organisation (a role change inside {org} is not a starter); FTE of the role started"
            ),
            "started employments",
            "not applicable",
            &format!("everyone employed by {org} at any time in the period"),
        ),
        Definition::new(
            "in_post_at_end",
            &format!("people employed by {org} at the end of {to}"),
            "people (headcount) and their FTE",
            "not applicable",
            &format!("employees of {org}"),
        ),
        Definition::new(
            "turnover",
            "FTE leavers / FTE in post at period end",
            "FTE of leavers",
            "FTE in post at the end of the period's last day",
            &format!("employees of {org}"),
        ),
        Definition::new(
            "stability_index",
            "people in post on the first day whose employment with the organisation did not end during the period \
             / people in post on the first day",
            &format!("people employed by {org} at the end of {from} with no end of employment there up to {to}"),
            &format!("people employed by {org} at the end of {from}"),
            &format!("employees of {org}"),
        ),
    ]
}
