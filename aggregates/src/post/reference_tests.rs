//! The organisation's own reference for a post: recorded, unique in the
//! organisation, and absent from posts established before there were any.

use super::*;

fn establish_with_reference(reference: &str) -> PostCommand {
    PostCommand::Establish {
        post_id: p(100),
        organisation: "Eastshire".into(),
        title: "Team manager, North".into(),
        role: tm(),
        established_on: day("2015-01-01"),
        reference: Some(reference.into()),
    }
}

#[tokio::test]
async fn establishing_with_the_authoritys_reference_records_it() {
    Given::with(ctx())
        .given_no_previous_events()
        .when_async(establish_with_reference("EST-0042"))
        .await
        .then_expect_events(vec![PostEvent::Established {
            post_id: p(100),
            organisation: "Eastshire".into(),
            title: "Team manager, North".into(),
            role: tm(),
            established_on: day("2015-01-01"),
            reference: Some("EST-0042".into()),
        }]);
}

#[tokio::test]
async fn a_blank_reference_is_refused() {
    Given::with(ctx())
        .given_no_previous_events()
        .when_async(establish_with_reference("  "))
        .await
        .then_expect_error(PostError::EmptyField {
            field: Field::Reference,
        });
}

#[test]
fn a_reference_another_post_of_the_organisation_holds_is_refused() {
    assert_eq!(check_reference_free("Eastshire", "EST-0042", None), Ok(()));
    let taken = check_reference_free("Eastshire", "EST-0042", Some(p(7))).unwrap_err();
    assert_eq!(
        (taken.code(), taken.field()),
        ("post_reference_taken", Some("reference"))
    );
}

#[test]
fn an_establishment_recorded_before_posts_had_references_still_reads_and_is_stored_as_before() {
    // A PostEstablished payload as tenure stored it before this field.
    let old = serde_json::json!({"Established": {
        "post_id": p(100), "organisation": "Eastshire", "title": "Team manager, North",
        "role": {"code": "team_manager", "level": 5}, "established_on": "2015-01-01"
    }});
    let event: PostEvent = serde_json::from_value(old.clone()).unwrap();
    assert_eq!(event, established());
    assert_eq!(serde_json::to_value(&event).unwrap(), old);
    // And a command written before it (e.g. kept with an idempotency key).
    let command: PostCommand = serde_json::from_value(serde_json::json!({"Establish": {
        "post_id": p(100), "organisation": "Eastshire", "title": "T",
        "role": {"code": "team_manager", "level": 5}, "established_on": "2015-01-01"
    }}))
    .unwrap();
    assert!(matches!(command, PostCommand::Establish { reference: None, .. }));
    let mut post = Post::default();
    cqrs_es::Aggregate::apply(&mut post, establish_event_with("EST-1"));
    assert_eq!(post.reference(), Some("EST-1"));
    assert_eq!(post.view().unwrap().reference.as_deref(), Some("EST-1"));
}

fn establish_event_with(reference: &str) -> PostEvent {
    PostEvent::Established {
        post_id: p(100),
        organisation: "Eastshire".into(),
        title: "Team manager, North".into(),
        role: tm(),
        established_on: day("2015-01-01"),
        reference: Some(reference.into()),
    }
}
