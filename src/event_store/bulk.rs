//! Reading and writing many streams at once, for imports: a store holding
//! the append lock loads a chunk of streams with one query each way and
//! appends every commit decided on them in one transaction.

use std::collections::{BTreeSet, HashMap};

use cqrs_es::Aggregate;
use serde_json::Value;

use chrono::{DateTime, Utc};

use super::batch::{judge_all, Judged};
use super::read::COHORTS_ENROLLING_ANY;
use super::{AppendError, Commit, EventStore, LoadedStream, StoreError};

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
    /// or, when any one is refused, none. The events go in with one `COPY`
    /// (an import's chunk is thousands of them); each commit keeps its own
    /// recorded time, one microsecond after the one before, as in a group.
    pub async fn append_all(&self, commits: &[Commit]) -> Result<BulkReceipt, AppendError> {
        let held = self.held.as_ref().ok_or(StoreError::LockReleased)?;
        let mut tx = held.lock().await.take().ok_or(StoreError::LockReleased)?;
        let refs: Vec<&Commit> = commits.iter().collect();
        // Rolled back when `tx` is dropped on a refusal.
        for verdict in judge_all(&mut tx, &refs).await? {
            match verdict {
                Judged::Accepted => {}
                Judged::Refused(refused) => return Err(refused),
                Judged::SameKeyAs(_) => {
                    return Err(AppendError::Store(StoreError::Repository(
                        "two commits of one bulk append carry the same key".into(),
                    )))
                }
            }
        }
        let (stamp, txid): (DateTime<Utc>, i64) = sqlx::query_as(
            "SELECT GREATEST(clock_timestamp(), (SELECT MAX(recorded_at) FROM events) + interval '1 microsecond'), \
                    txid_current()",
        )
        .fetch_one(&mut *tx)
        .await?;
        let mut rows = Vec::with_capacity(1 << 20);
        let mut events = 0;
        let mut copy = tx
            .copy_in_raw(
                "COPY events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, \
                              metadata, recorded_at) FROM STDIN",
            )
            .await?;
        for (n, commit) in commits.iter().enumerate() {
            let metadata = serde_json::to_string(&commit.metadata)
                .map_err(|e| AppendError::Store(StoreError::Repository(e.to_string())))?;
            let recorded_at = (stamp + chrono::Duration::microseconds(n as i64))
                .format("%Y-%m-%d %H:%M:%S%.6f+00")
                .to_string();
            for write in &commit.writes {
                for (i, event) in write.events.iter().enumerate() {
                    let sequence = write.expected_version + 1 + i as u64;
                    let payload = event.payload.to_string();
                    let fields: [&str; 8] = [
                        write.aggregate_type,
                        &write.aggregate_id,
                        &sequence.to_string(),
                        &event.event_type,
                        &event.event_version,
                        &payload,
                        &metadata,
                        &recorded_at,
                    ];
                    copy_row(&mut rows, &fields);
                    events += 1;
                }
            }
            if rows.len() >= 1 << 20 {
                copy.send(std::mem::take(&mut rows)).await?;
            }
        }
        if !rows.is_empty() {
            copy.send(rows).await?;
        }
        copy.finish().await?;
        let last_global_position: Option<i64> = sqlx::query_scalar("SELECT MAX(global_position) FROM events")
            .fetch_one(&mut *tx)
            .await?;
        self.finish(tx, txid).await?;
        Ok(BulkReceipt {
            events_appended: events,
            last_global_position: last_global_position.filter(|_| events > 0),
        })
    }
}

/// What a bulk append recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkReceipt {
    pub events_appended: usize,
    /// The global position of the last event appended.
    pub last_global_position: Option<i64>,
}

/// One row of `COPY … FROM STDIN` in text format: fields separated by tabs,
/// and in each the backslash and the characters that end a field or a row
/// escaped.
fn copy_row(out: &mut Vec<u8>, fields: &[&str]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        for b in field.bytes() {
            match b {
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\t' => out.extend_from_slice(b"\\t"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                other => out.push(other),
            }
        }
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_copy_row_escapes_what_would_end_a_field_or_a_row() {
        let mut out = Vec::new();
        super::copy_row(&mut out, &["a\tb", "c\\d", "e\nf\rg", "{\"h\":\"\\\"i\"}"]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a\\tb\tc\\\\d\te\\nf\\rg\t{\"h\":\"\\\\\"i\"}\n"
        );
    }
}
