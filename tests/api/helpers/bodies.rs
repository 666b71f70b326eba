//! Typed bodies of the command requests, each knowing the path it is POSTed
//! to, and the test app's shortcuts for the commands tests send most.
//!
//! A body leaves out every optional field it was not given, so the JSON is
//! what a client writing it by hand would send.

use serde::Serialize;
use serde_json::Value;

use super::{Reply, TestApp};

/// A command request: a JSON body and where it goes.
pub trait Command: Serialize {
    /// The path it is POSTed to.
    fn path(&self) -> String;
}

/// Registers a participant.
#[derive(Serialize)]
pub struct Registration {
    #[serde(skip_serializing_if = "Option::is_none")]
    participant_id: Option<String>,
    external_ref: String,
    organisation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    team: Option<String>,
    role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fte: Option<f64>,
    joined_on: String,
}

impl Registration {
    pub fn new(external_ref: &str, organisation: &str, role: &str, joined_on: &str) -> Self {
        Registration {
            participant_id: None,
            external_ref: external_ref.into(),
            organisation: organisation.into(),
            team: None,
            role: role.into(),
            fte: None,
            joined_on: joined_on.into(),
        }
    }

    /// The id the client chooses (otherwise the server makes one).
    pub fn id(self, participant_id: &str) -> Self {
        Registration {
            participant_id: Some(participant_id.into()),
            ..self
        }
    }

    pub fn team(self, team: &str) -> Self {
        Registration {
            team: Some(team.into()),
            ..self
        }
    }

    pub fn fte(self, fte: f64) -> Self {
        Registration { fte: Some(fte), ..self }
    }
}

impl Command for Registration {
    fn path(&self) -> String {
        "/api/v1/participants".into()
    }
}

/// A participant's move to another role, team, organisation or post.
#[derive(Serialize)]
pub struct RoleChange {
    #[serde(skip)]
    participant: String,
    effective_on: String,
    role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    organisation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    team: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    post_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    basis: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fte: Option<f64>,
}

impl RoleChange {
    /// A move to `role`; with no organisation the server takes the employer
    /// on `effective_on`.
    pub fn new(participant: &str, effective_on: &str, role: &str) -> Self {
        RoleChange {
            participant: participant.into(),
            effective_on: effective_on.into(),
            role: role.into(),
            organisation: None,
            team: None,
            post_id: None,
            basis: None,
            fte: None,
        }
    }

    /// The organisation the role is at, named explicitly.
    pub fn at(self, organisation: &str) -> Self {
        RoleChange {
            organisation: Some(organisation.into()),
            ..self
        }
    }

    pub fn team(self, team: &str) -> Self {
        RoleChange {
            team: Some(team.into()),
            ..self
        }
    }

    /// Into a post (`basis` only when given).
    pub fn post(self, post_id: &str) -> Self {
        RoleChange {
            post_id: Some(post_id.into()),
            ..self
        }
    }

    pub fn basis(self, basis: &str) -> Self {
        RoleChange {
            basis: Some(basis.into()),
            ..self
        }
    }

    pub fn fte(self, fte: f64) -> Self {
        RoleChange { fte: Some(fte), ..self }
    }
}

impl Command for RoleChange {
    fn path(&self) -> String {
        format!("/api/v1/participants/{}/role-changes", self.participant)
    }
}

/// A participant leaves employment (by default: resigned, destination untold).
#[derive(Serialize)]
pub struct Leaving {
    #[serde(skip)]
    participant: String,
    effective_on: String,
    reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination: Option<String>,
}

impl Leaving {
    pub fn new(participant: &str, effective_on: &str) -> Self {
        Leaving {
            participant: participant.into(),
            effective_on: effective_on.into(),
            reason: "resigned".into(),
            destination: None,
        }
    }

    pub fn reason(self, reason: &str) -> Self {
        Leaving {
            reason: reason.into(),
            ..self
        }
    }

    pub fn destination(self, destination: &str) -> Self {
        Leaving {
            destination: Some(destination.into()),
            ..self
        }
    }
}

impl Command for Leaving {
    fn path(&self) -> String {
        format!("/api/v1/participants/{}/leavings", self.participant)
    }
}

/// A leaver comes back.
#[derive(Serialize)]
pub struct Rejoining {
    #[serde(skip)]
    participant: String,
    effective_on: String,
    organisation: String,
    role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fte: Option<f64>,
}

impl Rejoining {
    pub fn new(participant: &str, effective_on: &str, organisation: &str, role: &str) -> Self {
        Rejoining {
            participant: participant.into(),
            effective_on: effective_on.into(),
            organisation: organisation.into(),
            role: role.into(),
            fte: None,
        }
    }

    pub fn fte(self, fte: f64) -> Self {
        Rejoining { fte: Some(fte), ..self }
    }
}

impl Command for Rejoining {
    fn path(&self) -> String {
        format!("/api/v1/participants/{}/rejoinings", self.participant)
    }
}

/// A participant is excluded from analysis.
#[derive(Serialize)]
pub struct Exclusion {
    #[serde(skip)]
    participant: String,
    effective_on: String,
    reason: String,
}

impl Exclusion {
    pub fn new(participant: &str, effective_on: &str, reason: &str) -> Self {
        Exclusion {
            participant: participant.into(),
            effective_on: effective_on.into(),
            reason: reason.into(),
        }
    }
}

impl Command for Exclusion {
    fn path(&self) -> String {
        format!("/api/v1/participants/{}/exclusions", self.participant)
    }
}

/// One of a participant's events is retracted (recorded in error).
#[derive(Serialize)]
pub struct Retraction {
    #[serde(skip)]
    participant: String,
    sequence: u64,
    reason: String,
}

impl Retraction {
    /// Retracts the event at `sequence` of the participant's stream.
    pub fn new(participant: &str, sequence: u64) -> Self {
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

/// A programme cohort is opened.
#[derive(Serialize)]
pub struct CohortOpening {
    programme: String,
    name: String,
    starts_on: String,
}

impl CohortOpening {
    pub fn new(programme: &str, name: &str, starts_on: &str) -> Self {
        CohortOpening {
            programme: programme.into(),
            name: name.into(),
            starts_on: starts_on.into(),
        }
    }
}

impl Command for CohortOpening {
    fn path(&self) -> String {
        "/api/v1/cohorts".into()
    }
}

/// A participant joins a cohort.
#[derive(Serialize)]
pub struct Enrolment {
    #[serde(skip)]
    cohort: String,
    participant_id: String,
    enrolled_on: String,
}

impl Enrolment {
    pub fn new(cohort: &str, participant_id: &str, enrolled_on: &str) -> Self {
        Enrolment {
            cohort: cohort.into(),
            participant_id: participant_id.into(),
            enrolled_on: enrolled_on.into(),
        }
    }
}

impl Command for Enrolment {
    fn path(&self) -> String {
        format!("/api/v1/cohorts/{}/enrolments", self.cohort)
    }
}

/// A participant withdraws from a cohort.
#[derive(Serialize)]
pub struct Withdrawal {
    #[serde(skip)]
    cohort: String,
    participant_id: String,
    withdrawn_on: String,
    reason: String,
}

impl Withdrawal {
    pub fn new(cohort: &str, participant_id: &str, withdrawn_on: &str, reason: &str) -> Self {
        Withdrawal {
            cohort: cohort.into(),
            participant_id: participant_id.into(),
            withdrawn_on: withdrawn_on.into(),
            reason: reason.into(),
        }
    }
}

impl Command for Withdrawal {
    fn path(&self) -> String {
        format!("/api/v1/cohorts/{}/withdrawals", self.cohort)
    }
}

/// A post is established.
#[derive(Serialize)]
pub struct Establishment {
    organisation: String,
    title: String,
    role: String,
    established_on: String,
}

impl Establishment {
    pub fn new(organisation: &str, title: &str, role: &str, established_on: &str) -> Self {
        Establishment {
            organisation: organisation.into(),
            title: title.into(),
            role: role.into(),
            established_on: established_on.into(),
        }
    }
}

impl Command for Establishment {
    fn path(&self) -> String {
        "/api/v1/posts".into()
    }
}

/// A participant fills a post (the basis only when given).
#[derive(Serialize)]
pub struct Filling {
    #[serde(skip)]
    post: String,
    participant_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    basis: Option<String>,
    effective_on: String,
}

impl Filling {
    pub fn new(post: &str, participant_id: &str, effective_on: &str) -> Self {
        Filling {
            post: post.into(),
            participant_id: participant_id.into(),
            basis: None,
            effective_on: effective_on.into(),
        }
    }

    pub fn basis(self, basis: &str) -> Self {
        Filling {
            basis: Some(basis.into()),
            ..self
        }
    }
}

impl Command for Filling {
    fn path(&self) -> String {
        format!("/api/v1/posts/{}/fillings", self.post)
    }
}

/// A post's holder leaves it.
#[derive(Serialize)]
pub struct Vacation {
    #[serde(skip)]
    post: String,
    participant_id: String,
    effective_on: String,
}

impl Vacation {
    pub fn new(post: &str, participant_id: &str, effective_on: &str) -> Self {
        Vacation {
            post: post.into(),
            participant_id: participant_id.into(),
            effective_on: effective_on.into(),
        }
    }
}

impl Command for Vacation {
    fn path(&self) -> String {
        format!("/api/v1/posts/{}/vacations", self.post)
    }
}

/// A post is abolished.
#[derive(Serialize)]
pub struct Disestablishment {
    #[serde(skip)]
    post: String,
    effective_on: String,
}

impl Disestablishment {
    pub fn new(post: &str, effective_on: &str) -> Self {
        Disestablishment {
            post: post.into(),
            effective_on: effective_on.into(),
        }
    }
}

impl Command for Disestablishment {
    fn path(&self) -> String {
        format!("/api/v1/posts/{}/disestablishment", self.post)
    }
}

impl TestApp {
    /// POSTs a command, whatever the answer.
    pub async fn send(&self, command: &impl Command) -> Reply {
        self.send_with(command, &[]).await
    }

    /// POSTs a command with extra headers, whatever the answer.
    pub async fn send_with(&self, command: &impl Command, headers: &[(&str, &str)]) -> Reply {
        self.post_with(&command.path(), &body(command), headers).await
    }

    /// POSTs a command and insists on 201 Created.
    pub async fn record(&self, command: &impl Command) -> Reply {
        let reply = self.send(command).await;
        let (path, body) = (command.path(), body(command));
        assert_eq!(reply.status, 201, "POST {path} {body}: {}", reply.body);
        reply
    }

    /// Registers a participant; returns its id.
    pub async fn register(&self, external_ref: &str, organisation: &str, role: &str, joined_on: &str) -> String {
        let registration = Registration::new(external_ref, organisation, role, joined_on);
        self.record(&registration).await.id()
    }

    /// Records a plain role change at the current employer.
    pub async fn change_role(&self, participant: &str, effective_on: &str, role: &str) -> Reply {
        self.record(&RoleChange::new(participant, effective_on, role)).await
    }

    /// Records a leaving (resigned).
    pub async fn leave(&self, participant: &str, effective_on: &str) -> Reply {
        self.record(&Leaving::new(participant, effective_on)).await
    }

    /// Opens a cohort; returns its id.
    pub async fn open_cohort(&self, programme: &str, name: &str, starts_on: &str) -> String {
        self.record(&CohortOpening::new(programme, name, starts_on)).await.id()
    }

    /// Enrols a participant in a cohort.
    pub async fn enrol(&self, cohort: &str, participant: &str, enrolled_on: &str) -> Reply {
        self.record(&Enrolment::new(cohort, participant, enrolled_on)).await
    }

    /// Establishes a post; returns its id.
    pub async fn establish_post(&self, organisation: &str, title: &str, role: &str, established_on: &str) -> String {
        let establishment = Establishment::new(organisation, title, role, established_on);
        self.record(&establishment).await.id()
    }
}

/// A command's JSON body.
pub fn body(command: &impl Command) -> Value {
    serde_json::to_value(command).expect("a command body is JSON")
}
