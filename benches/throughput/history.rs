//! The generated history the bench measures: careers in as many
//! organisations as the history's size implies, with teams, a mix of roles,
//! moves between organisations, team managers in posts, and cohorts of a
//! programme with enrolments and completions, every event decided by the
//! aggregates themselves.
//!
//! About 100,000 events is one mid-sized authority's ten years (issue 10),
//! so the history is spread over one organisation per 100,000 events (at
//! least [`MIN_ORGANISATIONS`]): an organisation's report then reads about
//! what one authority's would, whatever the size of the store.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aggregates::cohort::{Cohort, CohortCommand};
use aggregates::ladder::Basis;
use aggregates::participant::{Participant, ParticipantCommand};
use aggregates::post::{Post, PostCommand};
use aggregates::CommandContext;
use chrono::{Datelike, NaiveDate, Utc};
use cqrs_es::{Aggregate, DomainEvent};
use tenure::event_store::{new_events, Commit, EventStore, Metadata, NewEvent, StreamWrite};
use uuid::Uuid;

use crate::workload::{after, date, role, BoxError, BULK_EVENTS_PER_PARTICIPANT, STREAMS_PER_COMMIT};

/// The fewest organisations a history is spread over.
pub(crate) const MIN_ORGANISATIONS: usize = 5;
/// Events of history per organisation (one authority's ten years).
pub(crate) const EVENTS_PER_ORGANISATION: usize = 100_000;
/// Teams per organisation.
pub(crate) const TEAMS: usize = 8;
/// The programme whose cohorts the bench enrols people in.
pub(crate) const PROGRAMME: &str = "Bench ASYE";
/// One participant in this many is enrolled in their organisation's cohort.
const ENROLLED_ONE_IN: usize = 20;
/// The roles of a career, in ladder order.
const LADDER: [&str; 6] = [
    "asye",
    "social_worker",
    "senior_practitioner",
    "practice_manager",
    "team_manager",
    "service_manager",
];

/// Organisations a history of `events` events is spread over.
pub(crate) fn organisations(events: usize) -> usize {
    (events / EVENTS_PER_ORGANISATION).max(MIN_ORGANISATIONS)
}

/// The name of organisation `k`.
pub(crate) fn organisation_name(k: usize) -> String {
    format!("Bench Council {k}")
}

/// The name of organisation `k`'s cohort of `year`.
pub(crate) fn cohort_name(k: usize, year: i32) -> String {
    format!("Bench Council {k} ASYE {year}")
}

/// What the bulk history holds, besides its events.
pub(crate) struct Generated {
    pub(crate) events: usize,
    pub(crate) wall: Duration,
    pub(crate) participants: usize,
    pub(crate) posts: usize,
    pub(crate) cohorts: usize,
    pub(crate) enrolments: usize,
}

/// One aggregate's events, each decided on the state the previous left.
fn decided<A: Aggregate + Default>(
    commands: Vec<A::Command>,
    decide: impl Fn(&A, A::Command) -> Result<A::Event, String>,
) -> Result<Vec<A::Event>, BoxError>
where
    A::Event: DomainEvent,
{
    let mut aggregate = A::default();
    let mut events = Vec::with_capacity(commands.len());
    for command in commands {
        let event = decide(&aggregate, command)?;
        aggregate.apply(event.clone());
        events.push(event);
    }
    Ok(events)
}

/// A team-manager post a participant holds from `from` until `until`.
struct Holding {
    participant: Uuid,
    organisation: usize,
    basis: Basis,
    from: NaiveDate,
    until: Option<NaiveDate>,
}

/// Participant `i`'s four events (registration, two role changes, then a
/// leaving, a move to another organisation or a change of team); the post
/// they hold as a team manager, and their enrolment, if any.
#[allow(clippy::type_complexity)]
fn career(
    i: usize,
    orgs: usize,
    ctx: &CommandContext,
) -> Result<
    (
        Uuid,
        Vec<Vec<NewEvent>>,
        Option<(Uuid, Holding)>,
        Option<(usize, NaiveDate)>,
    ),
    BoxError,
> {
    let id = Uuid::new_v4();
    let k = i % orgs;
    let org = organisation_name(k);
    let team = |t: usize| Some(format!("Team {}", t % TEAMS));
    let t = (i / orgs) % TEAMS;
    // Every other choice from a hash of `i`, so that none follows the
    // organisation (`i % orgs`) or the team.
    let h = ((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 24) as usize;
    // Joinings spread over ten years; most start as newly qualified.
    let joined = after(date(2012, 1, 2), ((i * 7_919) % 3_650) as u64);
    let start = match h % 10 {
        0..=3 => 0,
        4..=6 => 1,
        7..=8 => 2,
        _ => 3,
    };
    let second = after(joined, 300 + ((i * 31) % 400) as u64);
    let third = after(second, 300 + ((i * 17) % 500) as u64);
    let fourth = after(third, 100 + ((i * 13) % 600) as u64);
    let is_manager = |level: usize| LADDER[level] == "team_manager";
    let post = (is_manager(start + 1) || is_manager(start + 2)).then(Uuid::new_v4);
    // The last change (of team, or to another organisation) leaves the post.
    let change = |on: NaiveDate, level: usize, organisation: String, team: Option<String>, last: bool| {
        ParticipantCommand::ChangeRole {
            effective_on: on,
            role: role(LADDER[level]),
            organisation,
            team,
            post_id: (is_manager(level) && !last).then_some(post).flatten(),
            basis: if is_manager(level) && !last && (h / 6_000) % 7 == 0 {
                Basis::Interim
            } else {
                Basis::Permanent
            },
            fte: None,
            kind: None,
        }
    };
    let last = match (h / 10) % 6 {
        0 | 3 => ParticipantCommand::RecordLeaving {
            effective_on: fourth,
            reason: "resigned".to_string(),
            destination: None,
        },
        1 => change(fourth, start + 2, organisation_name((k + 1) % orgs), team(t), true),
        _ => change(fourth, start + 2, org.clone(), team(t + 1), true),
    };
    let commands = vec![
        ParticipantCommand::Register {
            participant_id: id,
            external_ref: format!("bulk-{i}"),
            organisation: org.clone(),
            team: team(t),
            role: role(LADDER[start]),
            post_id: None,
            basis: Basis::Permanent,
            fte: if (h / 60) % 5 == 0 { 0.6 } else { 1.0 },
            joined_on: joined,
        },
        change(second, start + 1, org.clone(), team(t), false),
        change(third, start + 2, org.clone(), team(t), false),
        last,
    ];
    let events = decided::<Participant>(commands, |p, c| {
        p.decide(c, ctx).map_err(|e| format!("bulk participant {i}: {e}"))
    })?;
    let events = events
        .iter()
        .map(|e| new_events(std::slice::from_ref(e)))
        .collect::<Result<_, _>>()?;
    // The post is held from the change into team manager until the next
    // event (any of them ends or moves the spell out of the post).
    let holding = post.map(|post| {
        let (from, until) = if is_manager(start + 1) {
            (second, Some(third))
        } else {
            (third, Some(fourth))
        };
        let basis = if (h / 6_000) % 7 == 0 {
            Basis::Interim
        } else {
            Basis::Permanent
        };
        let holding = Holding {
            participant: id,
            organisation: k,
            basis,
            from,
            until,
        };
        (post, holding)
    });
    let enrolment = ((h / 300) % ENROLLED_ONE_IN == 7).then(|| (k, after(joined, 60)));
    Ok((id, events, holding, enrolment))
}

/// A post's events: established, filled, vacated.
fn post_events(post: Uuid, h: &Holding, ctx: &CommandContext) -> Result<Vec<NewEvent>, BoxError> {
    let mut commands = vec![
        PostCommand::Establish {
            post_id: post,
            organisation: organisation_name(h.organisation),
            title: format!("Team manager {post}"),
            role: role("team_manager"),
            established_on: date(2011, 4, 1),
            reference: None,
        },
        PostCommand::Fill {
            participant_id: h.participant,
            basis: h.basis,
            fte: None,
            effective_on: h.from,
        },
    ];
    if let Some(until) = h.until {
        commands.push(PostCommand::Vacate {
            participant_id: h.participant,
            effective_on: until,
        });
    }
    let events = decided::<Post>(commands, |p, c| {
        p.decide(c, ctx).map_err(|e| format!("post {post}: {e}"))
    })?;
    Ok(new_events(&events)?)
}

/// A cohort's events: opened, its members enrolled, every other one
/// completing a year later.
fn cohort_events(
    cohort: Uuid,
    (k, year): (usize, i32),
    members: &[(Uuid, NaiveDate)],
    ctx: &CommandContext,
) -> Result<Vec<NewEvent>, BoxError> {
    let mut commands = vec![CohortCommand::Open {
        cohort_id: cohort,
        programme: PROGRAMME.to_string(),
        name: cohort_name(k, year),
        starts_on: date(year, 1, 1),
        ends_on: None,
    }];
    for (participant_id, enrolled_on) in members {
        commands.push(CohortCommand::Enrol {
            participant_id: *participant_id,
            enrolled_on: *enrolled_on,
        });
    }
    for (participant_id, enrolled_on) in members.iter().step_by(2) {
        commands.push(CohortCommand::RecordCompletion {
            participant_id: *participant_id,
            completed_on: after(*enrolled_on, 365),
        });
    }
    let events = decided::<Cohort>(commands, |c, command| {
        c.decide(command, ctx).map_err(|e| format!("cohort {cohort}: {e}"))
    })?;
    Ok(new_events(&events)?)
}

/// Appends `writes`, `STREAMS_PER_COMMIT` streams per commit; returns the
/// events appended.
async fn append_all(store: &EventStore, writes: Vec<StreamWrite>, label: &str) -> Result<usize, BoxError> {
    let mut appended = 0;
    let mut writes = writes.into_iter().peekable();
    let mut round = 0;
    while writes.peek().is_some() {
        let chunk: Vec<StreamWrite> = writes.by_ref().take(STREAMS_PER_COMMIT).collect();
        let receipt = store
            .append(Commit {
                writes: chunk,
                guards: Vec::new(),
                enrolling_cohorts: None,
                metadata: Metadata {
                    recorded_by: "bench".to_string(),
                    source: "bench:bulk".to_string(),
                    correlation_id: format!("bulk-{label}-{round}"),
                    idempotency_key: None,
                    derivation: None,
                },
                idempotency: None,
            })
            .await?;
        appended += receipt.events_appended;
        round += 1;
    }
    Ok(appended)
}

/// Generates and appends the history of `participants` careers spread over
/// `orgs` organisations, their posts and their cohorts.
pub(crate) async fn bulk_append(store: &EventStore, participants: usize, orgs: usize) -> Result<Generated, BoxError> {
    let ctx = CommandContext {
        today: Utc::now().date_naive(),
        future_margin_days: 366,
    };
    let mut careers = Vec::with_capacity(participants);
    let mut posts = Vec::new();
    let mut cohorts: BTreeMap<(usize, i32), Vec<(Uuid, NaiveDate)>> = BTreeMap::new();
    for i in 0..participants {
        let (id, events, holding, enrolment) = career(i, orgs, &ctx)?;
        careers.push((id.to_string(), events));
        if let Some((post, holding)) = holding {
            posts.push((post.to_string(), post_events(post, &holding, &ctx)?));
        }
        if let Some((k, on)) = enrolment {
            cohorts.entry((k, on.year())).or_default().push((id, on));
        }
    }
    let enrolments = cohorts.values().map(Vec::len).sum();
    let cohorts = cohorts
        .into_iter()
        .map(|(key, members)| {
            let id = Uuid::new_v4();
            Ok((id.to_string(), cohort_events(id, key, &members, &ctx)?))
        })
        .collect::<Result<Vec<_>, BoxError>>()?;
    let started = Instant::now();
    let mut appended = 0;
    // Participants first, a round of one event each at a time, as an
    // import of several sources would; then posts and cohorts whole.
    for round in 0..BULK_EVENTS_PER_PARTICIPANT {
        let writes = careers
            .iter()
            .map(|(id, events)| StreamWrite {
                aggregate_type: Participant::TYPE,
                aggregate_id: id.clone(),
                expected_version: round as u64,
                events: events[round].clone(),
            })
            .collect();
        appended += append_all(store, writes, &format!("round-{round}")).await?;
    }
    let whole = |aggregate_type: &'static str, streams: &[(String, Vec<NewEvent>)]| -> Vec<StreamWrite> {
        streams
            .iter()
            .map(|(id, events)| StreamWrite {
                aggregate_type,
                aggregate_id: id.clone(),
                expected_version: 0,
                events: events.clone(),
            })
            .collect()
    };
    appended += append_all(store, whole(Post::TYPE, &posts), "posts").await?;
    appended += append_all(store, whole(Cohort::TYPE, &cohorts), "cohorts").await?;
    Ok(Generated {
        events: appended,
        wall: started.elapsed(),
        participants,
        posts: posts.len(),
        cohorts: cohorts.len(),
        enrolments,
    })
}
