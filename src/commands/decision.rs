//! The streams one decision reads and the events it will append.
//!
//! Every stream a decision writes is appended at the version it was read
//! at; a stream it only reads to judge the command (the participant an
//! enrolment names) is guarded at that version. Either way a concurrent
//! commit to it makes this one conflict and be decided again.
//!
//! Every participant loaded is judged with the ladders in force now (read
//! once per decision), so a command's rules on levels (a move involving a
//! role without a level needs its kind) agree with what the reports derive
//! (docs/metrics.md decision 14).

use aggregates::participant::Participant;
use aggregates::{CommandContext, Levels};
use cqrs_es::Aggregate;
use uuid::Uuid;

use super::CommandError;
use crate::event_store::{new_events, EventStore, LoadedStream, StreamWrite};

/// The events one decision will append, and the streams it read.
pub struct Decision {
    store: EventStore,
    context: CommandContext,
    /// Every organisation's ladder in force now.
    levels: Levels,
    /// The version `If-Match` expects of the addressed stream.
    expected_version: Option<u64>,
    pub(super) writes: Vec<StreamWrite>,
    pub(super) guards: Vec<(&'static str, String, u64)>,
    /// A participant and the cohorts found enrolling them.
    pub(super) enrolling_cohorts: Option<(String, Vec<String>)>,
}

impl Decision {
    /// An empty decision over `store`, deciding with `context` and judging
    /// participants with `levels`.
    pub(super) fn new(
        store: EventStore,
        context: CommandContext,
        levels: Levels,
        expected_version: Option<u64>,
    ) -> Self {
        Self {
            store,
            context,
            levels,
            expected_version,
            writes: Vec::new(),
            guards: Vec::new(),
            enrolling_cohorts: None,
        }
    }

    /// The clock and margins the aggregates decide with.
    pub fn context(&self) -> &CommandContext {
        &self.context
    }

    /// `loaded`, its history judged with the ladders in force now.
    pub fn judged(&self, mut loaded: LoadedStream<Participant>) -> LoadedStream<Participant> {
        loaded.aggregate = loaded.aggregate.judged_with(self.levels.clone());
        loaded
    }

    /// The event store, for look-ups a rule needs (an external reference's owner).
    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Loads a stream that may be empty (for creating commands).
    pub async fn load_new<A: Aggregate>(&self, id: Uuid) -> Result<LoadedStream<A>, CommandError> {
        Ok(self.store.load::<A>(&id.to_string()).await?)
    }

    /// Loads a stream that must exist (404 otherwise).
    pub async fn load_existing<A: Aggregate>(&self, id: Uuid) -> Result<LoadedStream<A>, CommandError> {
        let loaded = self.load_new::<A>(id).await?;
        if loaded.version == 0 {
            return Err(CommandError::NotFound {
                what: A::TYPE,
                id: id.to_string(),
            });
        }
        Ok(loaded)
    }

    /// Loads the stream the request addresses: it must exist and be at the
    /// version the client's `If-Match` gives, if it gives one.
    pub async fn load_addressed<A: Aggregate>(&self, id: Uuid) -> Result<LoadedStream<A>, CommandError> {
        let loaded = self.load_existing::<A>(id).await?;
        match self.expected_version {
            Some(expected) if expected != loaded.version => Err(CommandError::Conflict(format!(
                "{} is at version {}, not the {} given in If-Match",
                A::TYPE,
                loaded.version,
                expected
            ))),
            _ => Ok(loaded),
        }
    }

    /// Loads the stream a creating command addresses: it must not exist yet.
    pub async fn load_to_create<A: Aggregate>(&self, id: Uuid) -> Result<LoadedStream<A>, CommandError> {
        let loaded = self.load_new::<A>(id).await?;
        if loaded.version > 0 {
            return Err(CommandError::Conflict(format!("{} {id} already exists", A::TYPE)));
        }
        Ok(loaded)
    }

    /// Appends `events` to stream `id`, read at `version`, with this commit.
    pub fn write<A: Aggregate>(&mut self, id: Uuid, version: u64, events: &[A::Event]) -> Result<(), CommandError> {
        if !events.is_empty() {
            self.writes.push(StreamWrite {
                aggregate_type: A::TYPE,
                aggregate_id: id.to_string(),
                expected_version: version,
                events: new_events(events)?,
            });
        }
        Ok(())
    }

    /// Records that the decision depends on stream `id`, read at `version`,
    /// which it does not write.
    pub fn guard<A: Aggregate>(&mut self, id: Uuid, version: u64) {
        self.guards.push((A::TYPE, id.to_string(), version));
    }

    /// Records that the decision depends on `cohorts` being every cohort
    /// that enrols `participant_id`: one enrolling them since makes the
    /// commit conflict and be decided again.
    pub fn guard_enrolling_cohorts(&mut self, participant_id: Uuid, cohorts: &[Uuid]) {
        let cohorts = cohorts.iter().map(Uuid::to_string).collect();
        self.enrolling_cohorts = Some((participant_id.to_string(), cohorts));
    }
}
