//! The codes of the census return's worker items (the DfE schema's lists)
//! and what tenure makes of them: `OrgRole` to ladder roles, `ReasonLeave`
//! and `LeaverDestination` to the words recorded, and the characteristics'
//! codes, checked and never kept.

/// A role of the return (`OrgRole`) and the ladder roles it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReturnRole {
    /// The return's code, `1` to `6`.
    pub code: &'static str,
    /// The return's name for it.
    pub name: &'static str,
    /// The role a worker is recorded in when the store has them in none of
    /// `covers` (a new worker, or one whose role changed).
    pub recorded_as: &'static str,
    /// The ladder roles this return role covers: a worker the store holds
    /// in one of them is in this role as far as the return can tell.
    pub covers: &'static [&'static str],
}

/// `OrgRole` to the default ladder (docs/design.md "Importing census
/// returns" gives the reasons).
pub const ROLES: [ReturnRole; 6] = [
    ReturnRole {
        code: "1",
        name: "senior manager",
        recorded_as: "head_of_service",
        covers: &["head_of_service", "practice_leader", "dcs"],
    },
    ReturnRole {
        code: "2",
        name: "middle manager",
        recorded_as: "service_manager",
        covers: &["service_manager"],
    },
    ReturnRole {
        code: "3",
        name: "first line manager",
        recorded_as: "team_manager",
        covers: &["team_manager", "practice_manager"],
    },
    ReturnRole {
        code: "4",
        name: "senior practitioner",
        recorded_as: "senior_practitioner",
        covers: &["senior_practitioner"],
    },
    ReturnRole {
        code: "5",
        name: "case holder",
        recorded_as: "social_worker",
        covers: &["social_worker", "asye"],
    },
    ReturnRole {
        code: "6",
        name: "qualified without cases",
        recorded_as: "social_worker",
        covers: &["social_worker", "asye"],
    },
];

/// `ReasonLeave`: the return's codes and the reason recorded.
pub const REASONS: [(&str, &str); 10] = [
    ("1", "resignation"),
    ("2", "voluntary redundancy"),
    ("3", "compulsory redundancy"),
    ("4", "dismissed"),
    ("5", "retired"),
    ("6", "deceased"),
    (
        "7",
        "moved to a role in the authority outside child and family social work",
    ),
    ("8", "other"),
    ("9", "not known"),
    ("10", "not yet collected"),
];

/// `LeaverDestination`: the return's codes and the destination recorded.
pub const DESTINATIONS: [(&str, &str); 9] = [
    ("1", "social worker role in a different local authority in England"),
    ("2", "social worker role outside England"),
    ("3", "agency or consultancy in social work in England"),
    ("4", "other social work role outside local authorities in England"),
    ("5", "other social care role in England"),
    (
        "6",
        "non-social care role, any role outside England, no employment or career break",
    ),
    ("7", "other"),
    ("8", "not known"),
    ("9", "not yet collected"),
];

/// `GenderCurrent`: 0 not known, 1 male, 2 female, 9 not specified.
pub(super) const GENDERS: [&str; 4] = ["0", "1", "2", "9"];

/// `Ethnicity`: the return's 18 codes.
pub(super) const ETHNICITIES: [&str; 18] = [
    "WBRI", "WIRI", "WOTH", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN", "ABAN", "AOTH", "BCRB", "BAFR", "BOTH",
    "CHNE", "OOTH", "REFU", "NOBT",
];

/// Yes/no items (`AgencyWorker`, `Disability`): 0 no, 1 yes.
pub(super) const YES_NO: [&str; 2] = ["0", "1"];
