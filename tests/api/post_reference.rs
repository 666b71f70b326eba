//! A post established through the API may carry the organisation's own
//! reference, unique in the organisation, by which a facts file then names
//! it.

use serde_json::json;
use tenure::event_store::EventStore;
use tenure::import::{import_facts, FactsFile, ImportOptions};
use tenure::ladders::Ladders;

use crate::helpers::spawn_app;

fn establishment(organisation: &str, reference: &str) -> serde_json::Value {
    json!({
        "organisation": organisation,
        "title": "Team manager, Assessment",
        "role": "team_manager",
        "established_on": "2015-04-01",
        "reference": reference,
    })
}

#[tokio::test]
async fn a_post_reference_names_one_post_of_an_organisation_and_a_facts_file_finds_it() {
    let app = spawn_app().await;
    let first = app
        .post("/api/v1/posts", &establishment("Harbourside", "HB-TM-09"))
        .await;
    assert_eq!(first.status, 201, "{}", first.text);

    let again = app
        .post("/api/v1/posts", &establishment("Harbourside", "HB-TM-09"))
        .await;
    assert_eq!(again.status, 422, "{}", again.text);
    assert_eq!(again.body["error"], "post_reference_taken");
    assert_eq!(again.body["field"], "reference");
    let elsewhere = app
        .post("/api/v1/posts", &establishment("Northshire", "HB-TM-09"))
        .await;
    assert_eq!(elsewhere.status, 201, "{}", elsewhere.text);
    let established: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'PostEstablished'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(established, 2, "the refused post appended nothing");

    // A facts file names the Harbourside post by its reference.
    let file = "fact,person,effective_on,organisation,role,post\n\
                joined,HB-101,2016-01-04,Harbourside,team_manager,HB-TM-09\n";
    let store = EventStore::new(app.pool.clone());
    let options = ImportOptions {
        recorded_by: "importer".to_string(),
        dry_run: false,
        future_margin_days: 366,
    };
    let summary = import_facts(
        &store,
        &Ladders::new(app.pool.clone()),
        "posts.csv",
        FactsFile::Bytes(file.as_bytes().to_vec()),
        &options,
        &mut |_| {},
    )
    .await
    .unwrap();
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    let filled: String = sqlx::query_scalar("SELECT aggregate_id FROM events WHERE event_type = 'PostFilled'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let harbourside: String = sqlx::query_scalar(
        "SELECT aggregate_id FROM events WHERE event_type = 'PostEstablished' \
          AND payload -> 'Established' ->> 'organisation' = 'Harbourside'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(filled, harbourside);
}
