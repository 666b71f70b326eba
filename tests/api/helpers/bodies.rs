//! Typed bodies of the command requests, each knowing the path it is POSTed
//! to, and the test app's shortcuts for the commands tests send most.
//!
//! A body leaves out every optional field it was not given, so the JSON is
//! what a client writing it by hand would send.

use serde::Serialize;
use serde_json::Value;

use super::{Reply, TestApp};

/// A command request: a JSON body and where it goes.
pub(crate) trait Command: Serialize {
    /// The path it is POSTed to.
    fn path(&self) -> String;
}

/// Declares a command body:
///
/// ```text
/// Name(target) => "/path/{}/..." { required, ...; setter => optional: Type, ... }
/// ```
///
/// makes `Name::new(target, required...)` (all text), one builder method per
/// optional field, and the path with the target's id (a participant, cohort
/// or post) in place of `{}`. A command addressed to no aggregate yet has no
/// target: `Name()`.
macro_rules! command {
    (
        $(#[$doc:meta])*
        $name:ident($($target:ident)?) => $path:literal {
            $($field:ident),* $(,)?
            $(; $($(#[$setter_doc:meta])* $setter:ident => $optional:ident: $type:ty),* $(,)?)?
        }
    ) => {
        $(#[$doc])*
        #[derive(Serialize)]
        pub(crate) struct $name {
            $(#[serde(skip)] $target: String,)?
            $($field: String,)*
            $($(#[serde(skip_serializing_if = "Option::is_none")] $optional: Option<$type>,)*)?
        }

        impl $name {
            pub(crate) fn new($($target: &str,)? $($field: &str),*) -> Self {
                $name {
                    $($target: $target.into(),)?
                    $($field: $field.into(),)*
                    $($($optional: None,)*)?
                }
            }

            $($(
                $(#[$setter_doc])*
                pub(crate) fn $setter(mut self, value: impl Into<$type>) -> Self {
                    self.$optional = Some(value.into());
                    self
                }
            )*)?
        }

        impl Command for $name {
            #[allow(clippy::useless_format)]
            fn path(&self) -> String {
                format!($path $(, self.$target)?)
            }
        }
    };
}

command! {
    /// Registers a participant.
    Registration() => "/api/v1/participants" {
        external_ref, organisation, role, joined_on;
        /// The id the client chooses (otherwise the server makes one).
        id => participant_id: String,
        team => team: String,
        fte => fte: f64,
    }
}

command! {
    /// A participant's move to another role, team, organisation or post; with
    /// no organisation the server takes the employer on `effective_on`.
    RoleChange(participant) => "/api/v1/participants/{}/role-changes" {
        effective_on, role;
        /// The organisation the role is at, named explicitly.
        at => organisation: String,
        team => team: String,
        /// Into a post (with a basis only when one is given).
        post => post_id: String,
        basis => basis: String,
        fte => fte: f64,
    }
}

command! {
    /// A participant leaves employment.
    Leaving(participant) => "/api/v1/participants/{}/leavings" {
        effective_on, reason;
        destination => destination: String,
    }
}

command! {
    /// A leaver comes back.
    Rejoining(participant) => "/api/v1/participants/{}/rejoinings" {
        effective_on, organisation, role;
        fte => fte: f64,
    }
}

command! {
    /// A participant is excluded from analysis.
    Exclusion(participant) => "/api/v1/participants/{}/exclusions" { effective_on, reason }
}

/// One of a participant's events is retracted (recorded in error).
#[derive(Serialize)]
pub(crate) struct Retraction {
    #[serde(skip)]
    participant: String,
    sequence: u64,
    reason: String,
}

impl Retraction {
    /// Retracts the event at `sequence` of the participant's stream.
    pub(crate) fn new(participant: &str, sequence: u64) -> Self {
        Retraction {
            participant: participant.into(),
            sequence,
            reason: "recorded against the wrong person".into(),
        }
    }
}

impl Command for Retraction {
    fn path(&self) -> String {
        format!("/api/v1/participants/{}/retractions", self.participant)
    }
}

command! {
    /// A programme cohort is opened.
    CohortOpening() => "/api/v1/cohorts" { programme, name, starts_on }
}

command! {
    /// A participant joins a cohort.
    Enrolment(cohort) => "/api/v1/cohorts/{}/enrolments" { participant_id, enrolled_on }
}

command! {
    /// A participant withdraws from a cohort.
    Withdrawal(cohort) => "/api/v1/cohorts/{}/withdrawals" { participant_id, withdrawn_on, reason }
}

command! {
    /// A post is established.
    Establishment() => "/api/v1/posts" { organisation, title, role, established_on }
}

command! {
    /// A participant fills a post.
    Filling(post) => "/api/v1/posts/{}/fillings" {
        participant_id, effective_on;
        basis => basis: String,
    }
}

command! {
    /// A post's holder leaves it.
    Vacation(post) => "/api/v1/posts/{}/vacations" { participant_id, effective_on }
}

command! {
    /// A post is abolished.
    Disestablishment(post) => "/api/v1/posts/{}/disestablishment" { effective_on }
}

impl TestApp {
    /// POSTs a command, whatever the answer.
    pub(crate) async fn send(&self, command: &impl Command) -> Reply {
        self.send_with(command, &[]).await
    }

    /// POSTs a command with extra headers, whatever the answer.
    pub(crate) async fn send_with(&self, command: &impl Command, headers: &[(&str, &str)]) -> Reply {
        self.post_with(&command.path(), &body(command), headers).await
    }

    /// POSTs a command and insists on 201 Created.
    pub(crate) async fn record(&self, command: &impl Command) -> Reply {
        let reply = self.send(command).await;
        let (path, body) = (command.path(), body(command));
        assert_eq!(reply.status, 201, "POST {path} {body}: {}", reply.body);
        reply
    }

    /// Registers a participant; returns its id.
    pub(crate) async fn register(&self, external_ref: &str, organisation: &str, role: &str, joined_on: &str) -> String {
        let registration = Registration::new(external_ref, organisation, role, joined_on);
        self.record(&registration).await.id()
    }

    /// Records a role change at the employer of its effective date.
    pub(crate) async fn change_role(&self, participant: &str, effective_on: &str, role: &str) -> Reply {
        self.record(&RoleChange::new(participant, effective_on, role)).await
    }

    /// Records a leaving (resigned).
    pub(crate) async fn leave(&self, participant: &str, effective_on: &str) -> Reply {
        self.record(&Leaving::new(participant, effective_on, "resigned")).await
    }

    /// Opens a cohort; returns its id.
    pub(crate) async fn open_cohort(&self, programme: &str, name: &str, starts_on: &str) -> String {
        self.record(&CohortOpening::new(programme, name, starts_on)).await.id()
    }

    /// Enrols a participant in a cohort.
    pub(crate) async fn enrol(&self, cohort: &str, participant: &str, enrolled_on: &str) -> Reply {
        self.record(&Enrolment::new(cohort, participant, enrolled_on)).await
    }

    /// Establishes a post; returns its id.
    pub(crate) async fn establish_post(
        &self,
        organisation: &str,
        title: &str,
        role: &str,
        established_on: &str,
    ) -> String {
        let establishment = Establishment::new(organisation, title, role, established_on);
        self.record(&establishment).await.id()
    }
}

/// A command's JSON body.
pub(crate) fn body(command: &impl Command) -> Value {
    serde_json::to_value(command).expect("a command body is JSON")
}
