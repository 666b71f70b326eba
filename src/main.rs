//! The `tenure` binary: parse the command line, open the database, then
//! serve, load the demo, rebuild or print a report.

mod report_cli;

use clap::Parser;
use projections::projector::{self, Projector};
use tenure::cli::{Cli, Command};
use tenure::{db, demo};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tenure: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    // A report reads an existing store and must not create one.
    if let Some(Command::Report(args)) = &cli.command {
        return Ok(report_cli::run(&cli, args).await?);
    }
    let database = db::open(cli.database_url.as_deref(), &cli.data_dir).await?;
    if let Some(cluster) = &database.cluster {
        tracing::info!(port = cluster.port(), data_dir = %cli.data_dir.display(), "using tenure's own PostgreSQL");
    }
    let result = dispatch(&cli, &database).await;
    database.pool.close().await;
    if let Some(cluster) = database.cluster {
        cluster.stop().await?;
    }
    result
}

async fn dispatch(cli: &Cli, database: &db::Database) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command.as_ref().unwrap_or(&Command::Serve) {
        Command::Migrate => {
            println!("migrations applied");
            Ok(())
        }
        Command::Serve => serve(cli, database).await,
        Command::Demo => {
            let state = tenure::app_state(database.pool.clone(), &cli.settings());
            let summary = demo::load(&state.runner).await?;
            println!(
                "demo dataset: {} commands issued, {} events appended ({} already recorded); \
                 known_at before the demo's corrections: {}",
                summary.commands_issued,
                summary.events_appended,
                summary.commands_already_recorded,
                summary
                    .known_at_before_corrections
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            );
            serve(cli, database).await
        }
        Command::Rebuild => {
            let report = projector::rebuild(&database.pool).await?;
            println!(
                "rebuilt the read models from {} events; they now reflect position {}",
                report.events_applied, report.checkpoint.global_position
            );
            Ok(())
        }
        Command::Report(_) => unreachable!("run() hands reports to report_cli before opening a database"),
    }
}

async fn serve(cli: &Cli, database: &db::Database) -> Result<(), Box<dyn std::error::Error>> {
    let state = tenure::app_state(database.pool.clone(), &cli.settings());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let projector = tokio::spawn(Projector::live(database.pool.clone()).run(async move {
        let _ = stopped.await;
    }));
    let listener = tokio::net::TcpListener::bind(cli.listen).await?;
    let address = listener.local_addr()?;
    println!(
        "tenure is serving http://{address}/api/v1 (OpenAPI: http://{address}/api/v1/openapi.json); Ctrl-C stops it"
    );
    let served = axum::serve(listener, tenure::http::app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await;
    let _ = stop.send(());
    let _ = projector.await;
    served?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM, so the managed cluster is stopped cleanly.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
