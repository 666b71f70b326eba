//! Given/when/then tests of every post rule, including late records.

use chrono::NaiveDate;
use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::field::Field;

type Given = TestFramework<Post>;

#[path = "reference_tests.rs"]
mod reference;

fn day(s: &str) -> NaiveDate {
    s.parse().expect("test dates are ISO")
}

fn ctx() -> CommandContext {
    CommandContext {
        today: day("2024-06-01"),
        future_margin_days: 30,
    }
}

fn p(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn tm() -> RoleRef {
    RoleRef {
        code: "team_manager".into(),
        level: Some(5),
    }
}

fn established() -> PostEvent {
    PostEvent::Established {
        post_id: p(100),
        organisation: "Eastshire".into(),
        title: "Team manager, North".into(),
        role: tm(),
        established_on: day("2015-01-01"),
        reference: None,
    }
}

fn filled(who: u128, basis: Basis, on: &str) -> PostEvent {
    PostEvent::Filled {
        participant_id: p(who),
        basis,
        effective_on: day(on),
    }
}

fn vacated(who: u128, on: &str) -> PostEvent {
    PostEvent::Vacated {
        participant_id: p(who),
        effective_on: day(on),
    }
}

fn fill(who: u128, basis: Basis, on: &str) -> PostCommand {
    PostCommand::Fill {
        participant_id: p(who),
        basis,
        fte: None,
        effective_on: day(on),
    }
}

fn vacate(who: u128, on: &str) -> PostCommand {
    PostCommand::Vacate {
        participant_id: p(who),
        effective_on: day(on),
    }
}

fn disestablish(on: &str) -> PostCommand {
    PostCommand::Disestablish { effective_on: day(on) }
}

fn retract(sequence: u64) -> PostCommand {
    PostCommand::Retract {
        sequence,
        reason: "recorded in error".into(),
    }
}

fn retracted(sequence: u64) -> PostEvent {
    PostEvent::EventRetracted {
        retracted_sequence: sequence,
        reason: "recorded in error".into(),
    }
}

#[tokio::test]
async fn establishing_records_the_post() {
    Given::with(ctx())
        .given_no_previous_events()
        .when_async(PostCommand::Establish {
            post_id: p(100),
            organisation: "Eastshire".into(),
            title: "Team manager, North".into(),
            role: tm(),
            established_on: day("2015-01-01"),
            reference: None,
        })
        .await
        .then_expect_events(vec![established()]);
}

#[tokio::test]
async fn establishing_twice_is_refused() {
    Given::with(ctx())
        .given(vec![established()])
        .when_async(PostCommand::Establish {
            post_id: p(100),
            organisation: "Eastshire".into(),
            title: "again".into(),
            role: tm(),
            established_on: day("2015-01-01"),
            reference: None,
        })
        .await
        .then_expect_error(PostError::AlreadyEstablished);
}

#[tokio::test]
async fn a_blank_title_is_refused() {
    Given::with(ctx())
        .given_no_previous_events()
        .when_async(PostCommand::Establish {
            post_id: p(100),
            organisation: "Eastshire".into(),
            title: String::new(),
            role: tm(),
            established_on: day("2015-01-01"),
            reference: None,
        })
        .await
        .then_expect_error(PostError::EmptyField { field: Field::Title });
}

#[tokio::test]
async fn filling_an_unestablished_post_is_refused() {
    Given::with(ctx())
        .given_no_previous_events()
        .when_async(fill(1, Basis::Permanent, "2016-01-01"))
        .await
        .then_expect_error(PostError::NotEstablished);
}

#[tokio::test]
async fn filling_before_establishment_is_refused() {
    Given::with(ctx())
        .given(vec![established()])
        .when_async(fill(1, Basis::Permanent, "2014-12-31"))
        .await
        .then_expect_error(PostError::BeforeEstablishment {
            effective_on: day("2014-12-31"),
            established_on: day("2015-01-01"),
        });
}

#[tokio::test]
async fn a_fill_beyond_the_future_margin_is_refused() {
    Given::with(ctx())
        .given(vec![established()])
        .when_async(fill(1, Basis::Permanent, "2024-07-02"))
        .await
        .then_expect_error(PostError::TooFarInFuture {
            field: Field::EffectiveOn,
            effective_on: day("2024-07-02"),
            latest_allowed: day("2024-07-01"),
        });
}

#[tokio::test]
async fn a_second_permanent_occupant_is_refused() {
    Given::with(ctx())
        .given(vec![established(), filled(1, Basis::Permanent, "2018-03-01")])
        .when_async(fill(2, Basis::Permanent, "2018-03-02"))
        .await
        .then_expect_error(PostError::TwoPermanentOccupants {
            effective_on: day("2018-03-02"),
            occupant: p(1),
        });
}

#[tokio::test]
async fn an_interim_occupant_may_sit_alongside_a_permanent_one() {
    Given::with(ctx())
        .given(vec![established(), filled(1, Basis::Permanent, "2018-03-01")])
        .when_async(fill(2, Basis::Interim, "2018-03-02"))
        .await
        .then_expect_events(vec![filled(2, Basis::Interim, "2018-03-02")]);
}

#[tokio::test]
async fn a_late_recorded_permanent_fill_overlapping_another_is_refused() {
    // Person 1 held the post 2018-03-01..2019-01-31; a permanent fill dated
    // inside that period is refused even though recorded after the vacancy.
    Given::with(ctx())
        .given(vec![
            established(),
            filled(1, Basis::Permanent, "2018-03-01"),
            vacated(1, "2019-01-31"),
        ])
        .when_async(fill(2, Basis::Permanent, "2018-06-01"))
        .await
        .then_expect_error(PostError::TwoPermanentOccupants {
            effective_on: day("2018-06-01"),
            occupant: p(1),
        });
}

#[tokio::test]
async fn a_same_day_permanent_handover_is_accepted_once_the_predecessor_has_vacated() {
    Given::with(ctx())
        .given(vec![
            established(),
            filled(1, Basis::Permanent, "2018-03-01"),
            vacated(1, "2019-01-31"),
        ])
        .when_async(fill(2, Basis::Permanent, "2019-01-31"))
        .await
        .then_expect_events(vec![filled(2, Basis::Permanent, "2019-01-31")]);
}

#[tokio::test]
async fn a_permanent_successor_before_the_predecessor_has_vacated_is_refused() {
    Given::with(ctx())
        .given(vec![established(), filled(1, Basis::Permanent, "2018-03-01")])
        .when_async(fill(2, Basis::Permanent, "2019-01-31"))
        .await
        .then_expect_error(PostError::TwoPermanentOccupants {
            effective_on: day("2019-01-31"),
            occupant: p(1),
        });
}

#[tokio::test]
async fn one_participant_cannot_hold_the_post_twice_at_once() {
    Given::with(ctx())
        .given(vec![established(), filled(1, Basis::Interim, "2018-03-01")])
        .when_async(fill(1, Basis::Acting, "2018-04-01"))
        .await
        .then_expect_error(PostError::AlreadyInPost {
            participant_id: p(1),
            effective_on: day("2018-04-01"),
        });
}

#[tokio::test]
async fn vacating_by_someone_not_in_post_is_refused() {
    Given::with(ctx())
        .given(vec![established(), filled(1, Basis::Permanent, "2018-03-01")])
        .when_async(vacate(2, "2018-04-01"))
        .await
        .then_expect_error(PostError::NotInPost {
            participant_id: p(2),
            effective_on: day("2018-04-01"),
        });
}

#[tokio::test]
async fn vacating_before_the_fill_date_is_refused() {
    Given::with(ctx())
        .given(vec![established(), filled(1, Basis::Permanent, "2018-03-01")])
        .when_async(vacate(1, "2018-02-01"))
        .await
        .then_expect_error(PostError::NotInPost {
            participant_id: p(1),
            effective_on: day("2018-02-01"),
        });
}

#[tokio::test]
async fn disestablishing_an_occupied_post_is_refused() {
    Given::with(ctx())
        .given(vec![established(), filled(1, Basis::Permanent, "2018-03-01")])
        .when_async(disestablish("2020-01-01"))
        .await
        .then_expect_error(PostError::StillOccupied {
            effective_on: day("2020-01-01"),
            occupants: 1,
        });
}

#[tokio::test]
async fn disestablishing_before_a_later_fill_is_refused() {
    Given::with(ctx())
        .given(vec![
            established(),
            filled(1, Basis::Permanent, "2018-03-01"),
            vacated(1, "2018-06-01"),
        ])
        .when_async(disestablish("2018-01-01"))
        .await
        .then_expect_error(PostError::Disestablished {
            effective_on: day("2018-03-01"),
            disestablished_on: day("2018-01-01"),
        });
}

#[tokio::test]
async fn disestablishing_a_vacant_post_is_recorded() {
    Given::with(ctx())
        .given(vec![
            established(),
            filled(1, Basis::Permanent, "2018-03-01"),
            vacated(1, "2020-01-01"),
        ])
        .when_async(disestablish("2020-01-01"))
        .await
        .then_expect_events(vec![PostEvent::Disestablished {
            effective_on: day("2020-01-01"),
        }]);
}

#[tokio::test]
async fn filling_a_disestablished_post_is_refused() {
    Given::with(ctx())
        .given(vec![
            established(),
            PostEvent::Disestablished {
                effective_on: day("2020-01-01"),
            },
        ])
        .when_async(fill(1, Basis::Permanent, "2020-02-01"))
        .await
        .then_expect_error(PostError::Disestablished {
            effective_on: day("2020-02-01"),
            disestablished_on: day("2020-01-01"),
        });
}

#[tokio::test]
async fn disestablishing_twice_is_refused() {
    Given::with(ctx())
        .given(vec![
            established(),
            PostEvent::Disestablished {
                effective_on: day("2020-01-01"),
            },
        ])
        .when_async(disestablish("2021-01-01"))
        .await
        .then_expect_error(PostError::AlreadyDisestablished);
}

#[tokio::test]
async fn retracting_the_establishment_is_refused() {
    Given::with(ctx())
        .given(vec![established()])
        .when_async(retract(1))
        .await
        .then_expect_error(PostError::RetractionNotRetractable { sequence: 1 });
}

#[tokio::test]
async fn retracting_a_vacancy_that_let_a_permanent_successor_in_is_refused() {
    Given::with(ctx())
        .given(vec![
            established(),
            filled(1, Basis::Permanent, "2018-03-01"),
            vacated(1, "2019-01-31"),
            filled(2, Basis::Permanent, "2019-02-01"),
        ])
        .when_async(retract(3))
        .await
        .then_expect_error(PostError::RetractionWouldBreakHistory {
            sequence: 3,
            because: PostError::TwoPermanentOccupants {
                effective_on: day("2019-02-01"),
                occupant: p(1),
            }
            .to_string(),
        });
}

#[tokio::test]
async fn retracting_a_fill_that_a_vacancy_refers_to_is_refused() {
    Given::with(ctx())
        .given(vec![
            established(),
            filled(1, Basis::Permanent, "2018-03-01"),
            vacated(1, "2019-01-31"),
        ])
        .when_async(retract(2))
        .await
        .then_expect_error(PostError::RetractionWouldBreakHistory {
            sequence: 2,
            because: PostError::NotInPost {
                participant_id: p(1),
                effective_on: day("2019-01-31"),
            }
            .to_string(),
        });
}

#[tokio::test]
async fn retracting_a_fill_is_recorded() {
    Given::with(ctx())
        .given(vec![established(), filled(1, Basis::Permanent, "2018-03-01")])
        .when_async(retract(2))
        .await
        .then_expect_events(vec![retracted(2)]);
}

#[tokio::test]
async fn retracting_unknown_or_retracted_events_is_refused() {
    Given::with(ctx())
        .given(vec![established()])
        .when_async(retract(4))
        .await
        .then_expect_error(PostError::UnknownSequence { sequence: 4 });
    Given::with(ctx())
        .given(vec![
            established(),
            filled(1, Basis::Permanent, "2018-03-01"),
            retracted(2),
        ])
        .when_async(retract(2))
        .await
        .then_expect_error(PostError::AlreadyRetracted { sequence: 2 });
}

#[test]
fn occupants_are_known_for_any_day() {
    let mut post = Post::default();
    for e in [
        established(),
        filled(1, Basis::Permanent, "2018-03-01"),
        filled(2, Basis::Agency, "2018-05-01"),
        vacated(1, "2019-01-31"),
    ] {
        cqrs_es::Aggregate::apply(&mut post, e);
    }
    assert_eq!(post.organisation(), "Eastshire");
    assert_eq!(post.role(), &tm());
    assert_eq!(post.established_on(), Some(day("2015-01-01")));
    assert_eq!(post.disestablished_on(), None);
    assert_eq!(post.occupants_on(day("2018-02-28")), vec![]);
    assert_eq!(post.occupants_on(day("2018-03-01")), vec![(p(1), Basis::Permanent)]);
    assert_eq!(
        post.occupants_on(day("2018-06-01")),
        vec![(p(1), Basis::Permanent), (p(2), Basis::Agency)]
    );
    assert_eq!(post.occupants_on(day("2019-01-31")), vec![(p(2), Basis::Agency)]);
    assert_eq!(post.occupancies()[0].until, Some(day("2019-01-31")));
    let view = post.view().unwrap();
    assert_eq!(view.occupants.len(), 1);
    assert_eq!(view.version, 4);
    assert!(!post.is_retracted(2));
}

#[test]
fn post_events_have_stable_type_names_and_errors_stable_codes() {
    use cqrs_es::DomainEvent;
    let names: Vec<String> = [
        established(),
        filled(1, Basis::Permanent, "2018-03-01"),
        vacated(1, "2019-01-31"),
        PostEvent::Disestablished {
            effective_on: day("2020-01-01"),
        },
        retracted(2),
    ]
    .iter()
    .map(DomainEvent::event_type)
    .collect();
    assert_eq!(
        names,
        [
            "PostEstablished",
            "PostFilled",
            "PostVacated",
            "PostDisestablished",
            "PostEventRetracted"
        ]
    );
    let e = PostError::TwoPermanentOccupants {
        effective_on: day("2019-01-31"),
        occupant: p(1),
    };
    assert_eq!((e.code(), e.field()), ("two_permanent_occupants", Some("basis")));
}
