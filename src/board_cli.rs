//! `tenure board`: the board's page from an existing store, as HTML (to a
//! file or standard output) or as an A4 PDF printed by headless Chromium,
//! the same page `GET /board` serves.
//!
//! Like `tenure report` it never creates a cluster and brings the read
//! models up to date first. The PDF is printed by the browser a board member
//! would use, from the page's own print stylesheet, so the file and a
//! browser's "Print" give the same paper.

use std::path::{Path, PathBuf};
use std::process::Command;

use projections::projector::Projector;
use tenure::board;
use tenure::cli::{BoardArgs, Cli};
use tenure::reports::ReportSource;

use crate::report_cli::{close, in_flags_of, open_existing, ReportCliError};

/// Why the PDF was not printed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PrintError {
    #[error(
        "cannot run {browser:?} to print the PDF ({cause}); install Chromium (Debian: apt-get install chromium) \
         or name it with TENURE_CHROMIUM"
    )]
    NoBrowser { browser: String, cause: std::io::Error },
    #[error("{browser} did not print {pdf}: {stderr}")]
    Failed {
        browser: String,
        pdf: PathBuf,
        stderr: String,
    },
}

pub(crate) async fn run(cli: &Cli, args: &BoardArgs) -> Result<(), Box<dyn std::error::Error>> {
    let (opened, _) = open_existing(cli, "board").await?;
    let html = page(&opened.pool, args).await;
    close(opened).await?;
    let html = html?;
    match (&args.html, &args.pdf) {
        (None, None) => print!("{html}"),
        (html_file, pdf) => {
            if let Some(file) = html_file {
                std::fs::write(file, &html)?;
                eprintln!("tenure board: wrote {}", file.display());
            }
            if let Some(pdf) = pdf {
                print_pdf(&html, pdf)?;
                eprintln!("tenure board: printed {}", pdf.display());
            }
        }
    }
    Ok(())
}

async fn page(pool: &sqlx::PgPool, args: &BoardArgs) -> Result<String, Box<dyn std::error::Error>> {
    Projector::live(pool.clone()).catch_up().await?;
    let page = board::gather(&ReportSource::primary(pool.clone()), &args.query, None)
        .await
        .map_err(|e| ReportCliError::Request(in_flags_of::<board::PageQuery>(&e)))?;
    let page = board::with_head(page, pool).await;
    Ok(board::render(&page)?)
}

/// Prints `html` to `pdf` with headless Chromium, through a file beside it
/// (removed afterwards) so the page is read with no server.
fn print_pdf(html: &str, pdf: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let pdf = std::path::absolute(pdf)?;
    let dir = pdf.parent().map(Path::to_path_buf).unwrap_or_default();
    let page = dir.join(format!(".tenure-board-{}.html", std::process::id()));
    let profile = std::env::temp_dir().join(format!("tenure-board-chromium-{}", std::process::id()));
    std::fs::write(&page, html)?;
    let browser = std::env::var("TENURE_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let output = Command::new(&browser)
        .args([
            "--headless",
            // The page is tenure's own, with no script and nothing fetched;
            // and Chromium's sandbox cannot start as root.
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", page.display()))
        .output();
    let _ = std::fs::remove_file(&page);
    let _ = std::fs::remove_dir_all(&profile);
    let output = output.map_err(|cause| PrintError::NoBrowser {
        browser: browser.clone(),
        cause,
    })?;
    if !output.status.success() || !pdf.exists() {
        return Err(PrintError::Failed {
            browser,
            pdf,
            stderr: String::from_utf8_lossy(&output.stderr)
                .lines()
                .take(5)
                .collect::<Vec<_>>()
                .join("; "),
        }
        .into());
    }
    Ok(())
}
