//! The tokens from the command line, and secure by default, with the real
//! binary: `tenure token create|revoke|list`, a first start on loopback
//! printing an admin token, and no listening beyond loopback without one.

use std::process::{Command, Output};
use std::time::Duration;

use crate::helpers::{fresh_database, owner_url, server_url};
use crate::server_process::{test_dir, timed_get, TenureProcess};

/// `tenure ARGS` over the database of `pool`: served as the server role,
/// administered (tokens) as the owner, as docs/operations.md sets it up.
fn tenure(pool: &sqlx::PgPool, args: &[&str]) -> (Output, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tenure"))
        .current_dir(std::env::temp_dir())
        .args(args)
        .env_remove("TENURE_DATA_DIR")
        .env_remove("TENURE_LISTEN")
        .env("DATABASE_URL", server_url(pool))
        .env("TENURE_OWNER_DATABASE_URL", owner_url(pool))
        .env("RUST_LOG", "warn")
        .output()
        .expect("tenure runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

#[tokio::test]
async fn tokens_are_created_once_listed_without_their_secret_and_revoked() {
    let (pool, _) = fresh_database().await;
    let (output, stdout, stderr) = tenure(&pool, &["token", "create", "--role", "analyst", "--name", "ann"]);
    assert!(output.status.success(), "{stderr}");
    let token = stdout.trim().to_string();
    assert!(token.starts_with("tenure_") && token.len() == 50, "{token:?}");
    // Only the digest is kept.
    let (role, stored): (String, Vec<u8>) =
        sqlx::query_as("SELECT role, token_sha256 FROM access_tokens WHERE name = 'ann'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (role.as_str(), stored),
        ("analyst", tenure::auth::digest(&token).to_vec())
    );

    let (output, _, stderr) = tenure(&pool, &["token", "create", "--role", "admin", "--name", "ann"]);
    assert!(!output.status.success());
    assert!(stderr.contains("already exists"), "{stderr}");
    let (output, _, stderr) = tenure(&pool, &["token", "create", "--role", "owner", "--name", "bob"]);
    assert!(!output.status.success());
    assert!(stderr.contains("recorder, analyst, auditor, board, admin"), "{stderr}");

    let (output, stdout, _) = tenure(&pool, &["token", "revoke", "ann"]);
    assert!(output.status.success(), "{stdout}");
    let (output, _, stderr) = tenure(&pool, &["token", "revoke", "ann"]);
    assert!(!output.status.success());
    assert!(stderr.contains("already revoked"), "{stderr}");
    let (output, _, stderr) = tenure(&pool, &["token", "revoke", "nobody"]);
    assert!(!output.status.success());
    assert!(stderr.contains("no token is named"), "{stderr}");
    // A revoked name is never reused: its events name it.
    let (output, _, stderr) = tenure(&pool, &["token", "create", "--role", "analyst", "--name", "ann"]);
    assert!(!output.status.success(), "{stderr}");

    let (output, stdout, _) = tenure(&pool, &["token", "list"]);
    assert!(output.status.success());
    let ann = stdout.lines().find(|l| l.starts_with("ann ")).expect("ann is listed");
    let words: Vec<&str> = ann.split_whitespace().collect();
    assert_eq!(words[1], "analyst");
    assert_ne!(words.last(), Some(&"-"), "revoked: {ann}");
    assert!(!stdout.contains(&token));
}

#[tokio::test]
async fn without_a_token_tenure_will_not_listen_beyond_loopback() {
    let (pool, _) = fresh_database().await;
    let (output, _, stderr) = tenure(&pool, &["--listen", "0.0.0.0:0", "serve"]);
    assert!(!output.status.success());
    assert!(stderr.contains("tenure token create --role admin"), "{stderr}");
    // Nor was a token made behind the operator's back.
    let tokens: i64 = sqlx::query_scalar("SELECT count(*) FROM access_tokens")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(tokens, 0);
}

#[tokio::test]
async fn a_first_start_on_loopback_prints_an_admin_token_and_a_second_does_not() {
    let (pool, url) = fresh_database().await;
    let owner = owner_url(&pool);
    let dir = test_dir("first-start");
    let first = TenureProcess::start(
        &[("DATABASE_URL", &url), ("TENURE_OWNER_DATABASE_URL", &owner)],
        &[],
        &dir.with_extension("log"),
    )
    .await;
    let token = first.token.clone().expect("an admin token printed on the first start");
    let imports = format!("{}/api/v1/imports", first.address);
    assert_eq!(timed_get(&imports, None).await.0, 401);
    // An admin may do what the README shows: rebuild, say.
    let rebuild = reqwest::Client::new()
        .post(format!("{}/api/v1/admin/rebuild", first.address))
        .bearer_auth(&token)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    assert_eq!(rebuild.status().as_u16(), 200);
    first.terminate().await;

    let second = TenureProcess::start(
        &[("DATABASE_URL", &url), ("TENURE_OWNER_DATABASE_URL", &owner)],
        &[],
        &dir.with_extension("log"),
    )
    .await;
    assert_eq!(second.token, None, "a token exists: nothing printed");
    let imports = format!("{}/api/v1/imports", second.address);
    assert_eq!(timed_get(&imports, Some(&token)).await.0, 200);
    second.terminate().await;
}

#[tokio::test]
async fn a_server_role_alone_cannot_make_the_first_token_and_says_how_to() {
    let (pool, _) = fresh_database().await;
    let output = Command::new(env!("CARGO_BIN_EXE_tenure"))
        .current_dir(std::env::temp_dir())
        .args(["--listen", "127.0.0.1:0", "serve"])
        .env_remove("TENURE_DATA_DIR")
        .env_remove("TENURE_OWNER_DATABASE_URL")
        .env("DATABASE_URL", server_url(&pool))
        .env("RUST_LOG", "warn")
        .output()
        .expect("tenure runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "served with no token: {stderr}");
    assert!(
        stderr.contains("may not create one") && stderr.contains("TENURE_OWNER_DATABASE_URL"),
        "{stderr}"
    );
}
