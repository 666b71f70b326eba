//! Finding the PostgreSQL server binaries (`initdb`, `pg_ctl`, `postgres`)
//! through `PATH` and the usual Debian and RPM install directories, plus the
//! small helpers for locating other system programs (`runuser`, `useradd`,
//! `setsid`, ...) that the rest of the module runs.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::ClusterError;

/// Where [`find_server_binaries`] looks.
pub(super) struct SearchPath {
    /// Directories of `PATH`, in order.
    pub(super) path_dirs: Vec<PathBuf>,
    /// Holds `<version>/bin` directories (Debian: `/usr/lib/postgresql`).
    pub(super) debian_root: PathBuf,
    /// Holds `pgsql-<version>/bin` directories (RPM packages: `/usr`).
    pub(super) pgsql_parent: PathBuf,
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`: found through
/// `PATH` first, else the highest version under `/usr/lib/postgresql/*/bin`
/// (Debian, Ubuntu), else under `/usr/pgsql-*/bin` (RHEL, Fedora).
pub fn find_server_binaries() -> Result<PathBuf, ClusterError> {
    find_server_binaries_in(&SearchPath {
        path_dirs: std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default(),
        debian_root: PathBuf::from("/usr/lib/postgresql"),
        pgsql_parent: PathBuf::from("/usr"),
    })
}

pub(super) fn find_server_binaries_in(search: &SearchPath) -> Result<PathBuf, ClusterError> {
    let has = |dir: &Path, name: &str| is_executable(&dir.join(name));
    for dir in &search.path_dirs {
        if has(dir, "pg_ctl") && has(dir, "initdb") {
            // Prefer the real install directory behind symlinks: it surely
            // holds `postgres` too.
            if let Some(real) = std::fs::canonicalize(dir.join("pg_ctl"))
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
            {
                if has(&real, "initdb") && has(&real, "postgres") {
                    return Ok(real);
                }
            }
            return Ok(dir.clone());
        }
    }
    let versioned = |parent: &Path, prefix: &str| -> Option<PathBuf> {
        let mut found: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(parent)
            .ok()?
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let version = name.strip_prefix(prefix)?;
                let bin = entry.path().join("bin");
                (has(&bin, "pg_ctl") && has(&bin, "initdb")).then(|| (version_key(version), bin))
            })
            .collect();
        found.sort();
        found.pop().map(|(_, bin)| bin)
    };
    versioned(&search.debian_root, "")
        .or_else(|| versioned(&search.pgsql_parent, "pgsql-"))
        .ok_or(ClusterError::BinariesNotFound)
}

/// "15" → [15], "9.6" → [9, 6], "17beta1" → [17]: for ordering versions.
pub(super) fn version_key(version: &str) -> Vec<u32> {
    version
        .split('.')
        .map_while(|part| {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect()
}

pub(super) fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A program from `PATH` or the usual system directories (`runuser` and
/// `useradd` live in `sbin`, which a non-login `PATH` may lack).
pub(super) fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(
            [
                "/usr/local/sbin",
                "/usr/local/bin",
                "/usr/sbin",
                "/usr/bin",
                "/sbin",
                "/bin",
            ]
            .into_iter()
            .map(PathBuf::from),
        )
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}
