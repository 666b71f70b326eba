//! The board's page over HTTP with the demo data, then in a real headless
//! browser: every section renders with real table markup, no console
//! errors, a screenshot, and a printed A4 PDF whose text (read back with
//! poppler) holds the published leaver figures a board may see.

use crate::helpers::browser::{chromium, pdf_pages, pdf_text, scratch};
use crate::helpers::{load_demo, spawn_app};

/// The demo's Riverside Council (leavers, published figure B; turnover) and
/// PLDP (promotions, published figure A; retention of its first cohort).
const PAGE: &str = "organisation=Riverside%20Council&role=team_manager,practice_manager\
    &compare_from=2017-04-01&compare_to=2017-09-30&from=2018-04-01&to=2018-09-30\
    &programme=PLDP&as_at=2021-01-31&cohort=cohort%201%20(2017)\
    &census_from=2017-10-01&census_to=2018-09-30&on=2018-09-30";

#[tokio::test]
async fn the_board_page_shows_every_section_suppressed_with_its_provenance() {
    let app = spawn_app().await;
    load_demo(&app.pool).await;
    let position = app.max_position().await;
    let reply = app.get(&format!("/board?{PAGE}&min_position={position}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("text/html; charset=utf-8"));
    let html = &reply.text;
    for section in [
        "leavers",
        "promotions",
        "retention",
        "turnover",
        "vacancies",
        "definitions",
    ] {
        // Each once: a section appears where its report is asked.
        assert!(
            html.contains(&format!("<section id=\"{section}\"")),
            "no {section} section"
        );
    }
    // Published figure B on a board: team managers 6 → <5, all roles 19 → 9,
    // rate ratio 0.47 (0.19 to 1.10).
    assert!(html.contains("<td>&lt;5</td>"), "no suppressed cell");
    assert!(html.contains("0.47 (0.19 to 1.10)"), "no total rate ratio");
    // Published: median 9.8 months to a target role over all PLDP cohorts.
    assert!(html.contains("<td>9.8</td>"));
    // Published figure A: 50.7% of PLDP participants promoted to dcs or practice leader.
    assert!(html.contains("34 (50.7%)"));
    // Real table markup.
    assert!(html.matches("<caption>").count() >= 5);
    assert!(html.contains("<th scope=\"col\">") && html.contains("<th scope=\"row\">"));
    // The provenance: the log head as /api/v1/audit/head gives it.
    let head = app.get("/api/v1/audit/head").await;
    if let Some(hash) = head.body["hash"].as_str() {
        assert!(html.contains(hash), "the page does not print the log head {hash}");
    }
    // A section alone, and a section that does not exist.
    let alone = app.get(&format!("/board/leavers?{PAGE}")).await;
    assert_eq!(alone.status, 200);
    assert!(alone.text.contains("<section id=\"leavers\"") && !alone.text.contains("<section id=\"promotions\""));
    assert_eq!(app.get("/board/salaries").await.status, 404);
    // A census year that ends before it starts is refused naming the page's
    // own parameter.
    let backwards = app
        .get("/board/turnover?organisation=Riverside%20Council&census_from=2018-09-30&census_to=2017-10-01")
        .await;
    assert!(backwards.status == 400 || backwards.status == 422, "{}", backwards.text);
    assert_eq!(backwards.str("field"), "census_from", "{}", backwards.text);
    // Without the parameters of a section, it says what to give.
    let bare = app.get("/board?organisation=Riverside%20Council&on=2018-09-30").await;
    assert_eq!(bare.status, 200, "{}", bare.text);
    assert!(bare
        .text
        .contains("Not on this paper: give from, to to see this section"));
}

#[tokio::test]
async fn the_board_page_renders_in_chromium_and_prints_to_a4() {
    let app = spawn_app().await;
    load_demo(&app.pool).await;
    let position = app.max_position().await;
    let reply = app.get(&format!("/board?{PAGE}&min_position={position}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    // The page is self-contained (inline styles and SVG), so the browser
    // reads it from a file, as a board member's saved copy would be.
    let dir = scratch("demo");
    let file = dir.join("board.html");
    std::fs::write(&file, &reply.text).unwrap();
    let url = format!("file://{}", file.display());

    let (dom, console) = chromium(&dir, &url, &["--dump-dom".into()]);
    assert!(console.is_empty(), "console messages: {console:?}");
    for heading in [
        "Leavers before and after",
        "Promotion outcomes by cohort",
        "Cohort retention",
        "Turnover and stability",
        "Vacancy and cover",
    ] {
        assert!(dom.contains(heading), "{heading} not rendered");
    }
    assert!(dom.contains("<svg"), "no chart rendered");

    // 200% zoom on a 1280-pixel screen is a 640-pixel-wide page: nothing
    // may push the page itself wider (a wide table scrolls in its own box).
    // The page has no script; the probe is added to this test's copy only.
    let probe = reply.text.replace(
        "</body>",
        "<script>document.body.setAttribute('data-widths', \
         document.documentElement.scrollWidth + ' ' + window.innerWidth)</script></body>",
    );
    let zoomed = dir.join("zoomed.html");
    std::fs::write(&zoomed, probe).unwrap();
    let (dom, _) = chromium(
        &dir,
        &format!("file://{}", zoomed.display()),
        &["--window-size=640,2000".into(), "--dump-dom".into()],
    );
    let widths = dom
        .split("data-widths=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the probe ran");
    let (page_width, viewport) = widths.split_once(' ').unwrap();
    let (page_width, viewport): (u32, u32) = (page_width.parse().unwrap(), viewport.parse().unwrap());
    assert!(page_width <= viewport, "at 640 px the page is {page_width} px wide");

    let png = dir.join("board.png");
    chromium(
        &dir,
        &url,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1200,2400".into(),
        ],
    );
    let bytes = std::fs::read(&png).expect("a screenshot");
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000,
        "screenshot of {} bytes",
        bytes.len()
    );

    let pdf = dir.join("board.pdf");
    chromium(
        &dir,
        &url,
        &[
            format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer".into(),
        ],
    );
    let text = pdf_text(&pdf);
    // The print stylesheet puts the definitions on a page of their own
    // after the figures: at least two pages, and each page carries the
    // provenance and its number.
    let pages = pdf_pages(&pdf);
    assert!(pages >= 2, "{pages} pages");
    assert_eq!(text.matches("Page ").count(), pages, "{text}");
    assert!(
        text.matches("Riverside Council · PLDP").count() >= pages,
        "provenance on every page:\n{text}"
    );
    assert!(text.contains(&format!("Page {pages} of {pages}")));
    // The published leaver figures a board may see: 13 and 6 before, 19 → 9 in all.
    for figure in ["19", "9", "13", "0.47", "<5"] {
        assert!(text.contains(figure), "{figure} missing from the PDF:\n{text}");
    }
}
