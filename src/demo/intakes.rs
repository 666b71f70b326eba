//! Figure C: Shire County Council's social work academy, retention of the
//! 2013 and 2015 intakes of newly qualified social workers
//! (docs/published-figures.md §C).
//!
//! Shire County Council and its staff are invented. Programme `"Social work
//! academy"`, one cohort per intake, running for the supported first year:
//!
//! - `"2013 intake"` (2013-09-02..2014-09-01): 23 newly qualified social
//!   workers (`asye`, external refs `SCC-2013-01`..`23`) join the council
//!   and are enrolled on 2013-09-02. Their leavings fall on month ends spread
//!   from 2014-02-28 to 2016-11-30 (member i, 0-based, leaves at the end of
//!   month 2014-02 + ⌊33·i/22⌋). The 5 who leave before September 2014 leave
//!   as ASYEs; the other 18 complete the cohort on 2014-09-01 and become
//!   social workers (`social_worker`) on 2014-09-02. All 23 have left by
//!   2016-12-31: retention 0 of 23.
//! - `"2015 intake"` (2015-09-07..2016-09-06): 20 ASYEs (`SCC-2015-01`..`20`)
//!   join and are enrolled on 2015-09-07. Five leave, on 2016-03-31,
//!   2016-08-31, 2017-01-31, 2017-10-31 and 2018-06-29; the 18 still there
//!   complete the cohort on 2016-09-06 and become social workers on
//!   2016-09-07. On 2018-09-07 (the report's date) 15 of 20 are employed:
//!   75%.
//!
//! Members are spread over four teams in turn (assessment, child protection,
//! children in care, family support); leaving reasons rotate.

use chrono::NaiveDate;
use uuid::Uuid;

use super::{date, demo_id, month_end, participant_id, Action, CohortSummary, DatasetSummary, Step};

pub(crate) const ORGANISATION: &str = "Shire County Council";
pub(crate) const PROGRAMME: &str = "Social work academy";

const TEAMS: [&str; 4] = [
    "Assessment team",
    "Child protection team",
    "Children in care team",
    "Family support team",
];
const REASONS: [&str; 4] = [
    "moved to another council",
    "moved to agency work",
    "resigned",
    "left social work",
];

/// The intakes: year, cohort name, start, end, size.
pub(crate) fn cohorts() -> [(i32, &'static str, NaiveDate, NaiveDate, usize); 2] {
    [
        (2013, "2013 intake", date(2013, 9, 2), date(2014, 9, 1), 23),
        (2015, "2015 intake", date(2015, 9, 7), date(2016, 9, 6), 20),
    ]
}

pub(crate) fn cohort_id(year: i32) -> Uuid {
    demo_id(&format!("cohort:intakes:{year}"))
}

/// When member `i` (0-based) of the intake of `year` leaves, if they do.
fn leaves_on(year: i32, i: usize) -> Option<NaiveDate> {
    if year == 2013 {
        let month = 1 + i as u32 * 33 / 22; // 0-based months from January 2014
        return Some(month_end(2014 + (month / 12) as i32, month % 12 + 1));
    }
    let leavers = [
        (2, date(2016, 3, 31)),
        (7, date(2016, 8, 31)),
        (11, date(2017, 1, 31)),
        (15, date(2017, 10, 31)),
        (18, date(2018, 6, 29)),
    ];
    leavers.iter().find(|(k, _)| *k == i).map(|(_, on)| *on)
}

pub(crate) fn steps() -> Vec<Step> {
    let mut steps = Vec::new();
    for (year, name, starts_on, ends_on, size) in cohorts() {
        let cohort = cohort_id(year);
        steps.push(Step {
            name: format!("intakes:{year}:open"),
            action: Action::OpenCohort {
                cohort,
                programme: PROGRAMME.to_string(),
                name: name.to_string(),
                starts_on,
                ends_on,
            },
        });
        let promoted_on = ends_on.succ_opt().expect("date");
        for i in 0..size {
            let external_ref = format!("SCC-{year}-{:02}", i + 1);
            let participant = participant_id(&external_ref);
            let key = format!("intakes:{external_ref}");
            let team = Some(TEAMS[i % 4].to_string());
            let step = |what: &str, action| Step {
                name: format!("{key}:{what}"),
                action,
            };
            steps.push(step(
                "register",
                Action::Register {
                    participant,
                    external_ref: external_ref.clone(),
                    organisation: ORGANISATION.to_string(),
                    team: team.clone(),
                    role: "asye",
                    joined_on: starts_on,
                },
            ));
            steps.push(step(
                "enrol",
                Action::Enrol {
                    cohort,
                    participant,
                    enrolled_on: starts_on,
                },
            ));
            let leaves = leaves_on(year, i);
            if leaves.is_none_or(|on| on > ends_on) {
                steps.push(step(
                    "complete",
                    Action::Complete {
                        cohort,
                        participant,
                        completed_on: ends_on,
                    },
                ));
                let promotion = Action::ChangeRole {
                    participant,
                    effective_on: promoted_on,
                    role: "social_worker",
                    organisation: ORGANISATION.to_string(),
                    team,
                    interim: false,
                    explicit_promotion: false,
                };
                steps.push(step("promote", promotion));
            }
            if let Some(on) = leaves {
                let reason = REASONS[i % 4];
                let destination = (reason == "moved to another council").then(|| "another local authority".to_string());
                steps.push(step(
                    "leave",
                    Action::Leave {
                        participant,
                        effective_on: on,
                        reason: reason.to_string(),
                        destination,
                    },
                ));
            }
        }
    }
    steps
}

pub(crate) fn summary() -> DatasetSummary {
    DatasetSummary {
        dataset: "intakes",
        figure: "C. Retention of the 2013 intake (0 of 23 by 2016-12-31) and the 2015 intake (15 of 20 on 2018-09-07)",
        programme: PROGRAMME.to_string(),
        organisations: vec![ORGANISATION.to_string()],
        cohorts: cohorts()
            .iter()
            .map(|(year, name, starts_on, _, _)| CohortSummary {
                id: cohort_id(*year),
                name: name.to_string(),
                starts_on: *starts_on,
                members: 0,
            })
            .collect(),
        as_at: Some(date(2018, 9, 7)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::check;
    use super::*;

    fn retained(year: i32, on: NaiveDate) -> (usize, usize) {
        let world = check::simulate(&steps());
        let members = check::members(&world, cohort_id(year));
        let kept = members
            .iter()
            .filter(|(who, _)| world.employer_on(*who, on).as_deref() == Some(ORGANISATION))
            .count();
        (kept, members.len())
    }

    #[test]
    fn all_23_of_the_2013_intake_left_by_the_end_of_2016() {
        assert_eq!(retained(2013, date(2016, 12, 31)), (0, 23));
        let world = check::simulate(&steps());
        let dates: Vec<NaiveDate> = check::members(&world, cohort_id(2013))
            .iter()
            .filter_map(|(w, _)| {
                world.people[w]
                    .iter()
                    .find(|e| matches!(e.fact, check::Fact::Left))
                    .map(|e| e.on)
            })
            .collect();
        assert!(dates.iter().all(|d| *d >= date(2014, 2, 1) && *d <= date(2016, 11, 30)));
        assert_eq!(dates.len(), 23);
    }

    #[test]
    fn fifteen_of_20_of_the_2015_intake_employed_on_7_september_2018() {
        assert_eq!(retained(2015, date(2018, 9, 7)), (15, 20));
    }

    #[test]
    fn those_still_there_after_a_year_become_social_workers() {
        let world = check::simulate(&steps());
        let sw = |year: i32, on| {
            check::members(&world, cohort_id(year))
                .iter()
                .filter(|(w, _)| world.role_on(*w, on) == Some("social_worker"))
                .count()
        };
        assert_eq!(sw(2013, date(2014, 9, 2)), 18);
        assert_eq!(sw(2015, date(2016, 9, 7)), 18);
    }
}
