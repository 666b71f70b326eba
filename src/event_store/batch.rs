//! Writing a group of commits with a fixed number of statements, whatever
//! its size.
//!
//! Commits are serialised under the append lock, so every statement the
//! writer sends while holding it delays every waiting client. Checked and
//! inserted one by one (a savepoint, the version check, the insert, the
//! release: four round trips each), a group of 32 commits cost about 130
//! round trips inside the lock. Here the whole group is read once (the keys
//! it carries, the versions of every stream it writes or guards, the
//! cohorts enrolling the participants it guards), each commit is judged in
//! arrival order against what the commits before it in the group leave
//! (so two commits to one stream at one version still conflict), and every
//! accepted commit's events go in with one `INSERT`, their keys with
//! another: at most five statements for any group.
//!
//! Each commit keeps its own recorded time, one microsecond after the
//! commit before it, so recorded time, position and commit order agree
//! exactly as when commits were written one by one.
//!
//! What only the database can judge (a duplicate external reference, which
//! a unique index settles) fails the whole `INSERT`; the caller then writes
//! the group's commits again one by one, each in its own transaction, so
//! that only the offending commit is refused.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use serde_json::Value;
use sqlx::PgConnection;

use super::append::{AppendError, Commit, CommitReceipt, StreamReceipt, Written};
use super::idempotency::answer_from_row;
use super::{stream_version_now, KeyedAnswer, StoreError};

/// The version of every stream, by aggregate type, then id (two levels, so
/// that a lookup borrows the names rather than copying them).
type Versions = HashMap<String, HashMap<String, u64>>;

/// How one commit of the group was judged before anything is inserted.
pub(super) enum Judged {
    Refused(AppendError),
    Accepted,
    /// Its key was first used by an earlier commit of this group (the
    /// index given), which was accepted: that commit's answer applies.
    SameKeyAs(usize),
}

/// Checks and inserts `commits` (in arrival order) in `tx`, which holds the
/// append lock. Each commit gets its own answer; an `Err` means the
/// database failed a statement and nothing written by it may be kept.
pub(super) async fn write_all(
    tx: &mut PgConnection,
    commits: &[&Commit],
) -> Result<Vec<Result<Written, AppendError>>, sqlx::Error> {
    let judged = judge_all(tx, commits).await?;
    let accepted: Vec<(usize, &Commit)> = judged
        .iter()
        .zip(commits)
        .enumerate()
        .filter(|(_, (j, _))| matches!(j, Judged::Accepted))
        .map(|(i, (_, c))| (i, *c))
        .collect();
    let mut written = insert_events(tx, &accepted).await?;
    insert_keys(tx, &accepted, &written).await?;

    let mut answers = Vec::with_capacity(commits.len());
    for (i, verdict) in judged.into_iter().enumerate() {
        answers.push(match verdict {
            Judged::Refused(refused) => Err(refused),
            Judged::Accepted => written
                .remove(&i)
                .ok_or_else(|| repository("an accepted commit has no receipt")),
            Judged::SameKeyAs(first) => {
                let receipt = answers
                    .get(first)
                    .and_then(|a: &Result<Written, AppendError>| a.as_ref().ok())
                    .map(|w| w.receipt.clone());
                let first_fingerprint = commits[first].idempotency.as_ref().map(|(_, f)| f);
                let fingerprint = commits[i].idempotency.as_ref().map(|(_, f)| f);
                match receipt {
                    Some(_) if first_fingerprint != fingerprint => Err(AppendError::KeyReused(
                        commits[i]
                            .idempotency
                            .as_ref()
                            .map(|(k, _)| k.clone())
                            .unwrap_or_default(),
                    )),
                    Some(receipt) => Err(AppendError::Replayed(Box::new(receipt))),
                    None => Err(repository("a repeated key's first commit has no receipt")),
                }
            }
        });
    }
    Ok(answers)
}

/// Judges every commit of the group in order (three queries at most).
pub(super) async fn judge_all(tx: &mut PgConnection, commits: &[&Commit]) -> Result<Vec<Judged>, sqlx::Error> {
    let stored_keys = stored_answers(tx, commits).await?;
    let mut versions = versions_now(tx, commits).await?;
    let mut enrolling = cohorts_enrolling(tx, commits).await?;
    let mut judged = Vec::with_capacity(commits.len());
    let mut keys_taken: HashMap<&str, usize> = HashMap::new();
    for (i, commit) in commits.iter().enumerate() {
        let verdict = match judge(commit, &stored_keys, &keys_taken, &versions, &enrolling) {
            Err(refused) => Judged::Refused(refused),
            Ok(Some(first)) => Judged::SameKeyAs(first),
            Ok(None) => {
                accept(commit, &mut versions, &mut enrolling);
                if let Some((key, _)) = &commit.idempotency {
                    keys_taken.insert(key, i);
                }
                Judged::Accepted
            }
        };
        judged.push(verdict);
    }
    Ok(judged)
}

/// Judges one commit against the store as the earlier commits of the group
/// leave it: `Some(i)` when commit `i` of the group took its key first.
fn judge(
    commit: &Commit,
    stored_keys: &HashMap<String, (String, i16, Value)>,
    keys_taken: &HashMap<&str, usize>,
    versions: &Versions,
    enrolling: &HashMap<String, BTreeSet<String>>,
) -> Result<Option<usize>, AppendError> {
    if let Some((key, fingerprint)) = &commit.idempotency {
        if let Some(row) = stored_keys.get(key) {
            return Err(match answer_from_row(key, fingerprint, row.clone())? {
                KeyedAnswer::Accepted(receipt) => AppendError::Replayed(Box::new(receipt)),
                KeyedAnswer::Refused(refusal) => AppendError::Refused(refusal),
            });
        }
        if let Some(&first) = keys_taken.get(key.as_str()) {
            return Ok(Some(first));
        }
    }
    let checks = commit
        .writes
        .iter()
        .map(|w| (w.aggregate_type, &w.aggregate_id, w.expected_version))
        .chain(commit.guards.iter().map(|(t, id, v)| (*t, id, *v)));
    for (aggregate_type, aggregate_id, expected) in checks {
        let actual = version_of(versions, aggregate_type, aggregate_id);
        if actual != expected {
            return Err(AppendError::Conflict {
                aggregate_type: aggregate_type.to_string(),
                aggregate_id: aggregate_id.clone(),
                expected,
                actual,
            });
        }
    }
    if let Some((participant_id, seen)) = &commit.enrolling_cohorts {
        let now = enrolling.get(participant_id).into_iter().flatten();
        if let Some(new) = now.into_iter().find(|cohort| !seen.contains(cohort)) {
            // The decision saw none of that cohort's events.
            return Err(AppendError::Conflict {
                aggregate_type: "cohort".to_string(),
                aggregate_id: new.clone(),
                expected: 0,
                actual: version_of(versions, "cohort", new),
            });
        }
    }
    Ok(None)
}

fn version_of(versions: &Versions, aggregate_type: &str, aggregate_id: &str) -> u64 {
    versions
        .get(aggregate_type)
        .and_then(|streams| streams.get(aggregate_id))
        .copied()
        .unwrap_or(0)
}

/// What an accepted commit leaves for the commits after it in the group:
/// its streams' new versions, and the enrolments it records.
fn accept(commit: &Commit, versions: &mut Versions, enrolling: &mut HashMap<String, BTreeSet<String>>) {
    for write in &commit.writes {
        let written = write.events.len() as u64;
        // Every stream the group writes was read with its version: found
        // without copying its names (thousands of commits in an import).
        match versions
            .get_mut(write.aggregate_type)
            .and_then(|streams| streams.get_mut(write.aggregate_id.as_str()))
        {
            Some(version) => *version += written,
            None => {
                versions
                    .entry(write.aggregate_type.to_string())
                    .or_default()
                    .insert(write.aggregate_id.clone(), written);
            }
        }
        for event in &write.events {
            if let Some(participant_id) = enrolled_participant(write.aggregate_type, &event.event_type, &event.payload)
            {
                enrolling
                    .entry(participant_id)
                    .or_default()
                    .insert(write.aggregate_id.clone());
            }
        }
    }
}

/// The participant a cohort event enrols, read as `COHORTS_ENROLLING` reads it.
fn enrolled_participant(aggregate_type: &str, event_type: &str, payload: &RawValue) -> Option<String> {
    if aggregate_type != "cohort" || event_type != "ParticipantEnrolled" {
        return None;
    }
    let payload: Value = serde_json::from_str(payload.get()).ok()?;
    Some(
        payload
            .get("ParticipantEnrolled")?
            .get("participant_id")?
            .as_str()?
            .to_string(),
    )
}

/// The answers already stored under the keys the group carries (one query).
async fn stored_answers(
    tx: &mut PgConnection,
    commits: &[&Commit],
) -> Result<HashMap<String, (String, i16, Value)>, sqlx::Error> {
    let keys: Vec<&str> = commits
        .iter()
        .filter_map(|c| c.idempotency.as_ref().map(|(k, _)| k.as_str()))
        .collect();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, String, i16, Value)> = sqlx::query_as(
        "SELECT idempotency_key, request_fingerprint, response_status, response_body \
           FROM idempotency_keys WHERE idempotency_key = ANY($1)",
    )
    .bind(&keys)
    .fetch_all(tx)
    .await?;
    Ok(rows.into_iter().map(|(k, f, s, b)| (k, (f, s, b))).collect())
}

/// The version of every stream the group writes or guards (one query).
async fn versions_now(tx: &mut PgConnection, commits: &[&Commit]) -> Result<Versions, sqlx::Error> {
    let streams: HashSet<(&str, &str)> = commits
        .iter()
        .flat_map(|c| {
            c.writes
                .iter()
                .map(|w| (w.aggregate_type, w.aggregate_id.as_str()))
                .chain(c.guards.iter().map(|(t, id, _)| (*t, id.as_str())))
        })
        .collect();
    let (types, ids): (Vec<&str>, Vec<&str>) = streams.into_iter().unzip();
    let rows: Vec<(String, String, i64)> = sqlx::query_as(concat!(
        "SELECT s.t, s.i, ",
        stream_version_now!(),
        " FROM UNNEST($1::text[], $2::text[]) AS s(t, i)"
    ))
    .bind(&types)
    .bind(&ids)
    .fetch_all(tx)
    .await?;
    let mut versions = Versions::new();
    for (t, i, v) in rows {
        versions.entry(t).or_default().insert(i, v as u64);
    }
    Ok(versions)
}

/// The cohorts with an enrolment recorded of each participant the group's
/// commits guard that way (one query).
async fn cohorts_enrolling(
    tx: &mut PgConnection,
    commits: &[&Commit],
) -> Result<HashMap<String, BTreeSet<String>>, sqlx::Error> {
    let participants: Vec<&str> = commits
        .iter()
        .filter_map(|c| c.enrolling_cohorts.as_ref().map(|(p, _)| p.as_str()))
        .collect();
    if participants.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, String)> = sqlx::query_as(super::read::COHORTS_ENROLLING_ANY)
        .bind(&participants)
        .fetch_all(tx)
        .await?;
    let mut enrolling: HashMap<String, BTreeSet<String>> = HashMap::new();
    for (participant, cohort) in rows {
        enrolling.entry(participant).or_default().insert(cohort);
    }
    Ok(enrolling)
}

/// Inserts the events of every accepted commit in one statement; each
/// commit's receipt, by its index in the group.
async fn insert_events(
    tx: &mut PgConnection,
    accepted: &[(usize, &Commit)],
) -> Result<HashMap<usize, Written>, sqlx::Error> {
    if accepted.is_empty() {
        return Ok(HashMap::new());
    }
    let mut commit_of = Vec::new();
    let mut types = Vec::new();
    let mut ids = Vec::new();
    let mut sequences = Vec::new();
    let mut event_types = Vec::new();
    let mut event_versions = Vec::new();
    let mut payloads = Vec::new();
    let mut metadata = Vec::new();
    for (n, (_, commit)) in accepted.iter().enumerate() {
        let meta = serde_json::to_value(&commit.metadata).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        for write in &commit.writes {
            for (i, event) in write.events.iter().enumerate() {
                commit_of.push(n as i64);
                types.push(write.aggregate_type);
                ids.push(write.aggregate_id.as_str());
                sequences.push((write.expected_version + 1 + i as u64) as i64);
                event_types.push(event.event_type.as_str());
                event_versions.push(event.event_version.as_str());
                payloads.push(event.payload.get());
                metadata.push(meta.clone());
            }
        }
    }
    // Stamped strictly later than anything already recorded, and each
    // commit one microsecond after the one before it.
    let inserted: Vec<(String, String, i64, i64, DateTime<Utc>, i64)> = sqlx::query_as(
        "WITH stamp AS (SELECT GREATEST(clock_timestamp(), \
                            (SELECT MAX(recorded_at) FROM events) + interval '1 microsecond') AS at) \
         INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
                             payload, metadata, recorded_at) \
         SELECT t, i, s, et, ev, p::json, m, (SELECT at FROM stamp) + c * interval '1 microsecond' \
           FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], \
                       $7::text[], $8::json[]) WITH ORDINALITY AS e(c, t, i, s, et, ev, p, m, n) \
          ORDER BY n \
         RETURNING aggregate_type, aggregate_id, sequence, global_position, recorded_at, txid_current()",
    )
    .bind(&commit_of)
    .bind(&types)
    .bind(&ids)
    .bind(&sequences)
    .bind(&event_types)
    .bind(&event_versions)
    .bind(&payloads)
    .bind(&metadata)
    .fetch_all(&mut *tx)
    .await?;

    let commit_of: HashMap<(&str, &str, i64), usize> = types
        .iter()
        .zip(&ids)
        .zip(&sequences)
        .zip(&commit_of)
        .map(|(((t, i), s), c)| ((*t, *i, *s), *c as usize))
        .collect();
    let mut receipts: HashMap<usize, Written> = HashMap::new();
    for (aggregate_type, aggregate_id, sequence, position, recorded_at, txid) in inserted {
        let commit_no = commit_of
            .get(&(aggregate_type.as_str(), aggregate_id.as_str(), sequence))
            .copied()
            .ok_or_else(|| {
                sqlx::Error::Protocol(format!(
                    "an inserted event {aggregate_type}/{aggregate_id}#{sequence} was not sent"
                ))
            })?;
        let (index, commit) = accepted[commit_no];
        let written = receipts.entry(index).or_insert_with(|| Written {
            receipt: CommitReceipt {
                streams: commit
                    .writes
                    .iter()
                    .map(|w| StreamReceipt {
                        aggregate_type: w.aggregate_type.to_string(),
                        aggregate_id: w.aggregate_id.clone(),
                        version: w.expected_version + w.events.len() as u64,
                    })
                    .collect(),
                global_position: position,
                recorded_at,
                events_appended: 0,
            },
            txid,
        });
        written.receipt.global_position = written.receipt.global_position.max(position);
        written.receipt.events_appended += 1;
    }
    Ok(receipts)
}

/// Keeps each accepted commit's receipt under its key (one statement).
async fn insert_keys(
    tx: &mut PgConnection,
    accepted: &[(usize, &Commit)],
    written: &HashMap<usize, Written>,
) -> Result<(), sqlx::Error> {
    let mut keys = Vec::new();
    let mut fingerprints = Vec::new();
    let mut bodies = Vec::new();
    for (index, commit) in accepted {
        if let (Some((key, fingerprint)), Some(w)) = (&commit.idempotency, written.get(index)) {
            keys.push(key.as_str());
            fingerprints.push(fingerprint.as_str());
            bodies.push(serde_json::to_value(&w.receipt).map_err(|e| sqlx::Error::Encode(Box::new(e)))?);
        }
    }
    if keys.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO idempotency_keys (idempotency_key, request_fingerprint, response_status, response_body) \
         SELECT k, f, 201, b FROM UNNEST($1::text[], $2::text[], $3::jsonb[]) AS r(k, f, b)",
    )
    .bind(&keys)
    .bind(&fingerprints)
    .bind(&bodies)
    .execute(tx)
    .await
    .map(drop)
}

fn repository(what: &str) -> AppendError {
    AppendError::Store(StoreError::Repository(what.to_string()))
}
