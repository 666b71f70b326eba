//! tenure's database roles and what each may do (docs/design.md "Database
//! roles").
//!
//! - The **owner** runs the migrations and owns the event store, the seals
//!   and every other table of the `public` schema. In tenure's own cluster
//!   it is the cluster's superuser (`tenure`); on a server tenure does not
//!   manage, the role of `TENURE_OWNER_DATABASE_URL`.
//! - The **server** role ([`MANAGED_SERVER_ROLE`] in tenure's own cluster,
//!   the role of `DATABASE_URL` otherwise) is what `tenure serve` and every
//!   other command runs as. On the event store and its seals it may only
//!   `SELECT` and `INSERT`: it is not their owner, so it cannot disable
//!   their triggers, and not a superuser, so it cannot set
//!   `session_replication_role`. It owns the derived read models (schema
//!   `read_models`), which it rebuilds from the events by creating a fresh
//!   schema and swapping it in.
//! - The **readers** group ([`Roles::readers`], `<server>_readers`) holds
//!   the analysts' login roles (`tenure sql-role create`): `SELECT` on the
//!   read models and nothing else. The server's default privileges grant it
//!   every schema and table the server creates, so a rebuilt schema is
//!   readable as soon as it is swapped in.
//!
//! The grants are applied by the program after migrating ([`apply_grants`]),
//! not written in migrations, because the role names are only known at run
//! time (the managed ones, or whatever a `DATABASE_URL` names). A migration
//! that adds a table to `public` adds a line to [`SERVER_TABLES`] with
//! exactly what the server does to it; a test fails while a table has none
//! (CONTRIBUTING.md "Database privileges").

use sqlx::{Acquire as _, PgConnection};

/// Serialises the role and grant changes of tenure processes opening the
/// same cluster at once (`tenure serve` and a `tenure report` beside it):
/// PostgreSQL fails concurrent changes to one catalog row with "tuple
/// concurrently updated" rather than waiting.
const GRANTS_LOCK_KEY: i64 = 0x6772_616e_7473; // "grants"

/// The role `tenure serve` runs as in tenure's own cluster.
pub const MANAGED_SERVER_ROLE: &str = "tenure_server";

/// Every table of the `public` schema and the privileges the server role
/// has on it: exactly the statements src/ and projections/ make. A table
/// not listed here gets nothing (and fails the test that lists them).
pub const SERVER_TABLES: &[(&str, &str)] = &[
    // The event store: append and read, never change (0001).
    ("events", "SELECT, INSERT"),
    // The seals the sealer writes and verify reads (0014).
    ("event_seals", "SELECT, INSERT"),
    // Written with the events they answered for, read on a retry.
    ("idempotency_keys", "SELECT, INSERT"),
    // Import runs, recorded once each (0010).
    ("imports", "SELECT, INSERT"),
    // Reference data an admin replaces (`ON CONFLICT DO UPDATE`).
    ("ladders", "SELECT, INSERT, UPDATE"),
    ("ladder_versions", "SELECT, INSERT"),
    // Derived links kept by the events' trigger and the bulk append
    // (`ON CONFLICT DO UPDATE` moves the first-recorded time back).
    ("event_organisations", "SELECT, INSERT, UPDATE"),
    // Bearer tokens: the server checks them; `tenure token` (as the owner)
    // creates and revokes them (0016).
    ("access_tokens", "SELECT"),
];

/// Tables of `public` the server may not touch at all.
pub const OWNER_ONLY_TABLES: &[&str] = &["_sqlx_migrations"];

/// The schemas of derived read models that the server role owns.
pub const READ_MODEL_SCHEMAS: &[&str] = &["read_models", "read_models_next"];

/// The role names grants are made to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles {
    /// The role the application runs as.
    pub server: String,
    /// The group of read-only analyst roles.
    pub readers: String,
}

impl Roles {
    /// The roles when the server runs as `server`.
    pub fn for_server(server: &str) -> Roles {
        Roles {
            server: server.to_string(),
            readers: format!("{server}_readers"),
        }
    }

    /// The roles of tenure's own cluster.
    pub fn managed() -> Roles {
        Self::for_server(MANAGED_SERVER_ROLE)
    }
}

/// `name` quoted as an SQL identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `text` quoted as an SQL string literal.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

async fn role_exists(conn: &mut PgConnection, role: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
        .bind(role)
        .fetch_one(conn)
        .await
}

/// Creates the login role `role` with `password` (no superuser, no
/// CREATEDB, no CREATEROLE, no replication), or sets its password when it
/// exists. Needs a superuser or CREATEROLE connection.
pub async fn ensure_login_role(conn: &mut PgConnection, role: &str, password: &str) -> Result<(), sqlx::Error> {
    let mut tx = conn.begin().await?;
    let conn = &mut *tx;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(GRANTS_LOCK_KEY)
        .execute(&mut *conn)
        .await?;
    sqlx::query("SET LOCAL password_encryption = 'scram-sha-256'")
        .execute(&mut *conn)
        .await?;
    let verb = if role_exists(conn, role).await? {
        "ALTER"
    } else {
        "CREATE"
    };
    sqlx::query(&format!(
        "{verb} ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD {}",
        ident(role),
        literal(password)
    ))
    .execute(&mut *conn)
    .await?;
    tx.commit().await
}

/// Creates the group (NOLOGIN) role `role` unless it exists.
pub async fn ensure_group(conn: &mut PgConnection, role: &str) -> Result<(), sqlx::Error> {
    if !role_exists(conn, role).await? {
        sqlx::query(&format!("CREATE ROLE {} NOLOGIN", ident(role)))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Grants `roles` what they need in the current database, connected as
/// the owner (or a superuser) after migrating; safe to run again. When
/// the server role is the connection's own role (only `DATABASE_URL`,
/// no separate owner) the server keeps its owner rights and only the
/// readers' grants are made.
///
/// One transaction: a server already running as the role never sees the
/// moment between taking its privileges back and granting them again.
pub async fn apply_grants(conn: &mut PgConnection, roles: &Roles) -> Result<(), sqlx::Error> {
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(GRANTS_LOCK_KEY)
        .execute(&mut *tx)
        .await?;
    grant(&mut tx, roles).await?;
    tx.commit().await
}

async fn grant(conn: &mut PgConnection, roles: &Roles) -> Result<(), sqlx::Error> {
    let (database, me): (String, String) = sqlx::query_as("SELECT current_database()::text, current_user::text")
        .fetch_one(&mut *conn)
        .await?;
    let server = ident(&roles.server);
    let readers = ident(&roles.readers);
    let mut statements = Vec::new();
    if roles.server != me {
        statements.extend([
            // CREATE: a rebuild makes a fresh read-model schema.
            format!(
                "GRANT CONNECT, TEMPORARY, CREATE ON DATABASE {} TO {server}",
                ident(&database)
            ),
            format!("GRANT USAGE ON SCHEMA public TO {server}"),
            // Whatever an earlier version granted is taken back first.
            format!("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {server}"),
            format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {server}"),
        ]);
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'")
                .fetch_all(&mut *conn)
                .await?;
        for (table, privileges) in SERVER_TABLES {
            if tables.iter().any(|t| t == table) {
                statements.push(format!(
                    "GRANT {privileges} ON TABLE public.{} TO {server}",
                    ident(table)
                ));
            }
        }
        // The read models are the server's: it drops and recreates them.
        let owned_elsewhere: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT n.nspname::text, NULL::text FROM pg_namespace n \
              WHERE n.nspname = ANY($1) AND pg_get_userbyid(n.nspowner) <> $2 \
             UNION ALL \
             SELECT n.nspname::text, c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
              WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm') \
                AND pg_get_userbyid(c.relowner) <> $2 \
             ORDER BY 2 NULLS FIRST",
        )
        .bind(READ_MODEL_SCHEMAS)
        .bind(&roles.server)
        .fetch_all(&mut *conn)
        .await?;
        for (schema, table) in owned_elsewhere {
            statements.push(match table {
                None => format!("ALTER SCHEMA {} OWNER TO {server}", ident(&schema)),
                Some(table) => format!("ALTER TABLE {}.{} OWNER TO {server}", ident(&schema), ident(&table)),
            });
        }
    }
    if !role_exists(conn, &roles.readers).await? {
        // No analyst roles yet: `tenure sql-role create` makes the group.
        return run_all(conn, statements).await;
    }
    statements.extend([
        format!("GRANT CONNECT ON DATABASE {} TO {readers}", ident(&database)),
        format!("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {readers}"),
        // What the server creates later (a rebuilt schema) is readable at once.
        format!("ALTER DEFAULT PRIVILEGES FOR ROLE {server} GRANT USAGE ON SCHEMAS TO {readers}"),
        format!("ALTER DEFAULT PRIVILEGES FOR ROLE {server} GRANT SELECT ON TABLES TO {readers}"),
    ]);
    let live: Option<String> = sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE nspname = $1")
        .bind(READ_MODEL_SCHEMAS[0])
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(schema) = live {
        statements.push(format!("GRANT USAGE ON SCHEMA {} TO {readers}", ident(&schema)));
        statements.push(format!(
            "GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {readers}",
            ident(&schema)
        ));
    }
    run_all(conn, statements).await
}

async fn run_all(conn: &mut PgConnection, statements: Vec<String>) -> Result<(), sqlx::Error> {
    for statement in statements {
        sqlx::query(&statement).execute(&mut *conn).await?;
    }
    Ok(())
}
