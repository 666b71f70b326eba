//! The newcomer's path with the real binary: `tenure demo` loads the demo,
//! prints an admin token and the demo's board page, and that page answers
//! with the published leaver figures a board may see.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers::{fresh_database, owner_url, server_url};
use crate::server_process::test_dir;

#[tokio::test]
async fn the_demo_prints_a_token_and_a_board_page_that_answers() {
    let (pool, _) = fresh_database().await;
    let log = test_dir("demo").with_extension("log");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tenure"))
        .args(["--listen", "127.0.0.1:0", "demo"])
        .env("DATABASE_URL", server_url(&pool))
        .env("TENURE_OWNER_DATABASE_URL", owner_url(&pool))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn tenure demo");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let page = tokio::time::timeout(Duration::from_secs(180), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some((_, url)) = line.split_once("the demo's board page (sign in with the token): ") {
                return Some(url.to_string());
            }
        }
        None
    })
    .await
    .expect("the demo started in time")
    .unwrap_or_else(|| {
        panic!(
            "no board page printed: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    });
    let token = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("export TOKEN=").map(str::to_string))
        .expect("an admin token printed");
    let reply = reqwest::Client::new()
        .get(&page)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let html = reply.text().await.unwrap();
    // Published figure B for a board: 19 → 9 in all, team managers 6 → <5.
    assert!(
        html.contains("<td>&lt;5</td>") && html.contains("<td>19</td>"),
        "{html}"
    );
    child.kill().await.unwrap();
    let _ = std::fs::remove_file(&log);
}
