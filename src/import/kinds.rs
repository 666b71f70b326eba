//! The facts a facts file can record, and the columns each one uses.
//!
//! Person facts (the person's own career, their cohorts, the posts they
//! take up or leave) are decided with the person's other facts; the
//! others name no person: a cohort opened, a post established or
//! disestablished (see `entities.rs` for when each is decided).

/// What a row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FactKind {
    /// Joined an organisation (the person's first fact).
    Joined,
    /// Changed role, team, basis or FTE (a promotion, a demotion, a
    /// sideways move, or a move to another organisation without a break).
    ChangedRole,
    /// Left their organisation.
    Left,
    /// Joined again after leaving (a rehire).
    Rejoined,
    /// Excluded from analysis from this day (e.g. long-term secondment).
    Excluded,
    /// The exclusion ends on this day.
    ExclusionLifted,
    /// A cohort of a programme opened (its start date).
    CohortOpened,
    /// The person enrolled in a cohort.
    Enrolled,
    /// The person completed the cohort's programme.
    Completed,
    /// The person withdrew from the cohort's programme.
    Withdrawn,
    /// A post established in an organisation's structure.
    PostEstablished,
    /// The person took up a post (their role becomes the post's).
    PostFilled,
    /// The person left a post, keeping their role.
    PostVacated,
    /// A post ceased to exist.
    PostDisestablished,
    /// An earlier fact, named by repeating its row, was recorded in error.
    Retraction,
}

impl FactKind {
    /// Its name in the `fact` column (and the `retracts` column).
    pub fn name(self) -> &'static str {
        match self {
            FactKind::Joined => "joined",
            FactKind::ChangedRole => "changed_role",
            FactKind::Left => "left",
            FactKind::Rejoined => "rejoined",
            FactKind::Excluded => "excluded",
            FactKind::ExclusionLifted => "exclusion_lifted",
            FactKind::CohortOpened => "cohort_opened",
            FactKind::Enrolled => "enrolled",
            FactKind::Completed => "completed",
            FactKind::Withdrawn => "withdrawn",
            FactKind::PostEstablished => "post_established",
            FactKind::PostFilled => "post_filled",
            FactKind::PostVacated => "post_vacated",
            FactKind::PostDisestablished => "post_disestablished",
            FactKind::Retraction => "retraction",
        }
    }

    pub(super) const ALL: [FactKind; 15] = [
        FactKind::Joined,
        FactKind::ChangedRole,
        FactKind::Left,
        FactKind::Rejoined,
        FactKind::Excluded,
        FactKind::ExclusionLifted,
        FactKind::CohortOpened,
        FactKind::Enrolled,
        FactKind::Completed,
        FactKind::Withdrawn,
        FactKind::PostEstablished,
        FactKind::PostFilled,
        FactKind::PostVacated,
        FactKind::PostDisestablished,
        FactKind::Retraction,
    ];

    /// Whether a row of this fact names a person (in `person`): every fact
    /// but a cohort's opening and a post's establishment and disestablishment.
    pub fn names_a_person(self) -> bool {
        !matches!(
            self,
            FactKind::CohortOpened | FactKind::PostEstablished | FactKind::PostDisestablished
        )
    }

    /// The columns a row of this fact must fill, besides `fact`,
    /// `effective_on` and (when [`Self::names_a_person`]) `person`.
    pub(super) fn required(self) -> &'static [&'static str] {
        match self {
            FactKind::Joined | FactKind::Rejoined => &["organisation", "role"],
            FactKind::ChangedRole => &["role"],
            FactKind::Left | FactKind::Excluded | FactKind::ExclusionLifted => &["reason"],
            FactKind::CohortOpened | FactKind::Enrolled | FactKind::Completed => &["programme", "cohort"],
            FactKind::Withdrawn => &["programme", "cohort", "reason"],
            FactKind::PostEstablished => &["organisation", "post", "title", "role"],
            FactKind::PostFilled | FactKind::PostVacated | FactKind::PostDisestablished => &["organisation", "post"],
            FactKind::Retraction => &["retracts", "retraction_reason"],
        }
    }

    /// The columns a row of this fact may fill besides the required ones.
    pub(super) fn optional(self) -> &'static [&'static str] {
        match self {
            FactKind::Joined => &["team", "basis", "fte", "post"],
            FactKind::ChangedRole => &["organisation", "team", "basis", "fte", "kind", "post"],
            FactKind::Rejoined => &["team", "basis", "fte", "kind", "post"],
            FactKind::Left => &["destination"],
            FactKind::CohortOpened => &["ends_on"],
            FactKind::PostFilled => &["basis", "fte"],
            FactKind::Excluded
            | FactKind::ExclusionLifted
            | FactKind::Enrolled
            | FactKind::Completed
            | FactKind::Withdrawn
            | FactKind::PostEstablished
            | FactKind::PostVacated
            | FactKind::PostDisestablished
            | FactKind::Retraction => &[],
        }
    }
}
