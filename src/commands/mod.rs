//! Application services: turn a request into a decision over one or more
//! aggregates and append it as one commit.
//!
//! A use case loads the aggregates it needs into a [`Decision`], lets each
//! aggregate handle its command (the rules live in the `aggregates` crate),
//! and the runner appends every resulting event in one transaction. When an
//! aggregate moved on between load and append, the runner decides again on
//! fresh state (rules re-checked) unless the client pinned a version with
//! `If-Match`, in which case the answer is 409. A refusal appends nothing.

mod cohorts;
mod participants;
mod posts;
mod use_case;

pub use cohorts::*;
pub use participants::*;
pub use posts::*;
pub use use_case::UseCase;

use std::fmt::Display;
use std::time::Duration;

use aggregates::CommandContext;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;

use crate::event_store::{
    new_events, AppendError, Commit, CommitReceipt, EventStore, KeyedAnswer, LoadedStream, Metadata, Refusal,
    StoreError, StreamWrite,
};
use crate::ladders::Ladders;

/// How many times a decision is retried on fresh state after a conflict.
const MAX_ATTEMPTS: u32 = 8;

/// A domain refusal: every aggregate error says which rule it protects.
pub trait DomainRule: Display {
    /// Stable snake_case code, e.g. `not_employed`.
    fn code(&self) -> &'static str;
    /// The request field the rule is about, if any.
    fn field(&self) -> Option<&'static str>;
}

impl DomainRule for aggregates::participant::ParticipantError {
    fn code(&self) -> &'static str {
        self.code()
    }
    fn field(&self) -> Option<&'static str> {
        self.field()
    }
}

impl DomainRule for aggregates::cohort::CohortError {
    fn code(&self) -> &'static str {
        self.code()
    }
    fn field(&self) -> Option<&'static str> {
        self.field()
    }
}

impl DomainRule for aggregates::post::PostError {
    fn code(&self) -> &'static str {
        self.code()
    }
    fn field(&self) -> Option<&'static str> {
        self.field()
    }
}

/// Why a command was not carried out. Nothing was appended in every case.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A domain rule refused the command (HTTP 422).
    #[error("{message}")]
    Rule {
        code: String,
        message: String,
        field: Option<String>,
    },
    /// The aggregate the command addresses does not exist (HTTP 404).
    #[error("no {what} with id {id}")]
    NotFound { what: &'static str, id: String },
    /// The aggregate moved on (HTTP 409).
    #[error("{0}")]
    Conflict(String),
    /// The idempotency key was used before for another request (HTTP 422).
    #[error("idempotency key {0:?} was already used for a different request")]
    KeyReused(String),
    /// The request was refused before, under the same idempotency key: this
    /// is that first answer again (404 or 422, as it was).
    #[error("{}", .0.message)]
    Repeated(Refusal),
    /// A fault of ours (HTTP 500).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CommandError {
    /// A refusal that is not an aggregate's own (cross-aggregate or input rules).
    pub fn rule(code: &str, field: Option<&str>, message: impl Into<String>) -> Self {
        CommandError::Rule {
            code: code.to_string(),
            message: message.into(),
            field: field.map(str::to_string),
        }
    }

    /// The refusal an idempotency key keeps for this error: rules and unknown
    /// aggregates are final answers; conflicts and faults invite a retry.
    fn refusal(&self) -> Option<Refusal> {
        match self {
            CommandError::Rule { code, message, field } => Some(Refusal {
                status: 422,
                error: code.clone(),
                message: message.clone(),
                field: field.clone(),
            }),
            CommandError::NotFound { .. } => Some(Refusal {
                status: 404,
                error: "not_found".to_string(),
                message: self.to_string(),
                field: None,
            }),
            CommandError::Repeated(refusal) => Some(refusal.clone()),
            CommandError::Conflict(_) | CommandError::KeyReused(_) | CommandError::Store(_) => None,
        }
    }

    fn from_domain(e: &impl DomainRule) -> Self {
        CommandError::Rule {
            code: e.code().to_string(),
            message: e.to_string(),
            field: e.field().map(str::to_string),
        }
    }
}

impl From<serde_json::Error> for CommandError {
    fn from(e: serde_json::Error) -> Self {
        CommandError::Store(StoreError::Repository(e.to_string()))
    }
}

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

/// The events one decision will append, and the streams it read.
pub struct Decision {
    store: EventStore,
    context: CommandContext,
    expected_version: Option<u64>,
    writes: Vec<StreamWrite>,
    guards: Vec<(&'static str, String, u64)>,
}

impl Decision {
    /// The clock and margins the aggregates decide with.
    pub fn context(&self) -> &CommandContext {
        &self.context
    }

    /// Loads an aggregate that must exist, checking `If-Match` when it is the
    /// aggregate the request addresses.
    pub async fn load<A: Aggregate>(&self, what: &'static str, id: &str) -> Result<LoadedStream<A>, CommandError> {
        let loaded = self.store.load::<A>(id).await?;
        if loaded.version == 0 {
            return Err(CommandError::NotFound {
                what,
                id: id.to_string(),
            });
        }
        Ok(loaded)
    }

    /// Checks the client's `If-Match` against the addressed aggregate.
    pub fn check_expected<A: Aggregate>(&self, loaded: &LoadedStream<A>) -> Result<(), CommandError> {
        match self.expected_version {
            Some(expected) if expected != loaded.version => Err(CommandError::Conflict(format!(
                "{} is at version {}, not the {} given in If-Match",
                A::TYPE,
                loaded.version,
                expected
            ))),
            _ => Ok(()),
        }
    }

    /// Loads a stream that may be empty (for creating commands).
    pub async fn load_new<A: Aggregate>(&self, id: &str) -> Result<LoadedStream<A>, CommandError> {
        Ok(self.store.load::<A>(id).await?)
    }

    /// Lets `loaded` handle `command`; its events join the commit.
    pub async fn decide<A>(
        &mut self,
        id: &str,
        loaded: &mut LoadedStream<A>,
        command: A::Command,
    ) -> Result<Vec<A::Event>, CommandError>
    where
        A: Aggregate<Services = CommandContext>,
        A::Error: DomainRule,
    {
        let sink = EventSink::default();
        loaded
            .aggregate
            .handle(command, &self.context, &sink)
            .await
            .map_err(|e| CommandError::from_domain(&e))?;
        let events = sink.collect().await;
        if !events.is_empty() {
            self.writes.push(StreamWrite {
                aggregate_type: A::TYPE,
                aggregate_id: id.to_string(),
                expected_version: loaded.version,
                events: new_events(&events)?,
            });
            let appended = events.len() as u64;
            for (i, e) in events.iter().enumerate() {
                loaded.events.push((loaded.version + 1 + i as u64, e.clone()));
            }
            loaded.version += appended;
        }
        Ok(events)
    }

    /// Records that the decision depends on a stream it does not write.
    pub fn guard<A: Aggregate>(&mut self, id: &str, loaded: &LoadedStream<A>) {
        self.guards.push((A::TYPE, id.to_string(), loaded.version));
    }
}

/// Runs use cases: decides, appends, retries on conflict.
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

    /// The event store.
    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Builds the use case with `build` (which may read reference data such
    /// as ladders), decides it and appends its events as one commit.
    ///
    /// Under an idempotency key the key is looked up before anything else, so
    /// a retry gets the first answer even when the data `build` reads has
    /// changed since; a refusal is kept under the key like a receipt.
    pub async fn run_built(
        &self,
        origin: &CommandOrigin,
        build: impl std::future::Future<Output = Result<UseCase, CommandError>>,
    ) -> Result<CommitReceipt, CommandError> {
        let Some((key, fingerprint)) = &origin.idempotency else {
            return self.decide_and_append(origin, &build.await?).await;
        };
        if let Some(answer) = self.stored_answer(key, fingerprint).await? {
            return answered(answer);
        }
        let outcome = match build.await {
            Ok(use_case) => self.decide_and_append(origin, &use_case).await,
            Err(e) => Err(e),
        };
        match outcome.as_ref().err().and_then(CommandError::refusal) {
            Some(refusal) => match self.store.record_refusal(key, fingerprint, &refusal).await {
                Ok(answer) => answered(answer),
                Err(e) => Err(append_failure(e)),
            },
            None => outcome,
        }
    }

    /// The first answer under an idempotency key, if the key was used.
    async fn stored_answer(&self, key: &str, fingerprint: &str) -> Result<Option<KeyedAnswer>, CommandError> {
        self.store
            .idempotent_answer(key, fingerprint)
            .await
            .map_err(append_failure)
    }

    /// Decides `use_case` and appends its events as one commit; under an
    /// idempotency key, as [`Self::run_built`].
    pub async fn run(&self, origin: &CommandOrigin, use_case: &UseCase) -> Result<CommitReceipt, CommandError> {
        self.run_built(origin, async { Ok(use_case.clone()) }).await
    }

    /// Decides on fresh state until the commit lands, a rule refuses it or
    /// the attempts run out. The key was looked up by the caller; a request
    /// with the same key that landed since is found by `append` under its lock.
    async fn decide_and_append(
        &self,
        origin: &CommandOrigin,
        use_case: &UseCase,
    ) -> Result<CommitReceipt, CommandError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut decision = Decision {
                store: self.store.clone(),
                context: CommandContext {
                    today: chrono::Utc::now().date_naive(),
                    future_margin_days: self.future_margin_days,
                },
                expected_version: origin.expected_version,
                writes: Vec::new(),
                guards: Vec::new(),
            };
            use_case.decide(&mut decision).await?;
            if decision.writes.is_empty() {
                return Err(CommandError::rule(
                    "nothing_to_record",
                    None,
                    "the command changes nothing, so nothing was recorded",
                ));
            }
            let commit = Commit {
                writes: decision.writes,
                guards: decision.guards,
                metadata: Metadata {
                    recorded_by: origin.recorded_by.clone(),
                    source: origin.source.clone(),
                    correlation_id: origin.correlation_id.clone(),
                    idempotency_key: origin.idempotency.as_ref().map(|(k, _)| k.clone()),
                },
                idempotency: origin.idempotency.clone(),
            };
            match self.store.append(commit).await {
                Ok(receipt) => return Ok(receipt),
                Err(AppendError::Replayed(receipt)) => return Ok(*receipt),
                Err(AppendError::Refused(refusal)) => return Err(CommandError::Repeated(refusal)),
                Err(AppendError::KeyReused(k)) => return Err(CommandError::KeyReused(k)),
                Err(AppendError::Duplicate(what)) => {
                    return Err(CommandError::rule("duplicate", Some(what.field()), what.message()))
                }
                Err(AppendError::Conflict { .. }) if origin.expected_version.is_none() && attempt < MAX_ATTEMPTS => {
                    // Another commit got in first: decide again on fresh state.
                    tokio::time::sleep(Duration::from_millis(u64::from(attempt) * 2)).await;
                }
                Err(AppendError::Conflict {
                    aggregate_type,
                    aggregate_id,
                    expected,
                    actual,
                }) => {
                    return Err(CommandError::Conflict(format!(
                        "{aggregate_type} {aggregate_id} moved from version {expected} to {actual} while this \
                         command was decided; read it again and retry"
                    )))
                }
                Err(AppendError::Store(e)) => return Err(CommandError::Store(e)),
            }
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

/// An idempotency lookup that failed.
fn append_failure(e: AppendError) -> CommandError {
    match e {
        AppendError::KeyReused(key) => CommandError::KeyReused(key),
        AppendError::Store(e) => CommandError::Store(e),
        other => CommandError::Store(StoreError::Repository(other.to_string())),
    }
}
