//! Reading and writing many streams at once, for imports: a store holding
//! the append lock loads a chunk of streams with one query each way and
//! appends every commit decided on them in one transaction.

use std::collections::{BTreeSet, HashMap};

use cqrs_es::Aggregate;

use chrono::{DateTime, Utc};

use super::batch::{judge_all, Judged};
use super::links::{OrganisationLinks, LINKED_HERE};
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
        let rows: Vec<(String, i64, String, Option<String>)> = sqlx::query_as(
            "SELECT aggregate_id, sequence, payload::text, metadata ->> 'idempotency_key' FROM events \
              WHERE aggregate_type = $1 AND aggregate_id = ANY($2) ORDER BY aggregate_id, sequence",
        )
        .bind(A::TYPE)
        .bind(ids)
        .fetch_all(self.reader().await?.connection()?)
        .await?;
        let mut streams: HashMap<String, (LoadedStream<A>, BTreeSet<String>)> = HashMap::new();
        for (id, sequence, payload, key) in rows {
            let sequence = sequence as u64;
            let event: A::Event = serde_json::from_str(&payload).map_err(|e| StoreError::Undecodable {
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
        let rows = PreparedRows::of(commits)?;
        self.append_prepared(commits, &rows).await
    }

    /// [`Self::append_all`] with the rows of `commits` written beforehand
    /// ([`PreparedRows::of`] the very same commits), so that the time the
    /// lock is held goes to PostgreSQL, not to writing them.
    pub async fn append_prepared(
        &self,
        commits: &[Commit],
        prepared: &PreparedRows,
    ) -> Result<BulkReceipt, AppendError> {
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
        sqlx::query(LINKED_HERE).execute(&mut *tx).await?;
        let mut copy = tx
            .copy_in_raw(
                "COPY events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, \
                              metadata, recorded_at) FROM STDIN",
            )
            .await?;
        let mut rows = Vec::with_capacity(SEND_BYTES + (64 << 10));
        let mut clock = RecordedAt::default();
        let mut recorded_at = (usize::MAX, String::new());
        let mut start = 0;
        for &(end, n) in &prepared.rows {
            if recorded_at.0 != n {
                recorded_at = (n, clock.text(stamp + chrono::Duration::microseconds(n as i64)));
            }
            rows.extend_from_slice(&prepared.bytes[start..end]);
            rows.extend_from_slice(recorded_at.1.as_bytes());
            rows.push(b'\n');
            start = end;
            if rows.len() >= SEND_BYTES {
                copy.send(rows.as_slice()).await?;
                rows.clear();
            }
        }
        if !rows.is_empty() {
            copy.send(rows.as_slice()).await?;
        }
        copy.finish().await?;
        prepared.links.write(&mut tx, stamp).await?;
        let last_global_position: Option<i64> = sqlx::query_scalar("SELECT MAX(global_position) FROM events")
            .fetch_one(&mut *tx)
            .await?;
        self.finish(tx, txid).await?;
        let events = prepared.rows.len();
        Ok(BulkReceipt {
            events_appended: events,
            last_global_position: last_global_position.filter(|_| events > 0),
        })
    }
}

/// The `COPY` rows of some commits, written before the append lock is
/// taken: every field but the recorded time, which only the append can
/// give, and the organisations the events name.
pub struct PreparedRows {
    /// Each row's fields but the last, each followed by a tab.
    bytes: Vec<u8>,
    /// Where each row's bytes end, and the index of its commit.
    rows: Vec<(usize, usize)>,
    links: OrganisationLinks,
}

impl PreparedRows {
    /// The rows of `commits`, in order.
    pub fn of(commits: &[Commit]) -> Result<PreparedRows, AppendError> {
        let mut prepared = PreparedRows {
            bytes: Vec::new(),
            rows: Vec::new(),
            links: OrganisationLinks::default(),
        };
        let mut metadata = Vec::new();
        for (n, commit) in commits.iter().enumerate() {
            metadata.clear();
            serde_json::to_writer(&mut metadata, &commit.metadata)
                .map_err(|e| AppendError::Store(StoreError::Repository(e.to_string())))?;
            for write in &commit.writes {
                for (i, event) in write.events.iter().enumerate() {
                    let sequence = write.expected_version + 1 + i as u64;
                    let mut row = CopyRow::start(&mut prepared.bytes);
                    row.text(write.aggregate_type);
                    row.text(&write.aggregate_id);
                    row.text(&sequence.to_string());
                    row.text(&event.event_type);
                    row.text(&event.event_version);
                    row.text(event.payload.get());
                    row.bytes(&metadata);
                    // The recorded time follows, once the append knows it.
                    prepared.bytes.push(b'\t');
                    prepared.rows.push((prepared.bytes.len(), n));
                    prepared.links.note(
                        write.aggregate_type,
                        &write.aggregate_id,
                        &event.event_type,
                        &event.payload,
                        n,
                    );
                }
            }
        }
        Ok(prepared)
    }
}

/// What a bulk append recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkReceipt {
    pub events_appended: usize,
    /// The global position of the last event appended.
    pub last_global_position: Option<i64>,
}

/// How much of a `COPY` is built before it is sent: PostgreSQL starts
/// on it while the next is built.
const SEND_BYTES: usize = 1 << 20;

/// One row of `COPY … FROM STDIN` in text format being written: fields
/// separated by tabs, and in each the backslash and the characters that
/// end a field or a row escaped.
struct CopyRow<'a> {
    out: &'a mut Vec<u8>,
    fields: usize,
}

impl<'a> CopyRow<'a> {
    fn start(out: &'a mut Vec<u8>) -> Self {
        CopyRow { out, fields: 0 }
    }

    fn separate(&mut self) {
        if self.fields > 0 {
            self.out.push(b'\t');
        }
        self.fields += 1;
    }

    fn text(&mut self, field: &str) {
        self.bytes(field.as_bytes());
    }

    fn bytes(&mut self, field: &[u8]) {
        self.separate();
        escape_into(self.out, field);
    }

    #[cfg(test)]
    fn end(self) {
        self.out.push(b'\n');
    }
}

fn escape_into(out: &mut Vec<u8>, field: &[u8]) {
    // Most fields have nothing to escape: copy them whole.
    if !field.iter().any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r')) {
        out.extend_from_slice(field);
        return;
    }
    for &b in field {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            other => out.push(other),
        }
    }
}

/// A recorded time as `COPY` text, the date and time to the second written
/// once per second rather than once per commit.
#[derive(Default)]
struct RecordedAt {
    second: i64,
    prefix: String,
}

impl RecordedAt {
    fn text(&mut self, at: DateTime<Utc>) -> String {
        if self.prefix.is_empty() || at.timestamp() != self.second {
            self.second = at.timestamp();
            self.prefix = at.format("%Y-%m-%d %H:%M:%S").to_string();
        }
        format!("{}.{:06}+00", self.prefix, at.timestamp_subsec_micros())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    #[test]
    fn a_copy_row_escapes_what_would_end_a_field_or_a_row() {
        let mut out = Vec::new();
        let mut row = super::CopyRow::start(&mut out);
        row.text("a\tb");
        row.text("c\\d");
        row.bytes(b"e\nf\rg");
        row.text(
            serde_json::value::to_raw_value(&serde_json::json!({"h": "\"i\\\n"}))
                .unwrap()
                .get(),
        );
        row.end();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a\\tb\tc\\\\d\te\\nf\\rg\t{\"h\":\"\\\\\"i\\\\\\\\\\\\n\"}\n"
        );
    }

    #[test]
    fn recorded_times_are_written_to_the_microsecond_across_seconds() {
        let mut clock = super::RecordedAt::default();
        let at = chrono::Utc.with_ymd_and_hms(2026, 11, 29, 23, 59, 59).unwrap();
        assert_eq!(
            clock.text(at + chrono::Duration::microseconds(999_999)),
            "2026-11-29 23:59:59.999999+00"
        );
        assert_eq!(
            clock.text(at + chrono::Duration::microseconds(1_000_007)),
            "2026-11-30 00:00:00.000007+00"
        );
    }
}
