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
