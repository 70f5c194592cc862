//! Undocumented methods and `Allow`: `unsupported_method` and `allow_header_conformance`,
//! against servers that route as real frameworks do.

use axum::http::{HeaderValue, StatusCode};
use axum::routing::get;
use serde_json::json;
use tests::{contract_options, found, run_contract};

const SPEC: &str = r#"
openapi: 3.0.3
info: {title: users, version: "1"}
paths:
  /user/login:
    get:
      responses:
        "200": {description: in, content: {application/json: {schema: {type: object}}}}
  /user/{username}:
    parameters: [{name: username, in: path, required: true, schema: {type: string}}]
    get:
      responses:
        "200": {description: one, content: {application/json: {schema: {type: object}}}}
    put:
      responses:
        "200": {description: changed, content: {application/json: {schema: {type: object}}}}
  /things:
    get:
      responses:
        "200": {description: all, content: {application/json: {schema: {type: object}}}}
    delete:
      responses:
        "204": {description: none left}
"#;

async fn ok() -> axum::Json<serde_json::Value> {
    axum::Json(json!({}))
}

/// `/user/{username}` serves `login` too, as one route does in many frameworks.
fn users() -> axum::Router {
    axum::Router::new()
        .route("/user/{username}", get(ok).put(ok))
        .route(
            "/things",
            get(ok).delete(|| async { StatusCode::NO_CONTENT }),
        )
}

fn checks(report: &contract::Report, check: &str) -> Vec<String> {
    report
        .failures
        .iter()
        .filter(|f| f.check == check)
        .map(|f| format!("{}: {}", f.operation, f.message))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_another_template_takes_is_not_probed() {
    let addr = tests::planted::serve(users()).await;
    let report = run_contract(SPEC, contract_options(&format!("http://{addr}"), 1, 10)).await;
    // PUT /user/login is PUT /user/{username}: not an undocumented method.
    assert_eq!(
        found(&report),
        Default::default(),
        "{}",
        contract::report::terminal(&report)
    );
}

/// `users()` with the `Allow` of every 405 replaced (or removed, for `None`). The layer wraps
/// the router from outside, where axum has already set its own `Allow`.
fn with_allow(allow: Option<&'static str>) -> axum::Router {
    let outside = axum::Router::new().fallback_service(users());
    outside.layer(axum::middleware::map_response(
        move |mut response: axum::response::Response| async move {
            if response.status() == StatusCode::METHOD_NOT_ALLOWED {
                let headers = response.headers_mut();
                headers.remove("allow");
                if let Some(allow) = allow {
                    headers.insert("allow", HeaderValue::from_static(allow));
                }
            }
            response
        },
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_allow_is_one_failure() {
    let addr = tests::planted::serve(with_allow(None)).await;
    let report = run_contract(SPEC, contract_options(&format!("http://{addr}"), 1, 10)).await;
    let unsupported = checks(&report, "unsupported_method");
    assert_eq!(
        unsupported.len(),
        1,
        "{}",
        contract::report::terminal(&report)
    );
    assert!(
        unsupported[0].contains("without an Allow header")
            && unsupported[0].contains("other probe(s)"),
        "{}",
        unsupported[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allow_that_leaves_out_a_method_is_found() {
    // Allow names GET only, though DELETE /things is served and documented.
    let addr = tests::planted::serve(with_allow(Some("GET"))).await;
    let report = run_contract(SPEC, contract_options(&format!("http://{addr}"), 1, 10)).await;
    let allow = checks(&report, "allow_header_conformance");
    assert!(
        allow
            .iter()
            .any(|f| f.starts_with("/things:") && f.contains("leaves out DELETE")),
        "{allow:#?}"
    );
    assert!(checks(&report, "unsupported_method").is_empty());
}
