//! The two clocks (docs/metrics.md "Two clocks"): a retraction removes a leaving
//! from the live answer but not from the answer as known before it; a late
//! record changes the live answer but not the answer as known earlier.

use crate::helpers::bodies::Retraction;
use crate::helpers::reports::{cell, csv_rows, encode, row};
use crate::helpers::spawn_app;

#[tokio::test]
async fn a_retracted_leaving_leaves_the_live_answer_but_stays_in_the_answer_known_before_the_retraction() {
    let app = spawn_app().await;
    let id = app
        .register("rc-1", "Retraction Council", "social_worker", "2018-01-01")
        .await;
    let left = app.leave(&id, "2019-06-30").await;
    let leaving_sequence = left.body["version"].as_u64().expect("version");
    let leaving_recorded_at = left.str("recorded_at");
    let query = "organisation=Retraction%20Council&from=2019-04-01&to=2019-09-30";

    // Before the retraction: one leaver (2019-06-30 is inside the period).
    let before = app.report_csv("leavers", query).await;
    assert_eq!(cell(row(&before, "role_code", "total"), "after_leavers"), "1");
    let answer = app
        .report("leavers", &format!("{query}&min_position={}", app.max_position().await))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let reported_at = answer.body["provenance"]["last_recorded_at"]
        .as_str()
        .expect("last_recorded_at")
        .to_string();
    // The answer reflects the leaving: its last event is the leaving.
    assert_eq!(
        answer.body["provenance"]["last_global_position"],
        left.body["global_position"]
    );

    let retraction = app.send(&Retraction::new(&id, leaving_sequence)).await;
    assert_eq!(retraction.status, 201, "{}", retraction.body);

    // Live: the retracted leaving no longer counts → 0 leavers.
    let after = app.report_csv("leavers", query).await;
    assert_eq!(cell(row(&after, "role_code", "total"), "after_leavers"), "0");
    // As known at the leaving's recorded time, or at the first report's, the
    // retraction had not been recorded → still 1 leaver.
    for at in [&leaving_recorded_at, &reported_at] {
        let then = app.report_csv_known_at("leavers", query, at).await;
        assert_eq!(
            cell(row(&then, "role_code", "total"), "after_leavers"),
            "1",
            "known_at {at}"
        );
    }
    // As known at the retraction's recorded time → 0 again.
    let then = app
        .report_csv_known_at("leavers", query, &retraction.str("recorded_at"))
        .await;
    assert_eq!(cell(row(&then, "role_code", "total"), "after_leavers"), "0");

    // Nothing is deleted: the history holds the registration, the leaving and
    // the retraction naming it.
    let history = app.history("participants", &id).await;
    assert_eq!(history.status, 200, "{}", history.body);
    let events = history.body.as_array().expect("events");
    let types: Vec<&str> = events.iter().map(|e| e["event_type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["ParticipantRegistered", "LeavingRecorded", "ParticipantEventRetracted"]
    );
    assert_eq!(events[1]["sequence"].as_u64(), Some(leaving_sequence));
    assert_eq!(events[1]["payload"]["LeavingRecorded"]["effective_on"], "2019-06-30");
    assert_eq!(
        events[2]["payload"]["EventRetracted"]["retracted_sequence"].as_u64(),
        Some(leaving_sequence)
    );
}

#[tokio::test]
async fn a_late_recorded_leaving_changes_the_live_answer_but_not_the_answer_known_at_the_first_report() {
    let app = spawn_app().await;
    let org = "Late Record Borough";
    let x = app.register("lr-x", org, "social_worker", "2018-01-01").await;
    let y = app.register("lr-y", org, "social_worker", "2018-01-01").await;
    app.leave(&x, "2019-05-15").await;
    let query = "organisation=Late%20Record%20Borough&from=2019-04-01&to=2019-09-30";

    // The first report, as a board would see it: X's leaving → 1 leaver.
    // (report_csv first, so the projector has caught up before the direct request.)
    app.report_csv("leavers", query).await;
    let response = app
        .report(
            "leavers",
            &format!("{query}&format=csv&min_position={}", app.max_position().await),
        )
        .await;
    assert_eq!(response.status, 200);
    let first_at = response
        .header("x-tenure-last-recorded-at")
        .expect("x-tenure-last-recorded-at header")
        .to_string();
    let first = response.text;
    assert_eq!(cell(row(&csv_rows(&first), "role_code", "total"), "after_leavers"), "1");

    // Later, Y's leaving effective 2019-07-01 (inside the period) is recorded.
    app.leave(&y, "2019-07-01").await;
    // Live: X and Y → 2.
    let live = app.report_csv("leavers", query).await;
    assert_eq!(cell(row(&live, "role_code", "total"), "after_leavers"), "2");
    // Known at the first report's time: only X had been recorded → 1, and
    // the CSV is byte for byte the one the board saw.
    let then = app.report_csv_text("leavers", query, Some(&first_at)).await;
    assert_eq!(cell(row(&csv_rows(&then), "role_code", "total"), "after_leavers"), "1");
    assert_eq!(then, first);
}

#[tokio::test]
async fn a_known_at_after_the_stores_clock_is_refused_because_its_answer_could_still_change() {
    let app = spawn_app().await;
    let future = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let reply = app
        .report(
            "leavers",
            &format!("from=2019-04-01&to=2019-09-30&known_at={}", encode(&future)),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_eq!(
        (reply.str("error"), reply.str("field")),
        ("known_at_in_future".into(), "known_at".into())
    );
}
