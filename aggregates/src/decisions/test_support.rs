//! Given/when/then for decisions: given the participant's and posts'
//! histories, when a command is decided, then these events (per stream) or
//! this refusal.

use chrono::NaiveDate;
use cqrs_es::Aggregate;
use uuid::Uuid;

use super::{decide_for_participant, posts_read, reads_enrolments, DecisionError, Enrolment, Outcome, Posts};
use crate::context::CommandContext;
use crate::ladder::{Basis, RoleRef};
use crate::participant::{Participant, ParticipantCommand, ParticipantEvent};
use crate::post::PostEvent;

pub(super) fn day(s: &str) -> NaiveDate {
    s.parse().expect("test dates are ISO")
}

pub(super) fn ctx() -> CommandContext {
    CommandContext {
        today: day("2024-06-01"),
        future_margin_days: 30,
    }
}

/// The participant the tests are about.
pub(super) fn ann() -> Uuid {
    Uuid::from_u128(7)
}

/// A team manager post in Northshire.
pub(super) fn north() -> Uuid {
    Uuid::from_u128(100)
}

/// Another team manager post in Northshire.
pub(super) fn south() -> Uuid {
    Uuid::from_u128(101)
}

pub(super) fn sw() -> RoleRef {
    RoleRef {
        code: "social_worker".into(),
        level: Some(2),
    }
}

pub(super) fn tm() -> RoleRef {
    RoleRef {
        code: "team_manager".into(),
        level: Some(5),
    }
}

/// Folds `events` into an aggregate, as the store does when loading.
pub(super) fn stream<A: Aggregate>(events: Vec<A::Event>) -> A {
    let mut aggregate = A::default();
    for event in events {
        aggregate.apply(event);
    }
    aggregate
}

/// Ann registered in Northshire's East team as a social worker on `on`,
/// in `post` when given.
pub(super) fn registered(on: &str, post: Option<Uuid>) -> ParticipantEvent {
    ParticipantEvent::Registered {
        participant_id: ann(),
        external_ref: "P-1".into(),
        organisation: "Northshire".into(),
        team: Some("East".into()),
        role: if post.is_some() { tm() } else { sw() },
        post_id: post,
        basis: Basis::Permanent,
        fte: 0.8,
        joined_on: day(on),
    }
}

/// Ann is a team manager in Northshire from `on`, in `post` when given.
pub(super) fn tm_from(on: &str, post: Option<Uuid>) -> ParticipantEvent {
    ParticipantEvent::RoleChanged {
        effective_on: day(on),
        role: tm(),
        organisation: "Northshire".into(),
        team: Some("East".into()),
        post_id: post,
        basis: Basis::Permanent,
        fte: None,
        kind_given: None,
    }
}

pub(super) fn left(on: &str) -> ParticipantEvent {
    ParticipantEvent::LeavingRecorded {
        effective_on: day(on),
        reason: "resigned".into(),
        destination: None,
    }
}

/// The command making Ann a team manager on `on`, in `post` (or none).
pub(super) fn change_to_tm(on: &str, post: Option<Uuid>) -> ParticipantCommand {
    ParticipantCommand::ChangeRole {
        effective_on: day(on),
        role: tm(),
        organisation: "Northshire".into(),
        team: Some("East".into()),
        post_id: post,
        basis: Basis::Permanent,
        fte: None,
        kind: None,
    }
}

/// A team manager post of `organisation`, established in 2015.
pub(super) fn established(post: Uuid, organisation: &str) -> PostEvent {
    PostEvent::Established {
        post_id: post,
        organisation: organisation.into(),
        title: "Team manager".into(),
        role: tm(),
        established_on: day("2015-01-01"),
        reference: None,
    }
}

pub(super) fn filled(on: &str) -> PostEvent {
    PostEvent::Filled {
        participant_id: ann(),
        basis: Basis::Permanent,
        effective_on: day(on),
    }
}

pub(super) fn vacated(on: &str) -> PostEvent {
    PostEvent::Vacated {
        participant_id: ann(),
        effective_on: day(on),
    }
}

/// The histories a participant decision is given.
pub(super) struct Given {
    participant: Participant,
    posts: Posts,
    enrolments: Vec<Enrolment>,
}

/// Given the participant's events (none: not registered yet).
pub(super) fn given(events: Vec<ParticipantEvent>) -> Given {
    Given {
        participant: stream(events),
        posts: Posts::new(),
        enrolments: Vec::new(),
    }
}

impl Given {
    /// And the post `id` with `events`.
    pub(super) fn post(mut self, id: Uuid, events: Vec<PostEvent>) -> Self {
        self.posts.insert(id, stream(events));
        self
    }

    /// And enrolled in cohort `cohort` on `on`.
    pub(super) fn enrolled(mut self, cohort: Uuid, on: &str) -> Self {
        self.enrolments.push(Enrolment {
            cohort_id: cohort,
            enrolled_on: day(on),
        });
        self
    }

    /// When `command` is decided, reading only the posts it says it reads
    /// (so a decision that needs an unread post fails the test).
    pub(super) fn when(self, command: ParticipantCommand) -> Result<Outcome, DecisionError> {
        let posts: Posts = posts_read(&self.participant, &command)
            .into_iter()
            .filter_map(|id| self.posts.get(&id).map(|post| (id, post.clone())))
            .collect();
        // As the caller does: enrolments are read only for the commands
        // that say they need them.
        let enrolments: &[Enrolment] = if reads_enrolments(&command) {
            &self.enrolments
        } else {
            &[]
        };
        decide_for_participant(&self.participant, command, &posts, enrolments, &ctx())
    }
}

/// Then the participant records `event` and the posts `posts`.
pub(super) fn then(event: ParticipantEvent, posts: Vec<(Uuid, PostEvent)>) -> Result<Outcome, DecisionError> {
    Ok(Outcome {
        participant: vec![event],
        posts: posts.into_iter().map(|(id, e)| (id, vec![e])).collect(),
        cohort: Vec::new(),
    })
}

/// Then the decision is refused with `code` about `field`.
pub(super) fn refused(outcome: Result<Outcome, DecisionError>, code: &str, field: Option<&str>) {
    match outcome {
        Err(e) => {
            assert_eq!(e.code(), code, "refused by another rule: {e}");
            assert_eq!(e.field(), field, "refusal about another field: {e}");
        }
        Ok(outcome) => panic!("expected a refusal {code}, got {outcome:?}"),
    }
}
