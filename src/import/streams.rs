//! The cohort and post streams an import reads and changes, as its
//! decisions leave them, and how a facts file's names find them: a cohort
//! by programme and name, a post by organisation and reference.
//!
//! Names are resolved once per import (two queries, through the indexes of
//! migration 0012) for every name the file uses, before anything is
//! decided; cohorts opened and posts established by the file are added as
//! they are decided.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use aggregates::cohort::Cohort;
use aggregates::post::Post;
use cqrs_es::Aggregate;
use sqlx::PgPool;
use uuid::Uuid;

use super::facts::{Fact, FactKind, RowError, Text};
use crate::event_store::{EventStore, StoreError};

/// A stream as an import holds it.
#[derive(Debug, Clone)]
pub(super) struct Held<A> {
    /// Its version once the commits decided so far are appended.
    pub(super) version: u64,
    pub(super) aggregate: A,
    /// The fact keys its stored events were recorded under (shared: a
    /// stream is copied for every person whose facts touch it).
    pub(super) stored_keys: std::sync::Arc<BTreeSet<String>>,
    /// The fact keys decided on it by this import, with the sequence of
    /// the first event each recorded.
    pub(super) new_keys: BTreeMap<String, u64>,
}

impl<A: Aggregate> Held<A> {
    /// Whether the fact with `key` is recorded on this stream (before, or
    /// earlier in this import).
    pub(super) fn records(&self, key: &str) -> bool {
        self.stored_keys.contains(key) || self.new_keys.contains_key(key)
    }

    /// Applies `events`, decided for the fact with `key`.
    pub(super) fn record(&mut self, key: &str, events: &[A::Event]) {
        self.new_keys.entry(key.to_string()).or_insert(self.version + 1);
        self.version += events.len() as u64;
        for event in events {
            self.aggregate.apply(event.clone());
        }
    }
}

/// Cohort and post streams held by an import, by id.
#[derive(Debug, Default)]
pub(super) struct ChunkPosts {
    pub(super) posts: BTreeMap<Uuid, Held<Post>>,
    pub(super) cohorts: BTreeMap<Uuid, Held<Cohort>>,
}

impl ChunkPosts {
    /// The streams as the chunk before left them: in a dry run, what the
    /// file's earlier facts did to them (nothing was appended for the store
    /// to say so); otherwise what they will be once that chunk is appended,
    /// since the next chunk is decided while it is (its append re-checks
    /// every version, and a chunk redone clears them: `chunks.rs`).
    pub(super) fn starting_from(entities: &mut Entities) -> ChunkPosts {
        std::mem::take(&mut entities.unstored)
    }

    /// Keeps this chunk's streams for the next.
    pub(super) fn keep_for_next_chunk(self, entities: &mut Entities) {
        entities.unstored = self;
    }

    /// Forgets the streams kept: the next decision reads them from the store.
    pub(super) fn forget(entities: &mut Entities) {
        entities.unstored = ChunkPosts::default();
    }
}

/// Reads stream `id` as held in `held`, else from `store`.
pub(super) async fn held<A: Aggregate + Clone>(
    held: &BTreeMap<Uuid, Held<A>>,
    id: Uuid,
    store: &EventStore,
) -> Result<Held<A>, StoreError> {
    if let Some(kept) = held.get(&id) {
        return Ok(kept.clone());
    }
    Ok(load::<A>(store, &[id]).await?.remove(&id).unwrap_or_else(|| Held {
        version: 0,
        aggregate: A::default(),
        stored_keys: Default::default(),
        new_keys: BTreeMap::new(),
    }))
}

/// Streams `ids` as stored (those with events), in one query.
async fn load<A: Aggregate>(store: &EventStore, ids: &[Uuid]) -> Result<BTreeMap<Uuid, Held<A>>, StoreError> {
    let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    let loaded = store.load_many::<A>(&ids).await?;
    Ok(loaded
        .into_iter()
        .filter_map(|(id, (stream, keys))| {
            let held = Held {
                version: stream.version,
                aggregate: stream.aggregate,
                stored_keys: std::sync::Arc::new(keys),
                new_keys: BTreeMap::new(),
            };
            id.parse().ok().map(|id| (id, held))
        })
        .collect())
}

/// How many cohort and post streams an import keeps from one chunk to the
/// next: a post with its history is a few kilobytes, so this bounds what
/// they take to about a hundred megabytes (every post of a million-event
/// history fits).
const KEPT_STREAMS: usize = 30_000;

/// The versions of the streams a chunk holds when it starts deciding.
pub(super) struct Versions {
    cohorts: BTreeMap<Uuid, u64>,
    posts: BTreeMap<Uuid, u64>,
}

impl ChunkPosts {
    /// The versions of the streams held now.
    pub(super) fn versions(&self) -> Versions {
        Versions {
            cohorts: self.cohorts.iter().map(|(id, h)| (*id, h.version)).collect(),
            posts: self.posts.iter().map(|(id, h)| (*id, h.version)).collect(),
        }
    }

    /// Keeps what the next chunk is likely to read again, within bounds:
    /// every stream held while there are at most [`KEPT_STREAMS`] (people
    /// in every chunk fill and leave the same posts, and reading a
    /// chunk's posts again from the store was a fifth of deciding it),
    /// else only the streams this chunk wrote (held at `start` and moved on
    /// since, or read during the chunk and written), which the store cannot
    /// tell the next chunk about yet since it is decided before this one is
    /// appended. What an import holds thus stays bounded however many
    /// cohorts and posts the file names. A stream held that someone else
    /// writes meanwhile is caught by the append's version check like any
    /// other (`chunks.rs`).
    pub(super) fn keep_within_bounds(&mut self, start: &Versions) {
        if self.cohorts.len() + self.posts.len() <= KEPT_STREAMS {
            return;
        }
        fn written<A>(start: &BTreeMap<Uuid, u64>, id: &Uuid, held: &Held<A>) -> bool {
            match start.get(id) {
                Some(version) => held.version > *version,
                None => !held.new_keys.is_empty(),
            }
        }
        self.cohorts.retain(|id, held| written(&start.cohorts, id, held));
        self.posts.retain(|id, held| written(&start.posts, id, held));
    }

    /// Reads, in one query each, the `cohorts` and `posts` not held yet: a
    /// chunk names hundreds, and reading them one by one as first used
    /// was a round trip each.
    pub(super) async fn preload(
        &mut self,
        store: &EventStore,
        cohorts: &[Uuid],
        posts: &[Uuid],
    ) -> Result<(), StoreError> {
        let cohorts: Vec<Uuid> = cohorts
            .iter()
            .filter(|id| !self.cohorts.contains_key(id))
            .copied()
            .collect();
        if !cohorts.is_empty() {
            self.cohorts.extend(load::<Cohort>(store, &cohorts).await?);
        }
        let posts: Vec<Uuid> = posts
            .iter()
            .filter(|id| !self.posts.contains_key(id))
            .copied()
            .collect();
        if !posts.is_empty() {
            self.posts.extend(load::<Post>(store, &posts).await?);
        }
        Ok(())
    }
}

/// The sequence of the first event of stream `aggregate_type`/`id`
/// recorded under fact key `key`, if one is stored.
pub(super) async fn stored_sequence(
    pool: &PgPool,
    aggregate_type: &str,
    id: Uuid,
    key: &str,
) -> Result<Option<u64>, StoreError> {
    let sequence: Option<i64> = sqlx::query_scalar(
        "SELECT min(sequence) FROM events \
          WHERE aggregate_type = $1 AND aggregate_id = $2 AND metadata ->> 'idempotency_key' = $3",
    )
    .bind(aggregate_type)
    .bind(id.to_string())
    .bind(key)
    .fetch_one(pool)
    .await?;
    Ok(sequence.map(|s| s as u64))
}

/// (programme, name, cohort id) of every cohort opened under one of the
/// names `($1[i], $2[i])`; through `events_cohort_name_idx` (migration 0012).
pub const COHORTS_NAMED: &str =
    "SELECT payload -> 'Opened' ->> 'programme', payload -> 'Opened' ->> 'name', aggregate_id FROM events \
      WHERE aggregate_type = 'cohort' AND event_type = 'CohortOpened' \
        AND (payload -> 'Opened' ->> 'programme', payload -> 'Opened' ->> 'name') \
            IN (SELECT * FROM unnest($1::text[], $2::text[]))";

/// (organisation, reference, post id) of every post established under one
/// of the references `($1[i], $2[i])`; through `events_post_reference_idx`.
pub const POSTS_NAMED: &str =
    "SELECT payload -> 'Established' ->> 'organisation', payload -> 'Established' ->> 'reference', aggregate_id \
       FROM events \
      WHERE aggregate_type = 'post' AND event_type = 'PostEstablished' \
        AND payload -> 'Established' ->> 'reference' IS NOT NULL \
        AND (payload -> 'Established' ->> 'organisation', payload -> 'Established' ->> 'reference') \
            IN (SELECT * FROM unnest($1::text[], $2::text[]))";

/// What the file's names stand for.
#[derive(Debug, Default)]
pub(super) struct Entities {
    /// Cohorts by (programme, name).
    cohorts: HashMap<(String, String), Uuid>,
    /// Names more than one cohort has (opened twice through the API).
    ambiguous: HashSet<(String, String)>,
    /// Posts by (organisation, reference).
    posts: HashMap<(String, String), Uuid>,
    /// The names looked up in the store (found or not), so that each is
    /// asked once.
    cohorts_asked: HashSet<(String, String)>,
    posts_asked: HashSet<(String, String)>,
    /// The streams as the chunks decided so far leave them (`ChunkPosts::starting_from`).
    pub(super) unstored: ChunkPosts,
}

impl Entities {
    /// Resolves every cohort and post name used by `facts`, in two
    /// queries; a name not among them is looked up when first used.
    pub(super) async fn resolve<'a>(
        pool: &PgPool,
        facts: impl Iterator<Item = &'a Fact>,
    ) -> Result<Entities, StoreError> {
        let mut entities = Entities::default();
        entities.resolve_more(pool, facts).await?;
        Ok(entities)
    }

    /// Resolves, in at most two queries, the names `facts` use that no
    /// earlier lookup asked for (a chunk's, before it is decided).
    pub(super) async fn resolve_more<'a>(
        &mut self,
        pool: &PgPool,
        facts: impl Iterator<Item = &'a Fact>,
    ) -> Result<(), StoreError> {
        let mut cohort_names: BTreeSet<(&str, &str)> = BTreeSet::new();
        let mut post_names: BTreeSet<(&str, &str)> = BTreeSet::new();
        for fact in facts {
            if let (Some(programme), Some(cohort)) = (&fact.programme, &fact.cohort) {
                cohort_names.insert((programme, cohort));
            }
            // A role change may name a post without its organisation (the
            // person's that day): that one is looked up when decided.
            if let (Some(organisation), Some(post)) = (&fact.organisation, &fact.post) {
                post_names.insert((organisation, post));
            }
        }
        let unasked =
            |asked: &HashSet<(String, String)>, known: &HashMap<(String, String), Uuid>, (a, b): &(&str, &str)| {
                let name = (a.to_string(), b.to_string());
                !asked.contains(&name) && !known.contains_key(&name)
            };
        cohort_names.retain(|name| unasked(&self.cohorts_asked, &self.cohorts, name));
        post_names.retain(|name| unasked(&self.posts_asked, &self.posts, name));
        if !cohort_names.is_empty() {
            let (programmes, names): (Vec<&str>, Vec<&str>) = cohort_names.into_iter().unzip();
            self.find_cohorts(pool, &programmes, &names).await?;
        }
        if !post_names.is_empty() {
            let (organisations, references): (Vec<&str>, Vec<&str>) = post_names.into_iter().unzip();
            self.find_posts(pool, &organisations, &references).await?;
        }
        Ok(())
    }

    /// The cohorts and posts `facts` name that are resolved, by id.
    pub(super) fn named<'a>(&self, facts: impl Iterator<Item = &'a Fact>) -> (Vec<Uuid>, Vec<Uuid>) {
        let mut cohorts = BTreeSet::new();
        let mut posts = BTreeSet::new();
        for fact in facts {
            if let (Some(programme), Some(cohort)) = (&fact.programme, &fact.cohort) {
                cohorts.extend(self.cohorts.get(&(programme.to_string(), cohort.to_string())));
            }
            if let (Some(organisation), Some(post)) = (&fact.organisation, &fact.post) {
                posts.extend(self.posts.get(&(organisation.to_string(), post.to_string())));
            }
        }
        (cohorts.into_iter().collect(), posts.into_iter().collect())
    }

    async fn find_cohorts(&mut self, pool: &PgPool, programmes: &[&str], names: &[&str]) -> Result<(), StoreError> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(COHORTS_NAMED)
            .bind(programmes)
            .bind(names)
            .fetch_all(pool)
            .await?;
        for (programme, name, id) in rows {
            let Ok(id) = id.parse() else { continue };
            let name = (programme, name);
            if self.cohorts.insert(name.clone(), id).is_some() {
                self.ambiguous.insert(name);
            }
        }
        for (programme, name) in programmes.iter().zip(names) {
            self.cohorts_asked.insert((programme.to_string(), name.to_string()));
        }
        Ok(())
    }

    async fn find_posts(
        &mut self,
        pool: &PgPool,
        organisations: &[&str],
        references: &[&str],
    ) -> Result<(), StoreError> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(POSTS_NAMED)
            .bind(organisations)
            .bind(references)
            .fetch_all(pool)
            .await?;
        for (organisation, reference, id) in rows {
            if let Ok(id) = id.parse() {
                self.posts.insert((organisation, reference), id);
            }
        }
        for (organisation, reference) in organisations.iter().zip(references) {
            self.posts_asked
                .insert((organisation.to_string(), reference.to_string()));
        }
        Ok(())
    }

    /// The cohort a fact names, if one is recorded (or opened by the file).
    pub(super) async fn cohort(
        &mut self,
        pool: &PgPool,
        fact: &Fact,
    ) -> Result<Result<Option<Uuid>, RowError>, StoreError> {
        let name = cohort_name(fact);
        if !self.cohorts.contains_key(&name) && !self.cohorts_asked.contains(&name) {
            self.find_cohorts(pool, &[&name.0], &[&name.1]).await?;
        }
        if self.ambiguous.contains(&name) {
            return Ok(Err(row_error(
                fact,
                "cohort",
                "ambiguous_cohort",
                format!(
                    "programme {:?} has more than one cohort named {:?} (opened through the API); \
                     record this one through the API by the cohort's id",
                    name.0, name.1
                ),
            )));
        }
        Ok(Ok(self.cohorts.get(&name).copied()))
    }

    /// The cohort a fact names, which must exist.
    pub(super) async fn existing_cohort(
        &mut self,
        pool: &PgPool,
        fact: &Fact,
    ) -> Result<Result<Uuid, RowError>, StoreError> {
        Ok(self
            .cohort(pool, fact)
            .await?
            .and_then(|id| id.ok_or_else(|| unknown_cohort(fact))))
    }

    /// Records that the file opened cohort `id`.
    pub(super) fn opened(&mut self, fact: &Fact, id: Uuid) {
        self.cohorts.insert(cohort_name(fact), id);
    }

    /// The post `fact` names in `organisation`, if one is recorded.
    pub(super) async fn post(
        &mut self,
        pool: &PgPool,
        fact: &Fact,
        organisation: &str,
    ) -> Result<Option<Uuid>, StoreError> {
        let reference = fact.post.as_deref().unwrap_or_default();
        let name = (organisation.to_string(), reference.to_string());
        if !self.posts.contains_key(&name) && !self.posts_asked.contains(&name) {
            self.find_posts(pool, &[organisation], &[reference]).await?;
        }
        Ok(self.posts.get(&name).copied())
    }

    /// Records that the file established post `id`.
    pub(super) fn established(&mut self, organisation: &str, reference: &str, id: Uuid) {
        self.posts.insert((organisation.to_string(), reference.to_string()), id);
    }
}

/// `fact`'s (programme, cohort name).
fn cohort_name(fact: &Fact) -> (String, String) {
    let text = |t: &Option<Text>| t.as_deref().unwrap_or_default().to_string();
    (text(&fact.programme), text(&fact.cohort))
}

/// The refusal of a row naming a cohort that does not exist.
pub(super) fn unknown_cohort(fact: &Fact) -> RowError {
    let (programme, name) = cohort_name(fact);
    row_error(
        fact,
        "cohort",
        "unknown_cohort",
        format!(
            "programme {programme:?} has no cohort named {name:?}; open it first \
             (a cohort_opened row in this file, or through the API)"
        ),
    )
}

/// The post `fact` names in `organisation`, which must exist.
pub(super) fn unknown_post(fact: &Fact, organisation: &str) -> RowError {
    row_error(
        fact,
        "post",
        "unknown_post",
        format!(
            "{organisation} has no post with reference {:?}; establish it first \
             (a post_established row in this file)",
            fact.post.as_deref().unwrap_or_default()
        ),
    )
}

/// A refused row about `fact`.
pub(super) fn row_error(fact: &Fact, column: &str, code: &str, message: impl Into<String>) -> RowError {
    RowError {
        line: fact.line,
        column: Some(column.to_string()),
        person: (!fact.person.is_empty()).then(|| fact.person.to_string()),
        error: code.to_string(),
        message: message.into(),
    }
}

/// Whether `kind` is decided with no person: before the people (a cohort
/// opened, a post established) or after them (a post disestablished, and
/// any retraction of those).
pub(super) fn decided_before_people(kind: FactKind) -> bool {
    matches!(kind, FactKind::CohortOpened | FactKind::PostEstablished)
}
