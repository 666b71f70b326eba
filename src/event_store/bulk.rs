//! Reading and writing many streams at once, for imports: a store holding
//! the append lock loads a chunk of streams with one query each way and
//! appends every commit decided on them in one transaction.

use std::collections::{BTreeSet, HashMap};

use cqrs_es::Aggregate;
use serde_json::Value;

use super::batch::write_all;
use super::read::COHORTS_ENROLLING_ANY;
use super::{AppendError, Commit, CommitReceipt, EventStore, LoadedStream, StoreError};

impl EventStore {
    /// The participants registered under any of `external_refs`, by reference.
    pub async fn participants_by_external_ref(
        &self,
        external_refs: &[&str],
    ) -> Result<HashMap<String, uuid::Uuid>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT payload -> 'Registered' ->> 'external_ref', aggregate_id FROM events \
              WHERE aggregate_type = 'participant' AND event_type = 'ParticipantRegistered' \
                AND payload -> 'Registered' ->> 'external_ref' = ANY($1)",
        )
        .bind(external_refs)
        .fetch_all(self.reader().await?.connection()?)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(r, id)| id.parse().ok().map(|id| (r, id)))
            .collect())
    }

    /// Loads and folds every stream of `ids` (one query), with the
    /// idempotency keys their events were recorded under.
    pub async fn load_many<A: Aggregate>(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, (LoadedStream<A>, BTreeSet<String>)>, StoreError> {
        let rows: Vec<(String, i64, Value, Option<String>)> = sqlx::query_as(
            "SELECT aggregate_id, sequence, payload, metadata ->> 'idempotency_key' FROM events \
              WHERE aggregate_type = $1 AND aggregate_id = ANY($2) ORDER BY aggregate_id, sequence",
        )
        .bind(A::TYPE)
        .bind(ids)
        .fetch_all(self.reader().await?.connection()?)
        .await?;
        let mut streams: HashMap<String, (LoadedStream<A>, BTreeSet<String>)> = HashMap::new();
        for (id, sequence, payload, key) in rows {
            let sequence = sequence as u64;
            let event: A::Event = serde_json::from_value(payload).map_err(|e| StoreError::Undecodable {
                aggregate_type: A::TYPE.to_string(),
                aggregate_id: id.clone(),
                sequence,
                reason: e.to_string(),
            })?;
            let (stream, keys) = streams.entry(id).or_insert_with(|| {
                (
                    LoadedStream {
                        aggregate: A::default(),
                        version: 0,
                        events: Vec::new(),
                    },
                    BTreeSet::new(),
                )
            });
            stream.aggregate.apply(event.clone());
            stream.events.push((sequence, event));
            stream.version = sequence;
            keys.extend(key);
        }
        Ok(streams)
    }

    /// The cohorts with an enrolment recorded of each of `participant_ids`.
    pub async fn cohorts_enrolling_any(
        &self,
        participant_ids: &[String],
    ) -> Result<HashMap<String, Vec<uuid::Uuid>>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(COHORTS_ENROLLING_ANY)
            .bind(participant_ids)
            .fetch_all(self.reader().await?.connection()?)
            .await?;
        let mut enrolling: HashMap<String, Vec<uuid::Uuid>> = HashMap::new();
        for (participant, cohort) in rows {
            if let Ok(cohort) = cohort.parse() {
                enrolling.entry(participant).or_default().push(cohort);
            }
        }
        Ok(enrolling)
    }

    /// Appends `commits`, in order, in the transaction holding the append
    /// lock (this store must come from [`Self::holding_append_lock`], so
    /// that they were decided on what it read), and commits it: all of them
    /// or, when any one is refused, none.
    pub async fn append_all(&self, commits: &[Commit]) -> Result<Vec<CommitReceipt>, AppendError> {
        let held = self.held.as_ref().ok_or(StoreError::LockReleased)?;
        let mut tx = held.lock().await.take().ok_or(StoreError::LockReleased)?;
        let refs: Vec<&Commit> = commits.iter().collect();
        let mut receipts = Vec::with_capacity(commits.len());
        let mut txid = None;
        for written in write_all(&mut tx, &refs).await? {
            // Rolled back when `tx` is dropped.
            let written = written?;
            txid = Some(written.txid);
            receipts.push(written.receipt);
        }
        match txid {
            Some(txid) => self.finish(tx, txid).await?,
            None => tx.commit().await.map_err(AppendError::from)?,
        }
        Ok(receipts)
    }
}
