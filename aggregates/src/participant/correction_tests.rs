//! Given/when/then tests of corrections and late records: retractions and
//! facts recorded out of effective-date order.

use super::tests::{change, changed, ctx, day, leave, left, registered, rejoined, retract, retracted, sw, tm, Given};
use super::*;

#[tokio::test]
async fn retracting_an_unknown_sequence_is_refused() {
    Given::with(ctx())
        .given(vec![registered("2015-01-05")])
        .when_async(retract(9))
        .await
        .then_expect_error(ParticipantError::UnknownSequence { sequence: 9 });
}

#[tokio::test]
async fn retracting_an_event_twice_is_refused() {
    Given::with(ctx())
        .given(vec![registered("2015-01-05"), left("2018-03-31"), retracted(2)])
        .when_async(retract(2))
        .await
        .then_expect_error(ParticipantError::AlreadyRetracted { sequence: 2 });
}

#[tokio::test]
async fn retracting_the_registration_is_refused() {
    Given::with(ctx())
        .given(vec![registered("2015-01-05")])
        .when_async(retract(1))
        .await
        .then_expect_error(ParticipantError::RetractionNotRetractable { sequence: 1 });
}

#[tokio::test]
async fn retracting_a_retraction_is_refused() {
    Given::with(ctx())
        .given(vec![registered("2015-01-05"), left("2018-03-31"), retracted(2)])
        .when_async(retract(3))
        .await
        .then_expect_error(ParticipantError::RetractionNotRetractable { sequence: 3 });
}

#[tokio::test]
async fn retracting_a_leaving_that_a_rejoining_follows_is_refused() {
    Given::with(ctx())
        .given(vec![
            registered("2015-01-05"),
            left("2018-03-31"),
            rejoined("2019-01-01", sw(), "Northshire"),
        ])
        .when_async(retract(2))
        .await
        .then_expect_error(ParticipantError::RetractionWouldBreakHistory {
            sequence: 2,
            because: ParticipantError::AlreadyEmployed {
                effective_on: day("2019-01-01"),
            }
            .to_string(),
        });
}

#[tokio::test]
async fn retracting_a_role_change_is_recorded() {
    Given::with(ctx())
        .given(vec![
            registered("2015-01-05"),
            changed("2017-01-01", tm(), "Northshire", None),
        ])
        .when_async(retract(2))
        .await
        .then_expect_events(vec![retracted(2)]);
}

#[tokio::test]
async fn a_late_recorded_promotion_before_a_leaving_is_recorded() {
    Given::with(ctx())
        .given(vec![registered("2015-01-05"), left("2020-03-31")])
        .when_async(change("2018-05-01", tm(), "Northshire", None))
        .await
        .then_expect_events(vec![changed("2018-05-01", tm(), "Northshire", None)]);
}

#[tokio::test]
async fn a_late_recorded_leaving_before_a_later_role_change_is_refused() {
    Given::with(ctx())
        .given(vec![
            registered("2015-01-05"),
            changed("2019-01-01", tm(), "Northshire", None),
        ])
        .when_async(leave("2018-03-31"))
        .await
        .then_expect_error(ParticipantError::NotEmployed {
            effective_on: day("2019-01-01"),
        });
}

#[tokio::test]
async fn a_role_change_on_the_day_of_a_leaving_recorded_after_it_is_refused() {
    Given::with(ctx())
        .given(vec![registered("2015-01-05"), left("2018-03-31")])
        .when_async(change("2018-03-31", tm(), "Northshire", None))
        .await
        .then_expect_error(ParticipantError::NotEmployed {
            effective_on: day("2018-03-31"),
        });
}
