//! Loading the plan: every step issued as its command, in order, under
//! the idempotency key `demo:<step name>`.

use std::collections::HashMap;

use aggregates::cohort::CohortCommand;
use aggregates::ladder::{Basis, Ladder, MoveKind, RoleRef};
use aggregates::participant::{Participant, ParticipantCommand};
use aggregates::post::PostCommand;
use chrono::Utc;
use cqrs_es::Aggregate;
use uuid::Uuid;

use super::{
    academy, intakes, plan, pldp, Action, DatasetSummary, DemoError, DemoSummary, Plan, RetractedLeaving, Step,
};
use crate::commands::{Command, CommandError, CommandOrigin, CommandRunner};
use crate::event_store::CommitReceipt;

/// Resolves a role code against the default children's-services ladder.
fn role_ref(code: &str) -> Result<RoleRef, DemoError> {
    Ladder::children_services_default()
        .role(code)
        .ok_or_else(|| DemoError::UnknownRole(code.to_string()))
}

/// Issues one step through its command.
async fn issue(
    runner: &CommandRunner,
    origin: &CommandOrigin,
    action: &Action,
    receipts: &HashMap<String, CommitReceipt>,
) -> Result<CommitReceipt, CommandError> {
    let role = |code: &str| role_ref(code).map_err(|e| CommandError::rule("unknown_role", Some("role"), e.to_string()));
    let command = match action {
        Action::Register {
            participant,
            external_ref,
            organisation,
            team,
            role: code,
            joined_on,
        } => Command::Participant(
            *participant,
            ParticipantCommand::Register {
                participant_id: *participant,
                external_ref: external_ref.clone(),
                organisation: organisation.clone(),
                team: team.clone(),
                role: role(code)?,
                post_id: None,
                basis: Basis::Permanent,
                fte: 1.0,
                joined_on: *joined_on,
            },
        ),
        Action::ChangeRole {
            participant,
            effective_on,
            role: code,
            organisation,
            team,
            interim,
            explicit_promotion,
        } => Command::Participant(
            *participant,
            ParticipantCommand::ChangeRole {
                effective_on: *effective_on,
                role: role(code)?,
                organisation: organisation.clone(),
                team: team.clone(),
                post_id: None,
                basis: if *interim { Basis::Interim } else { Basis::Permanent },
                fte: None,
                kind: explicit_promotion.then_some(MoveKind::Promotion),
            },
        ),
        Action::Leave {
            participant,
            effective_on,
            reason,
            destination,
        } => Command::Participant(
            *participant,
            ParticipantCommand::RecordLeaving {
                effective_on: *effective_on,
                reason: reason.clone(),
                destination: destination.clone(),
            },
        ),
        Action::Exclude {
            participant,
            effective_on,
            reason,
        } => Command::Participant(
            *participant,
            ParticipantCommand::ExcludeFromAnalysis {
                effective_on: *effective_on,
                reason: reason.clone(),
            },
        ),
        Action::Retract {
            participant,
            step,
            sequence,
            reason,
        } => {
            // The receipt of the retracted step says where its event landed.
            let sequence = receipts
                .get(step)
                .and_then(|r| stream_version(r, *participant))
                .unwrap_or(*sequence);
            let reason = reason.clone();
            Command::Participant(*participant, ParticipantCommand::Retract { sequence, reason })
        }
        Action::OpenCohort {
            cohort,
            programme,
            name,
            starts_on,
            ends_on,
        } => Command::Cohort(
            *cohort,
            CohortCommand::Open {
                cohort_id: *cohort,
                programme: programme.clone(),
                name: name.clone(),
                starts_on: *starts_on,
                ends_on: Some(*ends_on),
            },
        ),
        Action::Enrol {
            cohort,
            participant,
            enrolled_on,
        } => Command::Cohort(
            *cohort,
            CohortCommand::Enrol {
                participant_id: *participant,
                enrolled_on: *enrolled_on,
            },
        ),
        Action::EstablishPost {
            post,
            organisation,
            title,
            role: code,
            established_on,
        } => Command::Post(
            *post,
            PostCommand::Establish {
                post_id: *post,
                organisation: organisation.clone(),
                title: title.clone(),
                role: role(code)?,
                established_on: *established_on,
                reference: None,
            },
        ),
        Action::RegisterInPost {
            participant,
            external_ref,
            organisation,
            team,
            role: code,
            post,
            basis,
            joined_on,
        } => Command::Participant(
            *participant,
            ParticipantCommand::Register {
                participant_id: *participant,
                external_ref: external_ref.clone(),
                organisation: organisation.clone(),
                team: team.clone(),
                role: role(code)?,
                post_id: Some(*post),
                basis: *basis,
                fte: 1.0,
                joined_on: *joined_on,
            },
        ),
        Action::Complete {
            cohort,
            participant,
            completed_on,
        } => Command::Cohort(
            *cohort,
            CohortCommand::RecordCompletion {
                participant_id: *participant,
                completed_on: *completed_on,
            },
        ),
    };
    runner.run(origin, &command).await
}

/// The version a commit left `participant`'s stream at: the sequence of
/// its event when the commit appended one event to that stream.
fn stream_version(receipt: &CommitReceipt, participant: Uuid) -> Option<u64> {
    receipt
        .streams
        .iter()
        .find(|s| s.aggregate_type == Participant::TYPE && s.aggregate_id == participant.to_string())
        .map(|s| s.version)
}

/// Loads the demo dataset through the command runner. Loading it again
/// appends nothing: every command's idempotency key was used before, and the
/// runner answers with the first receipt.
pub async fn load(runner: &CommandRunner) -> Result<DemoSummary, DemoError> {
    let Plan { steps, phase1_len } = plan();
    let mut receipts: HashMap<String, CommitReceipt> = HashMap::new();
    let mut already = 0;
    let mut appended = 0;
    let mut known_at = None;
    for (i, step) in steps.iter().enumerate() {
        let key = format!("demo:{}", step.name);
        let origin = CommandOrigin {
            recorded_by: "demo".into(),
            source: "demo".into(),
            correlation_id: "demo".into(),
            idempotency: Some((key.clone(), key.clone())),
            expected_version: None,
        };
        let replay = runner
            .store()
            .idempotent_answer(&key, &key)
            .await
            .map_err(|e| DemoError::Store {
                step: step.name.clone(),
                message: e.to_string(),
            })?
            .is_some();
        let receipt = issue(runner, &origin, &step.action, &receipts)
            .await
            .map_err(|source| DemoError::Command {
                step: step.name.clone(),
                source,
            })?;
        if replay {
            already += 1;
        } else {
            appended += receipt.events_appended;
        }
        if i + 1 == phase1_len {
            known_at = Some(receipt.recorded_at);
        }
        receipts.insert(step.name.clone(), receipt);
    }
    let (retracted_participant, retracted_step, planned) = academy::retraction();
    let sequence = receipts
        .get(&retracted_step)
        .and_then(|r| stream_version(r, retracted_participant))
        .unwrap_or(planned);
    Ok(DemoSummary {
        commands_issued: steps.len(),
        commands_already_recorded: already,
        events_appended: appended,
        known_at_before_corrections: known_at.unwrap_or_else(Utc::now),
        retracted_leaving: RetractedLeaving {
            participant_id: retracted_participant,
            sequence,
        },
        datasets: summaries(&steps),
    })
}

/// The datasets' summaries, with each cohort's member count from the plan.
pub(super) fn summaries(steps: &[Step]) -> Vec<DatasetSummary> {
    let mut datasets = vec![pldp::summary(), academy::summary(), intakes::summary()];
    for dataset in &mut datasets {
        for cohort in &mut dataset.cohorts {
            cohort.members = steps
                .iter()
                .filter(|s| matches!(&s.action, Action::Enrol { cohort: c, .. } if *c == cohort.id))
                .count();
        }
    }
    datasets
}
