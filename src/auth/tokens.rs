//! The `access_tokens` table: creating, revoking and listing tokens (from
//! the command line, which may write it) and checking one (the server,
//! which may only read it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::{check_name, digest, new_token, Caller, Role};

/// Why a token could not be created or revoked.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The name is not one a token can have.
    #[error("{0}")]
    InvalidName(String),
    /// A token (revoked or not) already has this name.
    #[error(
        "a token named {0:?} already exists (names are never reused, even once revoked, because events name them)"
    )]
    NameTaken(String),
    /// No token has this name.
    #[error("no token is named {0:?}; `tenure token list` lists them")]
    NoSuchToken(String),
    /// The token was revoked already.
    #[error("the token {0:?} was already revoked")]
    AlreadyRevoked(String),
    /// The operating system gave no random bytes.
    #[error("cannot draw a random token: {0}")]
    Random(String),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl TokenError {
    /// A short machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::InvalidName(_) => "invalid_name",
            TokenError::NameTaken(_) => "name_taken",
            TokenError::NoSuchToken(_) => "no_such_token",
            TokenError::AlreadyRevoked(_) => "already_revoked",
            TokenError::Random(_) => "no_randomness",
            TokenError::Database(_) => "database",
        }
    }
}

/// A token as listed: everything but its secret, which is not kept.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenRecord {
    pub name: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Creates a token named `name` with `role`; returns its secret, which is
/// shown once and never stored.
pub async fn create(pool: &PgPool, name: &str, role: Role) -> Result<String, TokenError> {
    check_name(name).map_err(TokenError::InvalidName)?;
    let token = new_token().map_err(|e| TokenError::Random(e.to_string()))?;
    let inserted = sqlx::query(
        "INSERT INTO access_tokens (name, role, token_sha256) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(role.as_str())
    .bind(digest(&token).as_slice())
    .execute(pool)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(TokenError::NameTaken(name.to_string()));
    }
    Ok(token)
}

/// Revokes the token named `name`; the server refuses it within
/// [`CACHE_LIFETIME`].
pub async fn revoke(pool: &PgPool, name: &str) -> Result<(), TokenError> {
    let revoked: Option<Option<DateTime<Utc>>> = sqlx::query_scalar(
        "WITH found AS (SELECT name, revoked_at FROM access_tokens WHERE name = $1 FOR UPDATE), \
              done AS (UPDATE access_tokens t SET revoked_at = now() FROM found \
                       WHERE t.name = found.name AND found.revoked_at IS NULL RETURNING t.name) \
         SELECT found.revoked_at FROM found",
    )
    .bind(name)
    .fetch_optional(pool)
    .await?;
    match revoked {
        None => Err(TokenError::NoSuchToken(name.to_string())),
        Some(Some(_)) => Err(TokenError::AlreadyRevoked(name.to_string())),
        Some(None) => Ok(()),
    }
}

/// Every token, the oldest first.
pub async fn list(pool: &PgPool) -> Result<Vec<TokenRecord>, sqlx::Error> {
    sqlx::query_as("SELECT name, role, created_at, revoked_at FROM access_tokens ORDER BY created_at, name")
        .fetch_all(pool)
        .await
}

/// Whether any token is still valid.
pub async fn any_active(pool: &PgPool) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM access_tokens WHERE revoked_at IS NULL)")
        .fetch_one(pool)
        .await
}

/// How long a verified token is trusted without asking the database again:
/// a revocation takes effect within this long.
pub const CACHE_LIFETIME: Duration = Duration::from_secs(2);

/// Most tokens remembered at once; past it the cache starts afresh (there
/// are a handful of tokens, so only a flood of them would reach it).
const CACHE_CAPACITY: usize = 10_000;

/// Checks bearer tokens against the `access_tokens` table, remembering the
/// valid ones for [`CACHE_LIFETIME`] so that most requests cost no query.
/// Unknown tokens are not remembered: each costs one indexed lookup.
#[derive(Clone)]
pub struct TokenCheck {
    pool: PgPool,
    lifetime: Duration,
    verified: Arc<Mutex<Remembered>>,
}

/// Valid tokens by digest, with when each was verified.
type Remembered = HashMap<[u8; 32], (Caller, Instant)>;

impl TokenCheck {
    /// A check over `pool` with the default [`CACHE_LIFETIME`].
    pub fn new(pool: PgPool) -> Self {
        Self::with_lifetime(pool, CACHE_LIFETIME)
    }

    /// A check remembering valid tokens for `lifetime` (zero: never).
    pub fn with_lifetime(pool: PgPool, lifetime: Duration) -> Self {
        Self {
            pool,
            lifetime,
            verified: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Who `token` names, or `None` when it is unknown or revoked.
    pub async fn caller(&self, token: &str) -> Result<Option<Caller>, sqlx::Error> {
        let key = digest(token);
        if let Some(caller) = self.remembered(&key) {
            return Ok(Some(caller));
        }
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT name, role FROM access_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL")
                .bind(key.as_slice())
                .fetch_optional(&self.pool)
                .await?;
        let Some(caller) = row.and_then(|(name, role)| {
            Some(Caller {
                name,
                role: Role::parse(&role)?,
            })
        }) else {
            return Ok(None);
        };
        if !self.lifetime.is_zero() {
            let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
            if verified.len() >= CACHE_CAPACITY {
                verified.clear();
            }
            verified.insert(key, (caller.clone(), Instant::now()));
        }
        Ok(Some(caller))
    }

    fn remembered(&self, key: &[u8; 32]) -> Option<Caller> {
        let verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        verified
            .get(key)
            .filter(|(_, at)| at.elapsed() < self.lifetime)
            .map(|(caller, _)| caller.clone())
    }
}
