//! The facts file's header and row checks, one row at a time.

use super::*;

fn header(names: &[&str]) -> Result<Header, Vec<RowError>> {
    Header::read(&csv::StringRecord::from(names.to_vec()))
}

fn row(header: &Header, values: &[&str]) -> Result<Fact, Vec<RowError>> {
    header.fact(2, &csv::StringRecord::from(values.to_vec()), &mut Interner::default())
}

#[test]
fn a_header_names_known_columns_once_with_the_three_required() {
    let errors = header(&["fact", "person", "salary", "fact"]).unwrap_err();
    let codes: Vec<(&str, Option<&str>)> = errors.iter().map(|e| (e.error.as_str(), e.column.as_deref())).collect();
    assert_eq!(
        codes,
        [
            ("unknown_column", Some("salary")),
            ("duplicate_column", Some("fact")),
            ("missing_column", Some("effective_on"))
        ]
    );
}

#[test]
fn a_row_gives_its_fact_with_its_values_trimmed() {
    let h = header(&["fact", "person", "effective_on", "organisation", "role", "fte", "basis"]).unwrap();
    let fact = row(
        &h,
        &["joined", " HR-1 ", "2017-04-03", "Northshire", "asye", "0.6", "interim"],
    )
    .unwrap();
    assert_eq!(fact.kind, FactKind::Joined);
    assert_eq!(&*fact.person, "HR-1");
    assert_eq!(fact.effective_on, NaiveDate::from_ymd_opt(2017, 4, 3).unwrap());
    assert_eq!(fact.fte, Some(0.6));
    assert_eq!(fact.basis, Some(Basis::Interim));
}

#[test]
fn every_problem_of_a_row_is_named_with_its_column() {
    let h = header(&[
        "fact",
        "person",
        "effective_on",
        "organisation",
        "role",
        "fte",
        "reason",
    ])
    .unwrap();
    let errors = row(&h, &["joined", "HR-1", "3/4/2017", "", "asye", "lots", "why"]).unwrap_err();
    let found: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.column.as_deref().unwrap_or(""), e.error.as_str()))
        .collect();
    assert_eq!(found, [("effective_on", "invalid_field")]);
    let errors = row(&h, &["joined", "HR-1", "2017-04-03", "", "asye", "lots", "why"]).unwrap_err();
    let found: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.column.as_deref().unwrap_or(""), e.error.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("organisation", "missing_field"),
            ("reason", "unsupported_field"),
            ("fte", "invalid_field")
        ]
    );
    assert!(errors
        .iter()
        .all(|e| e.person.as_deref() == Some("HR-1") && e.line == 2));
    let unknown = row(&h, &["promoted", "HR-1", "2017-04-03", "", "", "", ""]).unwrap_err();
    assert!(unknown[0].message.contains("changed_role"), "{unknown:?}");
}

#[test]
fn the_same_fact_on_another_line_has_the_same_fingerprint_and_any_other_value_another() {
    let h = header(&["fact", "person", "effective_on", "reason", "destination"]).unwrap();
    let a = row(&h, &["left", "HR-1", "2018-05-31", "resigned", ""]).unwrap();
    let b = h
        .fact(
            9,
            &csv::StringRecord::from(vec!["left", "HR-1", "2018-05-31", "resigned", ""]),
            &mut Interner::default(),
        )
        .unwrap();
    assert_eq!(a.fingerprint, b.fingerprint);
    let c = row(&h, &["left", "HR-1", "2018-05-31", "resigned", "agency"]).unwrap();
    assert_ne!(a.fingerprint, c.fingerprint);
    let d = row(&h, &["left", "HR-1", "2018-05-30", "resigned", ""]).unwrap();
    assert_ne!(a.fingerprint, d.fingerprint);
}

#[test]
fn a_fact_of_the_first_columns_keeps_the_key_it_had_before_cohort_and_post_columns() {
    // The digest of the fields as the first version wrote them (worked
    // out independently: 0x01 + value or 0x00, then 0xff, for kind,
    // person, date, organisation, team, role, basis, fte, kind, reason,
    // destination), whether or not the header has the new columns.
    let before = "a14201a3c9f68f41ece113e2e7578d1817c951fa2ab2933ef1eb9d7dacb26e3e";
    let h = header(&["fact", "person", "effective_on", "reason"]).unwrap();
    let a = row(&h, &["left", "HR-1", "2018-05-31", "resigned"]).unwrap();
    assert_eq!(hex(&a.fingerprint), before);
    let wide = header(&[
        "fact",
        "person",
        "effective_on",
        "reason",
        "programme",
        "post",
        "retracts",
    ])
    .unwrap();
    let b = row(&wide, &["left", "HR-1", "2018-05-31", "resigned", "", "", ""]).unwrap();
    assert_eq!(hex(&b.fingerprint), before);
}

#[test]
fn a_role_change_with_basis_fte_and_kind_keeps_its_key_across_versions() {
    // Worked out independently (Python's hashlib over the encoding above):
    // basis and kind as their variant names, the FTE as the shortest
    // decimal. An extract imported by one version must be known to the next.
    let h = header(&[
        "fact",
        "person",
        "effective_on",
        "organisation",
        "team",
        "role",
        "basis",
        "fte",
        "kind",
    ])
    .unwrap();
    let a = row(
        &h,
        &[
            "changed_role",
            "HR-2",
            "2019-04-01",
            "Northshire",
            "East",
            "team_manager",
            "interim",
            "0.6",
            "promotion",
        ],
    )
    .unwrap();
    assert_eq!(
        hex(&a.fingerprint),
        "10ca9ed9118c20e5f2b520dfeca993568a606e11812ff3dfc90e0e4219045130"
    );
}

#[test]
fn cohort_and_post_rows_give_their_facts_and_rows_about_no_person_name_none() {
    let h = header(&[
        "fact",
        "person",
        "effective_on",
        "organisation",
        "role",
        "programme",
        "cohort",
        "ends_on",
        "post",
        "title",
        "reason",
    ])
    .unwrap();
    let opened = row(
        &h,
        &[
            "cohort_opened",
            "",
            "2017-09-01",
            "",
            "",
            "ASYE",
            "2017 intake",
            "2018-08-31",
            "",
            "",
            "",
        ],
    )
    .unwrap();
    assert_eq!(opened.kind, FactKind::CohortOpened);
    assert_eq!(&*opened.person, "");
    assert_eq!(opened.ends_on, NaiveDate::from_ymd_opt(2018, 8, 31));
    let withdrawn = row(
        &h,
        &[
            "withdrawn",
            "HB-1",
            "2018-01-31",
            "",
            "",
            "ASYE",
            "2017 intake",
            "",
            "",
            "",
            "caring",
        ],
    )
    .unwrap();
    assert_eq!(
        (withdrawn.programme.as_deref(), withdrawn.cohort.as_deref()),
        (Some("ASYE"), Some("2017 intake"))
    );
    let post = row(
        &h,
        &[
            "post_established",
            "",
            "2015-01-01",
            "Harbourside",
            "team_manager",
            "",
            "",
            "",
            "HB-P-01",
            "TM, Assessment",
            "",
        ],
    )
    .unwrap();
    assert_eq!(
        (post.post.as_deref(), post.title.as_deref()),
        (Some("HB-P-01"), Some("TM, Assessment"))
    );

    // A person on a row about no person, a missing cohort, a bad end date.
    let errors = row(
        &h,
        &[
            "cohort_opened",
            "HB-1",
            "2017-09-01",
            "",
            "",
            "ASYE",
            "",
            "31/08/2018",
            "",
            "",
            "",
        ],
    )
    .unwrap_err();
    let found: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.column.as_deref().unwrap_or(""), e.error.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("cohort", "missing_field"),
            ("person", "unsupported_field"),
            ("ends_on", "invalid_field")
        ]
    );
    assert!(errors.iter().all(|e| e.person.is_none()), "{errors:?}");
    // A fill names the person and the post; a post's role is not its column.
    let errors = row(
        &h,
        &[
            "post_filled",
            "",
            "2016-01-04",
            "Harbourside",
            "team_manager",
            "",
            "",
            "",
            "HB-P-01",
            "",
            "",
        ],
    )
    .unwrap_err();
    let found: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.column.as_deref().unwrap_or(""), e.error.as_str()))
        .collect();
    assert_eq!(found, [("person", "missing_field"), ("role", "unsupported_field")]);
}

#[test]
fn a_retraction_repeats_the_retracted_row_and_names_its_key() {
    let h = header(&[
        "fact",
        "person",
        "effective_on",
        "reason",
        "destination",
        "retracts",
        "retraction_reason",
    ])
    .unwrap();
    let left = row(&h, &["left", "HR-1", "2018-05-31", "resigned", "", "", ""]).unwrap();
    let retraction = row(
        &h,
        &[
            "retraction",
            "HR-1",
            "2018-05-31",
            "resigned",
            "",
            "left",
            "wrong person",
        ],
    )
    .unwrap();
    assert_eq!(retraction.kind, FactKind::Retraction);
    assert_eq!(retraction.subject(), FactKind::Left);
    assert_eq!(retraction.retracted, Some(left.fingerprint));
    assert_ne!(retraction.fingerprint, left.fingerprint);
    // The same retraction reworded is the same retraction.
    let reworded = row(
        &h,
        &[
            "retraction",
            "HR-1",
            "2018-05-31",
            "resigned",
            "",
            "left",
            "typed on the wrong row",
        ],
    )
    .unwrap();
    assert_eq!(reworded.fingerprint, retraction.fingerprint);

    // The retracted kind says what the row must fill; the reason is required.
    let errors = row(&h, &["retraction", "HR-1", "2018-05-31", "", "", "left", ""]).unwrap_err();
    let found: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.column.as_deref().unwrap_or(""), e.error.as_str()))
        .collect();
    assert_eq!(
        found,
        [("retraction_reason", "missing_field"), ("reason", "missing_field")]
    );
    let errors = row(&h, &["retraction", "HR-1", "2018-05-31", "", "", "promoted", "x"]).unwrap_err();
    assert_eq!(
        (errors[0].column.as_deref(), errors[0].error.as_str()),
        (Some("retracts"), "invalid_field")
    );
    let errors = row(&h, &["left", "HR-1", "2018-05-31", "resigned", "", "", "x"]).unwrap_err();
    assert_eq!(
        (errors[0].column.as_deref(), errors[0].error.as_str()),
        (Some("retraction_reason"), "unsupported_field")
    );
}
