//! The `tenure` binary: parse the command line, open the database, then
//! serve, load the demo, rebuild, print a report, import facts files or
//! manage the API's tokens.

mod board_cli;
mod import_cli;
mod report_cli;
mod sql_role_cli;
mod verify_cli;

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use projections::projector::{self, Projector};
use tenure::cli::{Cli, Command};
use tenure::http::health::Guard;
use tenure::http::parse_errors::JsonParseErrors;
use tenure::pg_cluster::ManagedCluster;
use tenure::{db, demo};
use tracing_subscriber::EnvFilter;

/// How long shutting down waits for open connections, the projector and the
/// pool before giving up on them: a database that is gone must not hold up
/// the exit.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// The board page's parameters for the demo: Riverside Council's leavers
/// (published figure B) and turnover, the PLDP cohorts (figure A).
const DEMO_BOARD_PAGE: &str = "organisation=Riverside%20Council&role=team_manager,practice_manager\
    &compare_from=2017-04-01&compare_to=2017-09-30&from=2018-04-01&to=2018-09-30&programme=PLDP\
    &as_at=2021-01-31&cohort=cohort%201%20(2017)&census_from=2017-10-01&census_to=2018-09-30&on=2018-09-30";

/// How long shutting down waits for the projector to finish its batch.
const PROJECTOR_GRACE: Duration = Duration::from_secs(2);

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
            // An import that recorded what it could but refused some rows.
            if e.is::<import_cli::RowsRefused>() {
                return std::process::ExitCode::from(2);
            }
            // The events no longer match their seals.
            if e.is::<verify_cli::ChainBroken>() {
                return std::process::ExitCode::from(3);
            }
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    // A report reads an existing store and must not create one.
    if let Some(Command::Report(args)) = &cli.command {
        return Ok(report_cli::run(&cli, args).await?);
    }
    // So does the board's page.
    if let Some(Command::Board(args)) = &cli.command {
        return board_cli::run(&cli, args).await;
    }
    // So does a verification.
    if let Some(Command::Verify(args)) = &cli.command {
        return verify_cli::run(&cli, args).await;
    }
    let database = db::open_with_owner(
        cli.database_url.as_deref(),
        cli.owner_database_url.as_deref(),
        &cli.data_dir,
        &cli.database_limits(),
    )
    .await?;
    if let Some(cluster) = &database.cluster {
        tracing::info!(port = cluster.port(), data_dir = %cli.data_dir.display(), "using tenure's own PostgreSQL");
    }
    let result = dispatch(&cli, &database).await;
    if tokio::time::timeout(SHUTDOWN_GRACE, database.pool.close())
        .await
        .is_err()
    {
        tracing::warn!("database connections did not close in time; exiting anyway");
    }
    if let Some(cluster) = database.cluster {
        cluster.stop().await?;
    }
    result
}

async fn dispatch(cli: &Cli, database: &db::Database) -> Result<(), Box<dyn std::error::Error>> {
    let command = cli.command.as_ref().unwrap_or(&Command::Serve);
    if matches!(command, Command::Serve | Command::Demo) {
        // Before the demo loads: no token, no listening beyond loopback. The
        // first admin token is written as the owner: the server role may
        // only read the token table.
        let owner = database.owner_pool().await?;
        let started = tenure::token_cli::secure_start(&owner, cli.listen).await;
        owner.close().await;
        started?;
    }
    match command {
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
        Command::Report(_) | Command::Board(_) | Command::Verify(_) => {
            unreachable!("run() hands reports and verifications over before opening a database")
        }
        Command::SqlRole(action) => sql_role_cli::run(database, action).await,
        Command::Import(args) => {
            let state = tenure::app_state(database.pool.clone(), &cli.settings());
            import_cli::run(cli, args, &state.runner).await
        }
        Command::Token(command) => {
            let owner = database.owner_pool().await?;
            let done = tenure::token_cli::run(&owner, command).await;
            owner.close().await;
            done
        }
    }
}

async fn serve(cli: &Cli, database: &db::Database) -> Result<(), Box<dyn std::error::Error>> {
    let mut state = tenure::app_state(database.pool.clone(), &cli.settings());
    // Reports get a pool of their own, one connection per slot, so a flood
    // of them cannot starve commands and health checks of connections.
    let slots = cli.concurrent_reports();
    let report_pool = db::connect_reports(&database.pool, u32::try_from(slots).unwrap_or(u32::MAX));
    let mut replicas = Vec::new();
    for url in &cli.read_database_urls {
        // One connection per report slot on each replica; opened lazily,
        // so a replica that is down fails only the reports sent to it.
        replicas.push(db::connect_replica(
            url,
            u32::try_from(slots).unwrap_or(u32::MAX),
            &cli.database_limits(),
        )?);
    }
    if !replicas.is_empty() {
        tracing::info!(replicas = replicas.len(), "reports read from streaming replicas");
    }
    state.reports = tenure::http::ReportGate::new(report_pool.clone(), slots, tenure::http::REPORT_QUEUE_WAIT)
        .with_replicas(replicas.clone());
    let guard = Guard::new(
        database.pool.clone(),
        Duration::from_secs(cli.request_timeout_secs.max(1)),
    );
    let app = tenure::http::app(state).layer(axum::middleware::from_fn_with_state(guard.clone(), Guard::layer));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut projector = tokio::spawn(Projector::live(database.pool.clone()).run(async move {
        let _ = stopped.await;
    }));
    // The sealer follows the events beside the projector (src/audit/sealer.rs).
    let (stop_sealer, sealer_stopped) = tokio::sync::oneshot::channel::<()>();
    let mut sealer = tokio::spawn(tenure::audit::Sealer::new(database.pool.clone()).run(async move {
        let _ = sealer_stopped.await;
    }));
    let listener = tokio::net::TcpListener::bind(cli.listen).await?;
    let address = listener.local_addr()?;
    println!(
        "tenure is serving http://{address}/api/v1 (OpenAPI: http://{address}/api/v1/openapi.json); Ctrl-C stops it"
    );
    if matches!(cli.command, Some(Command::Demo)) {
        // Waiting for the demo's last event: the projector may still be
        // catching up when a newcomer opens the page.
        let last: Option<i64> = sqlx::query_scalar("SELECT max(global_position) FROM events")
            .fetch_one(&database.pool)
            .await?;
        println!(
            "the demo's board page (sign in with the token): http://{address}/board?{DEMO_BOARD_PAGE}&min_position={}",
            last.unwrap_or(0)
        );
    }
    let limits = HttpLimits {
        max_connections: cli.max_connections.max(1),
        header_read_timeout: Duration::from_secs(cli.header_read_timeout_secs.max(1)),
    };
    // The probe and the healer never end; serving ends on a signal.
    tokio::select! {
        () = serve_http(listener, app, limits, shutdown_signal()) => {}
        () = guard.watch() => {}
        () = heal(database.cluster.as_ref()) => {}
    }
    let _ = stop.send(());
    // The projector stops between batches; one stuck on a dead database is
    // abandoned.
    if tokio::time::timeout(PROJECTOR_GRACE, &mut projector).await.is_err() {
        projector.abort();
    }
    let _ = stop_sealer.send(());
    if tokio::time::timeout(PROJECTOR_GRACE, &mut sealer).await.is_err() {
        sealer.abort();
    }
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, report_pool.close()).await;
    for replica in replicas {
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, replica.close()).await;
    }
    Ok(())
}

/// Limits on HTTP connections.
struct HttpLimits {
    max_connections: usize,
    header_read_timeout: Duration,
}

/// Serves `app` until `shutdown` resolves, then lets open requests finish
/// for a few seconds. Unlike `axum::serve` it closes a connection whose
/// request headers take longer than the header read timeout to arrive, and
/// serves at most `max_connections` at once, so that slow clients cannot hold
/// every file descriptor.
async fn serve_http(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    limits: HttpLimits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;

    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    // HTTP/1 only (as axum::serve without its http2 feature). hyper's header
    // timer starts as soon as a connection waits for a request, so a client
    // that connects and sends nothing is closed too, and so is one idle
    // between keep-alive requests.
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let connection = builder.serve_connection(
            TokioIo::new(JsonParseErrors::new(stream)),
            TowerToHyperService::new(app.clone()),
        );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!("open connections did not finish in time; closing them");
    }
}

/// Starts tenure's own cluster again whenever it stops (checked every
/// second). Never returns; does nothing with an external database.
async fn heal(cluster: Option<&ManagedCluster>) {
    let Some(cluster) = cluster else {
        return std::future::pending().await;
    };
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Err(e) = cluster.ensure_running().await {
            tracing::error!(error = %e, "cannot start PostgreSQL again; will retry");
        }
    }
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
