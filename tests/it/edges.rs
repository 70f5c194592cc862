//! The edges of what a document says, where real frameworks break: an integer past 64 bits,
//! `null` where it is allowed, a `readOnly` property sent anyway, an optional body left out.
//! A correct server passes; each defect, as FastAPI, connexion and APIFlask apps show it, is
//! found.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use serde_json::{Value, json};
use tests::{contract_options, found, run_contract};

const SPEC: &str = r##"
openapi: 3.1.0
info: {title: edges, version: "1"}
paths:
  /items:
    get:
      parameters: [{name: limit, in: query, schema: {type: integer}}]
      responses:
        "200": {description: some, content: {application/json: {schema: {type: array}}}}
        "422": {description: invalid, content: {application/json: {schema: {type: object}}}}
    post:
      requestBody: {required: true, content: {application/json: {schema: {$ref: "#/components/schemas/Item"}}}}
      responses:
        "201": {description: made, content: {application/json: {schema: {$ref: "#/components/schemas/Item"}}}}
        "422": {description: invalid, content: {application/json: {schema: {type: object}}}}
  /items/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: integer, format: int64}}]
    patch:
      requestBody:
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              properties:
                name: {anyOf: [{type: string, maxLength: 10}, {type: "null"}]}
      responses:
        "200": {description: changed, content: {application/json: {schema: {type: object}}}}
        "422": {description: invalid, content: {application/json: {schema: {type: object}}}}
components:
  schemas:
    Item:
      type: object
      additionalProperties: false
      required: [name]
      properties:
        id: {type: integer, format: int64, readOnly: true}
        name: {type: string, maxLength: 10}
"##;

#[derive(Debug, Clone, Copy, Default)]
struct Defects {
    /// A `limit` past 64 bits is a 500 (FastAPI passing it to a database driver).
    big_limit: bool,
    /// `{"name": null}` is a 500 (the handler calls a string method on it).
    null_name: bool,
    /// A `readOnly` id in a create is a 500 (connexion storing it, then colliding).
    read_only_id: bool,
    /// A PATCH without a body is refused (connexion and APIFlask want one).
    body_needed: bool,
}

fn invalid() -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        axum::Json(json!({"detail": "invalid"})),
    )
        .into_response()
}

fn server_error() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
}

fn json_body(headers: &HeaderMap, body: &[u8]) -> Option<Value> {
    let json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    json.then(|| serde_json::from_slice(body).ok()).flatten()
}

fn name_ok(name: Option<&Value>) -> bool {
    name.is_none_or(|n| n.as_str().is_some_and(|s| s.chars().count() <= 10))
}

fn app(d: Defects) -> axum::Router {
    let list = move |RawQuery(query): RawQuery| async move {
        let limit = query
            .as_deref()
            .unwrap_or_default()
            .split('&')
            .find_map(|pair| pair.strip_prefix("limit="));
        match limit {
            None => axum::Json(json!([])).into_response(),
            Some(text) => match text.parse::<i64>() {
                Ok(_) => axum::Json(json!([])).into_response(),
                // Digits too many for 64 bits: a correct server refuses them.
                Err(_) if d.big_limit && text.bytes().all(|b| b.is_ascii_digit()) => server_error(),
                Err(_) => invalid(),
            },
        }
    };
    let create = move |headers: HeaderMap, body: Bytes| async move {
        let Some(Value::Object(item)) = json_body(&headers, &body) else {
            return invalid();
        };
        if item.contains_key("id") && d.read_only_id {
            return server_error();
        }
        let known = item.keys().all(|k| k == "name" || k == "id");
        match (item.get("name"), known) {
            (Some(name), true) if name_ok(Some(name)) => (
                StatusCode::CREATED,
                axum::Json(json!({"id": 1, "name": name})),
            )
                .into_response(),
            _ => invalid(),
        }
    };
    let change = move |Path(id): Path<String>, headers: HeaderMap, body: Bytes| async move {
        if id.parse::<i64>().is_err() {
            return invalid();
        }
        if body.is_empty() {
            return match d.body_needed {
                true => invalid(),
                false => axum::Json(json!({})).into_response(),
            };
        }
        let Some(Value::Object(change)) = json_body(&headers, &body) else {
            return invalid();
        };
        if change.keys().any(|k| k != "name") {
            return invalid();
        }
        match change.get("name") {
            Some(Value::Null) if d.null_name => server_error(),
            Some(Value::Null) => axum::Json(json!({})).into_response(),
            name if name_ok(name) => axum::Json(json!({})).into_response(),
            _ => invalid(),
        }
    };
    axum::Router::new()
        .route("/items", get(list).post(create))
        .route("/items/{id}", patch(change))
}

async fn check(defects: Defects) -> std::collections::BTreeSet<(String, String)> {
    let addr = tests::planted::serve(app(defects)).await;
    let report = run_contract(SPEC, contract_options(&format!("http://{addr}"), 5, 20)).await;
    found(&report)
}

fn pair(check: &str, operation: &str) -> (String, String) {
    (check.to_owned(), operation.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_on_a_server_that_takes_the_edges() {
    assert_eq!(check(Defects::default()).await, Default::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_each_edge_a_framework_breaks_on() {
    let cases = [
        (
            Defects {
                big_limit: true,
                ..Defects::default()
            },
            pair("not_a_server_error", "GET /items"),
        ),
        (
            Defects {
                null_name: true,
                ..Defects::default()
            },
            pair("not_a_server_error", "PATCH /items/{id}"),
        ),
        (
            Defects {
                read_only_id: true,
                ..Defects::default()
            },
            pair("not_a_server_error", "POST /items"),
        ),
        (
            Defects {
                body_needed: true,
                ..Defects::default()
            },
            pair("positive_data_acceptance", "PATCH /items/{id}"),
        ),
    ];
    for (defects, expected) in cases {
        let found = check(defects).await;
        assert!(found.contains(&expected), "{defects:?}: {found:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_server_error_seen_is_reported() {
    const STATUS: &str = r#"
openapi: 3.0.3
info: {title: status, version: "1"}
paths:
  /status/{code}:
    parameters: [{name: code, in: path, required: true, schema: {type: integer, minimum: 1, maximum: 999}}]
    put:
      responses:
        "200": {description: fine, content: {application/json: {schema: {type: object}}}}
"#;
    // 418 above 99, and a 500 below: shrinking the 418 walks through the 500s.
    let router = axum::Router::new().route(
        "/status/{code}",
        axum::routing::put(|Path(code): Path<u32>| async move {
            match code {
                100.. => StatusCode::IM_A_TEAPOT.into_response(),
                _ => server_error(),
            }
        }),
    );
    let addr = tests::planted::serve(router).await;
    for seed in 1..=4 {
        let report = run_contract(
            STATUS,
            contract_options(&format!("http://{addr}"), seed, 30),
        )
        .await;
        for operation in &report.operations {
            for status in operation.statuses.keys().filter(|s| **s >= 500) {
                assert!(
                    report
                        .failures
                        .iter()
                        .any(|f| f.operation == operation.operation
                            && f.message == format!("server error {status}")),
                    "seed {seed}: {status} seen on {} but not reported:\n{}",
                    operation.operation,
                    contract::report::terminal(&report)
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_that_needs_company_is_reported_as_a_race() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    const RACE: &str = r#"
openapi: 3.0.3
info: {title: race, version: "1"}
paths:
  /race:
    get:
      parameters: [{name: n, in: query, schema: {type: integer, minimum: 0, maximum: 9}}]
      responses:
        "200": {description: fine, content: {application/json: {schema: {type: object}}}}
"#;
    // A 500 only while another request is in flight: a shared counter without a lock.
    let busy = Arc::new(AtomicUsize::new(0));
    let router = axum::Router::new().route(
        "/race",
        get(move || {
            let busy = busy.clone();
            async move {
                let company = busy.fetch_add(1, Ordering::SeqCst) > 0;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                busy.fetch_sub(1, Ordering::SeqCst);
                match company {
                    true => server_error(),
                    false => axum::Json(json!({})).into_response(),
                }
            }
        }),
    );
    let addr = tests::planted::serve(router).await;
    let mut options = contract_options(&format!("http://{addr}"), 1, 40);
    options.concurrency = 8;
    let report = run_contract(RACE, options).await;
    let race = report
        .failures
        .iter()
        .find(|f| f.check == "not_a_server_error")
        .expect("the 500 is reported");
    assert!(
        race.message
            .contains("did not show again when the request was sent alone"),
        "{}",
        race.message
    );
    assert!(!race.in_flight.is_empty());
}
