//! `view=board` on the demo's published figures over HTTP: small counts read
//! `<5`, nothing withheld can be got back by subtraction from the rows and
//! totals shown, figures built on a withheld count are withheld, and the
//! people behind the promotions table are not listed.

use crate::helpers::reports::{row, Row};
use crate::helpers::{load_demo, spawn_app};

const LEAVERS: &str = "organisation=Riverside%20Council&role=team_manager,practice_manager\
    &compare_from=2017-04-01&compare_to=2017-09-30&from=2018-04-01&to=2018-09-30";
const PLDP: &str = "programme=PLDP&as_at=2021-01-31";

fn number(r: &Row, column: &str) -> Option<u64> {
    r[column].parse().ok()
}

#[tokio::test]
async fn a_board_sees_the_published_leavers_with_the_three_team_managers_suppressed() {
    let app = spawn_app().await;
    load_demo(&app.pool).await;
    let exact = app.report_csv("leavers", LEAVERS).await;
    let board = app.report_csv("leavers", &format!("{LEAVERS}&view=board")).await;
    // Published: 6 team managers left in April–Sept 2017, 3 in 2018.
    let tm = row(&board, "role_code", "team_manager");
    assert_eq!(
        (tm["before_leavers"].as_str(), tm["after_leavers"].as_str()),
        ("6", "<5")
    );
    assert_eq!(tm["after_leaver_rate_percent"], "withheld");
    assert_eq!(tm["rate_ratio"], "withheld");
    // The 3 cannot be had as the total less the practice managers.
    let pm = row(&board, "role_code", "practice_manager");
    let total = row(&board, "role_code", "total");
    assert!(
        number(pm, "after_leavers").is_none() || number(total, "after_leavers").is_none(),
        "practice managers {} and total {} shown beside a suppressed cell",
        pm["after_leavers"],
        total["after_leavers"]
    );
    // Every count shown is the exact one.
    for (b, e) in board.iter().zip(&exact) {
        for column in ["before_leavers", "after_leavers"] {
            if let Some(n) = number(b, column) {
                assert_eq!(n.to_string(), e[column], "{column} of {}", b["role_code"]);
            }
        }
    }
    // A raised threshold suppresses the 6 too; JSON says why each figure is withheld.
    let json = app
        .report("leavers", &format!("{LEAVERS}&view=board&threshold=10"))
        .await;
    assert_eq!(json.status, 200, "{}", json.text);
    let report = &json.body["report"];
    let rows = report["rows"].as_array().unwrap();
    let tm = rows.iter().find(|r| r["role_code"] == "team_manager").unwrap();
    assert_eq!(tm["before"]["leavers"], "<10");
    assert_eq!(report["suppression"]["threshold"], 10);
    assert!(report["withheld"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["reason"] == "built on a count below 10"));
    // As known at the last event the answer reflects, the board view is the same.
    let at = json.body["provenance"]["last_recorded_at"]
        .as_str()
        .unwrap()
        .to_string();
    let replayed = app
        .report_csv_known_at("leavers", &format!("{LEAVERS}&view=board"), &at)
        .await;
    assert_eq!(replayed, board);
}

#[tokio::test]
async fn a_board_sees_promotions_by_cohort_without_the_people_and_without_small_cells() {
    let app = spawn_app().await;
    load_demo(&app.pool).await;
    let board = app.report_csv("promotions", &format!("{PLDP}&view=board")).await;
    // Published (exact): cohort 2 (2018) has 1 promoted to dcs and 1 to
    // another post; cohort 1 (2017) 3 sideways, 1 remained; all below 5.
    let two = row(&board, "cohort", "cohort 2 (2018)");
    assert_eq!(two["promoted_to_dcs"], "<5");
    assert_eq!(two["promoted_other"], "<5");
    let one = row(&board, "cohort", "cohort 1 (2017)");
    assert_eq!(one["sideways"], "<5");
    assert_eq!(one["remained"], "<5");
    // Zeros are shown: nobody in cohort 1 reached dcs.
    assert_eq!(one["promoted_to_dcs"], "0");
    // Every cohort's size is its outcomes' sum: none with exactly one
    // withheld outcome and a shown size.
    let outcomes = [
        "promoted_to_dcs",
        "promoted_to_practice_leader",
        "promoted_other",
        "sideways",
        "left",
        "remained",
    ];
    for r in &board {
        let withheld = outcomes.iter().filter(|o| number(r, o).is_none()).count();
        assert!(
            withheld != 1 || number(r, "cohort_size").is_none(),
            "{}: one withheld outcome beside a shown size",
            r["cohort"]
        );
    }
    let json = app.report("promotions", &format!("{PLDP}&view=board")).await;
    assert_eq!(json.status, 200, "{}", json.text);
    assert!(json.body["report"].get("participants").is_none(), "{}", json.text);
    assert_eq!(json.body["report"]["view"], "board");
}

#[tokio::test]
async fn a_threshold_below_five_or_an_unknown_view_is_refused_by_name() {
    let app = spawn_app().await;
    load_demo(&app.pool).await;
    for (query, field) in [
        (format!("{LEAVERS}&view=board&threshold=3"), "threshold"),
        (format!("{LEAVERS}&threshold=10"), "threshold"),
        (format!("{LEAVERS}&view=pretty"), "view"),
    ] {
        let reply = app.report("leavers", &query).await;
        assert_eq!(reply.status, 400, "{query}: {}", reply.text);
        assert_eq!(reply.str("field"), field, "{}", reply.text);
    }
}
