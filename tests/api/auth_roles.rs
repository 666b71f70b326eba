//! Authentication and roles over HTTP: each role allowed and refused on
//! each kind of endpoint, 401 for a missing, unknown or revoked token, the
//! author taken from the token and never from `X-Recorded-By`, and bodies
//! that must be JSON (docs/design.md "Authentication and roles").

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use tenure::auth::Role;

use crate::helpers::bodies::Registration;
use crate::helpers::{spawn_app, TestApp};

/// A request to one kind of endpoint, and the roles that may send it, as
/// letters: Recorder, Analyst, aUditor, Board, aDmin.
struct Case {
    what: &'static str,
    method: Method,
    path: String,
    body: Option<(&'static str, String)>,
    allowed: &'static str,
}

fn case(what: &'static str, method: Method, path: String, allowed: &'static str) -> Case {
    let body = matches!(method, Method::POST | Method::PUT).then(|| ("application/json", "{}".to_string()));
    Case {
        what,
        method,
        path,
        body,
        allowed,
    }
}

#[tokio::test]
async fn each_role_is_allowed_and_refused_on_each_kind_of_endpoint() {
    let app = spawn_app().await;
    let id = app.register("A-1", "Northshire", "team_manager", "2020-01-06").await;
    let known_at = "2100-01-01T00:00:00Z";
    let report = "/api/v1/reports/leavers?organisation=Northshire&from=2020-01-01&to=2020-12-31";
    let cases = [
        // An empty body: refused by the handler (400), after authorisation.
        case(
            "command",
            Method::POST,
            format!("/api/v1/participants/{id}/leavings"),
            "R---D",
        ),
        Case {
            what: "import",
            method: Method::POST,
            path: "/api/v1/imports?dry_run=true".to_string(),
            body: Some(("text/csv", "person,fact\n".to_string())),
            allowed: "R---D",
        },
        case("import status", Method::GET, "/api/v1/imports".to_string(), "R-U-D"),
        case("report", Method::GET, report.to_string(), "-AU-D"),
        case(
            "report known_at",
            Method::GET,
            format!("{report}&known_at={known_at}"),
            "--U-D",
        ),
        case("board view", Method::GET, format!("{report}&view=board"), "-AUBD"),
        case(
            "board view known_at",
            Method::GET,
            format!("{report}&view=board&known_at={known_at}"),
            "-AUBD",
        ),
        case(
            "board page",
            Method::GET,
            "/board?organisation=Northshire&from=2020-01-01&to=2020-12-31".to_string(),
            "-AUBD",
        ),
        case("board section", Method::GET, "/board/vacancies".to_string(), "-AUBD"),
        case(
            "entity state",
            Method::GET,
            format!("/api/v1/participants/{id}"),
            "-AU-D",
        ),
        case(
            "entity known_at",
            Method::GET,
            format!("/api/v1/participants/{id}?known_at={known_at}"),
            "--U-D",
        ),
        case(
            "history",
            Method::GET,
            format!("/api/v1/participants/{id}/events"),
            "--U-D",
        ),
        case("audit feed", Method::GET, "/api/v1/events".to_string(), "--U-D"),
        case("verify", Method::GET, "/api/v1/audit/verify".to_string(), "--U-D"),
        case("head", Method::GET, "/api/v1/audit/head".to_string(), "--U-D"),
        case(
            "ladder",
            Method::GET,
            "/api/v1/organisations/Northshire/ladder".to_string(),
            "-AU-D",
        ),
        case(
            "ladder replacement",
            Method::PUT,
            "/api/v1/organisations/Northshire/ladder".to_string(),
            "----D",
        ),
        case(
            "projection status",
            Method::GET,
            "/api/v1/admin/projection".to_string(),
            "-AU-D",
        ),
        case("rebuild", Method::POST, "/api/v1/admin/rebuild".to_string(), "----D"),
        case("API document", Method::GET, "/api/v1/openapi.json".to_string(), "RAU-D"),
    ];
    let roles = [
        (Role::Recorder, 'R'),
        (Role::Analyst, 'A'),
        (Role::Auditor, 'U'),
        (Role::Board, 'B'),
        (Role::Admin, 'D'),
    ];
    for (role, letter) in roles {
        let bearer = app.bearer(role, &format!("{role}-1")).await;
        for c in &cases {
            let mut request = app
                .client
                .request(c.method.clone(), format!("{}{}", app.address, c.path))
                .header("Authorization", &bearer);
            if let Some((content_type, body)) = &c.body {
                request = request.header("Content-Type", *content_type).body(body.clone());
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            if c.allowed.contains(letter) {
                assert!(
                    ![401, 403].contains(&status),
                    "{role} on {} ({} {}): {status} {body}",
                    c.what,
                    c.method,
                    c.path
                );
            } else {
                assert_eq!(status, 403, "{role} on {} ({} {}): {body}", c.what, c.method, c.path);
                assert_eq!(body["error"], "forbidden", "{body}");
                assert!(body["message"].as_str().unwrap().contains(role.as_str()), "{body}");
            }
        }
    }
    // HEAD runs the GET handler: it is judged as the GET.
    let analyst = app.bearer(Role::Analyst, "analyst-1").await;
    let head = app
        .client
        .head(format!("{}/api/v1/events", app.address))
        .header("Authorization", &analyst)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status().as_u16(), 403);
}

/// GET /api/v1/imports with `authorization`, if any.
async fn imports_with(app: &TestApp, authorization: Option<&str>) -> (u16, Option<String>, Value) {
    let mut request = reqwest::Client::new().get(format!("{}/api/v1/imports", app.address));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    (status, challenge, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_missing_unknown_or_revoked_token_is_401_and_health_needs_none() {
    let app = spawn_app().await;
    let (status, challenge, body) = imports_with(&app, None).await;
    assert_eq!((status, challenge.as_deref()), (401, Some("Bearer")), "{body}");
    assert_eq!(
        (body["error"].as_str(), body["field"].as_str()),
        (Some("unauthenticated"), Some("Authorization"))
    );
    for wrong in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer tenure_unknown"] {
        let (status, challenge, body) = imports_with(&app, Some(wrong)).await;
        assert_eq!((status, challenge.as_deref()), (401, Some("Bearer")), "{wrong}: {body}");
    }
    assert_eq!(app.anonymous().get("/healthz").await.status, 200);
    assert_eq!(app.anonymous().get("/healthz/live").await.status, 200);

    let owner = crate::helpers::superuser_pool(&app.pool).await;
    let token = tenure::auth::tokens::create(&owner, "leaving-soon", Role::Recorder)
        .await
        .unwrap();
    let bearer = format!("bearer {token}");
    assert_eq!(
        imports_with(&app, Some(&bearer)).await.0,
        200,
        "the scheme is case-insensitive"
    );
    tenure::auth::tokens::revoke(&owner, "leaving-soon").await.unwrap();
    // Refused within the cache's lifetime (2 s); 10 s allows for a busy machine.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, _, body) = imports_with(&app, Some(&bearer)).await;
        if status == 401 {
            assert_eq!(body["error"], "invalid_token", "{body}");
            break;
        }
        assert_eq!(status, 200);
        assert!(
            Instant::now() < deadline,
            "a revoked token was still accepted after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_forged_x_recorded_by_is_ignored_the_author_is_the_token() {
    let app = spawn_app().await;
    let clerk = app.bearer(Role::Recorder, "clerk").await;
    let reply = app
        .send_with(
            &Registration::new("F-1", "Northshire", "team_manager", "2020-01-06"),
            &[("Authorization", &clerk), ("X-Recorded-By", "chief-executive")],
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let authors: Vec<String> = sqlx::query_scalar("SELECT metadata->>'recorded_by' FROM events")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(authors, ["clerk"]);

    // The ladder's author too.
    let ladder = json!({"roles": [{"code": "social_worker", "name": "social worker", "level": 1}]});
    let reply = app
        .replace_ladder("Eastbrook", &ladder, &[("X-Recorded-By", "chief-executive")])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let by: String = sqlx::query_scalar("SELECT updated_by FROM ladder_versions WHERE organisation = 'Eastbrook'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(by, crate::helpers::TEST_ADMIN);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415_so_no_web_page_can_forge_a_command() {
    let app = spawn_app().await;
    let registration = "external_ref=F-1&organisation=Northshire";
    for (path, content_type) in [
        ("/api/v1/participants", Some("application/x-www-form-urlencoded")),
        ("/api/v1/participants", Some("text/plain")),
        ("/api/v1/participants", Some("multipart/form-data; boundary=x")),
        ("/api/v1/participants", None),
        ("/api/v1/admin/rebuild", Some("text/plain")),
        ("/api/v1/imports", Some("text/plain")),
        ("/api/v1/imports", Some("application/x-www-form-urlencoded")),
    ] {
        let mut request = app.client.post(format!("{}{path}", app.address)).body(registration);
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 415, "{path} as {content_type:?}: {body}");
        assert_eq!(
            (body["error"].as_str(), body["field"].as_str()),
            (Some("unsupported_media_type"), Some("Content-Type"))
        );
    }
    assert_eq!(app.event_count().await, 0);
    // A rebuild needs no body at all.
    let response = app
        .client
        .post(format!("{}/api/v1/admin/rebuild", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn every_operation_of_the_api_document_has_an_access_rule() {
    let app = spawn_app().await;
    let doc = app.get("/api/v1/openapi.json").await.body;
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() > 20, "{}", paths.len());
    for (path, item) in paths {
        for method in ["get", "put", "post", "delete", "patch"] {
            if item.get(method).is_some() {
                let method = method.to_ascii_uppercase();
                assert!(
                    tenure::auth::classify(&method, path, None).is_some(),
                    "{method} {path} has no access rule"
                );
            }
        }
    }
    // And the document says how to authenticate.
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}
