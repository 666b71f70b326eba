//! `tenure sql-role create|drop|list`: read-only SQL login roles for
//! analysts, who may `SELECT` the read models (schema `read_models`) and
//! nothing else: not the events, the seals, the idempotency records or any
//! other table of `public` (README.md "Plain SQL on the read models").
//!
//! Each role is a member of the readers group ([`tenure::db::roles`]),
//! which holds the grants; the server's default privileges give that group
//! every schema and table a rebuild creates, so a role keeps working after
//! `tenure rebuild` or `POST /api/v1/admin/rebuild` swaps a fresh schema in.
//! The password is generated, printed once inside the role's URL and kept
//! nowhere else (PostgreSQL stores only its SCRAM verifier): the analyst
//! keeps it, and a lost one is replaced by dropping and creating the role.

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection as _, PgConnection};
use tenure::cli::SqlRoleAction;
use tenure::db::roles::{self, ident, literal, Roles};
use tenure::db::Database;

/// Why an analyst's role could not be created, dropped or listed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SqlRoleError {
    #[error(
        "`{0}` is not a role name tenure creates: use 1 to 63 lower-case letters, digits and `_`, \
         starting with a letter, not starting with `pg_`"
    )]
    BadName(String),
    #[error("a role named `{0}` exists already; `tenure sql-role drop {0}` first to replace it")]
    Exists(String),
    #[error("`{0}` is not an analyst's role made by `tenure sql-role create` (not a member of {1}); left alone")]
    NotAnAnalyst(String, String),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
}

/// Runs `tenure sql-role ACTION` on the opened database, as its owner.
pub(crate) async fn run(database: &Database, action: &SqlRoleAction) -> Result<(), Box<dyn std::error::Error>> {
    let mut owner = PgConnection::connect(&database.owner_url).await?;
    let result = match action {
        SqlRoleAction::Create { name } => create(&mut owner, database, name).await,
        SqlRoleAction::Drop { name } => drop_role(&mut owner, &database.roles, name).await,
        SqlRoleAction::List => list(&mut owner, database).await,
    };
    owner.close().await?;
    Ok(result?)
}

/// Whether tenure would create a role named `name`.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
        && !name.starts_with("pg_")
}

async fn is_analyst(conn: &mut PgConnection, roles: &Roles, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_auth_members m \
           JOIN pg_roles member ON member.oid = m.member JOIN pg_roles grp ON grp.oid = m.roleid \
          WHERE member.rolname = $1 AND grp.rolname = $2)",
    )
    .bind(name)
    .bind(&roles.readers)
    .fetch_one(conn)
    .await
}

async fn create(conn: &mut PgConnection, database: &Database, name: &str) -> Result<(), SqlRoleError> {
    let roles = &database.roles;
    if !valid_name(name) || name == roles.server || name == roles.readers {
        return Err(SqlRoleError::BadName(name.to_string()));
    }
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
        .bind(name)
        .fetch_one(&mut *conn)
        .await?;
    if exists {
        return Err(SqlRoleError::Exists(name.to_string()));
    }
    roles::ensure_group(conn, &roles.readers).await?;
    // The group may be new: give it the read models now.
    roles::apply_grants(conn, roles).await?;
    let password = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let database_name: String = sqlx::query_scalar("SELECT current_database()::text")
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query("SET password_encryption = 'scram-sha-256'")
        .execute(&mut *conn)
        .await?;
    for statement in [
        format!(
            "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT \
             PASSWORD {} IN ROLE {}",
            ident(name),
            literal(&password),
            ident(&roles.readers)
        ),
        // Plain table names find the read models.
        format!(
            "ALTER ROLE {} IN DATABASE {} SET search_path = read_models",
            ident(name),
            ident(&database_name)
        ),
    ] {
        sqlx::query(&statement).execute(&mut *conn).await?;
    }
    println!("created the read-only SQL role {name}: SELECT on the read models (schema read_models), nothing else");
    println!("connect with (the password is shown only now; tenure keeps no copy):");
    println!("  {}", url_for(&database.url, name, &password));
    if database.cluster.is_some() {
        println!(
            "tenure's own PostgreSQL listens on 127.0.0.1 only, on the port it picked when it started: \
             the one above while it keeps running (`tenure sql-role list` prints the current one)"
        );
    }
    Ok(())
}

/// `postgres://NAME:PASSWORD@HOST:PORT/DATABASE` on the server `server_url` names.
fn url_for(server_url: &str, name: &str, password: &str) -> String {
    match server_url.parse::<PgConnectOptions>() {
        Ok(o) => format!(
            "postgres://{name}:{password}@{}:{}/{}",
            o.get_host(),
            o.get_port(),
            o.get_database().unwrap_or("")
        ),
        Err(_) => format!("user {name}, password {password}, on the server DATABASE_URL names"),
    }
}

async fn drop_role(conn: &mut PgConnection, roles: &Roles, name: &str) -> Result<(), SqlRoleError> {
    if !valid_name(name) || !is_analyst(conn, roles, name).await? {
        return Err(SqlRoleError::NotAnAnalyst(name.to_string(), roles.readers.clone()));
    }
    sqlx::query(&format!("DROP ROLE {}", ident(name)))
        .execute(&mut *conn)
        .await?;
    println!("dropped the SQL role {name}");
    Ok(())
}

async fn list(conn: &mut PgConnection, database: &Database) -> Result<(), SqlRoleError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT member.rolname::text FROM pg_auth_members m \
           JOIN pg_roles member ON member.oid = m.member JOIN pg_roles grp ON grp.oid = m.roleid \
          WHERE grp.rolname = $1 ORDER BY 1",
    )
    .bind(&database.roles.readers)
    .fetch_all(&mut *conn)
    .await?;
    println!("connect as: {}", url_for(&database.url, "NAME", "PASSWORD"));
    if names.is_empty() {
        println!("no SQL roles: `tenure sql-role create NAME` makes one");
    }
    for name in names {
        println!("{name}");
    }
    Ok(())
}
