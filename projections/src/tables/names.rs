//! The names a report may be asked about, looked up in the read models
//! without reading them whole: a name given is checked with one indexed
//! lookup per table; only a name that is nowhere (the request is refused)
//! costs a read of every name, to suggest the nearest.

use sqlx::PgPool;

use crate::reports::names::{KnownNames, NameKind};

/// Whether `name` of `kind` is in any read-model table of `schema`, where
/// [`KnownNames::of`] would find it in the whole dataset.
pub async fn name_in_read_models(pool: &PgPool, schema: &str, kind: NameKind, name: &str) -> Result<bool, sqlx::Error> {
    let sql = match kind {
        NameKind::Organisation => format!(
            "SELECT EXISTS (SELECT 1 FROM {schema}.spells WHERE organisation = $1) \
                 OR EXISTS (SELECT 1 FROM {schema}.posts WHERE organisation = $1) \
                 OR EXISTS (SELECT 1 FROM {schema}.leavings WHERE organisation = $1) \
                 OR EXISTS (SELECT 1 FROM {schema}.moves WHERE from_organisation = $1 OR to_organisation = $1)"
        ),
        NameKind::Role => format!(
            "SELECT EXISTS (SELECT 1 FROM {schema}.spells WHERE role_code = $1) \
                 OR EXISTS (SELECT 1 FROM {schema}.posts WHERE role_code = $1) \
                 OR EXISTS (SELECT 1 FROM {schema}.leavings WHERE role_code = $1) \
                 OR EXISTS (SELECT 1 FROM {schema}.moves WHERE from_role = $1 OR to_role = $1)"
        ),
        NameKind::Team => format!("SELECT EXISTS (SELECT 1 FROM {schema}.spells WHERE team = $1)"),
        NameKind::Programme => format!("SELECT EXISTS (SELECT 1 FROM {schema}.cohorts WHERE programme = $1)"),
        NameKind::Cohort => return Ok(true),
    };
    sqlx::query_scalar(&sql).bind(name).fetch_one(pool).await
}

/// Every organisation, role, team and programme in the read models of
/// `schema`: the names [`KnownNames::of`] finds in the whole dataset.
pub async fn names_in_read_models(pool: &PgPool, schema: &str) -> Result<KnownNames, sqlx::Error> {
    let mut names = KnownNames::default();
    let sources = [
        (
            NameKind::Organisation,
            format!("SELECT organisation FROM {schema}.spells"),
        ),
        (
            NameKind::Organisation,
            format!("SELECT organisation FROM {schema}.posts"),
        ),
        (
            NameKind::Organisation,
            format!("SELECT organisation FROM {schema}.leavings"),
        ),
        (
            NameKind::Organisation,
            format!("SELECT from_organisation FROM {schema}.moves"),
        ),
        (
            NameKind::Organisation,
            format!("SELECT to_organisation FROM {schema}.moves"),
        ),
        (NameKind::Role, format!("SELECT role_code FROM {schema}.spells")),
        (NameKind::Role, format!("SELECT role_code FROM {schema}.posts")),
        (NameKind::Role, format!("SELECT role_code FROM {schema}.leavings")),
        (NameKind::Role, format!("SELECT from_role FROM {schema}.moves")),
        (NameKind::Role, format!("SELECT to_role FROM {schema}.moves")),
        (
            NameKind::Team,
            format!("SELECT team FROM {schema}.spells WHERE team IS NOT NULL"),
        ),
        (NameKind::Programme, format!("SELECT programme FROM {schema}.cohorts")),
    ];
    for (kind, sql) in sources {
        let sql = format!("SELECT DISTINCT name FROM ({sql}) AS found (name)");
        for name in sqlx::query_scalar::<_, String>(&sql).fetch_all(pool).await? {
            names.insert(kind, name);
        }
    }
    Ok(names)
}
