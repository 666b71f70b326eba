//! A census return's header and row checks, the role mapping, and the
//! facts derived for one worker from what the store knows of them.

use aggregates::ladder::{Basis, Levels, RoleRef};
use aggregates::participant::{Participant, ParticipantEvent};
use cqrs_es::Aggregate;

use super::*;
use crate::import::census_derive::{self, facts_for};
use crate::import::facts::{Fact, FactKind};

const HEADER: [&str; 14] = [
    "CollectionYear",
    "Organisation",
    "SWENo",
    "AgencyWorker",
    "FTE",
    "PersonBirthDate",
    "GenderCurrent",
    "Ethnicity",
    "Disability",
    "OrgRole",
    "RoleStartDate",
    "RoleEndDate",
    "LeaverDestination",
    "ReasonLeave",
];

fn header() -> Header {
    Header::read(&csv::StringRecord::from(HEADER.to_vec())).unwrap()
}

/// A row of `HEADER` with `changes` (column, value) applied to a worker in post.
fn row(changes: &[(&str, &str)]) -> Result<ReturnRow, Vec<RowError>> {
    let mut values = vec![
        "2018",
        "Northshire",
        "SW0000000001",
        "0",
        "1",
        "1988-03-14",
        "2",
        "WBRI",
        "0",
        "5",
        "2012-04-02",
        "",
        "",
        "",
    ];
    for (column, value) in changes {
        let i = HEADER.iter().position(|c| c == column).unwrap();
        values[i] = value;
    }
    header().row(7, &csv::StringRecord::from(values), &mut Interner::default())
}

fn problems(errors: &[RowError]) -> Vec<(&str, &str)> {
    errors
        .iter()
        .map(|e| (e.column.as_deref().unwrap_or(""), e.error.as_str()))
        .collect()
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

#[test]
fn a_census_header_is_known_by_its_worker_identifier() {
    assert!(is_census_header(&csv::StringRecord::from(vec!["\u{feff}SWENo", "FTE"])));
    assert!(!is_census_header(&csv::StringRecord::from(vec![
        "fact",
        "person",
        "effective_on"
    ])));
}

#[test]
fn a_header_takes_the_returns_other_items_and_refuses_anything_else() {
    let mut names = HEADER.to_vec();
    names.extend(["QualInst", "Cases30", "Salary"]);
    let errors = Header::read(&csv::StringRecord::from(names)).unwrap_err();
    assert_eq!(problems(&errors), [("Salary", "unknown_column")]);
    let errors = Header::read(&csv::StringRecord::from(vec!["SWENo", "OrgRole", "SWENo"])).unwrap_err();
    assert_eq!(
        problems(&errors),
        [
            ("SWENo", "duplicate_column"),
            ("CollectionYear", "missing_column"),
            ("Organisation", "missing_column"),
            ("AgencyWorker", "missing_column"),
            ("FTE", "missing_column"),
        ]
    );
}

#[test]
fn a_row_gives_the_worker_with_the_role_mapped_and_no_characteristics() {
    let row = row(&[("OrgRole", "3"), ("AgencyWorker", "1"), ("FTE", "0.6")]).unwrap();
    assert_eq!(&*row.person, "SW0000000001");
    assert_eq!((row.year, &*row.organisation), (2018, "Northshire"));
    assert_eq!(row.role.recorded_as, "team_manager");
    assert!(row.role.covers.contains(&"practice_manager"));
    assert!(row.agency);
    assert_eq!(row.fte, 0.6);
    assert_eq!(row.started_on, Some(day("2012-04-02")));
    assert_eq!(
        (row.collection_date(), row.year_start()),
        (day("2018-09-30"), day("2017-10-01"))
    );
}

#[test]
fn every_role_of_the_return_maps_to_a_role_of_the_default_ladder() {
    let ladder = Levels::default();
    for role in ROLES {
        assert!(ladder.level_of("Northshire", role.recorded_as).is_some(), "{role:?}");
        assert!(role.covers.contains(&role.recorded_as), "{role:?}");
    }
    let levels: Vec<Option<u8>> = ["1", "2", "3", "4", "5"]
        .iter()
        .map(|code| {
            let role = ROLES.iter().find(|r| r.code == *code).unwrap();
            ladder.level_of("Northshire", role.recorded_as).unwrap()
        })
        .collect();
    // Senior manager down to case holder: each below the one before.
    assert_eq!(levels, [Some(7), Some(6), Some(5), Some(3), Some(2)]);
}

#[test]
fn an_unmapped_role_code_is_refused_on_its_column_naming_the_worker() {
    let errors = row(&[("OrgRole", "7")]).unwrap_err();
    assert_eq!(problems(&errors), [("OrgRole", "unknown_role")]);
    assert_eq!(errors[0].person.as_deref(), Some("SW0000000001"));
    assert_eq!(errors[0].line, 7);
    assert!(errors[0].message.contains("5 case holder"), "{}", errors[0].message);
}

#[test]
fn codes_and_dates_are_checked_as_the_return_defines_them() {
    let errors = row(&[
        ("GenderCurrent", "F"),
        ("Ethnicity", "WHITE"),
        ("Disability", "2"),
        ("PersonBirthDate", "14/03/1988"),
        ("FTE", "0"),
        ("AgencyWorker", "yes"),
    ])
    .unwrap_err();
    let mut found = problems(&errors);
    found.sort_unstable();
    assert_eq!(
        found,
        [
            ("AgencyWorker", "invalid_field"),
            ("Disability", "invalid_field"),
            ("Ethnicity", "invalid_field"),
            ("FTE", "invalid_field"),
            ("GenderCurrent", "invalid_field"),
            ("PersonBirthDate", "invalid_field"),
        ]
    );
}

#[test]
fn a_leaving_lies_in_the_collection_year_and_comes_with_its_reason() {
    let outside = row(&[("RoleEndDate", "2017-09-30"), ("ReasonLeave", "1")]).unwrap_err();
    assert_eq!(problems(&outside), [("RoleEndDate", "invalid_field")]);
    let no_reason = row(&[("RoleEndDate", "2018-03-31")]).unwrap_err();
    assert_eq!(problems(&no_reason), [("ReasonLeave", "missing_field")]);
    let no_date = row(&[("ReasonLeave", "1"), ("LeaverDestination", "2")]).unwrap_err();
    assert_eq!(
        problems(&no_date),
        [
            ("ReasonLeave", "unsupported_field"),
            ("LeaverDestination", "unsupported_field")
        ]
    );
    let unknown = row(&[("RoleEndDate", "2018-03-31"), ("ReasonLeave", "11")]).unwrap_err();
    assert_eq!(problems(&unknown), [("ReasonLeave", "invalid_field")]);
    let left = row(&[
        ("RoleEndDate", "2018-03-31"),
        ("ReasonLeave", "5"),
        ("LeaverDestination", "6"),
    ])
    .unwrap();
    assert_eq!(left.left_on, Some(day("2018-03-31")));
    assert_eq!(left.reason, Some("retired"));
    assert!(left.destination.unwrap().starts_with("non-social care role"));
}

/// A participant registered on `joined_on` in `role` at Northshire, with `fte` and `basis`.
fn known(joined_on: &str, role: &str, fte: f64, basis: Basis) -> Participant {
    let mut participant = Participant::default();
    participant.apply(ParticipantEvent::Registered {
        participant_id: uuid::Uuid::new_v4(),
        external_ref: "SW0000000001".to_string(),
        organisation: "Northshire".to_string(),
        team: Some("Assessment".to_string()),
        role: RoleRef {
            code: role.to_string(),
            level: None,
        },
        post_id: None,
        basis,
        fte,
        joined_on: day(joined_on),
    });
    participant
}

fn derived(participant: &Participant, rows: Vec<ReturnRow>) -> Vec<Fact> {
    let observed: Vec<Observation> = rows.into_iter().map(Observation::Row).collect();
    facts_for("SW0000000001", participant, &observed, &Levels::default())
}

/// (kind, date, rule) of each fact.
fn said(facts: &[Fact]) -> Vec<(FactKind, NaiveDate, &'static str)> {
    facts
        .iter()
        .map(|f| (f.kind, f.effective_on, f.derivation.unwrap().rule))
        .collect()
}

#[test]
fn a_worker_the_store_does_not_know_joins_on_the_start_date_or_at_the_start_of_the_year() {
    let with_date = derived(&Participant::default(), vec![row(&[]).unwrap()]);
    assert_eq!(
        said(&with_date),
        [(FactKind::Joined, day("2012-04-02"), "census:joined_on_start_date")]
    );
    assert_eq!(with_date[0].role.as_deref(), Some("social_worker"));
    assert_eq!(
        (with_date[0].basis, with_date[0].fte),
        (Some(Basis::Permanent), Some(1.0))
    );
    let without = derived(
        &Participant::default(),
        vec![row(&[("RoleStartDate", ""), ("AgencyWorker", "1")]).unwrap()],
    );
    assert_eq!(
        said(&without),
        [(FactKind::Joined, day("2017-10-01"), "census:joined_at_year_start")]
    );
    assert_eq!(without[0].basis, Some(Basis::Agency));
}

#[test]
fn a_leaver_row_for_a_new_worker_gives_the_joining_and_the_leaving() {
    let facts = derived(
        &Participant::default(),
        vec![row(&[("RoleEndDate", "2018-03-31"), ("ReasonLeave", "1")]).unwrap()],
    );
    assert_eq!(
        said(&facts),
        [
            (FactKind::Joined, day("2012-04-02"), "census:joined_on_start_date"),
            (FactKind::Left, day("2018-03-31"), "census:left_on_leaving_date"),
        ]
    );
    assert_eq!(facts[1].reason.as_deref(), Some("resignation"));
}

#[test]
fn a_worker_the_return_shows_as_the_store_has_them_gives_nothing() {
    // ASYE is a case holder as far as the return can tell.
    let asye = known("2016-09-05", "asye", 1.0, Basis::Permanent);
    assert!(derived(&asye, vec![row(&[]).unwrap()]).is_empty());
    let interim = known("2016-09-05", "social_worker", 1.0, Basis::Interim);
    assert!(derived(&interim, vec![row(&[]).unwrap()]).is_empty());
}

#[test]
fn a_change_is_dated_by_a_later_start_date_else_the_collection_date() {
    let worker = known("2012-04-02", "social_worker", 1.0, Basis::Permanent);
    let promoted = derived(&worker, vec![row(&[("OrgRole", "4")]).unwrap()]);
    assert_eq!(
        said(&promoted),
        [(
            FactKind::ChangedRole,
            day("2018-09-30"),
            "census:changed_at_collection_date"
        )]
    );
    assert_eq!(promoted[0].role.as_deref(), Some("senior_practitioner"));
    // The team the store has is kept: the return knows none.
    assert_eq!(promoted[0].team.as_deref(), Some("Assessment"));
    let dated = derived(
        &worker,
        vec![row(&[("OrgRole", "4"), ("RoleStartDate", "2018-04-01")]).unwrap()],
    );
    assert_eq!(
        said(&dated),
        [(FactKind::ChangedRole, day("2018-04-01"), "census:changed_on_start_date")]
    );
    let part_time = derived(&worker, vec![row(&[("FTE", "0.6")]).unwrap()]);
    assert_eq!(part_time[0].role.as_deref(), Some("social_worker"));
    assert_eq!(part_time[0].fte, Some(0.6));
    let agency = derived(&worker, vec![row(&[("AgencyWorker", "1")]).unwrap()]);
    assert_eq!(agency[0].basis, Some(Basis::Agency));
}

#[test]
fn a_leaver_whose_role_differs_changes_on_the_leaving_date_then_leaves() {
    let worker = known("2012-04-02", "social_worker", 1.0, Basis::Permanent);
    let facts = derived(
        &worker,
        vec![row(&[("OrgRole", "4"), ("RoleEndDate", "2018-03-31"), ("ReasonLeave", "5")]).unwrap()],
    );
    assert_eq!(
        said(&facts),
        [
            (
                FactKind::ChangedRole,
                day("2018-03-31"),
                "census:changed_on_leaving_date"
            ),
            (FactKind::Left, day("2018-03-31"), "census:left_on_leaving_date"),
        ]
    );
}

#[test]
fn a_worker_the_store_has_as_left_rejoins_unless_the_row_is_that_leaving() {
    let mut worker = known("2012-04-02", "social_worker", 1.0, Basis::Permanent);
    worker.apply(ParticipantEvent::LeavingRecorded {
        effective_on: day("2016-05-31"),
        reason: "resignation".to_string(),
        destination: None,
    });
    let back = derived(&worker, vec![row(&[("RoleStartDate", "")]).unwrap()]);
    assert_eq!(
        said(&back),
        [(FactKind::Rejoined, day("2017-10-01"), "census:rejoined_at_year_start")]
    );
    let dated = derived(&worker, vec![row(&[("RoleStartDate", "2018-02-05")]).unwrap()]);
    assert_eq!(
        said(&dated),
        [(FactKind::Rejoined, day("2018-02-05"), "census:rejoined_on_start_date")]
    );
    let same_leaving = row(&[
        ("CollectionYear", "2016"),
        ("RoleEndDate", "2016-05-31"),
        ("ReasonLeave", "1"),
    ])
    .unwrap();
    assert!(derived(&worker, vec![same_leaving]).is_empty());
}

#[test]
fn a_worker_absent_from_their_organisations_return_leaves_on_its_collection_date() {
    let worker = known("2012-04-02", "social_worker", 1.0, Basis::Permanent);
    let absent = |organisation: &str, year| Observation::Absent {
        organisation: organisation.into(),
        year,
    };
    let levels = Levels::default();
    let left = facts_for("SW0000000001", &worker, &[absent("Northshire", 2018)], &levels);
    assert_eq!(
        said(&left),
        [(FactKind::Left, day("2018-09-30"), "census:left_absent_from_return")]
    );
    assert_eq!(left[0].reason.as_deref(), Some(census_derive::ABSENT_REASON));
    assert_eq!(left[0].line, 0);
    // Another organisation's return, or a return from before they started: nothing.
    assert!(facts_for("SW0000000001", &worker, &[absent("Southvale", 2018)], &levels).is_empty());
    assert!(facts_for("SW0000000001", &worker, &[absent("Northshire", 2011)], &levels).is_empty());
}

#[test]
fn a_derived_fact_has_the_same_key_as_the_same_fact_in_a_facts_file() {
    let joined = &derived(&Participant::default(), vec![row(&[]).unwrap()])[0];
    let file = crate::import::facts::Header::read(&csv::StringRecord::from(vec![
        "fact",
        "person",
        "effective_on",
        "organisation",
        "role",
        "basis",
        "fte",
    ]))
    .unwrap()
    .fact(
        2,
        &csv::StringRecord::from(vec![
            "joined",
            "SW0000000001",
            "2012-04-02",
            "Northshire",
            "social_worker",
            "permanent",
            "1",
        ]),
        &mut Interner::default(),
    )
    .unwrap();
    assert_eq!(joined.fingerprint, file.fingerprint);
}
