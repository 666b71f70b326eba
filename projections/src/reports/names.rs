//! The names a report can be asked about, and the nearest known ones to a
//! name nobody has (docs/metrics.md "Naming what a report counts").
//!
//! A name matches exactly, case and spaces included: names are what the
//! events recorded, and "Riverside council" counting nothing would be a
//! silent zero. The suggestions put case-insensitive matches first, so the
//! right spelling of a miscased name leads.

use std::collections::BTreeSet;
use std::fmt;

use super::model::Dataset;
use super::ReportError;

/// How many nearest names a refusal suggests.
const SUGGESTIONS: usize = 3;

/// What a name names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// An employer.
    Organisation,
    /// A role code (also a promotion target).
    Role,
    /// A team.
    Team,
    /// A development programme.
    Programme,
    /// A cohort, by id or name.
    Cohort,
}

impl NameKind {
    /// The stable code of a refusal naming one nobody has.
    pub fn unknown_code(self) -> &'static str {
        match self {
            NameKind::Organisation => "unknown_organisation",
            NameKind::Role => "unknown_role",
            NameKind::Team => "unknown_team",
            NameKind::Programme => "unknown_programme",
            NameKind::Cohort => "unknown_cohort",
        }
    }
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::Organisation => "organisation",
            NameKind::Role => "role",
            NameKind::Team => "team",
            NameKind::Programme => "programme",
            NameKind::Cohort => "cohort with id or name",
        })
    }
}

/// Every organisation, role, team and programme a report can name: those
/// the data holds, plus the ladders' (added by the caller, who reads them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownNames {
    /// Employers of any spell, move, leaving or post, and those with a ladder.
    pub organisations: BTreeSet<String>,
    /// Role codes held, left, moved to or of a post, and on any ladder.
    pub roles: BTreeSet<String>,
    /// Teams of any spell.
    pub teams: BTreeSet<String>,
    /// Programmes of any cohort.
    pub programmes: BTreeSet<String>,
}

impl KnownNames {
    /// The names `dataset` holds.
    pub fn of(dataset: &Dataset) -> Self {
        let mut names = KnownNames::default();
        for person in &dataset.people {
            for spell in &person.spells {
                names.organisations.insert(spell.organisation.clone());
                names.roles.insert(spell.role_code.clone());
                names.teams.extend(spell.team.clone());
            }
            for m in &person.moves {
                names.organisations.insert(m.from_organisation.clone());
                names.organisations.insert(m.to_organisation.clone());
                names.roles.insert(m.from_role.clone());
                names.roles.insert(m.to_role.clone());
            }
            for leaving in &person.leavings {
                names.organisations.insert(leaving.organisation.clone());
                names.roles.insert(leaving.role_code.clone());
            }
        }
        for post in &dataset.posts {
            names.organisations.insert(post.organisation.clone());
            names.roles.insert(post.role_code.clone());
        }
        names
            .programmes
            .extend(dataset.cohorts.iter().map(|c| c.programme.clone()));
        names
    }

    /// The names `levels` hold: every organisation with a ladder of its own,
    /// and every role on a ladder, the default one included.
    pub fn of_ladders(levels: &aggregates::Levels) -> Self {
        let mut names = KnownNames::default();
        let roles = |ladder: &aggregates::Ladder| ladder.roles().iter().map(|r| r.code.clone()).collect::<Vec<_>>();
        names.roles.extend(roles(levels.default_ladder()));
        for (organisation, ladder) in levels.own_ladders() {
            names.organisations.insert(organisation.to_string());
            names.roles.extend(roles(ladder));
        }
        names
    }

    /// The known names of `kind` (none for cohorts, which are named by id or name).
    fn of_kind(&self, kind: NameKind) -> Option<&BTreeSet<String>> {
        match kind {
            NameKind::Organisation => Some(&self.organisations),
            NameKind::Role => Some(&self.roles),
            NameKind::Team => Some(&self.teams),
            NameKind::Programme => Some(&self.programmes),
            NameKind::Cohort => None,
        }
    }

    /// Whether `name` is a known name of `kind`.
    pub fn knows(&self, kind: NameKind, name: &str) -> bool {
        self.of_kind(kind).is_none_or(|known| known.contains(name))
    }

    /// Adds `name` as a known name of `kind`.
    pub fn insert(&mut self, kind: NameKind, name: String) {
        let known = match kind {
            NameKind::Organisation => &mut self.organisations,
            NameKind::Role => &mut self.roles,
            NameKind::Team => &mut self.teams,
            NameKind::Programme => &mut self.programmes,
            NameKind::Cohort => return,
        };
        known.insert(name);
    }

    /// Adds every name `other` knows.
    pub fn extend(&mut self, other: KnownNames) {
        self.organisations.extend(other.organisations);
        self.roles.extend(other.roles);
        self.teams.extend(other.teams);
        self.programmes.extend(other.programmes);
    }

    /// Refuses `wanted` (given as `field`) unless it is a known name of `kind`.
    /// Cohorts are looked up by [`super::selection::named_cohorts`].
    pub fn check(&self, kind: NameKind, field: &'static str, wanted: &str) -> Result<(), ReportError> {
        let Some(known) = self.of_kind(kind) else {
            return Ok(());
        };
        if known.contains(wanted) {
            return Ok(());
        }
        Err(ReportError::UnknownName {
            kind,
            field,
            wanted: wanted.to_string(),
            nearest: nearest(wanted, known.iter().map(String::as_str)),
        })
    }
}

/// Up to three of `known` nearest to `wanted`: equal but for case first,
/// then by Jaro–Winkler similarity of the lower-cased names (which favours
/// a shared beginning, as in `team_mgr` → `team_manager`), then by name.
pub fn nearest<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let wanted_lower = wanted.to_lowercase();
    let mut ranked: Vec<(bool, f64, &str)> = known
        .into_iter()
        .map(|name| {
            let lower = name.to_lowercase();
            (lower != wanted_lower, strsim::jaro_winkler(&wanted_lower, &lower), name)
        })
        .collect();
    ranked.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)).then(a.2.cmp(b.2)));
    ranked.dedup_by_key(|r| r.2);
    ranked
        .into_iter()
        .take(SUGGESTIONS)
        .map(|(_, _, name)| name.to_string())
        .collect()
}

/// The suggestion that ends a refusal's message: `; known: a, b, c`.
pub(super) fn known_suffix(nearest: &[String]) -> String {
    if nearest.is_empty() {
        "; known: none yet".to_string()
    } else {
        format!("; known: {}", nearest.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_insensitive_match_comes_first_then_the_most_similar_at_most_three() {
        let known = [
            "dcs",
            "team_manager",
            "social_worker",
            "practice_leader",
            "Team_Manager",
        ];
        // Both spellings of team_manager equal it but for case: they lead,
        // and one more fills the three.
        let near = nearest("TEAM_MANAGER", known);
        assert_eq!(&near[..2], ["Team_Manager", "team_manager"]);
        assert_eq!(near.len(), 3);
        assert_eq!(nearest("DCS", known)[0], "dcs");
        assert_eq!(nearest("x", []), Vec::<String>::new());
    }

    #[test]
    fn only_a_name_of_the_kind_asked_is_known() {
        let mut names = KnownNames::default();
        names.organisations.insert("Riverside Council".into());
        assert_eq!(
            names.check(NameKind::Organisation, "organisation", "Riverside Council"),
            Ok(())
        );
        let e = names.check(NameKind::Team, "team", "Riverside Council").unwrap_err();
        assert_eq!((e.code(), e.field()), ("unknown_team", "team"));
        assert_eq!(e.to_string(), r#"no team "Riverside Council"; known: none yet"#);
    }
}
