//! `tenure token create|revoke|list`: the HTTP API's bearer tokens, managed
//! from the command line (which runs with the database owner's rights; the
//! server may only read the tokens), and the first admin token a new
//! installation gets (README.md "Authentication").

use std::net::SocketAddr;

use sqlx::PgPool;

use crate::auth::tokens::{self, TokenError};
use crate::auth::Role;

/// `tenure token`: what to do with tokens.
#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (once: only its SHA-256 is kept). Its
    /// name is recorded as `recorded_by` on every event it records, and is
    /// never given to another token, even once revoked.
    Create {
        /// recorder, analyst, auditor, board or admin (README.md
        /// "Authentication" says what each may do).
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// 1 to 64 letters, digits and `. _ @ + -` (a person or a system).
        #[arg(long)]
        name: String,
    },
    /// Revoke the token named NAME: the server refuses it within seconds.
    Revoke {
        /// The token's name.
        name: String,
    },
    /// List every token: name, role, when created and when revoked (never
    /// the secret, which is not kept).
    List,
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| {
        let names: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("the role is one of {}", names.join(", "))
    })
}

/// Runs `command` against the store behind `pool`.
pub async fn run(pool: &PgPool, command: &TokenCommand) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        TokenCommand::Create { role, name } => {
            let token = tokens::create(pool, name, *role).await?;
            // The token alone on standard output, for `TOKEN=$(tenure token create ...)`.
            println!("{token}");
            eprintln!(
                "created the {role} token {name:?}; it is shown only this once. \
                 Send it as `Authorization: Bearer <token>`."
            );
        }
        TokenCommand::Revoke { name } => {
            tokens::revoke(pool, name).await?;
            println!(
                "revoked the token {name:?}; the server refuses it within {} seconds",
                tokens::CACHE_LIFETIME.as_secs()
            );
        }
        TokenCommand::List => {
            let all = tokens::list(pool).await?;
            println!("{:<24} {:<9} {:<20} REVOKED", "NAME", "ROLE", "CREATED");
            let when = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S").to_string();
            for t in all {
                println!(
                    "{:<24} {:<9} {:<20} {}",
                    t.name,
                    t.role,
                    when(t.created_at),
                    t.revoked_at.map(when).unwrap_or_else(|| "-".to_string())
                );
            }
        }
    }
    Ok(())
}

/// Why `tenure serve` will not start.
#[derive(Debug, thiserror::Error)]
pub enum StartRefused {
    /// Listening beyond this machine with no token: anyone could then
    /// create the first one's worth of access.
    #[error(
        "no access token exists, so tenure will not listen on {0} (reachable from other machines): \
         create one first with `tenure token create --role admin --name <your-name>` (with the same \
         --data-dir or DATABASE_URL), or listen on 127.0.0.1"
    )]
    NoTokenBeyondLoopback(SocketAddr),
    /// The database role may read the tokens but not create one: a server
    /// role given alone as DATABASE_URL.
    #[error(
        "no access token exists and this database role may not create one (it may only read tokens): \
         create the first with `tenure token create --role admin --name <your-name>` and the owner's URL \
         in TENURE_OWNER_DATABASE_URL (docs/operations.md \"Database roles on your own server\")"
    )]
    NoRightToCreate,
    /// The tokens could not be read or created.
    #[error("cannot set up the first access token: {0}")]
    Tokens(#[from] TokenError),
}

impl From<sqlx::Error> for StartRefused {
    fn from(e: sqlx::Error) -> Self {
        StartRefused::Tokens(TokenError::Database(e))
    }
}

/// Whether any token is valid, asking again for a while if the database
/// does not answer: a server started again at once after `kill -9` may find
/// its own cluster being restarted, which it waits for rather than exit.
async fn any_active_patiently(pool: &PgPool) -> Result<bool, sqlx::Error> {
    let mut attempts = 0;
    loop {
        match tokens::any_active(pool).await {
            Err(e) if attempts < 30 => {
                attempts += 1;
                tracing::warn!(error = %e, "cannot read the access tokens yet; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            answer => return answer,
        }
    }
}

/// Before serving on `listen`: with no valid token, refuse a non-loopback
/// address; on loopback, create an admin token and print it on standard
/// error, so that a newcomer's `tenure demo` and curl work. Returns the
/// token created, if any. `pool` must be allowed to write the tokens (the
/// owner's, as for migrations).
pub async fn secure_start(pool: &PgPool, listen: SocketAddr) -> Result<Option<String>, StartRefused> {
    if any_active_patiently(pool).await? {
        return Ok(None);
    }
    if !listen.ip().is_loopback() {
        return Err(StartRefused::NoTokenBeyondLoopback(listen));
    }
    // "admin" unless an earlier, revoked token holds the name.
    let mut attempt = 1;
    let (name, token) = loop {
        let name = if attempt == 1 {
            "admin".to_string()
        } else {
            format!("admin-{attempt}")
        };
        match tokens::create(pool, &name, Role::Admin).await {
            Ok(token) => break (name, token),
            Err(TokenError::NameTaken(_)) if attempt < 100 => attempt += 1,
            // 42501: insufficient_privilege.
            Err(TokenError::Database(sqlx::Error::Database(db))) if db.code().as_deref() == Some("42501") => {
                return Err(StartRefused::NoRightToCreate);
            }
            Err(e) => return Err(e.into()),
        }
    };
    eprintln!(
        "tenure: no access token existed, so an admin token named {name:?} was created; \
         it is shown only this once (`tenure token create` makes more):\n\
         export TOKEN={token}\n\
         tenure: send it with every request, e.g. curl -H \"Authorization: Bearer $TOKEN\" \
         http://{listen}/api/v1/openapi.json"
    );
    Ok(Some(token))
}
