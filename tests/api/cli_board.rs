//! `tenure board` as a person runs it: the real binary prints the board's
//! page as HTML, or as an A4 PDF through headless Chromium, from the demo.

use std::process::Command;

use crate::helpers::browser::{pdf_pages, pdf_text, scratch};
use crate::helpers::{fresh_database, load_demo};

const PAGE: [&str; 12] = [
    "--organisation",
    "Riverside Council",
    "--role",
    "team_manager,practice_manager",
    "--compare-from",
    "2017-04-01",
    "--compare-to",
    "2017-09-30",
    "--from",
    "2018-04-01",
    "--to",
    "2018-09-30",
];

fn tenure(database_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tenure"))
        .arg("board")
        .args(PAGE)
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("tenure runs")
}

#[tokio::test]
async fn tenure_board_prints_the_page_as_html_and_as_an_a4_pdf() {
    let (pool, url) = fresh_database().await;
    load_demo(&pool).await;
    let html = tenure(&url, &[]);
    let stderr = String::from_utf8_lossy(&html.stderr);
    assert!(html.status.success(), "{stderr}");
    let text = String::from_utf8_lossy(&html.stdout);
    assert!(text.starts_with("<!doctype html>"), "{text}");
    assert!(text.contains("<section id=\"leavers\""));
    assert!(text.contains("Not on this paper: give programme, as_at to see this section"));

    let dir = scratch("cli");
    let pdf = dir.join("paper.pdf");
    let printed = tenure(&url, &["--pdf", pdf.to_str().unwrap()]);
    assert!(printed.status.success(), "{}", String::from_utf8_lossy(&printed.stderr));
    assert!(pdf_pages(&pdf) >= 1);
    let text = pdf_text(&pdf);
    // Published figure B on a board: 19 → 9 in all, team managers 6 → <5.
    for figure in ["Workforce board paper", "19", "9", "<5", "0.47"] {
        assert!(text.contains(figure), "{figure} missing:\n{text}");
    }
    // Nothing left behind beside the PDF.
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, [std::ffi::OsString::from("paper.pdf")]);

    // A census year backwards is refused naming the flag given.
    let backwards = tenure(&url, &["--census-from", "2018-09-30", "--census-to", "2017-10-01"]);
    assert!(!backwards.status.success());
    assert!(
        String::from_utf8_lossy(&backwards.stderr).contains("--census-from"),
        "{}",
        String::from_utf8_lossy(&backwards.stderr)
    );
    let refused = tenure(&url, &["--threshold", "3"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--threshold"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}
