//! Naming cohorts and a programme's population.

use std::collections::HashSet;

use super::fixtures::*;
use crate::reports::model::Dataset;
use crate::reports::names::NameKind;
use crate::reports::selection::{named_cohorts, population, split_list};
use crate::reports::ReportError;

/// Two PLDP cohorts sharing member 2, and an ASYE cohort with the same
/// name as the first PLDP one.
fn dataset() -> Dataset {
    let mut asye = cohort(3, "cohort 1 (2017)", "2017-09-01", vec![member(4, "2017-09-01")]);
    asye.programme = "ASYE".into();
    Dataset {
        people: vec![],
        cohorts: vec![
            cohort(
                1,
                "cohort 1 (2017)",
                "2017-01-09",
                vec![member(1, "2017-01-09"), member(2, "2017-01-09")],
            ),
            cohort(
                2,
                "cohort 2 (2018)",
                "2018-01-08",
                vec![member(2, "2018-01-08"), member(3, "2018-01-08")],
            ),
            asye,
        ],
        posts: vec![],
    }
}

fn set(ns: &[u128]) -> HashSet<uuid::Uuid> {
    ns.iter().map(|n| id(*n)).collect()
}

#[test]
fn a_name_names_every_cohort_that_has_it_unless_a_programme_narrows_it() {
    let data = dataset();
    assert_eq!(
        named_cohorts(&data, "cohort 1 (2017)", None),
        Ok(vec![id(1001), id(1003)])
    );
    assert_eq!(
        named_cohorts(&data, "cohort 1 (2017)", Some("PLDP")),
        Ok(vec![id(1001)])
    );
}

#[test]
fn ids_and_names_mix_in_one_list_and_blanks_are_ignored() {
    let data = dataset();
    let list = format!(" cohort 2 (2018) ,, {} ,", id(1003));
    assert_eq!(named_cohorts(&data, &list, None), Ok(vec![id(1002), id(1003)]));
    assert_eq!(named_cohorts(&data, " , ", None), Ok(vec![]));
}

#[test]
fn a_cohort_nobody_has_or_outside_the_programme_is_refused_by_name() {
    let data = dataset();
    let unknown = named_cohorts(&data, "cohort 1 (2017), cohort 9", None).unwrap_err();
    assert_eq!(
        unknown,
        ReportError::UnknownName {
            kind: NameKind::Cohort,
            field: "cohort",
            wanted: "cohort 9".into(),
            nearest: vec!["cohort 1 (2017)".into(), "cohort 2 (2018)".into()],
        }
    );
    assert_eq!(
        unknown.to_string(),
        r#"no cohort with id or name "cohort 9"; known: cohort 1 (2017), cohort 2 (2018)"#
    );
    assert_eq!((unknown.code(), unknown.field()), ("unknown_cohort", "cohort"));
    // The ASYE cohort exists, but not in PLDP.
    assert!(named_cohorts(&data, &id(1003).to_string(), Some("PLDP")).is_err());
}

#[test]
fn a_programme_population_is_every_member_of_its_cohorts() {
    let data = dataset();
    assert_eq!(population(&data, None, None), None);
    // Member 2 is in both PLDP cohorts and counts once.
    assert_eq!(population(&data, None, Some("PLDP")), Some(set(&[1, 2, 3])));
    assert_eq!(population(&data, None, Some("ASYE")), Some(set(&[4])));
    assert_eq!(population(&data, None, Some("nobody's")), Some(set(&[])));
}

#[test]
fn chosen_cohorts_decide_the_population_over_the_programme() {
    let data = dataset();
    assert_eq!(population(&data, Some(&[id(1002)]), Some("PLDP")), Some(set(&[2, 3])));
    assert_eq!(
        population(&data, Some(&[id(1001), id(1003)]), None),
        Some(set(&[1, 2, 4]))
    );
    // Cohorts named but none found: nobody, not everybody.
    assert_eq!(population(&data, Some(&[]), None), Some(set(&[])));
}

#[test]
fn a_name_with_a_comma_is_named_whole_or_quoted_in_a_list() {
    let mut data = dataset();
    let mut comma = cohort(4, "North, East", "2019-01-07", vec![]);
    comma.programme = "PLDP".into();
    data.cohorts.push(comma);
    // The whole value is a name: that cohort, not "North" and "East".
    assert_eq!(named_cohorts(&data, " North, East ", None), Ok(vec![id(1004)]));
    assert_eq!(
        named_cohorts(&data, r#""North, East", cohort 2 (2018)"#, Some("PLDP")),
        Ok(vec![id(1004), id(1002)])
    );
    // Unquoted in a list it splits, and "North" names nothing.
    let split = named_cohorts(&data, "North, East, cohort 2 (2018)", None).unwrap_err();
    assert_eq!((split.code(), split.field()), ("unknown_cohort", "cohort"));
    assert!(split
        .to_string()
        .starts_with(r#"no cohort with id or name "North"; known: North, East"#));
}

#[test]
fn a_list_splits_at_commas_outside_double_quotes() {
    assert_eq!(split_list(" a ,, b,"), ["a", "b"]);
    assert_eq!(split_list(r#" "x, y" ,z"#), ["x, y", "z"]);
    assert_eq!(split_list(r#""say ""hi"", then go""#), [r#"say "hi", then go"#]);
    // A quote inside an unquoted entry is kept as it is.
    assert_eq!(split_list(r#"6" ruler,b"#), [r#"6" ruler"#, "b"]);
}
