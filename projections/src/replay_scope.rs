//! "As known at" for part of the store: the report input replayed from only
//! the streams a report's scope can need, so that a request's cost follows
//! the organisation or the cohorts it asks about, not the whole history.
//!
//! Which streams, as known at T (docs/design.md, "Known at: replaying only
//! the report's streams"), always a superset of what the figures read:
//!
//! - **an organisation**: every stream with an event recorded by T that
//!   names it (a registration, role change or rejoining, which always carry
//!   the organisation; a post's establishment), found in
//!   `event_organisations` (`migrations/0008_known_at_scope.sql`, a link
//!   per organisation and stream, written by a trigger with the events); then
//!   every participant a fill of one of those posts names; every cohort.
//!   A spell in the organisation can only come from an event naming it, and
//!   an occupancy of its post only from a fill in the post's stream; links
//!   are never removed, so a later retraction or a move elsewhere never
//!   hides a stream from the lookup.
//! - **the people ever enrolled**: every cohort, and every participant an
//!   enrolment recorded by T names (retracted or not).
//!
//! Each stream is replayed whole up to T, in stream order, exactly as
//! [`crate::replay::dataset_known_at`] replays every stream, so each part is
//! derived from the same events either way.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sqlx::{PgConnection, PgPool};

use crate::derive::canonical_order;
use crate::ladder_edits;
use crate::projector::ProjectorError;
use crate::replay::{add_stream, dataset_known_at, provenance};
use crate::reports::model::Dataset;
use crate::source::{StoredEvent, WholeStreams, COLUMNS};
use crate::tables::Provenance;

/// How many streams one statement reads: each statement sorts only its own
/// streams' events, so memory stays bounded by a chunk, not the scope.
const STREAMS_PER_READ: usize = 1_000;

/// Which part of the store a report as known at a moment can depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KnownAtScope {
    /// Everything (a figure over the whole workforce): a replay of the store.
    Everyone,
    /// The organisation's posts, the people who held a spell in it or
    /// occupied one of its posts (each with their whole history), and every
    /// cohort.
    Organisation(String),
    /// Every cohort and the people ever enrolled in one; no posts.
    CohortMembers,
}

/// The report input as known at `known_at`, replayed from the streams
/// `scope` can need, with what it reflects (the same provenance as a replay
/// of the whole store).
pub async fn scoped_dataset_known_at(
    pool: &PgPool,
    known_at: DateTime<Utc>,
    scope: &KnownAtScope,
) -> Result<(Dataset, Provenance), ProjectorError> {
    let organisation = match scope {
        KnownAtScope::Everyone => return dataset_known_at(pool, Some(known_at)).await,
        KnownAtScope::Organisation(organisation) => Some(organisation.as_str()),
        KnownAtScope::CohortMembers => None,
    };
    let levels = ladder_edits::ladders_known_at(pool, Some(known_at)).await?;
    let mut db = pool.acquire().await?;
    let ladders_recorded_at = crate::tables::last_ladder_edit(&mut db, Some(known_at)).await?;
    let mut dataset = Dataset::default();
    let mut replay = Replay {
        db: &mut db,
        known_at,
        levels: &levels,
        dataset: &mut dataset,
        named_participants: BTreeSet::new(),
    };
    replay.every_cohort(organisation.is_none()).await?;
    let people = match organisation {
        Some(organisation) => {
            let (posts, mut people) = replay.streams_naming(organisation).await?;
            replay.streams("post", &posts).await?;
            people.append(&mut replay.named_participants);
            people
        }
        None => std::mem::take(&mut replay.named_participants),
    };
    replay.streams("participant", &people).await?;
    canonical_order(&mut dataset);
    let provenance = provenance(&mut db, Some(known_at), ladders_recorded_at).await?;
    Ok((dataset, provenance))
}

/// One scoped replay in progress.
struct Replay<'a> {
    db: &'a mut PgConnection,
    known_at: DateTime<Utc>,
    levels: &'a aggregates::Levels,
    dataset: &'a mut Dataset,
    /// Participants named by the cohort or post events replayed so far
    /// (enrolments, fills): the people those streams can bring in.
    named_participants: BTreeSet<String>,
}

impl Replay<'_> {
    /// Replays every cohort stream recorded by `known_at`; with `members`,
    /// notes every participant an enrolment names.
    async fn every_cohort(&mut self, members: bool) -> Result<(), ProjectorError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM events WHERE aggregate_type = 'cohort' AND recorded_at <= $1 \
              ORDER BY aggregate_type, aggregate_id, sequence"
        );
        let events = sqlx::query_as::<_, StoredEvent>(&sql)
            .bind(self.known_at)
            .fetch(&mut *self.db);
        let naming = members.then_some("ParticipantEnrolled");
        let mut named = fold(events, self.dataset, self.levels, naming).await?;
        self.named_participants.append(&mut named);
        Ok(())
    }

    /// The post and participant streams with an event recorded by
    /// `known_at` that names `organisation` (one indexed range of
    /// `event_organisations`, a row per stream).
    async fn streams_naming(
        &mut self,
        organisation: &str,
    ) -> Result<(BTreeSet<String>, BTreeSet<String>), ProjectorError> {
        let streams: Vec<(String, String)> = sqlx::query_as(
            "SELECT aggregate_type, aggregate_id FROM event_organisations \
              WHERE organisation = $1 AND first_recorded_at <= $2",
        )
        .bind(organisation)
        .bind(self.known_at)
        .fetch_all(&mut *self.db)
        .await?;
        let (mut posts, mut people) = (BTreeSet::new(), BTreeSet::new());
        for (aggregate_type, aggregate_id) in streams {
            match aggregate_type.as_str() {
                "post" => posts.insert(aggregate_id),
                _ => people.insert(aggregate_id),
            };
        }
        Ok((posts, people))
    }

    /// Replays the `aggregate_type` streams `ids`, each whole up to
    /// `known_at`; notes every participant a post's fill names.
    async fn streams(&mut self, aggregate_type: &str, ids: &BTreeSet<String>) -> Result<(), ProjectorError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM events \
              WHERE aggregate_type = $1 AND aggregate_id = ANY($2) AND recorded_at <= $3 \
              ORDER BY aggregate_id, sequence"
        );
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        for chunk in ids.chunks(STREAMS_PER_READ) {
            let events = sqlx::query_as::<_, StoredEvent>(&sql)
                .bind(aggregate_type)
                .bind(chunk)
                .bind(self.known_at)
                .fetch(&mut *self.db);
            let mut named = fold(events, self.dataset, self.levels, Some("PostFilled")).await?;
            self.named_participants.append(&mut named);
        }
        Ok(())
    }
}

/// Folds `events` (in stream order) into `dataset`, stream by stream;
/// the participants named by its events of type `naming`.
async fn fold<S>(
    mut events: S,
    dataset: &mut Dataset,
    levels: &aggregates::Levels,
    naming: Option<&str>,
) -> Result<BTreeSet<String>, ProjectorError>
where
    S: futures::Stream<Item = Result<StoredEvent, sqlx::Error>> + Unpin,
{
    let mut streams = WholeStreams::default();
    let mut named = BTreeSet::new();
    while let Some(event) = events.try_next().await? {
        if let Some(event_type) = naming {
            named.extend(participant_named(&event, event_type));
        }
        if let Some(stream) = streams.push(event) {
            add_stream(dataset, &stream, levels)?;
        }
    }
    if let Some(stream) = streams.finish() {
        add_stream(dataset, &stream, levels)?;
    }
    Ok(named)
}

/// The participant an event of type `event_type` names (an enrolment or a
/// fill: `{"<variant>": {"participant_id": ...}}`), as a stream id.
fn participant_named(event: &StoredEvent, event_type: &str) -> Option<String> {
    if event.event_type != event_type {
        return None;
    }
    let variant = event.payload.as_object()?.values().next()?;
    variant.get("participant_id")?.as_str().map(str::to_owned)
}
