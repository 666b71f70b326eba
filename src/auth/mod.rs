//! Who may call the HTTP API, and what each may do: the pure part (roles,
//! the access rule, tokens and their digests), without any I/O but
//! [`tokens`]' database calls.
//!
//! Every request but the health checks carries a bearer token; the token
//! names a [`Caller`] (its name becomes the events' `recorded_by`) holding
//! one [`Role`]. [`classify`] says what a request asks for ([`Access`]),
//! from its method and route, and [`Role::may`] whether the role may. A
//! route the table in [`classify`] does not name is refused to every role
//! (deny by default). The matrix is written out in README.md
//! "Authentication" and docs/design.md "Authentication and roles".

pub mod tokens;

use sha2::{Digest, Sha256};

/// What a token may do. Each is a kind of user of the API, not a level:
/// only `admin` includes the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Records facts: commands and imports.
    Recorder,
    /// Reads reports and the current state of people, cohorts and posts.
    Analyst,
    /// Reads everything, as known at any moment, and the audit trail;
    /// records nothing.
    Auditor,
    /// Reads the board views only (suppressed figures, no personal data).
    Board,
    /// Everything, the ladders and the rebuild included.
    Admin,
}

impl Role {
    /// Every role, in the order the documentation lists them.
    pub const ALL: [Role; 5] = [Role::Recorder, Role::Analyst, Role::Auditor, Role::Board, Role::Admin];

    /// The role's name, as `tenure token create --role` takes it and the
    /// database stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Recorder => "recorder",
            Role::Analyst => "analyst",
            Role::Auditor => "auditor",
            Role::Board => "board",
            Role::Admin => "admin",
        }
    }

    /// The role named `name`, if any.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// Whether this role may do `access`.
    pub fn may(self, access: Access) -> bool {
        use Access::*;
        use Role::*;
        match access {
            Health | SignIn => true,
            ApiDocument => self != Board,
            Command | Import => matches!(self, Recorder | Admin),
            ImportStatus => matches!(self, Recorder | Auditor | Admin),
            EntityState | Report | LadderRead | ProjectionStatus => matches!(self, Analyst | Auditor | Admin),
            // "What was known then" is an auditor's question.
            EntityStateKnownAt | ReportKnownAt | History | AuditFeed | AuditChain => {
                matches!(self, Auditor | Admin)
            }
            BoardView => matches!(self, Board | Analyst | Auditor | Admin),
            LadderReplace | Rebuild => self == Admin,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who sent a request: the name and role of its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name; recorded as `recorded_by`.
    pub name: String,
    /// What the token may do.
    pub role: Role,
}

/// What a request asks for, in the terms the roles are granted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `/healthz`: answered without a token.
    Health,
    /// The board page's sign-in form and sign-out: answered without a
    /// token (the form checks the one it is given).
    SignIn,
    /// The OpenAPI document.
    ApiDocument,
    /// A command recording events on a participant, cohort or post.
    Command,
    /// Starting an import.
    Import,
    /// The list of imports.
    ImportStatus,
    /// The current state of a participant, cohort or post.
    EntityState,
    /// An entity's state as known at a past moment (`known_at`).
    EntityStateKnownAt,
    /// A report (CSV or JSON).
    Report,
    /// A report as known at a past moment (`known_at`).
    ReportKnownAt,
    /// A board view: the board's page (`/board`, `/board/{section}`), or a
    /// report with `view=board` (with or without `known_at`).
    BoardView,
    /// A stream's events.
    History,
    /// The audit feed (`/api/v1/events`).
    AuditFeed,
    /// The hash chain's head and its verification.
    AuditChain,
    /// Reading an organisation's ladder.
    LadderRead,
    /// Replacing an organisation's ladder.
    LadderReplace,
    /// Where the projector is.
    ProjectionStatus,
    /// Rebuilding the read models.
    Rebuild,
}

/// What each route is, before its query is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Fixed(Access),
    /// `known_at` in the query makes it [`Access::EntityStateKnownAt`].
    Entity,
    /// `view=board` makes it [`Access::BoardView`]; otherwise `known_at`
    /// makes it [`Access::ReportKnownAt`].
    Report,
}

/// Every route of the router, by method and path as axum matched it.
/// A route missing here is refused (tests/api/auth_roles.rs checks every
/// operation of the OpenAPI document has a rule).
const ROUTES: &[(&str, &str, Kind)] = {
    use Access::*;
    use Kind::{Entity, Fixed};
    &[
        ("GET", "/healthz", Fixed(Health)),
        ("GET", "/healthz/ready", Fixed(Health)),
        ("GET", "/healthz/live", Fixed(Health)),
        ("GET", "/api/v1/openapi.json", Fixed(ApiDocument)),
        ("POST", "/api/v1/participants", Fixed(Command)),
        ("GET", "/api/v1/participants", Entity),
        ("GET", "/api/v1/participants/{id}", Entity),
        ("POST", "/api/v1/participants/{id}/role-changes", Fixed(Command)),
        ("POST", "/api/v1/participants/{id}/leavings", Fixed(Command)),
        ("POST", "/api/v1/participants/{id}/rejoinings", Fixed(Command)),
        ("POST", "/api/v1/participants/{id}/exclusions", Fixed(Command)),
        ("POST", "/api/v1/participants/{id}/exclusion-lifts", Fixed(Command)),
        ("POST", "/api/v1/participants/{id}/retractions", Fixed(Command)),
        ("POST", "/api/v1/cohorts", Fixed(Command)),
        ("GET", "/api/v1/cohorts/{id}", Entity),
        ("POST", "/api/v1/cohorts/{id}/enrolments", Fixed(Command)),
        ("POST", "/api/v1/cohorts/{id}/completions", Fixed(Command)),
        ("POST", "/api/v1/cohorts/{id}/withdrawals", Fixed(Command)),
        ("POST", "/api/v1/cohorts/{id}/retractions", Fixed(Command)),
        ("POST", "/api/v1/posts", Fixed(Command)),
        ("GET", "/api/v1/posts/{id}", Entity),
        ("POST", "/api/v1/posts/{id}/fillings", Fixed(Command)),
        ("POST", "/api/v1/posts/{id}/vacations", Fixed(Command)),
        ("POST", "/api/v1/posts/{id}/disestablishment", Fixed(Command)),
        ("POST", "/api/v1/posts/{id}/retractions", Fixed(Command)),
        ("GET", "/api/v1/participants/{id}/events", Fixed(History)),
        ("GET", "/api/v1/cohorts/{id}/events", Fixed(History)),
        ("GET", "/api/v1/posts/{id}/events", Fixed(History)),
        ("GET", "/api/v1/organisations/{organisation}/ladder", Fixed(LadderRead)),
        (
            "PUT",
            "/api/v1/organisations/{organisation}/ladder",
            Fixed(LadderReplace),
        ),
        ("POST", "/api/v1/imports", Fixed(Import)),
        ("GET", "/api/v1/imports", Fixed(ImportStatus)),
        ("GET", "/api/v1/reports/{kind}", Kind::Report),
        ("GET", "/api/v1/admin/projection", Fixed(ProjectionStatus)),
        ("POST", "/api/v1/admin/rebuild", Fixed(Rebuild)),
        ("GET", "/api/v1/audit/head", Fixed(AuditChain)),
        ("GET", "/api/v1/audit/verify", Fixed(AuditChain)),
        ("GET", "/api/v1/events", Fixed(AuditFeed)),
        // The board's page and its sections, whatever their query: every
        // figure on them is suppressed, `known_at` included (a board may
        // reproduce a paper it was given).
        ("GET", "/board", Fixed(BoardView)),
        ("GET", "/board/{section}", Fixed(BoardView)),
        ("GET", "/board/sign-in", Fixed(SignIn)),
        ("POST", "/board/sign-in", Fixed(SignIn)),
        ("POST", "/board/sign-out", Fixed(SignIn)),
    ]
};

/// What a request asks for, from its method, the route it matched (axum's
/// `MatchedPath`, `{id}` and all) and its query string; `None` when no rule
/// covers it, which every role is refused.
pub fn classify(method: &str, route: &str, query: Option<&str>) -> Option<Access> {
    // axum answers HEAD with the GET handler: the same rule.
    let method = if method == "HEAD" { "GET" } else { method };
    let (_, _, kind) = ROUTES.iter().find(|(m, r, _)| *m == method && *r == route)?;
    let asks = |key: &str, value: Option<&str>| query_has(query.unwrap_or(""), key, value);
    Some(match kind {
        Kind::Fixed(access) => *access,
        Kind::Entity if asks("known_at", None) => Access::EntityStateKnownAt,
        Kind::Entity => Access::EntityState,
        // A board view as known at a moment is still a board view: its
        // figures are suppressed either way.
        Kind::Report if asks("view", Some("board")) => Access::BoardView,
        Kind::Report if asks("known_at", None) => Access::ReportKnownAt,
        Kind::Report => Access::Report,
    })
}

/// Whether a request to `path` is answered without a token (the health
/// checks, the board page's sign-in), judged before routing: these routes
/// have no parameters, so the path is the route.
pub fn needs_no_token(method: &str, path: &str) -> bool {
    matches!(classify(method, path, None), Some(Access::Health | Access::SignIn))
}

/// Whether any rule names `route` (for some method): a request to such a
/// route with another method is left to the router, which answers 405.
pub fn route_has_rules(route: &str) -> bool {
    ROUTES.iter().any(|(_, r, _)| *r == route)
}

/// Every route with a rule, as `(method, path)`.
pub fn routes_with_rules() -> impl Iterator<Item = (&'static str, &'static str)> {
    ROUTES.iter().map(|(m, r, _)| (*m, *r))
}

/// Whether `query` has `key` (with `value`, when given), decoded as the
/// handlers decode it (`+`, `%XX`), so that an escaped `known%5Fat` is
/// caught too.
fn query_has(query: &str, key: &str, value: Option<&str>) -> bool {
    form_urlencoded::parse(query.as_bytes()).any(|(k, v)| k == key && value.is_none_or(|want| v == want))
}

/// What every token starts with, so a leaked one is recognisable (by
/// secret scanners, say).
pub const TOKEN_PREFIX: &str = "tenure_";

/// A new token: [`TOKEN_PREFIX`] and 256 random bits from the operating
/// system, in base64url.
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret)?;
    Ok(format!("{TOKEN_PREFIX}{}", base64url(&secret)))
}

/// The digest a token is stored and looked up by: SHA-256 of its text.
pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Unpadded base64url (RFC 4648 section 5).
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// `Err` with the reason unless `name` can name a token: 1 to 64 letters,
/// digits and `. _ @ + -`, starting with a letter or digit (as the
/// `access_tokens` table checks).
pub fn check_name(name: &str) -> Result<(), String> {
    let first_ok = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '+' | '-'));
    if first_ok && rest_ok && name.len() <= 64 {
        Ok(())
    } else {
        Err(format!(
            "a token name is 1 to 64 letters, digits and . _ @ + -, starting with a letter or digit; not {name:?}"
        ))
    }
}

#[cfg(test)]
mod tests;
