//! Runs commands: answers a repeated idempotency key, decides, appends,
//! and decides again on fresh state after a conflict.
//!
//! A decision is first made without the append lock, so commands to
//! different streams decide in parallel. If another commit got in first and
//! the client did not pin a version with `If-Match`, the command is decided
//! again while holding the append lock, where nothing can overtake it: a
//! valid command therefore lands however many others contend for the same
//! stream, after waiting its turn. Retrying optimistically instead would let
//! the same commands conflict again and again (most of fifty concurrent
//! role changes to one participant used to run out of retries and get 409).

use std::future::Future;

use aggregates::decisions;
use aggregates::participant::Participant;
use aggregates::CommandContext;
use chrono::NaiveDate;
use uuid::Uuid;

use super::{Command, CommandError, Decision};
use crate::event_store::{AppendError, Commit, CommitReceipt, EventStore, KeyedAnswer, Metadata, LADDERS_GUARD};
use crate::ladders::{Ladders, LevelsInForce};

/// How a command arrived: who sent it, under which keys.
#[derive(Debug, Clone)]
pub struct CommandOrigin {
    pub recorded_by: String,
    pub source: String,
    pub correlation_id: String,
    /// The client's idempotency key and the request's fingerprint.
    pub idempotency: Option<(String, String)>,
    /// The version the client expects the addressed aggregate to be at.
    pub expected_version: Option<u64>,
}

/// Runs commands: decides, appends, decides again holding the lock after a conflict.
#[derive(Clone)]
pub struct CommandRunner {
    store: EventStore,
    ladders: Ladders,
    future_margin_days: u32,
}

impl CommandRunner {
    /// A runner appending to `store`, refusing effective dates more than
    /// `future_margin_days` after today.
    pub fn new(store: EventStore, future_margin_days: u32) -> Self {
        let ladders = Ladders::new(store.pool().clone());
        Self {
            store,
            ladders,
            future_margin_days,
        }
    }

    /// The organisations' career ladders.
    pub fn ladders(&self) -> &Ladders {
        &self.ladders
    }

    /// How many days after today an effective date may lie.
    pub fn future_margin_days(&self) -> u32 {
        self.future_margin_days
    }

    /// The event store.
    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// The organisation participant `id` works for on `day`, for a role
    /// change that does not name one (see
    /// [`aggregates::decisions::organisation_on`]).
    pub async fn organisation_on(&self, id: Uuid, day: NaiveDate) -> Result<String, CommandError> {
        let levels = self.ladders.levels_now().await?;
        let loaded = self.store.load::<Participant>(&id.to_string()).await?;
        let participant = loaded.aggregate.judged_with(levels);
        decisions::organisation_on(&participant, day)
            .map(str::to_string)
            .ok_or_else(|| CommandError::NotFound {
                what: "participant",
                id: id.to_string(),
            })
    }

    /// Builds the command with `build` (which may read reference data such
    /// as ladders), decides it and appends its events as one commit.
    ///
    /// Under an idempotency key the key is looked up before anything else, so
    /// a retry gets the first answer even when the data `build` reads has
    /// changed since; a refusal is kept under the key like a receipt.
    pub async fn run_built(
        &self,
        origin: &CommandOrigin,
        build: impl Future<Output = Result<Command, CommandError>>,
    ) -> Result<CommitReceipt, CommandError> {
        let Some((key, fingerprint)) = &origin.idempotency else {
            return self.decide_and_append(origin, &build.await?).await;
        };
        if let Some(answer) = self.store.idempotent_answer(key, fingerprint).await? {
            return answered(answer);
        }
        let outcome = match build.await {
            Ok(command) => self.decide_and_append(origin, &command).await,
            Err(e) => Err(e),
        };
        match outcome.as_ref().err().and_then(CommandError::refusal) {
            Some(refusal) => answered(self.store.record_refusal(key, fingerprint, &refusal).await?),
            None => outcome,
        }
    }

    /// Decides `command` and appends its events as one commit; under an
    /// idempotency key, as [`Self::run_built`].
    pub async fn run(&self, origin: &CommandOrigin, command: &Command) -> Result<CommitReceipt, CommandError> {
        self.run_built(origin, async { Ok(command.clone()) }).await
    }

    /// Decides and appends; after a conflict, decides once more holding the
    /// append lock, unless the client pinned a version (then the conflict is
    /// the answer). The key was looked up by the caller; a request with the
    /// same key that landed since is found by `append` under its lock.
    ///
    /// The ladders judged with are the ones kept in memory: no query per
    /// command. The commit guards the count of replacements they reflect,
    /// so when a replacement landed (here or in another process) the
    /// command is decided again with the ladders read afresh, whatever
    /// `If-Match` says: the client's stream did not move.
    async fn decide_and_append(
        &self,
        origin: &CommandOrigin,
        command: &Command,
    ) -> Result<CommitReceipt, CommandError> {
        let mut store = self.store.clone();
        for _ in 0..LADDER_ATTEMPTS {
            // Read before any lock is held, so a decision under the append
            // lock needs no second pooled connection (requests queueing for
            // the lock each hold one).
            let in_force = self.ladders.levels_in_force().await?;
            match self.decide_and_append_on(&store, origin, command, &in_force).await {
                Err(Attempt::LaddersReplaced) => {
                    self.ladders.forget();
                    store = self.store.clone();
                }
                Err(Attempt::Conflict(_)) if origin.expected_version.is_none() && !store.holds_append_lock() => {
                    store = self.store.holding_append_lock().await?;
                }
                Err(Attempt::Conflict(message)) => return Err(CommandError::Conflict(message)),
                Err(Attempt::Refused(e)) => return Err(e),
                Ok(receipt) => return Ok(receipt),
            }
        }
        Err(CommandError::Conflict(
            "the career ladders were replaced again and again while this command was decided; retry".into(),
        ))
    }

    /// Decides `command` on what `store` reads and appends it there.
    async fn decide_and_append_on(
        &self,
        store: &EventStore,
        origin: &CommandOrigin,
        command: &Command,
        in_force: &LevelsInForce,
    ) -> Result<CommitReceipt, Attempt> {
        let context = CommandContext {
            today: chrono::Utc::now().date_naive(),
            future_margin_days: self.future_margin_days,
        };
        let mut decision = Decision::new(store.clone(), context, in_force.levels.clone(), origin.expected_version);
        command.decide(&mut decision).await?;
        if decision.writes.is_empty() {
            return Err(Attempt::Refused(CommandError::rule(
                "nothing_to_record",
                None,
                "the command changes nothing, so nothing was recorded",
            )));
        }
        let mut guards = decision.guards;
        guards.push((LADDERS_GUARD, String::new(), in_force.replacements));
        let commit = Commit {
            writes: decision.writes,
            guards,
            enrolling_cohorts: decision.enrolling_cohorts,
            metadata: Metadata {
                recorded_by: origin.recorded_by.clone(),
                source: origin.source.clone(),
                correlation_id: origin.correlation_id.clone(),
                idempotency_key: origin.idempotency.as_ref().map(|(k, _)| k.clone()),
                derivation: None,
            },
            idempotency: origin.idempotency.clone(),
        };
        match store.append(commit).await {
            Ok(receipt) => Ok(receipt),
            Err(AppendError::Replayed(receipt)) => Ok(*receipt),
            Err(AppendError::Conflict { aggregate_type, .. }) if aggregate_type == LADDERS_GUARD => {
                Err(Attempt::LaddersReplaced)
            }
            Err(AppendError::Conflict {
                aggregate_type,
                aggregate_id,
                expected,
                actual,
            }) => Err(Attempt::Conflict(format!(
                "{aggregate_type} {aggregate_id} moved from version {expected} to {actual} while this \
                 command was decided; read it again and retry"
            ))),
            Err(other) => Err(Attempt::Refused(other.into())),
        }
    }
}

/// How many times a command is decided when the ladders it was judged
/// with keep being replaced under it.
const LADDER_ATTEMPTS: usize = 4;

/// Why one attempt at a command did not land.
enum Attempt {
    /// A ladder replacement landed after the ladders judged with were read.
    LaddersReplaced,
    /// A stream the decision read moved on (the message says which).
    Conflict(String),
    /// Anything else: the answer.
    Refused(CommandError),
}

impl From<CommandError> for Attempt {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::Conflict(message) => Attempt::Conflict(message),
            other => Attempt::Refused(other),
        }
    }
}

/// A stored answer given again.
fn answered(answer: KeyedAnswer) -> Result<CommitReceipt, CommandError> {
    match answer {
        KeyedAnswer::Accepted(receipt) => Ok(receipt),
        KeyedAnswer::Refused(refusal) => Err(CommandError::Repeated(refusal)),
    }
}
