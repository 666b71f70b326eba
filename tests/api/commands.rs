//! A career over HTTP: register, promote, leave, rejoin; history shows every
//! event with both clocks and metadata.

use crate::helpers::bodies::{
    CohortOpening, Enrolment, Establishment, Filling, Leaving, Registration, Rejoining, RoleChange,
};
use crate::helpers::spawn_app;

#[tokio::test]
async fn a_career_is_recorded_and_its_history_shows_both_clocks_and_who_recorded_it() {
    let app = spawn_app().await;
    let id = app.register("P-001", "Northshire", "team_manager", "2016-01-04").await;

    // The author is the token's name; a claimed X-Recorded-By is ignored.
    let recorder = app.bearer(tenure::auth::Role::Recorder, "recorder@northshire").await;
    let promoted = app
        .send_with(
            &RoleChange::new(&id, "2018-05-01", "service_manager"),
            &[
                ("Authorization", &recorder),
                ("X-Recorded-By", "someone-else"),
                ("X-Request-Id", "req-42"),
            ],
        )
        .await;
    assert_eq!(promoted.status, 201, "{}", promoted.body);
    assert_eq!(promoted.body["version"], 2);
    assert_eq!(promoted.id(), id);
    assert!(promoted.body["global_position"].as_i64().unwrap() >= 2);

    let left = app
        .send(&Leaving::new(&id, "2019-03-31", "resigned").destination("Southshire"))
        .await;
    assert_eq!(left.status, 201, "{}", left.body);
    let rejoined = app
        .send(&Rejoining::new(&id, "2020-01-06", "Northshire", "head_of_service"))
        .await;
    assert_eq!(rejoined.status, 201, "{}", rejoined.body);
    assert_eq!(rejoined.body["version"], 4);

    let state = app.participant(&id).await;
    assert_eq!(state.status, 200);
    assert_eq!(state.body["employed"], true);

    let history = app.history("participants", &id).await;
    assert_eq!(history.status, 200);
    let events = history.body.as_array().unwrap();
    let types: Vec<&str> = events.iter().map(|e| e["event_type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "ParticipantRegistered",
            "RoleChanged",
            "LeavingRecorded",
            "RejoiningRecorded"
        ]
    );
    assert_eq!(events[1]["payload"]["RoleChanged"]["effective_on"], "2018-05-01");
    assert_eq!(events[1]["metadata"]["recorded_by"], "recorder@northshire");
    assert_eq!(events[1]["metadata"]["correlation_id"], "req-42");
    assert_eq!(events[1]["metadata"]["source"], "api");
    assert_eq!(events[0]["metadata"]["recorded_by"], crate::helpers::TEST_ADMIN);
    // The recorded clock increases with every commit.
    let recorded: Vec<&str> = events.iter().map(|e| e["recorded_at"].as_str().unwrap()).collect();
    let mut sorted = recorded.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(recorded.len(), sorted.len());
}

#[tokio::test]
async fn a_participant_is_found_by_external_reference_and_the_reference_is_unique() {
    let app = spawn_app().await;
    let id = app.register("EXT-9", "Westshire", "social_worker", "2015-09-01").await;
    let found = app.get("/api/v1/participants?external_ref=EXT-9").await;
    assert_eq!(found.status, 200);
    assert_eq!(found.str("participant_id"), id);

    let before = app.event_count().await;
    let again = app
        .send(&Registration::new("EXT-9", "Westshire", "social_worker", "2016-01-01"))
        .await;
    assert_eq!(again.status, 422);
    assert_eq!(again.str("error"), "external_ref_taken");
    assert_eq!(again.str("field"), "external_ref");
    assert_eq!(app.event_count().await, before);
}

#[tokio::test]
async fn filling_a_post_records_the_role_change_and_the_post_in_one_commit() {
    let app = spawn_app().await;
    let person = app.register("P-7", "Eastshire", "practice_manager", "2017-01-09").await;
    let post = app
        .send(&Establishment::new(
            "Eastshire",
            "Team manager, north",
            "team_manager",
            "2016-04-01",
        ))
        .await;
    assert_eq!(post.status, 201, "{}", post.body);
    let post_id = post.id();

    let filled = app
        .send(&Filling::new(&post_id, &person, "2018-02-01").basis("interim"))
        .await;
    assert_eq!(filled.status, 201, "{}", filled.body);
    let streams = filled.body["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 2, "participant and post are written together");

    let state = app.participant(&person).await;
    assert_eq!(state.body["employment"]["role"]["code"], "team_manager");

    // A second permanent occupant on the same day is refused; nothing appended.
    let other = app.register("P-8", "Eastshire", "team_manager", "2015-01-05").await;
    let perm1 = app
        .send(&Filling::new(&post_id, &other, "2018-03-01").basis("permanent"))
        .await;
    assert_eq!(perm1.status, 201, "{}", perm1.body);
    let third = app.register("P-9", "Eastshire", "team_manager", "2015-01-05").await;
    let before = app.event_count().await;
    let perm2 = app
        .send(&Filling::new(&post_id, &third, "2018-03-02").basis("permanent"))
        .await;
    assert_eq!(perm2.status, 422, "{}", perm2.body);
    assert_eq!(app.event_count().await, before);

    // Leaving vacates the post in the same commit.
    let left = app.send(&Leaving::new(&other, "2019-01-31", "retired")).await;
    assert_eq!(left.status, 201, "{}", left.body);
    assert_eq!(left.body["streams"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_cohort_enrols_only_participants_employed_on_the_enrolment_date() {
    let app = spawn_app().await;
    let person = app
        .register("P-20", "Northshire", "head_of_service", "2016-06-01")
        .await;
    let cohort = app.send(&CohortOpening::new("PLDP", "cohort 1", "2017-01-09")).await;
    assert_eq!(cohort.status, 201, "{}", cohort.body);
    let cohort_id = cohort.id();

    let early = app.send(&Enrolment::new(&cohort_id, &person, "2016-01-01")).await;
    assert_eq!(early.status, 422);
    assert_eq!(early.str("error"), "participant_not_employed");

    let stranger = uuid::Uuid::new_v4().to_string();
    let unknown = app.send(&Enrolment::new(&cohort_id, &stranger, "2017-01-09")).await;
    assert_eq!(unknown.status, 422);
    assert_eq!(unknown.str("field"), "participant_id");

    let ok = app.send(&Enrolment::new(&cohort_id, &person, "2017-01-09")).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    let history = app.history("cohorts", &cohort_id).await;
    assert_eq!(history.body.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_late_role_change_without_organisation_stays_with_the_employer_of_its_day() {
    let app = spawn_app().await;
    let id = app.register("LATE-ORG", "A", "social_worker", "2021-03-01").await;
    let moved = app
        .send(&RoleChange::new(&id, "2021-03-10", "social_worker").at("B"))
        .await;
    assert_eq!(moved.status, 201, "{}", moved.body);
    // Recorded late: on 5 March they still worked for A.
    let promoted = app
        .send(&RoleChange::new(&id, "2021-03-05", "senior_practitioner"))
        .await;
    assert_eq!(promoted.status, 201, "{}", promoted.body);
    let history = app.history("participants", &id).await;
    let late = history
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["payload"].to_string().contains("2021-03-05"))
        .expect("the late role change");
    assert!(late["payload"].to_string().contains("\"organisation\":\"A\""), "{late}");
}

#[tokio::test]
async fn a_late_filling_before_a_later_move_is_refused_so_the_post_never_keeps_a_phantom_holder() {
    let app = spawn_app().await;
    let post = app
        .send(&Establishment::new("O", "TM east", "team_manager", "2020-07-01"))
        .await;
    assert_eq!(post.status, 201, "{}", post.body);
    let post_id = post.id();
    let id = app.register("PHANTOM", "O", "social_worker", "2020-06-01").await;
    let moved = app.send(&RoleChange::new(&id, "2020-10-01", "service_manager")).await;
    assert_eq!(moved.status, 201, "{}", moved.body);
    let count = app.event_count().await;

    // Filling on 1 August would leave the post filled after 1 October,
    // when the person holds no post.
    let late = app.send(&Filling::new(&post_id, &id, "2020-08-01")).await;
    assert_eq!(late.status, 422, "{}", late.body);
    assert_eq!(late.str("error"), "post_change_out_of_order");
    assert_eq!(late.str("field"), "effective_on");
    assert_eq!(app.event_count().await, count);

    // In date order it is accepted.
    let in_order = app.send(&Filling::new(&post_id, &id, "2020-11-01")).await;
    assert_eq!(in_order.status, 201, "{}", in_order.body);
}
