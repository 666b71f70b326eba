//! A real headless browser (Debian's `chromium`) and real PDF tools
//! (poppler's `pdfinfo` and `pdftotext`) for the board page's tests.
//! `.ci/run` installs both when missing; a machine without them fails these
//! tests rather than skipping them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch directory under `target/` for one test's files.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/board-page-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

fn run(program: &str, args: &[String]) -> Output {
    let output = Command::new(program).args(args).output().unwrap_or_else(|e| {
        panic!("{program} could not be run ({e}); install Debian's chromium and poppler-utils (.ci/run does)")
    });
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs headless Chromium on `url` with `action` (e.g. `--dump-dom`); returns
/// what it printed and its console log lines.
pub(crate) fn chromium(dir: &Path, url: &str, action: &[String]) -> (String, Vec<String>) {
    let mut args = vec![
        "--headless".to_string(),
        // CI runs as root, where Chromium's sandbox cannot start.
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--no-first-run".into(),
        "--hide-scrollbars".into(),
        format!("--user-data-dir={}", dir.join("profile").display()),
        "--enable-logging=stderr".into(),
        "--v=0".into(),
    ];
    args.extend(action.iter().cloned());
    args.push(url.into());
    let output = run("chromium", &args);
    let console = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    (String::from_utf8_lossy(&output.stdout).into_owned(), console)
}

/// The number of pages of a PDF, from `pdfinfo`.
pub(crate) fn pdf_pages(pdf: &Path) -> usize {
    let info = run("pdfinfo", &[pdf.display().to_string()]);
    String::from_utf8_lossy(&info.stdout)
        .lines()
        .find_map(|l| {
            l.strip_prefix("Pages:")
                .map(|n| n.trim().parse().expect("a page count"))
        })
        .expect("pdfinfo prints Pages:")
}

/// A PDF's text, from `pdftotext -layout`.
pub(crate) fn pdf_text(pdf: &Path) -> String {
    let out = run("pdftotext", &["-layout".into(), pdf.display().to_string(), "-".into()]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}
