//! The `tenure` binary: parse the command line, open the database, serve.

use clap::Parser;
use tenure::cli::{Cli, Command};
use tenure::db;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
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
    let database = db::open(cli.database_url.as_deref(), &cli.data_dir).await?;
    if let Some(cluster) = &database.cluster {
        tracing::info!(port = cluster.port(), data_dir = %cli.data_dir.display(), "started tenure's own PostgreSQL");
    }
    let result = match cli.command.as_ref().unwrap_or(&Command::Serve) {
        Command::Migrate => {
            println!("migrations applied to {}", database.url);
            Ok(())
        }
        Command::Serve => serve(&cli, &database).await,
        Command::Demo => serve(&cli, &database).await,
    };
    database.pool.close().await;
    if let Some(cluster) = database.cluster {
        cluster.stop().await?;
    }
    result
}

async fn serve(cli: &Cli, database: &db::Database) -> Result<(), Box<dyn std::error::Error>> {
    let state = tenure::app_state(database.pool.clone(), &cli.settings());
    let listener = tokio::net::TcpListener::bind(cli.listen).await?;
    let address = listener.local_addr()?;
    println!(
        "tenure is serving http://{address}/api/v1 (OpenAPI: http://{address}/api/v1/openapi.json); Ctrl-C stops it"
    );
    axum::serve(listener, tenure::http::app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
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
