//! Career ladders: roles, their levels, and how a move between two roles is
//! classified (docs/metrics.md "Career ladder").
//!
//! A ladder is reference data that an organisation may edit. Events carry a
//! [`RoleRef`], the role code *and* the level it had when the event was
//! recorded, so history is never rewritten and an auditor can see what was
//! said. Derivations, though, judge with [`Levels`]: the ladder as known at
//! the moment a report answers for applies to the whole of history
//! (docs/metrics.md decision 14), so a move recorded after an edit and one
//! recorded before it are judged alike. The recorded level is the fallback
//! for a code the organisation's ladder does not know.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

/// On what terms a role or post is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Permanent,
    Interim,
    Acting,
    Agency,
}

/// What kind of career move a role change is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MoveKind {
    Promotion,
    Demotion,
    Sideways,
}

/// A role as events carry it: its code and its ladder level when recorded
/// (`None` = off the ladder, e.g. an inspectorate post).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoleRef {
    pub code: String,
    pub level: Option<u8>,
}

/// A role on a ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// Stable identifier, e.g. `team_manager`.
    pub code: String,
    /// Human-readable name.
    pub name: String,
    /// Seniority (higher is more senior); `None` for off-ladder roles.
    pub level: Option<u8>,
}

/// Why a list of roles is not a valid ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum LadderError {
    /// A ladder needs at least one role.
    #[error("a ladder needs at least one role")]
    Empty,
    /// Every role needs a non-blank code.
    #[error("role number {position} has an empty code")]
    EmptyCode { position: usize },
    /// Role codes identify roles, so they must be unique.
    #[error("role code {code:?} appears more than once")]
    DuplicateCode { code: String },
}

/// A validated list of roles: non-empty, codes non-blank and unique.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "LadderData", into = "LadderData")]
pub struct Ladder {
    roles: Vec<Role>,
}

/// The serialized form of a [`Ladder`]; deserializing goes through
/// [`Ladder::new`] so an invalid ladder cannot be read in.
#[derive(Serialize, Deserialize)]
struct LadderData {
    roles: Vec<Role>,
}

impl TryFrom<LadderData> for Ladder {
    type Error = LadderError;
    fn try_from(data: LadderData) -> Result<Self, Self::Error> {
        Ladder::new(data.roles)
    }
}

impl From<Ladder> for LadderData {
    fn from(ladder: Ladder) -> Self {
        LadderData { roles: ladder.roles }
    }
}

impl Ladder {
    /// Checks `roles` and makes a ladder of them (order is kept).
    pub fn new(roles: Vec<Role>) -> Result<Ladder, LadderError> {
        if roles.is_empty() {
            return Err(LadderError::Empty);
        }
        let mut seen = HashSet::new();
        for (i, role) in roles.iter().enumerate() {
            if role.code.trim().is_empty() {
                return Err(LadderError::EmptyCode { position: i + 1 });
            }
            if !seen.insert(role.code.as_str()) {
                return Err(LadderError::DuplicateCode {
                    code: role.code.clone(),
                });
            }
        }
        Ok(Ladder { roles })
    }

    /// The default children's-services ladder of docs/metrics.md, plus the
    /// off-ladder `inspector` role.
    pub fn children_services_default() -> Ladder {
        let role = |code: &str, level: Option<u8>, name: &str| Role {
            code: code.to_string(),
            name: name.to_string(),
            level,
        };
        Ladder {
            roles: vec![
                role("asye", Some(1), "newly qualified social worker (ASYE)"),
                role("social_worker", Some(2), "social worker"),
                role("senior_practitioner", Some(3), "senior or advanced practitioner"),
                role("practice_manager", Some(4), "practice supervisor / practice manager"),
                role("team_manager", Some(5), "team manager"),
                role("service_manager", Some(6), "service manager"),
                role("head_of_service", Some(7), "head of service"),
                role(
                    "practice_leader",
                    Some(8),
                    "practice leader (assistant director or equivalent)",
                ),
                role("dcs", Some(9), "director of children's services (DCS)"),
                role("inspector", None, "inspector (inspectorate post)"),
            ],
        }
    }

    /// The roles, in ladder order.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// The reference an event should carry for role `code`, if it is on this ladder.
    pub fn role(&self, code: &str) -> Option<RoleRef> {
        self.roles.iter().find(|r| r.code == code).map(|r| RoleRef {
            code: r.code.clone(),
            level: r.level,
        })
    }
}

/// The ladders a history is judged with: each organisation's own ladder, or
/// the default one for an organisation without one. Cheap to clone.
#[derive(Debug, Clone, PartialEq)]
pub struct Levels {
    /// Organisations with a ladder of their own.
    own: Arc<BTreeMap<String, Ladder>>,
    /// The ladder of every other organisation.
    default: Arc<Ladder>,
}

impl Default for Levels {
    /// Every organisation on the default ladder.
    fn default() -> Self {
        Levels::new(BTreeMap::new())
    }
}

impl Levels {
    /// `ladders` for the organisations that have one, the default ladder
    /// for every other.
    pub fn new(ladders: BTreeMap<String, Ladder>) -> Levels {
        // Every participant starts with default levels, so the default
        // ladder is made once and shared.
        static DEFAULT: OnceLock<Arc<Ladder>> = OnceLock::new();
        Levels {
            own: Arc::new(ladders),
            default: DEFAULT
                .get_or_init(|| Arc::new(Ladder::children_services_default()))
                .clone(),
        }
    }

    /// The organisations with a ladder of their own, with it.
    pub fn own_ladders(&self) -> impl Iterator<Item = (&str, &Ladder)> {
        self.own
            .iter()
            .map(|(organisation, ladder)| (organisation.as_str(), ladder))
    }

    /// The ladder of every organisation without one of its own.
    pub fn default_ladder(&self) -> &Ladder {
        &self.default
    }

    /// The ladder in force for `organisation`.
    pub fn ladder_of(&self, organisation: &str) -> &Ladder {
        self.own.get(organisation).unwrap_or(&self.default)
    }

    /// The level `organisation`'s ladder gives role `code`: `Some(None)`
    /// for a role it has off the ladder, `None` when it does not know the
    /// code at all.
    pub fn level_of(&self, organisation: &str, code: &str) -> Option<Option<u8>> {
        self.ladder_of(organisation)
            .roles()
            .iter()
            .find(|r| r.code == code)
            .map(|r| r.level)
    }

    /// `role`, held in `organisation`, with the level it is judged by: the
    /// ladder's when the ladder knows the code, else the recorded one.
    pub fn judge(&self, organisation: &str, role: &RoleRef) -> RoleRef {
        RoleRef {
            code: role.code.clone(),
            level: self.level_of(organisation, &role.code).unwrap_or(role.level),
        }
    }
}

/// The kind of a move from `from` to `to` judged by level alone: higher is a
/// promotion, lower a demotion, equal sideways. `None` when either role is
/// off the ladder (such moves must carry their kind explicitly).
///
/// Whether an equal-level change is a move at all (rather than a change of
/// terms) depends on post and organisation too; see
/// [`crate::participant::Timeline`].
pub fn derive_move_kind(from: &RoleRef, to: &RoleRef) -> Option<MoveKind> {
    let (from, to) = (from.level?, to.level?);
    Some(match to.cmp(&from) {
        std::cmp::Ordering::Greater => MoveKind::Promotion,
        std::cmp::Ordering::Less => MoveKind::Demotion,
        std::cmp::Ordering::Equal => MoveKind::Sideways,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(code: &str, level: Option<u8>) -> RoleRef {
        RoleRef {
            code: code.into(),
            level,
        }
    }

    #[test]
    fn the_default_ladder_has_nine_levels_and_an_off_ladder_inspector() {
        let ladder = Ladder::children_services_default();
        assert_eq!(ladder.roles().len(), 10);
        assert_eq!(ladder.role("asye"), Some(r("asye", Some(1))));
        assert_eq!(ladder.role("team_manager"), Some(r("team_manager", Some(5))));
        assert_eq!(ladder.role("dcs"), Some(r("dcs", Some(9))));
        assert_eq!(ladder.role("inspector"), Some(r("inspector", None)));
        assert_eq!(ladder.role("wizard"), None);
    }

    #[test]
    fn a_ladder_with_no_roles_blank_codes_or_duplicates_is_refused() {
        assert_eq!(Ladder::new(vec![]), Err(LadderError::Empty));
        let role = |code: &str| Role {
            code: code.into(),
            name: "x".into(),
            level: Some(1),
        };
        assert_eq!(
            Ladder::new(vec![role("a"), role(" ")]),
            Err(LadderError::EmptyCode { position: 2 })
        );
        assert_eq!(
            Ladder::new(vec![role("a"), role("a")]),
            Err(LadderError::DuplicateCode { code: "a".into() })
        );
        assert!(Ladder::new(vec![role("a"), role("b")]).is_ok());
    }

    #[test]
    fn an_invalid_ladder_cannot_be_deserialized() {
        let json = r#"{"roles":[]}"#;
        assert!(serde_json::from_str::<Ladder>(json).is_err());
        let ladder = Ladder::children_services_default();
        let round = serde_json::to_string(&ladder).unwrap();
        assert_eq!(serde_json::from_str::<Ladder>(&round).unwrap(), ladder);
    }

    #[test]
    fn levels_come_from_the_organisations_own_ladder_then_the_default_then_the_record() {
        let role = |code: &str, level: Option<u8>| Role {
            code: code.into(),
            name: code.into(),
            level,
        };
        let x = Ladder::new(vec![role("team_manager", Some(3)), role("adviser", None)]).unwrap();
        let levels = Levels::new(BTreeMap::from([("X".to_string(), x)]));
        assert_eq!(levels.level_of("X", "team_manager"), Some(Some(3)));
        assert_eq!(levels.level_of("X", "adviser"), Some(None));
        assert_eq!(levels.level_of("X", "dcs"), None);
        // Another organisation: the default ladder.
        assert_eq!(levels.level_of("Y", "team_manager"), Some(Some(5)));
        // Judged: the ladder wins over the record; an unknown code keeps it.
        assert_eq!(
            levels.judge("X", &r("team_manager", Some(5))),
            r("team_manager", Some(3))
        );
        assert_eq!(levels.judge("X", &r("adviser", Some(2))), r("adviser", None));
        assert_eq!(levels.judge("X", &r("wizard", Some(7))), r("wizard", Some(7)));
        assert_eq!(
            Levels::default().judge("X", &r("team_manager", Some(3))),
            r("team_manager", Some(5))
        );
    }

    #[test]
    fn move_kind_follows_levels_and_is_unknown_off_the_ladder() {
        let sw = r("social_worker", Some(2));
        let tm = r("team_manager", Some(5));
        let tm2 = r("team_manager", Some(5));
        let insp = r("inspector", None);
        assert_eq!(derive_move_kind(&sw, &tm), Some(MoveKind::Promotion));
        assert_eq!(derive_move_kind(&tm, &sw), Some(MoveKind::Demotion));
        assert_eq!(derive_move_kind(&tm, &tm2), Some(MoveKind::Sideways));
        assert_eq!(derive_move_kind(&tm, &insp), None);
        assert_eq!(derive_move_kind(&insp, &tm), None);
    }
}
