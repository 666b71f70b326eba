//! The `Post` aggregate: an established position in an organisation's
//! structure and who occupied it when.
//!
//! As with participants, facts may be recorded late: every command is
//! checked by building the [`PostHistory`] that would result (live events
//! in effective order), and a retraction is accepted exactly when the
//! history without the retracted event is valid. Whether the occupant's own
//! record agrees (role, organisation) is decided in [`crate::decisions`].

mod commands;
mod error;
mod events;
mod history;

#[cfg(test)]
mod tests;

pub use commands::PostCommand;
pub use error::PostError;
pub use events::PostEvent;
pub use history::{Occupancy, PostHistory};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::context::CommandContext;
use crate::field::{require_text, Field};
use crate::ladder::{Basis, RoleRef};
use crate::retraction::retracted_set;
use crate::stream::{impl_aggregate, EventStream, Lazy};

/// A role reference for posts not yet established (never shown to users:
/// a decision checks a post exists before reading its role).
static NO_ROLE: RoleRef = RoleRef {
    code: String::new(),
    level: None,
};

/// One post's event stream and the history it yields.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Post {
    /// Every event applied, with its sequence (1-based, stream order).
    events: Vec<(u64, PostEvent)>,
    /// The history as it stands; `None` before establishment.
    #[serde(skip)]
    history: Lazy<PostHistory, PostEvent>,
}

/// A post's current state for `GET /posts/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostView {
    pub post_id: Uuid,
    pub organisation: String,
    pub title: String,
    pub role: RoleRef,
    pub established_on: NaiveDate,
    /// The authority's reference for the post, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub disestablished_on: Option<NaiveDate>,
    /// Occupancies still open at the end of the recorded history.
    pub occupants: Vec<Occupancy>,
    /// Every occupancy, in effective order.
    pub occupancies: Vec<Occupancy>,
    /// The stream's version (for `If-Match`).
    pub version: u64,
}

impl Post {
    /// Whether the post has been established.
    pub fn established(&self) -> bool {
        self.derived_history().is_some()
    }

    /// The number of events applied (the sequence of the latest).
    pub fn version(&self) -> u64 {
        self.events.len() as u64
    }

    /// The current history; `None` before establishment.
    pub fn history(&self) -> Option<&PostHistory> {
        self.derived_history()
    }

    /// The organisation the post belongs to (empty before establishment).
    pub fn organisation(&self) -> &str {
        self.derived_history().map_or("", |h| &h.organisation)
    }

    /// The post's title (empty before establishment).
    pub fn title(&self) -> &str {
        self.derived_history().map_or("", |h| &h.title)
    }

    /// The role an occupant holds (an empty code before establishment).
    pub fn role(&self) -> &RoleRef {
        self.derived_history().map_or(&NO_ROLE, |h| &h.role)
    }

    /// The authority's reference for the post, when it has one.
    pub fn reference(&self) -> Option<&str> {
        self.derived_history().and_then(|h| h.reference.as_deref())
    }

    /// When the post was established.
    pub fn established_on(&self) -> Option<NaiveDate> {
        self.derived_history().map(|h| h.established_on)
    }

    /// When the post was disestablished, if it was.
    pub fn disestablished_on(&self) -> Option<NaiveDate> {
        self.derived_history().and_then(|h| h.disestablished_on)
    }

    /// Every occupancy, in effective order.
    pub fn occupancies(&self) -> &[Occupancy] {
        self.derived_history().map_or(&[], |h| &h.occupancies)
    }

    /// Who holds the post at the end of `day`, and on what basis.
    pub fn occupants_on(&self, day: NaiveDate) -> Vec<(Uuid, Basis)> {
        self.derived_history().map_or_else(Vec::new, |h| h.occupants_on(day))
    }

    /// Every event applied, as `(sequence, event)` in stream order.
    pub fn events(&self) -> &[(u64, PostEvent)] {
        &self.events
    }

    /// Whether the event with `sequence` has been retracted.
    pub fn is_retracted(&self, sequence: u64) -> bool {
        retracted_set(&self.events).contains(&sequence)
    }

    /// The state view; `None` before establishment.
    pub fn view(&self) -> Option<PostView> {
        let h = self.derived_history()?;
        Some(PostView {
            post_id: h.post_id,
            organisation: h.organisation.clone(),
            title: h.title.clone(),
            role: h.role.clone(),
            established_on: h.established_on,
            reference: h.reference.clone(),
            disestablished_on: h.disestablished_on,
            occupants: h.current_occupants().into_iter().cloned().collect(),
            occupancies: h.occupancies.clone(),
            version: self.version(),
        })
    }

    /// Decides `command`: the event to record, or the rule that refuses it.
    pub fn decide(&self, command: PostCommand, ctx: &CommandContext) -> Result<PostEvent, PostError> {
        let established = || self.derived_history().ok_or(PostError::NotEstablished);
        let event = match command {
            PostCommand::Establish {
                post_id,
                organisation,
                title,
                role,
                established_on,
                reference,
            } => {
                if !self.events.is_empty() {
                    return Err(PostError::AlreadyEstablished);
                }
                require_text(Field::Organisation, &organisation)?;
                require_text(Field::Title, &title)?;
                require_text(Field::Role, &role.code)?;
                if let Some(reference) = &reference {
                    require_text(Field::Reference, reference)?;
                }
                ctx.check_date(Field::EstablishedOn, established_on)?;
                PostEvent::Established {
                    post_id,
                    organisation,
                    title,
                    role,
                    established_on,
                    reference,
                }
            }
            PostCommand::Fill {
                participant_id,
                basis,
                effective_on,
                ..
            } => {
                established()?;
                ctx.check_date(Field::EffectiveOn, effective_on)?;
                PostEvent::Filled {
                    participant_id,
                    basis,
                    effective_on,
                }
            }
            PostCommand::Vacate {
                participant_id,
                effective_on,
            } => {
                established()?;
                ctx.check_date(Field::EffectiveOn, effective_on)?;
                PostEvent::Vacated {
                    participant_id,
                    effective_on,
                }
            }
            PostCommand::Disestablish { effective_on } => {
                established()?;
                ctx.check_date(Field::EffectiveOn, effective_on)?;
                PostEvent::Disestablished { effective_on }
            }
            PostCommand::Retract { sequence, reason } => {
                established()?;
                require_text(Field::Reason, &reason)?;
                return self.retract(sequence, reason);
            }
        };
        self.checked(event)
    }
}

/// Refuses a post `reference` in `organisation` that `owner` (the post
/// already established under it, if any) holds: a reference names one post
/// of an organisation, as an external reference names one person. The
/// caller looks the owner up; the rule is here so that every way of
/// establishing a post refuses alike.
pub fn check_reference_free(organisation: &str, reference: &str, owner: Option<Uuid>) -> Result<(), PostError> {
    match owner {
        Some(owner) => Err(PostError::ReferenceTaken {
            organisation: organisation.to_string(),
            reference: reference.to_string(),
            owner,
        }),
        None => Ok(()),
    }
}

impl EventStream for Post {
    type Event = PostEvent;
    type History = PostHistory;
    type Error = PostError;

    fn recorded(&self) -> &[(u64, PostEvent)] {
        &self.events
    }

    fn derive(&self, events: &[(u64, PostEvent)]) -> Result<PostHistory, PostError> {
        PostHistory::build(events)
    }

    fn retraction(sequence: u64, reason: String) -> PostEvent {
        PostEvent::EventRetracted {
            retracted_sequence: sequence,
            reason,
        }
    }

    fn retraction_would_break(sequence: u64, because: String) -> PostError {
        PostError::RetractionWouldBreakHistory { sequence, because }
    }

    fn keep_ahead(&self, recorded: usize, event: &PostEvent, history: PostHistory) {
        self.history.keep_ahead(recorded, event.clone(), history);
    }
}

impl_aggregate!(Post, "post", PostCommand, PostEvent, PostError, history);
