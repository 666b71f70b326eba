//! Figure A: PLDP career progression (docs/published-figures.md §A), read with
//! `as_at = 2021-01-31` and targets `[dcs, practice_leader]`.
//!
//! Programme `"PLDP"`, cohorts `"cohort 1 (2017)"`, `"cohort 2 (2018)"` and
//! `"cohort 3 (2019)"`, starting 2017-01-09, 2018-01-08 and 2019-01-07 and
//! ending a year later (the day before the start's anniversary). 68 invented
//! heads of service (`head_of_service`) in as many local authorities, named
//! by region — `"London and South East LA 01"`..`27`, `"South West LA
//! 01"`..`06`, `"Midlands and East LA 01"`..`12`, `"North LA 01"`..`23` —
//! so the spread is 27/6/12/23 (40%/9%/18%/34%; no whole number of 68
//! rounds to the published 17% for Midlands and East: 11 is 16%, 12 is
//! 18%, and 12 makes the four add up to 68). Each joined their LA between 2005
//! and 2013 (every fourth joined as a service manager and was promoted to
//! head of service three years later, before the programme) and is enrolled
//! on the cohort start date. Moves take effect on the first day of a month,
//! 6 to 15 months after enrolment; second moves 8 months after the first.
//! External moves go to an LA of the same region numbered from 31 up
//! (`"North LA 31"`, ...); inspectors go to `"Ofsted"` (role `inspector`,
//! recorded with the explicit kind "promotion"). Two of every three members
//! record a completion on the cohort end date.
//!
//! Stories per cohort (c1 / c2 / c3):
//! - external sideways move (HoS in another LA), then internal promotion to
//!   practice leader there 8 months later: 3 / 2 / 1;
//! - internal promotion to interim practice leader, made permanent 6 months
//!   later (a change of terms, not a move): 2 / 0 / 0;
//! - internal promotion to practice leader: 4 / 4 / 3, plus in c1 one more
//!   who then retired on 2020-08-31 (still counted as promoted);
//! - external promotion to practice leader: 5 / 5 / 3;
//! - internal promotion to practice leader, then internal to DCS: 0 / 1 / 0;
//! - external promotion straight to DCS: 0 / 0 / 1;
//! - promotion to Ofsted inspector: 0 / 1 / 2;
//! - sideways move only: 3 / 6 / 2;
//! - remained: 1 / 4 / 12, plus in c2 one internal demotion to service
//!   manager (counts as remained) and in c3 one promoted to practice leader
//!   on 2021-04-01, after `as_at` (counts as remained);
//! - c1 also has one member who left on 2019-08-31 to work abroad
//!   (destination "abroad") and is excluded from analysis from that day.
//!
//! Outcomes: DCS 0/1/1, PL 14/11/7, other 0/1/2, sideways 3/6/2, remained
//! 1/5/13, counted 18/24/25; internal PL/DCS promotions 9/14, 7/12, 4/8
//! (20 of 34). 8 of 32 practice-leader promotees (25%) first moved sideways
//! (6, all to another LA) or held an interim post (2).

use chrono::{Months, NaiveDate};

use super::{date, demo_id, interleave, month_start, participant_id, Action, CohortSummary, DatasetSummary, Step};

pub(crate) const PROGRAMME: &str = "PLDP";
pub(crate) const AS_AT: (i32, u32, u32) = (2021, 1, 31);

/// What happens to one member after enrolment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Story {
    Remained,
    Demoted,
    PromotedAfterAsAt,
    Sideways,
    Pl { internal: bool },
    PlThenRetired,
    PlAfterSideways,
    PlInterim,
    PlThenDcs,
    DcsExternal,
    Inspector,
    Abroad,
}

/// Cohort number, name, start date.
pub(crate) fn cohorts() -> [(u32, &'static str, NaiveDate); 3] {
    [
        (1, "cohort 1 (2017)", date(2017, 1, 9)),
        (2, "cohort 2 (2018)", date(2018, 1, 8)),
        (3, "cohort 3 (2019)", date(2019, 1, 7)),
    ]
}

pub(crate) fn cohort_id(n: u32) -> uuid::Uuid {
    demo_id(&format!("cohort:pldp:{n}"))
}

/// The members' stories of cohort `n`, in member order.
pub(crate) fn stories(n: u32) -> Vec<Story> {
    use Story::*;
    let groups: &[(Story, usize)] = match n {
        1 => &[
            (PlAfterSideways, 3),
            (PlInterim, 2),
            (Pl { internal: true }, 3),
            (PlThenRetired, 1),
            (Pl { internal: false }, 5),
            (Sideways, 3),
            (Remained, 1),
            (Abroad, 1),
        ],
        2 => &[
            (PlThenDcs, 1),
            (PlAfterSideways, 2),
            (Pl { internal: true }, 4),
            (Pl { internal: false }, 5),
            (Inspector, 1),
            (Sideways, 6),
            (Remained, 4),
            (Demoted, 1),
        ],
        _ => &[
            (DcsExternal, 1),
            (PlAfterSideways, 1),
            (Pl { internal: true }, 3),
            (Pl { internal: false }, 3),
            (Inspector, 2),
            (Sideways, 2),
            (Remained, 12),
            (PromotedAfterAsAt, 1),
        ],
    };
    // Interleaved, so neighbouring members have different stories.
    interleave(groups)
}

const REGIONS: [&str; 4] = ["London and South East", "South West", "Midlands and East", "North"];

/// The region (index into [`REGIONS`]) of each member of cohort `n`.
fn regions(n: u32) -> Vec<usize> {
    let counts = match n {
        1 => [8, 2, 3, 6],
        2 => [9, 2, 5, 8],
        _ => [10, 2, 4, 9],
    };
    interleave(&[(0, counts[0]), (1, counts[1]), (2, counts[2]), (3, counts[3])])
}

/// All PLDP steps: open the cohorts, then member by member.
pub(crate) fn steps() -> Vec<Step> {
    let mut steps = Vec::new();
    for (n, name, starts_on) in cohorts() {
        let ends_on = starts_on
            .checked_add_months(Months::new(12))
            .and_then(|d| d.pred_opt())
            .expect("demo dates stay in range");
        steps.push(Step {
            name: format!("pldp:c{n}:open"),
            action: Action::OpenCohort {
                cohort: cohort_id(n),
                programme: PROGRAMME.to_string(),
                name: name.to_string(),
                starts_on,
                ends_on,
            },
        });
    }
    let mut home_number = [0usize; 4];
    let mut away_number = [30usize; 4];
    for (n, _, enrolled_on) in cohorts() {
        let ends_on = steps
            .iter()
            .find_map(|s| match &s.action {
                Action::OpenCohort { cohort, ends_on, .. } if *cohort == cohort_id(n) => Some(*ends_on),
                _ => None,
            })
            .expect("opened above");
        for (k, (story, region)) in stories(n).into_iter().zip(regions(n)).enumerate() {
            home_number[region] += 1;
            let home = format!("{} LA {:02}", REGIONS[region], home_number[region]);
            let mut away = || {
                away_number[region] += 1;
                format!("{} LA {:02}", REGIONS[region], away_number[region])
            };
            let m = Member::new(n, k, story, home, enrolled_on);
            steps.extend(m.history(&mut away));
            steps.push(m.step(
                "enrol",
                Action::Enrol {
                    cohort: cohort_id(n),
                    participant: m.id,
                    enrolled_on,
                },
            ));
            if k % 3 != 2 {
                let action = Action::Complete {
                    cohort: cohort_id(n),
                    participant: m.id,
                    completed_on: ends_on,
                };
                steps.push(m.step("complete", action));
            }
        }
    }
    steps
}

struct Member {
    key: String,
    id: uuid::Uuid,
    external_ref: String,
    k: usize,
    story: Story,
    home: String,
    enrolled_on: NaiveDate,
}

impl Member {
    fn new(n: u32, k: usize, story: Story, home: String, enrolled_on: NaiveDate) -> Self {
        let external_ref = format!("PLDP-C{n}-{:02}", k + 1);
        Member {
            key: format!("pldp:c{n}:{:02}", k + 1),
            id: participant_id(&external_ref),
            external_ref,
            k,
            story,
            home,
            enrolled_on,
        }
    }

    fn step(&self, what: &str, action: Action) -> Step {
        Step {
            name: format!("{}:{what}", self.key),
            action,
        }
    }

    fn change(&self, what: &str, on: NaiveDate, role: &'static str, org: &str, interim: bool, explicit: bool) -> Step {
        self.step(
            what,
            Action::ChangeRole {
                participant: self.id,
                effective_on: on,
                role,
                organisation: org.to_string(),
                team: None,
                interim,
                explicit_promotion: explicit,
            },
        )
    }

    /// Registration, any move before the programme, and the story's moves.
    fn history(&self, away: &mut impl FnMut() -> String) -> Vec<Step> {
        let k = self.k;
        let joined_on = date(2005 + (k as i32 * 3) % 9, (k as u32 * 5) % 12 + 1, 1);
        let first_role = if k % 4 == 3 {
            "service_manager"
        } else {
            "head_of_service"
        };
        let mut out = vec![self.step(
            "register",
            Action::Register {
                participant: self.id,
                external_ref: self.external_ref.clone(),
                organisation: self.home.clone(),
                team: None,
                role: first_role,
                joined_on,
            },
        )];
        if first_role == "service_manager" {
            let on = month_start(joined_on, 36);
            out.push(self.change("promoted-before", on, "head_of_service", &self.home, false, false));
        }
        let first = month_start(self.enrolled_on, 6 + (k as u32 % 10));
        let second = month_start(first, 8);
        let home = self.home.as_str();
        match self.story {
            Story::Remained => {}
            Story::Demoted => out.push(self.change("move", first, "service_manager", home, false, false)),
            Story::PromotedAfterAsAt => {
                out.push(self.change("move", date(2021, 4, 1), "practice_leader", home, false, false))
            }
            Story::Sideways => out.push(self.change("move", first, "head_of_service", &away(), false, false)),
            Story::Pl { internal } => {
                let org = if internal { home.to_string() } else { away() };
                out.push(self.change("move", first, "practice_leader", &org, false, false));
            }
            Story::PlThenRetired => {
                out.push(self.change("move", first, "practice_leader", home, false, false));
                let leaving = Action::Leave {
                    participant: self.id,
                    effective_on: date(2020, 8, 31),
                    reason: "retired".to_string(),
                    destination: None,
                };
                out.push(self.step("leave", leaving));
            }
            Story::PlAfterSideways => {
                let new_la = away();
                out.push(self.change("move", first, "head_of_service", &new_la, false, false));
                out.push(self.change("move-2", second, "practice_leader", &new_la, false, false));
            }
            Story::PlInterim => {
                out.push(self.change("move", first, "practice_leader", home, true, false));
                out.push(self.change(
                    "made-permanent",
                    month_start(first, 6),
                    "practice_leader",
                    home,
                    false,
                    false,
                ));
            }
            Story::PlThenDcs => {
                out.push(self.change("move", first, "practice_leader", home, false, false));
                out.push(self.change("move-2", second, "dcs", home, false, false));
            }
            Story::DcsExternal => out.push(self.change("move", first, "dcs", &away(), false, false)),
            Story::Inspector => out.push(self.change("move", first, "inspector", "Ofsted", false, true)),
            Story::Abroad => {
                let on = date(2019, 8, 31);
                let leaving = Action::Leave {
                    participant: self.id,
                    effective_on: on,
                    reason: "left to work abroad".to_string(),
                    destination: Some("abroad".to_string()),
                };
                out.push(self.step("leave", leaving));
                let exclusion = Action::Exclude {
                    participant: self.id,
                    effective_on: on,
                    reason: "left to work abroad".to_string(),
                };
                out.push(self.step("exclude", exclusion));
            }
        }
        out
    }
}

pub(crate) fn summary() -> DatasetSummary {
    DatasetSummary {
        dataset: "pldp",
        figure: "A. PLDP career progression by cohort (as at 2021-01-31, targets dcs, practice_leader)",
        programme: PROGRAMME.to_string(),
        organisations: REGIONS.iter().map(|r| format!("{r} LA 01")).collect(),
        cohorts: cohorts()
            .iter()
            .map(|(n, name, starts_on)| CohortSummary {
                id: cohort_id(*n),
                name: name.to_string(),
                starts_on: *starts_on,
                members: 0,
            })
            .collect(),
        as_at: Some(date(AS_AT.0, AS_AT.1, AS_AT.2)),
    }
}

#[cfg(test)]
#[path = "pldp_tests.rs"]
mod tests;
