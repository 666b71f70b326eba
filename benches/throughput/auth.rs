//! Authentication's cost: every request but `/healthz` checks a bearer
//! token (src/http/auth.rs), remembered for two seconds once verified.
//!
//! The router has no way to run without its checks (on purpose: nothing
//! may build an API that skips them), so the cost is measured from both
//! sides, each beside a whole authenticated request:
//!
//! - **GET a participant, token looked up on every request**: the read of
//!   one participant's state over HTTP (one client, one request at a time)
//!   with the token cache off, so every request also runs the indexed
//!   lookup in `access_tokens`. Anchor: the same requests with the cache
//!   on, as the server runs. The ratio is what a query per request costs.
//! - **the token check alone, cached**: `TokenCheck::caller` on a
//!   remembered token (a SHA-256 and a map lookup), beside the whole
//!   authenticated GET: the ratio is how many such checks fit in one
//!   request, so its inverse is the check's share of a request.

use std::time::{Duration, Instant};

use sqlx::PgPool;
use tenure::auth::tokens::TokenCheck;
use tenure::auth::Role;

use super::{rate, BoxError, Figure};

/// Requests of each HTTP measurement, and checks of the check alone.
const REQUESTS: usize = 2_000;
const CHECKS: usize = 200_000;

/// Serves tenure's router over `pool` with `tokens` on a free port.
async fn serve(pool: &PgPool, tokens: TokenCheck) -> Result<String, BoxError> {
    let mut state = tenure::app_state(pool.clone(), &tenure::Settings::default());
    state.tokens = tokens;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, tenure::http::app(state)).await });
    Ok(address)
}

/// `REQUESTS` GETs of `path` one after another; the time they took.
async fn gets(address: &str, path: &str, token: &str) -> Result<Duration, BoxError> {
    let client = reqwest::Client::new();
    let url = format!("{address}{path}");
    let started = Instant::now();
    for _ in 0..REQUESTS {
        let response = client.get(&url).bearer_auth(token).send().await?;
        if !response.status().is_success() {
            return Err(format!("GET {path}: {}", response.status()).into());
        }
        response.bytes().await?;
    }
    Ok(started.elapsed())
}

pub(crate) async fn auth_figures(pool: &PgPool, figures: &mut Vec<Figure>) -> Result<(), BoxError> {
    eprintln!("authentication: {REQUESTS} GETs with the token cache on, then off ...");
    let id: String = sqlx::query_scalar("SELECT aggregate_id FROM events WHERE aggregate_type = 'participant' LIMIT 1")
        .fetch_one(pool)
        .await?;
    let name = format!("bench-{}", uuid::Uuid::new_v4().simple());
    let token = tenure::auth::tokens::create(pool, &name, Role::Admin).await?;
    let path = format!("/api/v1/participants/{id}");
    let cached = serve(pool, TokenCheck::new(pool.clone())).await?;
    let uncached = serve(pool, TokenCheck::with_lifetime(pool.clone(), Duration::ZERO)).await?;
    // One untimed round each, to open connections and warm the cache.
    gets(&cached, &path, &token).await?;
    gets(&uncached, &path, &token).await?;
    let with_cache = rate(REQUESTS as f64, gets(&cached, &path, &token).await?);
    let without_cache = rate(REQUESTS as f64, gets(&uncached, &path, &token).await?);
    figures.push(Figure {
        name: "GET a participant, token looked up on every request".into(),
        tenure: without_cache,
        anchor_name: "the same, token remembered (as served)".into(),
        anchor: with_cache,
        unit: "requests/s",
        higher_is_better: true,
    });

    let check = TokenCheck::new(pool.clone());
    check.caller(&token).await?;
    let started = Instant::now();
    for _ in 0..CHECKS {
        if check.caller(&token).await?.is_none() {
            return Err("the bench's token was refused".into());
        }
    }
    figures.push(Figure {
        name: "token check alone, remembered (SHA-256 + map)".into(),
        tenure: rate(CHECKS as f64, started.elapsed()),
        anchor_name: "a whole authenticated GET of a participant".into(),
        anchor: with_cache,
        unit: "per s",
        higher_is_better: true,
    });
    Ok(())
}
