//! `tenure verify` as a person runs it: the real binary in its own process
//! seals what is not sealed, prints the head, exits 0 on a clean store and
//! 3 naming the first event that does not match, or a kept head that is no
//! longer on the chain.

use std::process::{Command, Output};

use crate::helpers::{fresh_database, load_demo};

fn verify(database_url: &str, args: &[&str]) -> (Output, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tenure"))
        .current_dir(std::env::temp_dir())
        .arg("verify")
        .args(args)
        .env_remove("TENURE_DATA_DIR")
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("tenure runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output, stdout)
}

/// The words after `head: position ` in the output: (position, hash).
fn printed_head(stdout: &str) -> (String, String) {
    let line = stdout.lines().find(|l| l.starts_with("head: ")).expect("a head line");
    let words: Vec<&str> = line.split_whitespace().collect();
    // "head: position P hash H"
    (words[2].to_string(), words[4].to_string())
}

#[tokio::test]
async fn verify_prints_the_head_and_exits_3_naming_a_tampered_event() {
    let (pool, url) = fresh_database().await;
    let summary = load_demo(&pool).await;
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(events as usize, summary.events_appended);

    let (output, stdout) = verify(&url, &[]);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!("ok: {events} events match their seals")),
        "{stdout}"
    );
    let (position, hash) = printed_head(&stdout);
    let last: i64 = sqlx::query_scalar("SELECT max(global_position) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(position, last.to_string());

    // The kept head checks out while nothing has changed.
    let (output, stdout) = verify(&url, &["--check-only", "--head", &hash, "--position", &position]);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("is on the chain"), "{stdout}");

    // The tenth event is edited by a superuser.
    let tenth: i64 = sqlx::query_scalar("SELECT global_position FROM events ORDER BY global_position OFFSET 9 LIMIT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    let superuser = crate::helpers::superuser_pool(&pool).await;
    let mut tx = superuser.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE events SET metadata = '{\"recorded_by\":\"nobody\"}' WHERE global_position = $1")
        .bind(tenth)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (output, stdout) = verify(&url, &["--head", &hash, "--position", &position]);
    assert_eq!(output.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains(&format!("FAILED at global position {tenth} (hash_mismatch)")),
        "{stdout}"
    );
    assert!(stdout.contains("is NOT on the chain"), "{stdout}");
}
