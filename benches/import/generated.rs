//! The facts file the import bench imports: realistic careers in shuffled
//! order, with the organisations' team-manager posts and a leadership
//! programme's yearly cohorts, generated the same way every run.
//!
//! About 16 facts a person over ten years: joining, role and team
//! changes, FTE changes, leavings and rehires, exclusions; a team manager
//! takes up a post of their organisation free for the whole spell (posts
//! are held by several people in turn); one person in eight still employed on 1 September enrols in
//! that year's cohort of their organisation, and completes it (four in
//! five) or withdraws. One organisation per 100,000 facts, at least 5.

use std::io::Write;
use std::path::Path;

use chrono::{Datelike, NaiveDate};

use crate::BoxError;

const ROLES: [&str; 7] = [
    "asye",
    "social_worker",
    "senior_practitioner",
    "practice_manager",
    "team_manager",
    "service_manager",
    "head_of_service",
];
const TEAM_MANAGER: usize = 4;
const TEAMS: [&str; 6] = [
    "Assessment",
    "Children in need",
    "Children in care",
    "Leaving care",
    "Fostering",
    "Adoption",
];
const PROGRAMME: &str = "Step Up to Management";
const COHORT_YEARS: std::ops::RangeInclusive<i32> = 2013..=2024;

const HEADER: &str = "fact,person,effective_on,organisation,team,role,basis,fte,kind,reason,destination,\
                      programme,cohort,ends_on,post,title";

/// The name of the generated file's `n`th organisation.
pub(crate) fn organisation_name(n: usize) -> String {
    format!("Council {n:03}")
}

/// The name of organisation `organisation`'s cohort `group` of `year`.
pub(crate) fn cohort_name(organisation: &str, year: i32, group: usize) -> String {
    format!("{organisation} {year} group {group}")
}

/// How many cohorts an organisation of `people` runs a year: one per 400
/// people, so that a cohort has a few dozen members at any history size,
/// as a programme's cohorts do.
fn cohort_groups(people: usize) -> usize {
    (people / 400).max(1)
}

/// The programme every generated cohort belongs to.
pub(crate) fn programme() -> &'static str {
    PROGRAMME
}

/// A small deterministic generator (xorshift), so every run imports the same file.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One row, its columns by name (those left empty are not set).
#[derive(Default, Clone)]
struct Row {
    fact: &'static str,
    person: String,
    day: Option<NaiveDate>,
    organisation: String,
    team: &'static str,
    role: &'static str,
    fte: Option<f64>,
    reason: &'static str,
    destination: &'static str,
    cohort: String,
    ends_on: Option<NaiveDate>,
    post: String,
    title: &'static str,
}

impl Row {
    fn csv(&self) -> String {
        let day = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        let programme = if self.cohort.is_empty() { "" } else { PROGRAMME };
        format!(
            "{},{},{},{},{},{},,{},,{},{},{},{},{},{},{}",
            self.fact,
            self.person,
            day(self.day),
            self.organisation,
            self.team,
            self.role,
            self.fte.map(|f| f.to_string()).unwrap_or_default(),
            self.reason,
            self.destination,
            programme,
            self.cohort,
            day(self.ends_on),
            self.post,
            self.title
        )
    }
}

/// The team-manager posts of one organisation: who holds each when.
struct Posts {
    /// Per post, the spells held in it: first and last day (`None`: still).
    held: Vec<Vec<(NaiveDate, Option<NaiveDate>)>>,
}

impl Posts {
    /// A post free for the whole of `from..=until`, taken for it: a post
    /// has several occupants in turn, generated in any order of time.
    fn take(&mut self, from: NaiveDate, until: Option<NaiveDate>) -> Option<usize> {
        let apart = |(a, b): (NaiveDate, Option<NaiveDate>)| {
            // Apart by at least a day: the one vacated, then the other filled.
            b.is_some_and(|b| b < from) || until.is_some_and(|u| u < a)
        };
        let free = self.held.iter().position(|spells| spells.iter().all(|s| apart(*s)))?;
        self.held[free].push((from, until));
        Some(free)
    }
}

fn post_reference(n: usize) -> String {
    format!("TM-{n:03}")
}

/// Writes about `events` facts to `path`; rows and people written.
pub(crate) fn write_facts_file(path: &Path, events: usize) -> Result<(usize, usize), BoxError> {
    let organisations = (events / 100_000).max(5);
    let people_per_organisation = events / 16 / organisations + 1;
    let posts_per_organisation = people_per_organisation / 25 + 2;
    let mut dice = Dice(0x9e37_79b9_7f4a_7c15);
    let mut rows: Vec<String> = Vec::with_capacity(events + 32);
    let mut posts: Vec<Posts> = Vec::new();
    for o in 0..organisations {
        let organisation = organisation_name(o);
        for n in 0..posts_per_organisation {
            rows.push(
                Row {
                    fact: "post_established",
                    day: NaiveDate::from_ymd_opt(2011, 6, 1),
                    organisation: organisation.clone(),
                    role: ROLES[TEAM_MANAGER],
                    post: post_reference(n),
                    title: "Team manager",
                    ..Row::default()
                }
                .csv(),
            );
        }
        posts.push(Posts {
            held: vec![Vec::new(); posts_per_organisation],
        });
        for year in COHORT_YEARS {
            for group in 0..cohort_groups(people_per_organisation) {
                rows.push(
                    Row {
                        fact: "cohort_opened",
                        day: NaiveDate::from_ymd_opt(year, 9, 1),
                        cohort: cohort_name(&organisation, year, group),
                        ends_on: NaiveDate::from_ymd_opt(year + 1, 8, 31),
                        ..Row::default()
                    }
                    .csv(),
                );
            }
        }
    }
    let mut people = 0;
    while rows.len() < events {
        let o = people % organisations;
        let person = format!("P{people:07}");
        people += 1;
        let groups = cohort_groups(people_per_organisation);
        for row in career(&mut dice, &person, &organisation_name(o), groups, &mut posts[o]) {
            rows.push(row.csv());
        }
    }
    // Shuffled: the import sorts each person's facts itself.
    for i in (1..rows.len()).rev() {
        let j = dice.below(i as u64 + 1) as usize;
        rows.swap(i, j);
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "{HEADER}")?;
    for row in &rows {
        writeln!(out, "{row}")?;
    }
    out.flush()?;
    Ok((rows.len(), people))
}

/// One person's rows.
fn career(dice: &mut Dice, person: &str, organisation: &str, groups: usize, posts: &mut Posts) -> Vec<Row> {
    let start = NaiveDate::from_ymd_opt(2012, 1, 2).expect("a date");
    let mut day = start + chrono::Duration::days(dice.below(3 * 365) as i64);
    let mut level = dice.below(3) as usize;
    let mut team = dice.below(TEAMS.len() as u64) as usize;
    let mut fte = 1.0;
    let base = Row {
        person: person.to_string(),
        ..Row::default()
    };
    let mut rows = vec![Row {
        fact: "joined",
        day: Some(day),
        organisation: organisation.to_string(),
        team: TEAMS[team],
        role: ROLES[level],
        fte: Some(fte),
        ..base.clone()
    }];
    let facts = 10 + dice.below(12) as usize;
    let mut employed = true;
    let mut excluded = false;
    let mut enrolled = false;
    // The row that made them a team manager, waiting for the spell's end.
    let mut managing: Option<usize> = None;
    for _ in 1..facts {
        let before = day;
        day += chrono::Duration::days(60 + dice.below(240) as i64);
        if day.year() > 2025 {
            break;
        }
        if employed && !excluded && !enrolled {
            if let Some(year) = COHORT_YEARS.clone().find(|y| {
                let opens = NaiveDate::from_ymd_opt(*y, 9, 1).expect("a date");
                before < opens && opens < day
            }) {
                if dice.below(8) == 0 {
                    enrolled = true;
                    let group = dice.below(groups as u64) as usize;
                    rows.extend(cohort_rows(dice, &base, cohort_name(organisation, year, group), year));
                }
            }
        }
        let roll = dice.below(100);
        let row = if !employed {
            employed = true;
            team = dice.below(TEAMS.len() as u64) as usize;
            Row {
                fact: "rejoined",
                organisation: organisation.to_string(),
                team: TEAMS[team],
                role: ROLES[level],
                fte: Some(1.0),
                ..base.clone()
            }
        } else if excluded {
            excluded = false;
            Row {
                fact: "exclusion_lifted",
                reason: "back from secondment",
                ..base.clone()
            }
        } else if roll < 8 {
            employed = false;
            Row {
                fact: "left",
                reason: "resigned",
                destination: "another local authority",
                ..base.clone()
            }
        } else if roll < 11 {
            excluded = true;
            Row {
                fact: "excluded",
                reason: "seconded",
                ..base.clone()
            }
        } else if roll < 40 && level + 1 < ROLES.len() {
            level += 1;
            Row {
                fact: "changed_role",
                team: TEAMS[team],
                role: ROLES[level],
                ..base.clone()
            }
        } else if roll < 70 {
            team = (team + 1 + dice.below(TEAMS.len() as u64 - 1) as usize) % TEAMS.len();
            Row {
                fact: "changed_role",
                team: TEAMS[team],
                role: ROLES[level],
                ..base.clone()
            }
        } else {
            fte = if fte == 1.0 { 0.8 } else { 1.0 };
            Row {
                fact: "changed_role",
                team: TEAMS[team],
                role: ROLES[level],
                fte: Some(fte),
                ..base.clone()
            }
        };
        let ends_spell = matches!(row.fact, "changed_role" | "left");
        if ends_spell {
            if let Some(at) = managing.take() {
                give_post(&mut rows[at], organisation, posts, Some(day));
            }
        }
        let promoted = row.fact == "changed_role" && level == TEAM_MANAGER && row.role == ROLES[TEAM_MANAGER];
        rows.push(Row { day: Some(day), ..row });
        if promoted && ends_spell {
            managing = Some(rows.len() - 1);
        }
    }
    if let Some(at) = managing {
        give_post(&mut rows[at], organisation, posts, None);
    }
    rows
}

/// Names a free post on the row that starts a team-manager spell, if one
/// is free until `until` (the day the spell ends, `None` if it does not).
fn give_post(row: &mut Row, organisation: &str, posts: &mut Posts, until: Option<NaiveDate>) {
    let Some(from) = row.day else { return };
    if let Some(n) = posts.take(from, until) {
        row.organisation = organisation.to_string();
        row.post = post_reference(n);
    }
}

/// An enrolment in `cohort` (of `year`), then its completion or a withdrawal.
fn cohort_rows(dice: &mut Dice, base: &Row, cohort: String, year: i32) -> Vec<Row> {
    let enrolled = Row {
        fact: "enrolled",
        day: NaiveDate::from_ymd_opt(year, 9, 1),
        cohort: cohort.clone(),
        ..base.clone()
    };
    let ended = if dice.below(5) == 0 {
        Row {
            fact: "withdrawn",
            day: NaiveDate::from_ymd_opt(year + 1, 2, 1),
            cohort,
            reason: "workload",
            ..base.clone()
        }
    } else {
        Row {
            fact: "completed",
            day: NaiveDate::from_ymd_opt(year + 1, 7, 31),
            cohort,
            ..base.clone()
        }
    };
    vec![enrolled, ended]
}
