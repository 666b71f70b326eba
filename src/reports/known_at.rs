//! The input of a report "as known at" a moment: a replay of only the
//! streams the report's scope can need (`projections::replay_scope`), so
//! that its cost follows the organisation or cohorts asked about, not the
//! whole store; and the names it may be asked about as known then.
//!
//! A name the scoped replay does not hold may still be held elsewhere in
//! the store (a team of another organisation: a true zero) or nowhere (a
//! 422 suggesting the nearest known names); only the whole store can tell,
//! so such a request replays the whole store, as every `known_at` request
//! did before.

use std::time::Duration;

use chrono::{DateTime, Utc};
use projections::replay_scope::KnownAtScope;
use projections::reports::model::Dataset;
use projections::reports::names::KnownNames;
use projections::tables::Provenance;

use super::{
    known_names, names_given, on_a_blocking_thread, ReportKind, ReportQuery, ReportRequestError, ReportSource,
};

/// Which events a `known_at` answer replays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Replaying {
    /// Only the streams the report's scope can need (what requests do).
    ReportScope,
    /// Every stream: the definition the scoped replay must agree with.
    WholeStore,
}

/// The part of the store report `kind` asked with `q` can depend on as
/// known at a moment: the same choice as the live read's scope
/// (`super::scope`), over streams instead of read-model rows.
fn known_at_scope(kind: ReportKind, q: &ReportQuery) -> KnownAtScope {
    let organisation = q.organisation.clone().map(KnownAtScope::Organisation);
    match kind {
        ReportKind::Turnover | ReportKind::Vacancies => organisation.unwrap_or(KnownAtScope::Everyone),
        ReportKind::Leavers => match organisation {
            Some(scope) => scope,
            None if q.cohort.is_some() || q.programme.is_some() => KnownAtScope::CohortMembers,
            None => KnownAtScope::Everyone,
        },
        ReportKind::Retention | ReportKind::Promotions => KnownAtScope::CohortMembers,
    }
}

/// The report input as known at `at`, what it reflects, and the names the
/// request may use.
pub(super) async fn input(
    source: &ReportSource,
    kind: ReportKind,
    query: &ReportQuery,
    at: DateTime<Utc>,
    wait: Duration,
    replaying: Replaying,
) -> Result<(Dataset, Provenance, KnownNames), ReportRequestError> {
    source.settle_known_at(at, wait).await?;
    let scope = match replaying {
        Replaying::ReportScope => known_at_scope(kind, query),
        Replaying::WholeStore => KnownAtScope::Everyone,
    };
    let (dataset, provenance, names) = replay(source, at, scope.clone()).await?;
    let all_known = names_given(query)
        .iter()
        .all(|(kind, _, name)| names.knows(*kind, name));
    if all_known || scope == KnownAtScope::Everyone {
        return Ok((dataset, provenance, names));
    }
    replay(source, at, KnownAtScope::Everyone).await
}

async fn replay(
    source: &ReportSource,
    at: DateTime<Utc>,
    scope: KnownAtScope,
) -> Result<(Dataset, Provenance, KnownNames), ReportRequestError> {
    let pool = source.reader.clone();
    let (dataset, provenance) =
        on_a_blocking_thread(
            async move { projections::replay_scope::scoped_dataset_known_at(&pool, at, &scope).await },
        )
        .await??;
    // The replay holds everything known then in its scope: the names come from it.
    let names = known_names(&source.reader, &dataset, Some(at)).await?;
    Ok((dataset, provenance, names))
}
