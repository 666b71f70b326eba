//! The OpenAPI document at `/api/v1/openapi.json`: valid OpenAPI 3.1 by the
//! official schema (vendored in tests/fixtures/, see its README), and
//! complete in the ways that schema cannot check: unique operation ids, path
//! parameters that match their templates, query parameters in the query,
//! the headers every command reads, CSV and error answers of the reports.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::helpers::spawn_app;

/// The document as served.
async fn served_document() -> Value {
    let app = spawn_app().await;
    let reply = app.get("/api/v1/openapi.json").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body
}

/// Every operation: (method, path template, operation object).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths is an object") {
        for method in methods {
            if let Some(op) = item.get(method) {
                found.push((method.to_string(), path.clone(), op.clone()));
            }
        }
    }
    found
}

/// The parameters of an operation (with its path item's), by (name, in).
fn parameters(doc: &Value, path: &str, op: &Value) -> BTreeSet<(String, String)> {
    let from_item = doc["paths"][path]["parameters"].as_array().cloned().unwrap_or_default();
    let from_op = op["parameters"].as_array().cloned().unwrap_or_default();
    from_item
        .iter()
        .chain(from_op.iter())
        .map(|p| {
            (
                p["name"].as_str().expect("parameter name").to_string(),
                p["in"].as_str().expect("parameter in").to_string(),
            )
        })
        .collect()
}

/// The `{name}`s of a path template.
fn template_names(path: &str) -> BTreeSet<String> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string()))
        .collect()
}

#[tokio::test]
async fn the_document_is_valid_openapi_3_1_by_the_official_schema() {
    let doc = served_document().await;
    let schema: Value =
        serde_json::from_str(include_str!("../fixtures/openapi-3.1-schema.json")).expect("the vendored schema is JSON");
    let validator = jsonschema::draft202012::new(&schema).expect("the vendored schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{} errors:\n{}", errors.len(), errors.join("\n"));
    assert!(doc["openapi"].as_str().expect("openapi version").starts_with("3.1."));
}

#[tokio::test]
async fn the_validator_catches_a_path_parameter_that_is_not_required() {
    // The schema check above can fail: a path parameter must be required.
    let schema: Value =
        serde_json::from_str(include_str!("../fixtures/openapi-3.1-schema.json")).expect("the vendored schema is JSON");
    let validator = jsonschema::draft202012::new(&schema).expect("the vendored schema compiles");
    let mut doc = served_document().await;
    doc["paths"]["/api/v1/participants/{id}"]["get"]["parameters"][0]["required"] = Value::Bool(false);
    assert!(!validator.is_valid(&doc));
}

#[tokio::test]
async fn operation_ids_are_unique() {
    let doc = served_document().await;
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut duplicates = Vec::new();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"]
            .as_str()
            .expect("every operation has an id")
            .to_string();
        if let Some(first) = seen.insert(id.clone(), format!("{method} {path}")) {
            duplicates.push(format!("{id}: {first} and {method} {path}"));
        }
    }
    assert!(
        duplicates.is_empty(),
        "duplicate operation ids:\n{}",
        duplicates.join("\n")
    );
}

#[tokio::test]
async fn path_parameters_are_exactly_the_names_in_the_path_template() {
    let doc = served_document().await;
    let mut wrong = Vec::new();
    for (method, path, op) in operations(&doc) {
        let in_path: BTreeSet<String> = parameters(&doc, &path, &op)
            .into_iter()
            .filter(|(_, place)| place == "path")
            .map(|(name, _)| name)
            .collect();
        if in_path != template_names(&path) {
            wrong.push(format!("{method} {path}: declares {in_path:?} in the path"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn query_parameters_are_declared_in_the_query() {
    let doc = served_document().await;
    let report = &doc["paths"]["/api/v1/reports/{kind}"]["get"];
    let params = parameters(&doc, "/api/v1/reports/{kind}", report);
    // Every parameter of docs/metrics.md's report table, and `format`.
    for name in [
        "programme",
        "cohort",
        "organisation",
        "role",
        "team",
        "from",
        "to",
        "compare_from",
        "compare_to",
        "as_at",
        "on",
        "targets",
        "exposure",
        "known_at",
        "min_position",
        "wait_ms",
        "format",
    ] {
        assert!(
            params.contains(&(name.to_string(), "query".to_string())),
            "{name} is not in: query"
        );
    }
    let lookup = &doc["paths"]["/api/v1/participants"]["get"];
    assert!(
        parameters(&doc, "/api/v1/participants", lookup).contains(&("external_ref".to_string(), "query".to_string()))
    );
}

/// The header parameters an operation declares.
fn headers_of(doc: &Value, path: &str, op: &Value) -> BTreeSet<String> {
    parameters(doc, path, op)
        .into_iter()
        .filter(|(_, place)| place == "header")
        .map(|(name, _)| name)
        .collect()
}

#[tokio::test]
async fn every_command_declares_the_headers_it_reads() {
    let doc = served_document().await;
    let command_headers: BTreeSet<String> = ["Idempotency-Key", "If-Match", "X-Request-Id", "X-Source"]
        .map(String::from)
        .into();
    // A command answers 201 with the commit (CommandResponse).
    let commands: Vec<_> = operations(&doc)
        .into_iter()
        .filter(|(_, _, op)| op["responses"].get("201").is_some())
        .collect();
    // participants 7 (register, role change, leaving, rejoining, exclusion,
    // its lifting, retraction) + cohorts 5 (open, enrolment, completion,
    // withdrawal, retraction) + posts 5 (establish, filling, vacation,
    // disestablishment, retraction) = 17.
    assert_eq!(commands.len(), 17);
    for (method, path, op) in &commands {
        let declared = headers_of(&doc, path, op);
        let missing: Vec<_> = command_headers.difference(&declared).collect();
        assert!(missing.is_empty(), "{method} {path} does not declare {missing:?}");
    }
    // The ladder replacement reads If-Match (no idempotency key, no
    // source: it is not an event-sourced command; its author is the token).
    let ladder = &doc["paths"]["/api/v1/organisations/{organisation}/ladder"]["put"];
    let declared = headers_of(&doc, "/api/v1/organisations/{organisation}/ladder", ladder);
    for name in ["If-Match", "X-Request-Id"] {
        assert!(declared.contains(name), "ladder PUT does not declare {name}");
    }
    // Every operation accepts X-Request-Id and answers with it.
    for (method, path, op) in operations(&doc) {
        assert!(headers_of(&doc, &path, &op).contains("X-Request-Id"), "{method} {path}");
        for (status, response) in op["responses"].as_object().expect("responses") {
            assert!(
                response["headers"].get("X-Request-Id").is_some(),
                "{method} {path} {status} does not describe X-Request-Id"
            );
        }
    }
}

#[tokio::test]
async fn reports_declare_csv_and_their_error_bodies() {
    let doc = served_document().await;
    let responses = &doc["paths"]["/api/v1/reports/{kind}"]["get"]["responses"];
    let ok = &responses["200"]["content"];
    assert!(ok.get("application/json").is_some(), "200 has no JSON: {ok}");
    assert_eq!(ok["text/csv"]["schema"]["type"], "string", "200 has no CSV: {ok}");
    for status in ["400", "404", "422", "503"] {
        assert_eq!(
            responses[status]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
            "{status}"
        );
    }
    for header in ["X-Tenure-Last-Position", "X-Tenure-Last-Recorded-At"] {
        assert!(
            responses["200"]["headers"].get(header).is_some(),
            "200 does not describe {header}"
        );
    }
}
