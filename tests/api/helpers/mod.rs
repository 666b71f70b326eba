//! The test harness: a real PostgreSQL, a fresh database per test, the real
//! router served on a free port.
//!
//! With `DATABASE_URL` unset, the first test of this process starts a
//! throwaway cluster under `target/tenure-test-pg/` (stopped and removed when
//! the process exits). With it set, test databases are created on that
//! server (its role needs CREATEDB and CREATEROLE). Either way a template
//! database is migrated once and every test clones it.
//!
//! The application runs as the server role, exactly as `tenure serve` does
//! ([`tenure::db::roles`]): the pools [`fresh_database`] and [`spawn_app`]
//! hand out connect as that role, so a grant the server lacks fails the
//! tests. The owner (the cluster's superuser) is only for setting up
//! databases and for tests that tamper on purpose ([`superuser_pool`]).
//!
//! Tests talk to the app through [`TestApp`]: typed command bodies
//! ([`bodies`]) and report reads ([`reports`]), all over HTTP. Its client
//! sends an admin token named [`TEST_ADMIN`] (what commands record as
//! `recorded_by`); [`TestApp::bearer`] makes a token of another role.

pub(crate) mod bodies;
pub(crate) mod browser;
pub(crate) mod reports;

use std::sync::OnceLock;

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::Value;
use sqlx::PgPool;
use tenure::pg_cluster::{ClusterOptions, ManagedCluster};
use uuid::Uuid;

/// Where test databases are created from.
struct Server {
    /// URL of a maintenance database on the server, to create databases.
    maintenance_url: String,
    /// The superuser's URL with `{db}` where a database name goes.
    url_template: String,
    /// The server role's URL with `{db}` where a database name goes.
    server_url_template: String,
    /// The roles the app runs as.
    roles: tenure::db::roles::Roles,
    template: String,
    /// Kept alive for the whole process; its watchdog stops it at exit.
    _cluster: Option<ManagedCluster>,
}

static SERVER: OnceLock<Server> = OnceLock::new();

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let cut = base.rfind('/').expect("DATABASE_URL has a path");
    format!("{}/{db}{query}", &base[..cut])
}

fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        // The cluster and the template outlive any one test's runtime, so they
        // are made on a runtime of their own.
        std::thread::spawn(|| {
            let rt = tokio::runtime::Runtime::new().expect("runtime");
            rt.block_on(async {
                let (base_url, cluster) = match std::env::var("DATABASE_URL") {
                    Ok(url) => (url, None),
                    Err(_) => {
                        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                            .join("target/tenure-test-pg")
                            .join(format!("{}-{}", std::process::id(), Uuid::new_v4().simple()));
                        let cluster = ManagedCluster::start(ClusterOptions {
                            data_dir: dir,
                            port: None,
                            superuser: "tenure".to_string(),
                            remove_on_stop: true,
                            durable: false,
                        })
                        .await
                        .expect("start a PostgreSQL cluster for the tests");
                        (cluster.database_url("postgres"), Some(cluster))
                    }
                };
                let maintenance_url = with_database(&base_url, "postgres");
                let template = format!("tenure_test_template_{}", Uuid::new_v4().simple());
                let admin = tenure::db::connect(&maintenance_url, 1).await.expect("connect");
                sqlx::query(&format!("CREATE DATABASE {template}"))
                    .execute(&admin)
                    .await
                    .expect("create template");
                // The server role: the managed one in our own cluster, one
                // of this process's own on a server DATABASE_URL names.
                let (roles, password) = match &cluster {
                    Some(cluster) => {
                        let roles = tenure::db::roles::Roles::managed();
                        let password = cluster.role_password(&roles.server).expect("server password");
                        (roles, password)
                    }
                    None => (
                        tenure::db::roles::Roles::for_server(&format!(
                            "tenure_test_server_{}",
                            Uuid::new_v4().simple()
                        )),
                        Uuid::new_v4().simple().to_string(),
                    ),
                };
                let mut conn = admin.acquire().await.expect("connect");
                tenure::db::roles::ensure_login_role(&mut conn, &roles.server, &password)
                    .await
                    .expect("create the server role");
                tenure::db::roles::ensure_group(&mut conn, &roles.readers)
                    .await
                    .expect("create the readers group");
                drop(conn);
                let pool = tenure::db::connect(&with_database(&base_url, &template), 2)
                    .await
                    .expect("connect template");
                tenure::db::MIGRATOR.run(&pool).await.expect("migrate template");
                let mut conn = pool.acquire().await.expect("connect template");
                tenure::db::roles::apply_grants(&mut conn, &roles)
                    .await
                    .expect("grant the server role its privileges");
                drop(conn);
                pool.close().await;
                admin.close().await;
                let url_template = with_database(&base_url, "{db}");
                let server_url_template = {
                    let options: sqlx::postgres::PgConnectOptions = base_url.parse().expect("a PostgreSQL URL");
                    format!(
                        "postgres://{}:{password}@{}:{}/{{db}}",
                        roles.server,
                        options.get_host(),
                        options.get_port()
                    )
                };
                Server {
                    maintenance_url,
                    url_template,
                    server_url_template,
                    roles,
                    template,
                    _cluster: cluster,
                }
            })
        })
        .join()
        .expect("test server set-up")
    })
}

/// A fresh, migrated database of this test's own: a pool of the server
/// role's connections to it, and the server role's URL.
pub(crate) async fn fresh_database() -> (PgPool, String) {
    let server = server();
    let name = format!("tenure_test_{}", Uuid::new_v4().simple());
    let admin = tenure::db::connect(&server.maintenance_url, 1).await.expect("connect");
    sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {}", server.template))
        .execute(&admin)
        .await
        .expect("clone template");
    admin.close().await;
    // A database's own privileges (CREATE, for a rebuild's schema) are not
    // copied from its template.
    let owner = tenure::db::connect(&server.url_template.replace("{db}", &name), 1)
        .await
        .expect("connect as the owner");
    let mut conn = owner.acquire().await.expect("connect as the owner");
    tenure::db::roles::apply_grants(&mut conn, &server.roles)
        .await
        .expect("grant the server role its privileges");
    drop(conn);
    owner.close().await;
    let url = server.server_url_template.replace("{db}", &name);
    let pool = tenure::db::connect(&url, 20).await.expect("connect test database");
    (pool, url)
}

/// The owner's URL (the superuser's in the harness's own cluster) of the
/// database `pool` connects to: for setting up and for tampering on purpose.
pub(crate) fn owner_url(pool: &PgPool) -> String {
    let database = pool.connect_options().get_database().expect("a database").to_string();
    server().url_template.replace("{db}", &database)
}

/// The server role's URL of the database `pool` connects to.
pub(crate) fn server_url(pool: &PgPool) -> String {
    let database = pool.connect_options().get_database().expect("a database").to_string();
    server().server_url_template.replace("{db}", &database)
}

/// A pool connected as the owner (in the harness's own cluster, the
/// superuser) to the database `pool` connects to.
pub(crate) async fn superuser_pool(pool: &PgPool) -> PgPool {
    tenure::db::connect(&owner_url(pool), 2)
        .await
        .expect("connect as the owner")
}

/// The app under test, served on a free local port.
#[derive(Clone)]
pub(crate) struct TestApp {
    pub(crate) address: String,
    pub(crate) pool: PgPool,
    pub(crate) client: reqwest::Client,
}

/// A response: its status, headers, text and the text as JSON (`Null` when
/// it is not JSON, a CSV report say).
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) text: String,
    pub(crate) body: Value,
}

impl Reply {
    /// `body[field]` as a string.
    pub(crate) fn str(&self, field: &str) -> String {
        self.body[field].as_str().unwrap_or_default().to_string()
    }

    /// The id of the aggregate an accepted command addressed or created.
    pub(crate) fn id(&self) -> String {
        self.str("aggregate_id")
    }

    /// A response header as text, if present.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("a visible ASCII header"))
    }
}

/// Starts the router over a fresh database.
pub(crate) async fn spawn_app() -> TestApp {
    let app = spawn_app_unsealed().await;
    // The sealer, as `tenure serve` runs it.
    tokio::spawn(tenure::audit::Sealer::new(app.pool.clone()).run(std::future::pending()));
    app
}

/// Starts the router over a fresh database with no sealer, for tests that
/// seal by hand (`tenure::audit::Sealer::seal_batch`).
pub(crate) async fn spawn_app_unsealed() -> TestApp {
    let (pool, _) = fresh_database().await;
    let state = tenure::app_state(pool.clone(), &tenure::Settings::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        axum::serve(listener, tenure::http::app(state)).await.expect("serve");
    });
    // The live projector, as `tenure serve` runs it.
    tokio::spawn(projections::projector::Projector::live(pool.clone()).run(std::future::pending()));
    TestApp {
        address,
        client: admin_client(&pool).await,
        pool,
    }
}

/// A client sending a new admin token named [`TEST_ADMIN`] of the database
/// behind `pool`, as every [`TestApp`] does by default.
pub(crate) async fn admin_client(pool: &PgPool) -> reqwest::Client {
    // As `tenure token create` does: the owner writes tokens, the server
    // role only reads them.
    let owner = superuser_pool(pool).await;
    let token = tenure::auth::tokens::create(&owner, TEST_ADMIN, tenure::auth::Role::Admin)
        .await
        .expect("create the tests' admin token");
    owner.close().await;
    client_with_token(&token)
}

/// The name of the admin token every [`TestApp`] sends by default: what
/// its commands record as `recorded_by`.
pub(crate) const TEST_ADMIN: &str = "test-admin";

/// A client sending `Authorization: Bearer <token>` with every request.
pub(crate) fn client_with_token(token: &str) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("a header value"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("a client")
}

/// Loads the demo dataset straight through the command runner, as `tenure
/// demo` does.
pub(crate) async fn load_demo(pool: &PgPool) -> tenure::demo::DemoSummary {
    let state = tenure::app_state(pool.clone(), &tenure::Settings::default());
    tenure::demo::load(&state.runner).await.expect("demo loads")
}

impl TestApp {
    /// `Bearer <token>` for a token named `name` with `role`, made on first
    /// use (its secret is derived from its name: tests only), to send as an
    /// `Authorization` header on one request.
    pub(crate) async fn bearer(&self, role: tenure::auth::Role, name: &str) -> String {
        let token = format!("tenure_test-{name}");
        let owner = superuser_pool(&self.pool).await;
        sqlx::query(
            "INSERT INTO access_tokens (name, role, token_sha256) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(tenure::auth::digest(&token).as_slice())
        .execute(&owner)
        .await
        .expect("insert a token");
        owner.close().await;
        format!("Bearer {token}")
    }

    /// The same app seen by a client sending no token.
    pub(crate) fn anonymous(&self) -> TestApp {
        TestApp {
            client: reqwest::Client::new(),
            ..self.clone()
        }
    }

    /// A request to `path` carrying `headers`.
    fn request(&self, method: Method, path: &str, headers: &[(&str, &str)]) -> RequestBuilder {
        headers.iter().fold(
            self.client.request(method, format!("{}{path}", self.address)),
            |request, (name, value)| request.header(*name, *value),
        )
    }

    /// Sends a request and reads the whole answer.
    async fn read(request: RequestBuilder) -> Reply {
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("response text");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            body,
        }
    }

    /// GETs a path.
    pub(crate) async fn get(&self, path: &str) -> Reply {
        self.get_with(path, &[]).await
    }

    /// GETs a path with extra headers.
    pub(crate) async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        Self::read(self.request(Method::GET, path, headers)).await
    }

    /// POSTs JSON.
    pub(crate) async fn post(&self, path: &str, body: &Value) -> Reply {
        self.post_with(path, body, &[]).await
    }

    /// POSTs JSON with extra headers.
    pub(crate) async fn post_with(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Reply {
        Self::read(self.request(Method::POST, path, headers).json(body)).await
    }

    /// POSTs raw text as JSON (for malformed bodies).
    pub(crate) async fn post_raw(&self, path: &str, body: &str) -> Reply {
        let headers = [("content-type", "application/json")];
        Self::read(self.request(Method::POST, path, &headers).body(body.to_string())).await
    }

    /// DELETEs a path.
    pub(crate) async fn delete(&self, path: &str) -> Reply {
        Self::read(self.request(Method::DELETE, path, &[])).await
    }

    /// An organisation's career ladder.
    pub(crate) async fn ladder(&self, organisation: &str) -> Reply {
        self.get(&format!("/api/v1/organisations/{organisation}/ladder")).await
    }

    /// Replaces an organisation's career ladder (`ladder` is the whole body,
    /// `{"roles": [...]}`).
    pub(crate) async fn replace_ladder(&self, organisation: &str, ladder: &Value, headers: &[(&str, &str)]) -> Reply {
        let path = format!("/api/v1/organisations/{organisation}/ladder");
        Self::read(self.request(Method::PUT, &path, headers).json(ladder)).await
    }

    /// A participant's current state.
    pub(crate) async fn participant(&self, id: &str) -> Reply {
        self.get(&format!("/api/v1/participants/{id}")).await
    }

    /// Every event of an aggregate's stream (`kind` is the path segment:
    /// `participants`, `cohorts` or `posts`).
    pub(crate) async fn history(&self, kind: &str, id: &str) -> Reply {
        self.get(&format!("/api/v1/{kind}/{id}/events")).await
    }

    /// Rebuilds every read model.
    pub(crate) async fn rebuild(&self) -> Reply {
        self.post("/api/v1/admin/rebuild", &serde_json::json!({})).await
    }

    /// The highest global position in the store.
    pub(crate) async fn max_position(&self) -> i64 {
        sqlx::query_scalar("SELECT COALESCE(MAX(global_position), 0) FROM events")
            .fetch_one(&self.pool)
            .await
            .expect("max position")
    }

    /// How many events the store holds.
    pub(crate) async fn event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await
            .expect("count events")
    }
}
