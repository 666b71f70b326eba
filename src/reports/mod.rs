//! Reports: parameters as analysts name them (docs/metrics.md), the report input
//! from the read models or from an "as known at" replay, and the answer as
//! JSON or as CSV rows. Used by the HTTP API and the `tenure report` command,
//! which each turn a [`ReportRequestError`] into their own answer.

mod error;
mod known_at;
mod output;
mod params;
mod source;

pub use error::ReportRequestError;
pub use output::{to_csv, to_table};
pub use params::{ReportKind, ReportQuery, EVERY_REPORT};
pub use source::ReportSource;

/// `known_at` as every `known_at` parameter is read (an RFC 3339 moment not
/// in the future), once every commit recorded by then is visible: for the
/// entity endpoints' `known_at`.
pub async fn settled_known_at(
    pool: &sqlx::PgPool,
    text: &str,
) -> Result<chrono::DateTime<chrono::Utc>, ReportRequestError> {
    let query = ReportQuery {
        known_at: Some(text.to_string()),
        ..ReportQuery::default()
    };
    let at = query.known_at()?.ok_or(ReportRequestError::KnownAtNotTimestamp {
        given: text.to_string(),
    })?;
    source::refuse_future(pool, at).await?;
    Ok(at)
}

use output::{page_participants, render};
use source::on_a_blocking_thread;

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use projections::reports::board::BoardView;
use projections::reports::csv::ToCsvRows;
use projections::reports::model::Dataset;
use projections::reports::names::{KnownNames, NameKind};
use projections::reports::{leavers, promotions, retention, selection, turnover, vacancies, Period, ReportError};
use projections::tables::{Cohorts, People, Posts, Provenance, Scope};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

/// A computed report with what it reflects.
#[derive(Debug, Clone, Serialize)]
pub struct ReportAnswer {
    /// The figures, their definitions and footnotes.
    pub report: Value,
    /// The last event the figures reflect.
    pub provenance: Provenance,
    /// The same figures as flat rows, header first.
    #[serde(skip)]
    pub rows: Vec<Vec<String>>,
}

/// How long a report waits for the projector to reach `min_position`
/// unless the request says (`wait_ms`, at most [`LONGEST_WAIT`]).
const DEFAULT_WAIT: Duration = Duration::from_secs(10);
/// The longest wait a request may ask for.
const LONGEST_WAIT: Duration = Duration::from_secs(30);

/// Computes `kind` with `query` on `pool`: from a replay when `known_at` is
/// given, otherwise from the read models (after waiting for `min_position`).
pub async fn produce(pool: &PgPool, kind: ReportKind, query: &ReportQuery) -> Result<ReportAnswer, ReportRequestError> {
    produce_from(&ReportSource::primary(pool.clone()), kind, query).await
}

/// Computes `kind` with `query`, reading from `source` (the primary, or a
/// streaming replica that is waited for as the request needs).
pub async fn produce_from(
    source: &ReportSource,
    kind: ReportKind,
    query: &ReportQuery,
) -> Result<ReportAnswer, ReportRequestError> {
    produce_replaying(source, kind, query, known_at::Replaying::ReportScope).await
}

/// Computes `kind` with `query` as [`produce`] does, except that an answer
/// with `known_at` replays every stream in the store, not only those the
/// report's scope can need: the definition a scoped replay is tested
/// against.
pub async fn produce_replaying_whole_store(
    pool: &PgPool,
    kind: ReportKind,
    query: &ReportQuery,
) -> Result<ReportAnswer, ReportRequestError> {
    let source = ReportSource::primary(pool.clone());
    produce_replaying(&source, kind, query, known_at::Replaying::WholeStore).await
}

async fn produce_replaying(
    source: &ReportSource,
    kind: ReportKind,
    query: &ReportQuery,
    replaying: known_at::Replaying,
) -> Result<ReportAnswer, ReportRequestError> {
    query.check_accepted(kind)?;
    query.check_lists()?;
    query.check_date_range()?;
    let known_at = query.known_at()?;
    let wait = query.wait()?.unwrap_or(DEFAULT_WAIT).min(LONGEST_WAIT);
    let pool = &source.reader;
    // A replay also says which names were known then.
    let mut names_known_then = None;
    let (dataset, provenance) = match known_at {
        Some(at) => {
            let (dataset, provenance, names) = known_at::input(source, kind, query, at, wait, replaying).await?;
            names_known_then = Some(names);
            (dataset, provenance)
        }
        None => {
            if let Some(position) = query.min_position()? {
                source.wait_for_position(position, wait).await?;
            }
            // The rebuild's swap locks the live tables in an order that cannot
            // deadlock with this read (see `projections::projector::rebuild`).
            let pool = pool.clone();
            let scope = scope(kind, query);
            on_a_blocking_thread(async move {
                projections::tables::load_scoped_dataset(&pool, projections::projector::LIVE_SCHEMA, &scope).await
            })
            .await?
            .map_err(|e| source.read_failed(e))?
        }
    };
    let names = match names_known_then {
        Some(names) => names,
        None => names_asked_in_read_models(pool, query).await?,
    };
    // The calculation is pure CPU over the whole dataset: on the blocking
    // pool it cannot hold up the async workers that serve commands and
    // health checks meanwhile.
    let query = query.clone();
    let (report, rows) = tokio::task::spawn_blocking(move || compute(&dataset, &names, kind, &query))
        .await
        .map_err(ReportRequestError::internal)??;
    Ok(ReportAnswer {
        report,
        provenance,
        rows,
    })
}

/// The part of the read models report `kind` asked with `q` can depend on
/// (see [`Scope`]; docs/read-models.md, "What a report reads"): an
/// organisation's figures read the people employed there in the periods
/// asked (of the roles and team asked), the vacancies its posts established
/// on the day and their holders then, cohort figures the selected cohorts
/// and their members. A request missing a date it needs reads nothing: it
/// is refused before any figure is computed.
fn scope(kind: ReportKind, q: &ReportQuery) -> Scope {
    let window = |from: Option<NaiveDate>, to: Option<NaiveDate>| Period::new(from?, to?).ok();
    let named = || Cohorts::Named {
        programme: q.programme.clone(),
        names: q.cohort.clone(),
    };
    let employed = |windows: Vec<Period>, roles, team| Scope {
        people: People::Employed {
            organisation: q.organisation.clone(),
            windows,
            roles,
            team,
        },
        members_only: false,
        cohorts: Cohorts::None,
        posts: Posts::None,
    };
    match kind {
        ReportKind::Leavers => {
            let Some(period) = window(q.from, q.to) else {
                return Scope::nothing();
            };
            let mut windows = vec![period];
            windows.extend(window(q.compare_from, q.compare_to));
            let mut scope = employed(windows, q.list(&q.role), q.team.clone());
            if q.cohort.is_some() || q.programme.is_some() {
                scope.members_only = true;
                scope.cohorts = named();
            }
            scope
        }
        ReportKind::Turnover => match (window(q.from, q.to), &q.organisation) {
            (Some(period), Some(_)) => employed(vec![period], None, None),
            _ => Scope::nothing(),
        },
        ReportKind::Vacancies => match (q.on, &q.organisation) {
            (Some(on), Some(organisation)) => Scope {
                people: People::PostHolders { on },
                members_only: false,
                cohorts: Cohorts::None,
                posts: Posts::EstablishedOn {
                    organisation: organisation.clone(),
                    on,
                },
            },
            _ => Scope::nothing(),
        },
        ReportKind::Retention | ReportKind::Promotions => Scope {
            people: People::Members,
            members_only: false,
            cohorts: named(),
            posts: Posts::None,
        },
    }
}

/// The names `q` gives that the read models or the ladders hold (one
/// indexed lookup each, since the report reads only part of the read
/// models); when one is held nowhere, every name, so that the refusal can
/// suggest the nearest.
async fn names_asked_in_read_models(pool: &PgPool, q: &ReportQuery) -> Result<KnownNames, ReportRequestError> {
    let schema = projections::projector::LIVE_SCHEMA;
    let mut names = ladder_names(pool, None).await?;
    let mut all_held = true;
    for (kind, _, name) in names_given(q) {
        if names.knows(kind, &name) {
            continue;
        }
        if projections::tables::name_in_read_models(pool, schema, kind, &name).await? {
            names.insert(kind, name);
        } else {
            all_held = false;
        }
    }
    if !all_held {
        names.extend(projections::tables::names_in_read_models(pool, schema).await?);
    }
    Ok(names)
}

/// The organisations with a ladder of their own, and every role on a
/// ladder, the default one included: today's, or as known at `known_at`.
async fn ladder_names(pool: &PgPool, known_at: Option<DateTime<Utc>>) -> Result<KnownNames, ReportRequestError> {
    let levels = projections::ladder_edits::ladders_known_at(pool, known_at).await?;
    Ok(KnownNames::of_ladders(&levels))
}

/// The names a replayed report may be asked about: those in `dataset` (as
/// known at `known_at`) and those on the ladders as they stood then: every
/// organisation with a ladder of its own, and every role on one or on the
/// default ladder.
async fn known_names(
    pool: &PgPool,
    dataset: &Dataset,
    known_at: Option<DateTime<Utc>>,
) -> Result<KnownNames, ReportRequestError> {
    let mut names = ladder_names(pool, known_at).await?;
    names.extend(KnownNames::of(dataset));
    Ok(names)
}

/// Refuses an organisation, role, team, programme or target that no data
/// or ladder holds: it would count nothing and answer zero.
fn check_names(names: &KnownNames, q: &ReportQuery) -> Result<(), ReportError> {
    for (kind, field, name) in names_given(q) {
        names.check(kind, field, &name)?;
    }
    Ok(())
}

/// Every organisation, team, programme and role `q` names, with the
/// parameter that names it, in the order they are checked.
fn names_given(q: &ReportQuery) -> Vec<(NameKind, &'static str, String)> {
    let single = [
        (NameKind::Organisation, "organisation", &q.organisation),
        (NameKind::Team, "team", &q.team),
        (NameKind::Programme, "programme", &q.programme),
    ];
    let mut given: Vec<_> = single
        .into_iter()
        .filter_map(|(kind, field, value)| value.clone().map(|name| (kind, field, name)))
        .collect();
    for (field, list) in [("role", &q.role), ("targets", &q.targets)] {
        for code in q.list(list).unwrap_or_default() {
            given.push((NameKind::Role, field, code));
        }
    }
    given
}

/// Every parameter `kind` cannot do without, checked with the same helpers
/// (and so the same messages) that build its parameters.
fn check_required(kind: ReportKind, q: &ReportQuery) -> Result<(), ReportRequestError> {
    q.board()?;
    match kind {
        ReportKind::Promotions | ReportKind::Retention => {
            required(q.as_at, "as_at")?;
        }
        ReportKind::Leavers => {
            period(q.from, q.to, "from", "to")?;
            if q.compare_from.is_some() || q.compare_to.is_some() {
                period(q.compare_from, q.compare_to, "compare_from", "compare_to")?;
            }
        }
        ReportKind::Turnover => {
            organisation(q, "turnover")?;
            period(q.from, q.to, "from", "to")?;
        }
        ReportKind::Vacancies => {
            organisation(q, "vacancies")?;
            required(q.on, "on")?;
        }
    }
    Ok(())
}

fn missing(field: &'static str, message: impl Into<String>) -> ReportRequestError {
    ReportRequestError::MissingParameter {
        field,
        message: message.into(),
    }
}

fn required<T: Copy>(value: Option<T>, field: &'static str) -> Result<T, ReportRequestError> {
    value.ok_or_else(|| missing(field, format!("give ?{field}= for this report")))
}

/// The organisation a single-organisation report is about.
fn organisation(q: &ReportQuery, report: &str) -> Result<String, ReportRequestError> {
    let message = || missing("organisation", format!("give ?organisation= for {report}"));
    q.organisation.clone().ok_or_else(message)
}

fn period(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    from_name: &'static str,
    to_name: &'static str,
) -> Result<Period, ReportRequestError> {
    Period::new(required(from, from_name)?, required(to, to_name)?)
        .map_err(|rule| ReportRequestError::Refused { rule, field: from_name })
}

/// The cohorts named by `cohort` (ids or names), within `programme` if given.
fn cohorts(dataset: &Dataset, query: &ReportQuery) -> Result<Option<Vec<Uuid>>, ReportError> {
    query
        .cohort
        .as_deref()
        .map(|names| selection::named_cohorts(dataset, names, query.programme.as_deref()))
        .transpose()
}

/// Members of the selected cohorts (or of the programme's), for filters.
fn population(dataset: &Dataset, query: &ReportQuery) -> Result<Option<HashSet<Uuid>>, ReportError> {
    let chosen = cohorts(dataset, query)?;
    Ok(selection::population(
        dataset,
        chosen.as_deref(),
        query.programme.as_deref(),
    ))
}

fn compute(
    dataset: &Dataset,
    names: &KnownNames,
    kind: ReportKind,
    q: &ReportQuery,
) -> Result<(Value, Vec<Vec<String>>), ReportRequestError> {
    // A missing or malformed parameter (400) is reported before a name the
    // store does not know (422): the request is wrong whatever the data.
    check_required(kind, q)?;
    check_names(names, q)?;
    match kind {
        ReportKind::Promotions => {
            let targets = q
                .list(&q.targets)
                .unwrap_or_else(promotions::PromotionParams::default_targets);
            let params = promotions::PromotionParams {
                programme: q.programme.clone(),
                cohort_ids: cohorts(dataset, q)?,
                as_at: required(q.as_at, "as_at")?,
                targets,
            };
            let report = promotions::compute(dataset, &params)?;
            let (mut json, mut rows) = render(&report)?;
            match q.board()? {
                Some(board) => board.promotions(&report, &mut json, &mut rows),
                None => page_participants(&mut json, q.participants_page()?),
            }
            Ok((json, rows))
        }
        ReportKind::Leavers => {
            let params = leavers::LeaversParams {
                organisation: q.organisation.clone(),
                period: period(q.from, q.to, "from", "to")?,
                before: match (q.compare_from, q.compare_to) {
                    (None, None) => None,
                    (f, t) => Some(period(f, t, "compare_from", "compare_to")?),
                },
                roles: q.list(&q.role),
                team: q.team.clone(),
                population: population(dataset, q)?,
                exposure: q.exposure.unwrap_or_default(),
            };
            let report = leavers::compute(dataset, &params)?;
            board_or_exact(&report, q, BoardView::leavers)
        }
        ReportKind::Retention => {
            let ids = cohorts(dataset, q)?.unwrap_or_default();
            let [cohort_id] = ids[..] else {
                return Err(missing(
                    "cohort",
                    "give exactly one ?cohort= (id or name) for the retention report",
                ));
            };
            let params = retention::RetentionParams {
                cohort_id,
                organisation: q.organisation.clone(),
                as_at: required(q.as_at, "as_at")?,
            };
            let report = retention::compute(dataset, &params)?;
            board_or_exact(&report, q, BoardView::retention)
        }
        ReportKind::Turnover => {
            let params = turnover::TurnoverParams {
                organisation: organisation(q, "turnover")?,
                period: period(q.from, q.to, "from", "to")?,
            };
            let report = turnover::compute(dataset, &params)?;
            board_or_exact(&report, q, BoardView::turnover)
        }
        ReportKind::Vacancies => {
            let params = vacancies::VacancyParams {
                organisation: organisation(q, "vacancies")?,
                on: required(q.on, "on")?,
            };
            let report = vacancies::compute(dataset, &params)?;
            board_or_exact(&report, q, BoardView::vacancies)
        }
    }
}

/// The answer as counted, or its board view when asked.
fn board_or_exact<R: Serialize + ToCsvRows>(
    report: &R,
    q: &ReportQuery,
    board_view: fn(&BoardView, &R, &mut Value, &mut [Vec<String>]),
) -> Result<(Value, Vec<Vec<String>>), ReportRequestError> {
    let (mut json, mut rows) = render(report)?;
    if let Some(board) = q.board()? {
        board_view(&board, report, &mut json, &mut rows);
    }
    Ok((json, rows))
}

/// When the answer's figures were last changed, for HTTP headers.
pub fn last_recorded(p: &Provenance) -> Option<DateTime<Utc>> {
    p.last_recorded_at
}

#[cfg(test)]
mod tests;
