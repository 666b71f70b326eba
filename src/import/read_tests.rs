//! Reading and splitting facts files (`read.rs`).

use super::*;

const FILE: &str = "fact,person,effective_on,organisation,role,reason\n\
    joined,P1,2015-01-05,Harbourside,social_worker,\n\
    joined,P2,2016-03-01,Harbourside,social_worker,\n\
    left,P1,2017-06-30,,,resignation\n\
    joined,P3,2014-09-01,Harbourside,team_manager,\n\
    left,P2,2018-02-28,,,retirement,extra\n\
    joined,P4,2015-05-05,Harbourside,social_worker,\n\
    changed_role,P3,2016-01-01,,senior_practitioner,\n\
    joined,P5,2019-01-01,Harbourside,,\n\
    left,P3,2015-01-01,,,resignation\n";

fn file_on_disk(text: &str) -> (PartsDir, PathBuf) {
    let dir = PartsDir::create().unwrap();
    let path = dir.0.join("facts.csv");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn the_digest_is_the_sha256_of_the_bytes() {
    let read = read_file(FactsFile::Bytes(b"abc".to_vec()), FileFormat::Facts).unwrap();
    assert_eq!(
        read.sha256,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn a_split_file_gives_every_person_whole_in_one_part_with_the_lines_of_the_file() {
    let (whole_facts, mut whole_errors, whole_rows) = read_rows(FILE.as_bytes(), Lines::FromPosition);
    let (_dir, path) = file_on_disk(FILE);
    let read = split("sha".to_string(), &path, 3).unwrap();
    assert_eq!(read.parts.len(), 4);
    assert_eq!(read.rows, 9);
    assert_eq!(whole_rows, 9);
    let mut facts = FactsByPerson::new();
    let mut errors = read.errors.clone();
    for n in 0..4 {
        let part = read.parts.read(n).unwrap();
        for (person, theirs) in part.by_person {
            let PersonRows::Facts(theirs) = theirs else {
                panic!("not facts")
            };
            assert!(facts.insert(person, theirs).is_none(), "a person in two parts");
        }
        errors.extend(part.errors);
    }
    assert_eq!(facts, whole_facts);
    // P1's leaving is on line 4 of the file, P3's backdated leaving sorts first.
    assert_eq!(facts["P1"][1].line, 4);
    assert_eq!(facts["P3"].iter().map(|f| f.line).collect::<Vec<_>>(), vec![5, 10, 8]);
    errors.sort_by_key(|e| e.line);
    whole_errors.sort_by_key(|e| e.line);
    assert_eq!(errors, whole_errors);
    // The row with a field too many, and P5's joining without a role.
    assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), vec![6, 9]);
}

#[test]
fn rows_about_no_person_are_the_first_part_of_a_split_file() {
    let (_dir, path) = file_on_disk(
        "fact,person,effective_on,programme,cohort\n\
         enrolled,P1,2016-09-05,Step Up,2016\n\
         cohort_opened,,2016-09-01,Step Up,2016\n\
         enrolled,P2,2016-09-05,Step Up,2016\n",
    );
    let read = split("sha".to_string(), &path, 2).unwrap();
    let first = read.parts.read(0).unwrap();
    assert_eq!(first.by_person.keys().map(|p| &**p).collect::<Vec<_>>(), [""]);
    let people: Vec<String> = (1..3)
        .flat_map(|n| read.parts.read(n).unwrap().by_person.into_keys())
        .map(|p| p.to_string())
        .collect();
    assert_eq!(people.len(), 2);
    assert!(people.contains(&"P1".to_string()) && people.contains(&"P2".to_string()));
}

#[test]
fn a_split_file_with_a_bad_header_has_no_parts() {
    let (_dir, path) = file_on_disk("fact,person,effective_on,salary\njoined,P1,2015-01-05,1\n");
    let read = split("sha".to_string(), &path, 2).unwrap();
    assert_eq!(read.parts.len(), 0);
    assert_eq!(read.errors[0].error, "unknown_column");
}

#[test]
fn the_parts_are_removed_with_the_read_file() {
    let (dir, path) = file_on_disk(FILE);
    let read = split("sha".to_string(), &path, 2).unwrap();
    let Parts::Split { dir: ref parts, .. } = read.parts else {
        panic!("not split")
    };
    let parts_dir = parts.0.clone();
    assert!(parts_dir.join("part-1.csv").exists());
    drop(read);
    assert!(!parts_dir.exists());
    drop(dir);
}
