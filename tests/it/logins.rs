//! Logins as real APIs do them: a token that already carries its scheme, a token in a header
//! of its own, a session cookie; and a loud note when the credentials never work.

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use contract::auth::{Auth, Login};
use serde_json::json;
use tests::{contract_options, found, run_contract_with};

const SPEC: &str = r#"
openapi: 3.0.3
info: {title: logins, version: "1"}
paths:
  /login:
    post:
      security: []
      responses:
        "200": {description: in, content: {application/json: {schema: {type: object}}}}
  /me:
    get:
      security: [{any: []}]
      responses:
        "200": {description: you, content: {application/json: {schema: {type: object}}}}
        "401": {description: who?, content: {application/json: {schema: {type: object}}}}
components:
  securitySchemes:
    any: {type: http, scheme: bearer}
"#;

/// Logs in with `answer` (and a session cookie when `cookie`); `/me` wants `header: value`.
fn app(
    answer: serde_json::Value,
    cookie: bool,
    header: &'static str,
    value: &'static str,
) -> axum::Router {
    axum::Router::new()
        .route(
            "/login",
            post(move || async move {
                let mut response = axum::Json(answer.clone()).into_response();
                if cookie {
                    response.headers_mut().insert(
                        "set-cookie",
                        "session=s3cr3t; Path=/; HttpOnly".parse().unwrap(),
                    );
                }
                response
            }),
        )
        .route(
            "/me",
            get(move |headers: HeaderMap| async move {
                let given = headers.get(header).and_then(|v| v.to_str().ok());
                match given == Some(value) {
                    true => axum::Json(json!({"name": "ann"})).into_response(),
                    false => (StatusCode::UNAUTHORIZED, axum::Json(json!({}))).into_response(),
                }
            }),
        )
}

async fn check(router: axum::Router, login: Login) -> contract::Report {
    let addr = tests::planted::serve(router).await;
    let options = contract_options(&format!("http://{addr}"), 2, 5);
    run_contract_with(SPEC, options, Auth::new(Some(login))).await
}

fn login() -> Login {
    Login::parse("POST /login", json!({}), "/token").unwrap()
}

fn me_succeeded(report: &contract::Report) -> bool {
    report
        .operations
        .iter()
        .any(|o| o.operation == "GET /me" && o.statuses.contains_key(&200))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_carries_its_scheme_is_sent_as_found() {
    let router = || {
        app(
            json!({"token": "Bearer abc"}),
            false,
            "authorization",
            "Bearer abc",
        )
    };
    // Sent with another "Bearer " in front, it never works, and the report says so.
    let report = check(router(), login()).await;
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("credentials never worked")),
        "{:?}",
        report.warnings
    );
    let report = check(
        router(),
        login().with_header("Authorization: {token}").unwrap(),
    )
    .await;
    assert!(
        me_succeeded(&report),
        "{}",
        contract::report::terminal(&report)
    );
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(found(&report), Default::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_goes_in_the_header_the_template_names() {
    let router = app(json!({"token": "abc"}), false, "x-auth-token", "abc");
    let report = check(
        router,
        login().with_header("X-Auth-Token: {token}").unwrap(),
    )
    .await;
    assert!(
        me_succeeded(&report),
        "{}",
        contract::report::terminal(&report)
    );
    // Without credentials, and with forged ones, /me still refuses: nothing is found.
    assert_eq!(found(&report), Default::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_cookie_from_the_login_is_sent() {
    let router = app(json!({"ok": true}), true, "cookie", "session=s3cr3t");
    let report = check(router, login()).await;
    assert!(
        me_succeeded(&report),
        "{}",
        contract::report::terminal(&report)
    );
    assert_eq!(found(&report), Default::default());
}

#[test]
fn a_token_header_without_a_token_is_refused() {
    assert!(login().with_header("Authorization: Bearer").is_err());
    assert!(login().with_header("no colon {token}").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_credentials_need_no_login() {
    // "ann:pw" in base64.
    let router = app(json!({}), false, "authorization", "Basic YW5uOnB3");
    let addr = tests::planted::serve(router).await;
    let options = contract_options(&format!("http://{addr}"), 2, 5);
    let report = run_contract_with(SPEC, options, Auth::basic("ann", "pw")).await;
    assert!(
        me_succeeded(&report),
        "{}",
        contract::report::terminal(&report)
    );
    assert_eq!(found(&report), Default::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_body_is_a_case_of_the_login_operation() {
    // Only the configured body logs in; no generated one can guess the password.
    const SPEC: &str = r#"
openapi: 3.0.3
info: {title: login, version: "1"}
paths:
  /auth/login:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [user, password]
              properties: {user: {type: string}, password: {type: string}}
      responses:
        "200": {description: in, content: {application/json: {schema: {type: object}}}}
        "401": {description: wrong, content: {application/json: {schema: {type: object}}}}
        "422": {description: not a login}
"#;
    let router = axum::Router::new().route(
        "/auth/login",
        post(|body: axum::Json<serde_json::Value>| async move {
            match body.0 == json!({"user": "ann", "password": "pw"}) {
                true => axum::Json(json!({"token": "t"})).into_response(),
                false => (StatusCode::UNAUTHORIZED, axum::Json(json!({}))).into_response(),
            }
        }),
    );
    let addr = tests::planted::serve(router).await;
    let options = contract_options(&format!("http://{addr}"), 2, 5);
    let login = Login::parse(
        "POST /auth/login",
        json!({"user": "ann", "password": "pw"}),
        "/token",
    )
    .unwrap();
    let report = run_contract_with(SPEC, options, Auth::new(Some(login))).await;
    let operation = report
        .operations
        .iter()
        .find(|o| o.operation == "POST /auth/login")
        .unwrap();
    assert!(
        operation.succeeded,
        "{}",
        contract::report::terminal(&report)
    );
}
