//! An import links each organisation to the streams that name it
//! (`event_organisations`, what a `known_at` report reads to find its
//! streams) itself, instead of the trigger every other append relies on:
//! the links must be exactly the ones the trigger's rule gives.

use crate::helpers::spawn_app;
use crate::import_entities::{file, import, SEAVIEW};

type Link = (String, String, String, chrono::DateTime<chrono::Utc>);

#[tokio::test]
async fn an_import_links_every_organisation_its_events_name_as_the_trigger_would() {
    let app = spawn_app().await;
    // Seaview's history, and SV-1 moving on to Hillside and back, so one
    // person is linked to two organisations.
    let mut rows = SEAVIEW.to_vec();
    rows.push("changed_role,SV-1,2018-06-01,Hillside,team_manager,,,,,,,,,");
    rows.push("left,SV-1,2019-03-31,,,,resigned,,,,,,,");
    rows.push("rejoined,SV-1,2020-01-06,Seaview,team_manager,,,,,,,,,");
    let summary = import(&app, "links.csv", &file(&rows)).await;
    assert!(summary.all_recorded, "{:?}", summary.errors);

    let links: Vec<Link> = sqlx::query_as(
        "SELECT organisation, aggregate_type, aggregate_id, first_recorded_at FROM event_organisations \
          ORDER BY 1, 2, 3",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    // The trigger's rule, applied to the stored events.
    let by_rule: Vec<Link> = sqlx::query_as(
        "SELECT tenure_event_organisation(event_type, payload), aggregate_type, aggregate_id, min(recorded_at) \
           FROM events WHERE tenure_event_organisation(event_type, payload) IS NOT NULL \
          GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(links, by_rule);
    // By hand: Seaview names its 3 posts and 5 people; Hillside, SV-1 only.
    let count = |organisation: &str, aggregate_type: &str| {
        links
            .iter()
            .filter(|(o, t, _, _)| o == organisation && t == aggregate_type)
            .count()
    };
    assert_eq!(count("Seaview", "post"), 3);
    assert_eq!(count("Seaview", "participant"), 5);
    assert_eq!(count("Hillside", "participant"), 1);
    assert_eq!(links.len(), 9);
}
