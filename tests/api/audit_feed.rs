//! The audit feed: every event in commit order, paged by `after` and
//! `limit`, filtered by recorded time, author, source and correlation id,
//! exported whole as NDJSON; and entity endpoints as known at a moment.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::bodies::{Registration, Retraction, RoleChange};
use crate::helpers::{spawn_app, spawn_app_unsealed, TestApp};

/// Registers a person with the given author (the name of the token sent),
/// source and request id; the global position of the one event it records.
async fn register_as(app: &TestApp, external_ref: &str, author: &str, source: &str, request: &str) -> i64 {
    let bearer = app.bearer(tenure::auth::Role::Recorder, author).await;
    let reply = app
        .send_with(
            &Registration::new(external_ref, "Northshire", "team_manager", "2020-01-06"),
            &[
                ("Authorization", &bearer),
                ("X-Source", source),
                ("X-Request-Id", request),
            ],
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body["global_position"].as_i64().unwrap()
}

fn positions(page: &Value) -> Vec<i64> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["global_position"].as_i64().unwrap())
        .collect()
}

async fn feed(app: &TestApp, query: &str) -> Value {
    let reply = app.get(&format!("/api/v1/events{query}")).await;
    assert_eq!(reply.status, 200, "{query}: {}", reply.body);
    reply.body
}

#[tokio::test]
async fn pages_follow_global_order_and_the_last_page_has_no_next() {
    let app = spawn_app_unsealed().await;
    let p1 = register_as(&app, "F-1", "alice", "api", "r-1").await;
    let p2 = register_as(&app, "F-2", "bob", "api", "r-2").await;
    let p3 = register_as(&app, "F-3", "alice", "hr-extract", "r-3").await;

    let first = feed(&app, "?limit=2").await;
    assert_eq!(positions(&first), [p1, p2]);
    assert_eq!(first["next_after"], p2);
    let second = feed(&app, &format!("?after={p2}&limit=2")).await;
    assert_eq!(positions(&second), [p3]);
    assert_eq!(second["next_after"], Value::Null);

    // Everything that defines the event, and no seal before the sealer runs.
    let e = &first["events"][1];
    assert_eq!(e["aggregate_type"], "participant");
    assert_eq!(e["sequence"], 1);
    assert_eq!(e["event_type"], "ParticipantRegistered");
    assert_eq!(e["payload"]["Registered"]["external_ref"], "F-2");
    assert_eq!(e["metadata"]["recorded_by"], "bob");
    assert_eq!(e["metadata"]["correlation_id"], "r-2");
    assert!(e["recorded_at"].is_string());
    assert_eq!(e["seal"], Value::Null);

    // Once sealed, the last event's seal is the head.
    tenure::audit::Sealer::new(app.pool.clone())
        .seal_all_committed()
        .await
        .unwrap();
    let head = app.get("/api/v1/audit/head").await;
    let sealed = feed(&app, &format!("?after={p2}")).await;
    assert_eq!(sealed["events"][0]["seal"], head.body["hash"]);
}

#[tokio::test]
async fn filters_select_by_author_source_correlation_and_recorded_time() {
    let app = spawn_app_unsealed().await;
    let p1 = register_as(&app, "F-1", "alice", "api", "r-1").await;
    let p2 = register_as(&app, "F-2", "bob", "api", "r-2").await;
    let p3 = register_as(&app, "F-3", "alice", "hr-extract", "r-3").await;

    // Nothing sealed: the metadata filters read the events themselves.
    assert_eq!(positions(&feed(&app, "?recorded_by=alice").await), [p1, p3]);
    // The first two sealed, the third not: both halves of the lookup.
    let sealer = tenure::audit::Sealer::new(app.pool.clone()).with_batch_size(2);
    tenure::audit::settle(&app.pool, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(sealer.seal_batch().await.unwrap(), 2);
    assert_eq!(positions(&feed(&app, "?recorded_by=alice").await), [p1, p3]);
    assert_eq!(positions(&feed(&app, "?recorded_by=alice&limit=1").await), [p1]);
    assert_eq!(
        positions(&feed(&app, &format!("?recorded_by=alice&after={p1}")).await),
        [p3]
    );
    assert_eq!(positions(&feed(&app, "?source=hr-extract").await), [p3]);
    assert_eq!(positions(&feed(&app, "?correlation_id=r-2").await), [p2]);
    assert_eq!(
        positions(&feed(&app, "?recorded_by=bob&source=hr-extract").await),
        Vec::<i64>::new()
    );
    // Everything sealed.
    sealer.seal_all_committed().await.unwrap();
    assert_eq!(positions(&feed(&app, "?recorded_by=alice").await), [p1, p3]);

    // Recorded time: from is inclusive, to exclusive.
    let all = feed(&app, "").await;
    let second_recorded = all["events"][1]["recorded_at"].as_str().unwrap().to_string();
    assert_eq!(
        positions(&feed(&app, &format!("?recorded_from={second_recorded}")).await),
        [p2, p3]
    );
    assert_eq!(
        positions(&feed(&app, &format!("?recorded_to={second_recorded}")).await),
        [p1]
    );
    assert_eq!(
        positions(&feed(&app, &format!("?recorded_from={second_recorded}&recorded_by=alice")).await),
        [p3]
    );
    // Ranges nothing was recorded in.
    let empty: Vec<i64> = Vec::new();
    assert_eq!(
        positions(&feed(&app, "?recorded_from=2999-01-01T00:00:00Z").await),
        empty
    );
    assert_eq!(positions(&feed(&app, "?recorded_to=2000-01-01T00:00:00Z").await), empty);
}

#[tokio::test]
async fn the_ndjson_export_is_the_whole_trail_one_event_per_line() {
    let app = spawn_app().await;
    let mut expected = Vec::new();
    for i in 0..5 {
        let author = if i % 2 == 0 { "alice" } else { "bob" };
        expected.push(register_as(&app, &format!("N-{i}"), author, "api", &format!("r-{i}")).await);
    }
    let reply = app
        .get_with("/api/v1/events", &[("Accept", "application/x-ndjson")])
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/x-ndjson"));
    let lines: Vec<Value> = reply.text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len() as i64, app.event_count().await);
    let got: Vec<i64> = lines.iter().map(|e| e["global_position"].as_i64().unwrap()).collect();
    assert_eq!(got, expected);

    // Filtered, by parameter: alice recorded events 0, 2 and 4.
    let alice = app.get("/api/v1/events?format=ndjson&recorded_by=alice").await;
    assert_eq!(alice.text.lines().count(), 3);
}

#[tokio::test]
async fn paging_under_concurrent_writes_neither_skips_nor_repeats() {
    let app = spawn_app().await;
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let app = app.clone();
            tokio::spawn(async move {
                for i in 0..15 {
                    app.register(&format!("C-{w}-{i}"), "Northshire", "team_manager", "2020-01-06")
                        .await;
                }
            })
        })
        .collect();
    let mut seen = Vec::new();
    let mut after = 0;
    // 4 writers × 15 registrations = 60 events.
    while seen.len() < 60 {
        let page = feed(&app, &format!("?after={after}&limit=7")).await;
        let got = positions(&page);
        if let Some(last) = got.last() {
            after = *last;
        } else {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        seen.extend(got);
    }
    for w in writers {
        w.await.unwrap();
    }
    let unique: BTreeSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "an event was listed twice");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "out of order: {seen:?}");
    let all: Vec<i64> = sqlx::query_scalar("SELECT global_position FROM events ORDER BY global_position")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(seen, all, "an event was skipped");
}

#[tokio::test]
async fn bad_feed_parameters_are_refused_naming_the_parameter() {
    let app = spawn_app_unsealed().await;
    register_as(&app, "F-1", "alice", "api", "r-1").await;
    for (query, status, field) in [
        ("limit=0", 400, "limit"),
        ("limit=1001", 400, "limit"),
        ("limit=ten", 400, "limit"),
        ("after=-1", 400, "after"),
        ("after=999999", 422, "after"),
        ("recorded_from=yesterday", 400, "recorded_from"),
        ("recorded_to=2021-13-01T00:00:00Z", 400, "recorded_to"),
        ("format=xml", 400, "format"),
        ("recorder=alice", 400, "recorder"),
        ("limit=1&limit=2", 400, "limit"),
    ] {
        let reply = app.get(&format!("/api/v1/events?{query}")).await;
        assert_eq!(reply.status, status, "{query}: {}", reply.body);
        assert_eq!(reply.body["field"], field, "{query}: {}", reply.body);
    }
}

/// The recorded time of a stream's event at `sequence` (1-based).
async fn recorded_at(app: &TestApp, kind: &str, id: &str, sequence: usize) -> String {
    let history = app.history(kind, id).await;
    history.body[sequence - 1]["recorded_at"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_participant_as_known_before_and_after_a_retraction() {
    let app = spawn_app().await;
    let id = app.register("K-1", "Northshire", "team_manager", "2020-01-06").await;
    app.record(&RoleChange::new(&id, "2021-04-01", "service_manager")).await;
    app.record(&Retraction::new(&id, 2)).await;
    let promoted_at = recorded_at(&app, "participants", &id, 2).await;
    let registered_at = recorded_at(&app, "participants", &id, 1).await;

    let now = app.participant(&id).await;
    assert_eq!(now.body["employment"]["role"]["code"], "team_manager");
    assert_eq!(now.body["version"], 3);
    let then = app
        .get(&format!("/api/v1/participants/{id}?known_at={promoted_at}"))
        .await;
    assert_eq!(then.status, 200, "{}", then.body);
    assert_eq!(then.body["employment"]["role"]["code"], "service_manager");
    assert_eq!(then.body["version"], 2);
    let first = app
        .get(&format!("/api/v1/participants/{id}?known_at={registered_at}"))
        .await;
    assert_eq!(first.body["version"], 1);

    // Before anything was recorded about them: not known then.
    let before = app
        .get(&format!("/api/v1/participants/{id}?known_at=2000-01-01T00:00:00Z"))
        .await;
    assert_eq!(before.status, 404, "{}", before.body);
    let bad = app.get(&format!("/api/v1/participants/{id}?known_at=yesterday")).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["field"], "known_at");
    let future = app
        .get(&format!("/api/v1/participants/{id}?known_at=2999-01-01T00:00:00Z"))
        .await;
    assert_eq!(future.status, 422, "{}", future.body);
}

#[tokio::test]
async fn a_cohort_and_a_post_as_known_before_a_later_event() {
    let app = spawn_app().await;
    let person = app.register("K-2", "Northshire", "team_manager", "2020-01-06").await;
    let cohort = app.open_cohort("PLDP", "2021 intake", "2021-01-04").await;
    app.enrol(&cohort, &person, "2021-01-04").await;
    let opened_at = recorded_at(&app, "cohorts", &cohort, 1).await;
    let then = app.get(&format!("/api/v1/cohorts/{cohort}?known_at={opened_at}")).await;
    assert_eq!(then.status, 200, "{}", then.body);
    assert_eq!(then.body["members"].as_array().unwrap().len(), 0);
    let now = app.get(&format!("/api/v1/cohorts/{cohort}")).await;
    assert_eq!(now.body["members"].as_array().unwrap().len(), 1);

    let post = app
        .establish_post("Northshire", "Team manager, east", "team_manager", "2020-01-01")
        .await;
    app.record(&RoleChange::new(&person, "2021-02-01", "team_manager").post(post.as_str()))
        .await;
    let established_at = recorded_at(&app, "posts", &post, 1).await;
    let then = app
        .get(&format!("/api/v1/posts/{post}?known_at={established_at}"))
        .await;
    assert_eq!(then.status, 200, "{}", then.body);
    assert_eq!(then.body["occupancies"].as_array().unwrap().len(), 0);
    let now = app.get(&format!("/api/v1/posts/{post}")).await;
    assert_eq!(now.body["occupancies"].as_array().unwrap().len(), 1);
}

/// Whether `plan` (EXPLAIN's JSON) names `index`.
fn uses(plan: &Value, index: &str) -> bool {
    plan.to_string().contains(index)
}

#[tokio::test]
async fn a_page_walks_the_commit_order_index_or_the_filters_index() {
    let (pool, _) = crate::helpers::fresh_database().await;
    crate::helpers::load_demo(&pool).await;
    tenure::audit::Sealer::new(pool.clone())
        .seal_all_committed()
        .await
        .unwrap();
    let mut conn = pool.acquire().await.unwrap();
    // On a store this small a scan and sort is cheapest; with both priced
    // out the plan shows whether an index can give the page at all.
    for setting in ["SET enable_sort = off", "SET enable_seqscan = off"] {
        sqlx::query(setting).execute(&mut *conn).await.unwrap();
    }
    let explain = |keys: &[&str]| format!("EXPLAIN (FORMAT JSON) {}", tenure::audit::feed::page_sql(keys));
    let unfiltered = explain(&[]);
    let plan: Value = sqlx::query_scalar(&unfiltered)
        .bind("0")
        .bind(0_i64)
        .bind(100_i64)
        .bind(i64::MAX.to_string())
        .bind(i64::MAX)
        .bind(None::<chrono::DateTime<chrono::Utc>>)
        .bind(None::<chrono::DateTime<chrono::Utc>>)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert!(uses(&plan, "events_transaction_position_idx"), "{plan}");
    assert!(!plan.to_string().contains("Sort Key"), "{plan}");

    let by_author = explain(&["recorded_by"]);
    let plan: Value = sqlx::query_scalar(&by_author)
        .bind("0")
        .bind(0_i64)
        .bind(100_i64)
        .bind(i64::MAX.to_string())
        .bind(i64::MAX)
        .bind(None::<chrono::DateTime<chrono::Utc>>)
        .bind(None::<chrono::DateTime<chrono::Utc>>)
        .bind("test-admin")
        .bind(i64::MAX.to_string())
        .bind(i64::MAX)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert!(uses(&plan, "event_seals_recorded_by_idx"), "{plan}");
}
