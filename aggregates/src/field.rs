//! Names of command fields, so a refusal can say which input it is about.
//!
//! The HTTP layer renders a refusal as `{error, message, field}`; an enum
//! (rather than free strings) keeps those names stable and spelled once.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A command field a rule can be about, named as in the API (snake_case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    ParticipantId,
    ExternalRef,
    Organisation,
    Team,
    Role,
    PostId,
    Basis,
    Fte,
    Kind,
    JoinedOn,
    EffectiveOn,
    Reason,
    Destination,
    Sequence,
    Programme,
    Name,
    StartsOn,
    EndsOn,
    EnrolledOn,
    CompletedOn,
    WithdrawnOn,
    Title,
    EstablishedOn,
    Reference,
}

impl Field {
    /// The field's name as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::ParticipantId => "participant_id",
            Field::ExternalRef => "external_ref",
            Field::Organisation => "organisation",
            Field::Team => "team",
            Field::Role => "role",
            Field::PostId => "post_id",
            Field::Basis => "basis",
            Field::Fte => "fte",
            Field::Kind => "kind",
            Field::JoinedOn => "joined_on",
            Field::EffectiveOn => "effective_on",
            Field::Reason => "reason",
            Field::Destination => "destination",
            Field::Sequence => "sequence",
            Field::Programme => "programme",
            Field::Name => "name",
            Field::StartsOn => "starts_on",
            Field::EndsOn => "ends_on",
            Field::EnrolledOn => "enrolled_on",
            Field::CompletedOn => "completed_on",
            Field::WithdrawnOn => "withdrawn_on",
            Field::Title => "title",
            Field::EstablishedOn => "established_on",
            Field::Reference => "reference",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `Err(EmptyField)`-style check shared by the aggregates: blank text
/// (empty or only whitespace) is refused, because a blank organisation or
/// reason would silently group unrelated records together in reports.
pub(crate) fn require_text(field: Field, value: &str) -> Result<(), Field> {
    if value.trim().is_empty() {
        Err(field)
    } else {
        Ok(())
    }
}

/// Like [`require_text`] for optional text: absent is fine, blank is not.
pub(crate) fn optional_text(field: Field, value: Option<&str>) -> Result<(), Field> {
    value.map_or(Ok(()), |v| require_text(field, v))
}
