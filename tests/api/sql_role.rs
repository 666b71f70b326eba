//! `tenure sql-role` as a person runs it: an analyst's role made by the
//! real binary reads the read models over plain SQL, cannot write them nor
//! read the events, and keeps reading after a rebuild swaps a fresh
//! read-model schema in; `list` names it and `drop` removes it.

use std::process::Command;

use sqlx::Connection as _;
use uuid::Uuid;

use crate::helpers::{load_demo, owner_url, server_url, spawn_app};

/// Runs `tenure sql-role ARGS` on the database of `pool`, split as a
/// server tenure does not manage is (docs/operations.md): serving as the
/// server role, administering as the owner. Returns (exit code, stdout, stderr).
fn sql_role(pool: &sqlx::PgPool, args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tenure"))
        .current_dir(std::env::temp_dir())
        .arg("sql-role")
        .args(args)
        .env_remove("TENURE_DATA_DIR")
        .env("DATABASE_URL", server_url(pool))
        .env("TENURE_OWNER_DATABASE_URL", owner_url(pool))
        .env("RUST_LOG", "warn")
        .output()
        .expect("tenure runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn participants(analyst: &mut sqlx::PgConnection) -> i64 {
    // Unqualified: the role's search_path is the read models.
    sqlx::query_scalar("SELECT count(*) FROM participants")
        .fetch_one(analyst)
        .await
        .expect("the analyst reads the read models")
}

#[tokio::test]
async fn an_analysts_role_reads_the_read_models_only_and_survives_a_rebuild() {
    let app = spawn_app().await;
    let summary = load_demo(&app.pool).await;
    assert!(summary.events_appended > 0);
    let name = format!("analyst_{}", &Uuid::new_v4().simple().to_string()[..12]);

    let (code, stdout, stderr) = sql_role(&app.pool, &["create", &name]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let url = stdout
        .split_whitespace()
        .find(|w| w.starts_with(&format!("postgres://{name}:")))
        .unwrap_or_else(|| panic!("a URL in {stdout}"))
        .to_string();
    let mut analyst = sqlx::PgConnection::connect(&url)
        .await
        .expect("the printed URL connects");
    // The demo registers this many participants (every ParticipantRegistered).
    let expected: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'ParticipantRegistered'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(expected > 0);
    // The live projector may still be catching up: wait for it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while participants(&mut analyst).await != expected && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(participants(&mut analyst).await, expected);

    for sql in [
        "INSERT INTO read_models.checkpoint DEFAULT VALUES",
        "DELETE FROM read_models.participants",
        "SELECT count(*) FROM public.events",
        "SELECT count(*) FROM public.event_seals",
        "SELECT count(*) FROM public.idempotency_keys",
        "CREATE TABLE read_models.mine (n int)",
    ] {
        let error = sqlx::query(sql).execute(&mut analyst).await.unwrap_err().to_string();
        assert!(error.contains("permission denied"), "{sql}: {error}");
    }

    // A rebuild over HTTP swaps a fresh schema in; the open connection and
    // a new one both read it.
    let reply = app.rebuild().await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(participants(&mut analyst).await, expected);
    let mut again = sqlx::PgConnection::connect(&url).await.unwrap();
    assert_eq!(participants(&mut again).await, expected);
    // And so does the one `tenure rebuild` runs.
    projections::projector::rebuild(&app.pool)
        .await
        .expect("rebuild as the server role");
    assert_eq!(participants(&mut again).await, expected);
    let error = sqlx::query("SELECT count(*) FROM public.events")
        .execute(&mut again)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("permission denied"), "{error}");
    analyst.close().await.unwrap();
    again.close().await.unwrap();

    let (code, stdout, _) = sql_role(&app.pool, &["list"]);
    assert_eq!(code, Some(0));
    assert!(stdout.lines().any(|l| l == name), "{stdout}");
    // The server role is not an analyst's to drop.
    let (code, _, stderr) = sql_role(&app.pool, &["drop", "tenure_server"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("not an analyst's role"), "{stderr}");
    let (code, stdout, stderr) = sql_role(&app.pool, &["drop", &name]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(sqlx::PgConnection::connect(&url).await.is_err(), "dropped");
    let (_, stdout, _) = sql_role(&app.pool, &["list"]);
    assert!(!stdout.lines().any(|l| l == name), "{stdout}");
}
