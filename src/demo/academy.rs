//! Figure B: Riverside Council's Leadership Academy, team and practice
//! manager leavers in April–September 2017 against April–September 2018
//! (docs/published-figures.md §B): team managers 6 → 3, practice managers 13 → 6.
//!
//! Riverside Council (invented) has 30 teams, `"Riverside team 01"`..`30`,
//! each with one team manager (`team_manager`, position `TM-nn`) and two
//! practice managers (`practice_manager`, positions `PM-nn`; PM-01 and PM-02
//! are in team 01, and so on). The 90 first holders (external refs
//! `RC-TM-nn-a`, `RC-PM-nn-a`) joined between 2006 and 2015, on the first of
//! a month. Every leaver is replaced on the day they leave by a new joiner in
//! the same role and team (`RC-TM-nn-b`), so 30 team managers and 60 practice
//! managers are employed at the end of every day from 2016 to 2019 and the
//! two periods have equal exposure (person-days in role). Every leaving is a
//! first holder's; no replacement leaves.
//!
//! Leavings (see [`LEAVINGS`]): 6 TM and 13 PM in 2017-04-01..2017-09-30
//! (one on 2017-09-30 itself), 3 TM and 6 PM in 2018-04-01..2018-09-30,
//! and 3 TM and 5 PM outside both windows (one PM on 2018-03-31, the day
//! before the second window).
//!
//! Late record and correction (the `known_at` example), loaded in two
//! phases. Phase 1 records everything except TM-25's leaving on 2017-09-29
//! and PM-42's on 2018-08-31 (and their replacements), and records in error
//! a leaving of TM-20 on 2018-06-29 (TM-20 in truth stays; no replacement).
//! A report with `known_at` = the last phase 1 commit's recorded time shows
//! 5 TM and 13 PM leavers in April–September 2017 and 4 TM and 5 PM in
//! April–September 2018. Phase 2 records TM-25's and PM-42's leavings and
//! replacements (late records) and retracts TM-20's leaving (sequence 2 in
//! TM-20's stream: their registration is 1), reason "recorded in error: still
//! in post". Final: 3 TM and 6 PM.
//!
//! Programme `"Middle Leaders Development Programme"`: cohorts `"MLDP cohort
//! 1"` (2018-05-01..2018-09-30, 20 members), `"MLDP cohort 2"`
//! (2018-10-01..2019-02-28, 18) and `"MLDP cohort 3"`
//! (2019-03-01..2019-07-31, 17): 55 managers, each enrolled on their cohort's
//! start date, taken in team order (TM, then its two PMs) among those
//! employed that day who never leave, TM-20 and PM-42 left out. No
//! completions are recorded (the report's "20 completed a four-day
//! accredited programme" is about another course).

use chrono::NaiveDate;
use uuid::Uuid;

use super::{date, demo_id, participant_id, planned_sequence, Action, CohortSummary, DatasetSummary, Step};

pub(crate) const ORGANISATION: &str = "Riverside Council";
pub(crate) const PROGRAMME: &str = "Middle Leaders Development Programme";

/// One leaving: role, position, effective date (y, m, d), reason.
type Leaving = (&'static str, u32, (i32, u32, u32), &'static str);

/// Every final leaving.
#[rustfmt::skip]
pub(crate) const LEAVINGS: [Leaving; 36] = [
    // Outside the two windows.
    ("team_manager", 3, (2016, 11, 30), "retired"),
    ("practice_manager", 4, (2016, 12, 30), "moved to another council"),
    ("practice_manager", 11, (2017, 2, 28), "resigned"),
    ("team_manager", 27, (2017, 12, 29), "moved to another council"),
    ("practice_manager", 19, (2018, 3, 31), "resigned"),
    ("practice_manager", 37, (2018, 11, 30), "retired"),
    ("team_manager", 12, (2019, 1, 31), "resigned"),
    ("practice_manager", 50, (2019, 6, 28), "career break"),
    // April to September 2017: 6 TM, 13 PM.
    ("practice_manager", 2, (2017, 4, 7), "moved to another council"),
    ("team_manager", 5, (2017, 4, 28), "resigned"),
    ("practice_manager", 6, (2017, 4, 28), "moved to agency work"),
    ("practice_manager", 8, (2017, 5, 12), "resigned"),
    ("team_manager", 9, (2017, 5, 31), "moved to another council"),
    ("practice_manager", 13, (2017, 5, 31), "moved to agency work"),
    ("practice_manager", 15, (2017, 6, 16), "resigned"),
    ("team_manager", 14, (2017, 6, 30), "retired"),
    ("practice_manager", 21, (2017, 6, 30), "moved to another council"),
    ("practice_manager", 24, (2017, 7, 14), "career break"),
    ("team_manager", 18, (2017, 7, 31), "moved to agency work"),
    ("practice_manager", 28, (2017, 7, 31), "resigned"),
    ("practice_manager", 31, (2017, 8, 11), "moved to another council"),
    ("team_manager", 22, (2017, 8, 31), "moved to another council"),
    ("practice_manager", 35, (2017, 8, 31), "moved to agency work"),
    ("practice_manager", 40, (2017, 9, 8), "resigned"),
    ("practice_manager", 44, (2017, 9, 22), "retired"),
    ("team_manager", 25, (2017, 9, 29), "resigned"),
    ("practice_manager", 47, (2017, 9, 30), "moved to another council"),
    // April to September 2018: 3 TM, 6 PM (PM-42's recorded late).
    ("practice_manager", 9, (2018, 4, 20), "resigned"),
    ("team_manager", 7, (2018, 4, 30), "moved to another council"),
    ("practice_manager", 17, (2018, 5, 31), "retired"),
    ("practice_manager", 26, (2018, 6, 29), "moved to another council"),
    ("practice_manager", 33, (2018, 7, 20), "resigned"),
    ("team_manager", 16, (2018, 7, 31), "resigned"),
    ("practice_manager", 42, (2018, 8, 31), "moved to agency work"),
    ("practice_manager", 55, (2018, 9, 21), "moved to another council"),
    ("team_manager", 29, (2018, 9, 28), "retired"),
];

/// The leavings recorded late (phase 2): one in each window.
const LATE: [(&str, u32); 2] = [("team_manager", 25), ("practice_manager", 42)];
/// The team manager whose leaving is recorded in error, and its date.
const ERRONEOUS: (u32, (i32, u32, u32)) = (20, (2018, 6, 29));

fn short(role: &str) -> &'static str {
    if role == "team_manager" {
        "TM"
    } else {
        "PM"
    }
}

fn team(role: &str, position: u32) -> String {
    let t = if role == "team_manager" {
        position
    } else {
        position.div_ceil(2)
    };
    format!("Riverside team {t:02}")
}

fn external_ref(role: &str, position: u32, holder: char) -> String {
    format!("RC-{}-{position:02}-{holder}", short(role))
}

/// The MLDP cohorts: number, name, start, end, size.
pub(crate) fn cohorts() -> [(u32, &'static str, NaiveDate, NaiveDate, usize); 3] {
    [
        (1, "MLDP cohort 1", date(2018, 5, 1), date(2018, 9, 30), 20),
        (2, "MLDP cohort 2", date(2018, 10, 1), date(2019, 2, 28), 18),
        (3, "MLDP cohort 3", date(2019, 3, 1), date(2019, 7, 31), 17),
    ]
}

pub(crate) fn cohort_id(n: u32) -> Uuid {
    demo_id(&format!("cohort:academy:{n}"))
}

fn register(role: &'static str, position: u32, holder: char, joined_on: NaiveDate, phase: &str) -> Step {
    let external_ref = external_ref(role, position, holder);
    Step {
        name: format!("academy:{phase}{}-{position:02}-{holder}:register", short(role)),
        action: Action::Register {
            participant: participant_id(&external_ref),
            external_ref,
            organisation: ORGANISATION.to_string(),
            team: Some(team(role, position)),
            role,
            joined_on,
        },
    }
}

fn leaving(role: &'static str, position: u32, on: NaiveDate, reason: &str, phase: &str) -> Step {
    Step {
        name: format!("academy:{phase}{}-{position:02}-a:leave", short(role)),
        action: Action::Leave {
            participant: participant_id(&external_ref(role, position, 'a')),
            effective_on: on,
            reason: reason.to_string(),
            destination: (reason == "moved to another council").then(|| "another local authority".to_string()),
        },
    }
}

/// Everything recorded before the corrections.
pub(crate) fn phase1() -> Vec<Step> {
    let mut steps = Vec::new();
    let positions = |role: &'static str, n: u32| (1..=n).map(move |p| (role, p));
    for (role, p) in positions("team_manager", 30).chain(positions("practice_manager", 60)) {
        let joined_on = date(2006 + ((p * 7 + role.len() as u32) % 10) as i32, (p * 5) % 12 + 1, 1);
        steps.push(register(role, p, 'a', joined_on, ""));
    }
    let mut leavings: Vec<(NaiveDate, Step)> = LEAVINGS
        .iter()
        .filter(|(role, p, _, _)| !LATE.contains(&(*role, *p)))
        .flat_map(|&(role, p, (y, m, d), reason)| {
            let on = date(y, m, d);
            [
                (on, leaving(role, p, on, reason, "")),
                (on, register(role, p, 'b', on, "")),
            ]
        })
        .collect();
    let (tm, (y, m, d)) = ERRONEOUS;
    let on = date(y, m, d);
    leavings.push((on, leaving("team_manager", tm, on, "resigned", "")));
    leavings.sort_by_key(|(on, _)| *on);
    steps.extend(leavings.into_iter().map(|(_, s)| s));
    steps.extend(mldp());
    steps
}

/// The late record and the retraction.
pub(crate) fn phase2() -> Vec<Step> {
    let mut steps = Vec::new();
    for (role, p) in LATE {
        let &(_, _, (y, m, d), reason) = LEAVINGS
            .iter()
            .find(|(r, q, _, _)| (*r, *q) == (role, p))
            .expect("listed");
        let on = date(y, m, d);
        steps.push(leaving(role, p, on, reason, "late:"));
        steps.push(register(role, p, 'b', on, "late:"));
    }
    let (participant, step, sequence) = retraction();
    steps.push(Step {
        name: "academy:late:TM-20-a:retract-leave".to_string(),
        action: Action::Retract {
            participant,
            step,
            sequence,
            reason: "recorded in error: still in post".to_string(),
        },
    });
    steps
}

/// The participant whose leaving is retracted, the step that recorded it,
/// and its planned sequence in their stream.
pub(crate) fn retraction() -> (Uuid, String, u64) {
    let participant = participant_id(&external_ref("team_manager", ERRONEOUS.0, 'a'));
    let step = format!("academy:TM-{:02}-a:leave", ERRONEOUS.0);
    let sequence = planned_sequence(&phase1_people(), participant, &step);
    (participant, step, sequence)
}

/// Phase 1's participant steps (enough to number a stream's events).
fn phase1_people() -> Vec<Step> {
    let mut steps = phase1();
    steps.retain(|s| s.action.participant_stream().is_some());
    steps
}

/// Opens the MLDP cohorts and enrols their members.
fn mldp() -> Vec<Step> {
    // Positions in team order; the holder on a day is the replacement once
    // the first holder has left.
    let mut order = Vec::new();
    for t in 1..=30u32 {
        order.push(("team_manager", t));
        order.push(("practice_manager", 2 * t - 1));
        order.push(("practice_manager", 2 * t));
    }
    let left_on = |role: &str, p: u32| {
        LEAVINGS
            .iter()
            .find(|(r, q, _, _)| *r == role && *q == p)
            .map(|&(_, _, (y, m, d), _)| date(y, m, d))
    };
    let mut steps = Vec::new();
    let mut taken = std::collections::HashSet::new();
    for (n, name, starts_on, ends_on, size) in cohorts() {
        let cohort = cohort_id(n);
        steps.push(Step {
            name: format!("academy:mldp-{n}:open"),
            action: Action::OpenCohort {
                cohort,
                programme: PROGRAMME.to_string(),
                name: name.to_string(),
                starts_on,
                ends_on,
            },
        });
        let holders = order
            .iter()
            .filter(|&&(role, p)| !LATE.contains(&(role, p)) && (role, p) != ("team_manager", ERRONEOUS.0));
        let members: Vec<String> = holders
            .filter_map(|&(role, p)| match left_on(role, p) {
                None => Some(external_ref(role, p, 'a')),
                Some(on) if on <= starts_on => Some(external_ref(role, p, 'b')),
                Some(_) => None,
            })
            .filter(|r| !taken.contains(r))
            .take(size)
            .collect();
        for r in members {
            steps.push(Step {
                name: format!("academy:mldp-{n}:{r}:enrol"),
                action: Action::Enrol {
                    cohort,
                    participant: participant_id(&r),
                    enrolled_on: starts_on,
                },
            });
            taken.insert(r);
        }
    }
    steps
}

pub(crate) fn summary() -> DatasetSummary {
    DatasetSummary {
        dataset: "academy",
        figure: "B. Leavers by role, April-September 2017 against April-September 2018",
        programme: PROGRAMME.to_string(),
        organisations: vec![ORGANISATION.to_string()],
        cohorts: cohorts()
            .iter()
            .map(|(n, name, starts_on, _, _)| CohortSummary {
                id: cohort_id(*n),
                name: name.to_string(),
                starts_on: *starts_on,
                members: 0,
            })
            .collect(),
        as_at: None,
    }
}

#[cfg(test)]
#[path = "academy_tests.rs"]
mod tests;
