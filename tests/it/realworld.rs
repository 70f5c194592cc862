//! The checker on documents shaped as real frameworks publish them (FastAPI's OpenAPI 3.1, a
//! Swagger 2.0 service with form and multipart bodies): silent on servers that honour them,
//! and finding each planted defect through them.

use std::collections::BTreeSet;

use tests::{contract_options, fastapi, found, planted, swagger2};

async fn check(
    spec: &str,
    router: axum::Router,
    base: &str,
    headers: &[(&str, &str)],
) -> contract::Report {
    let addr = planted::serve(router).await;
    let mut options = contract_options(&format!("http://{addr}{base}"), 11, 60);
    options.headers = headers
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    tests::run_contract(spec, options).await
}

fn statuses(report: &contract::Report) -> BTreeSet<u16> {
    report
        .operations
        .iter()
        .flat_map(|o| o.statuses.keys().copied())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_on_a_correct_fastapi_style_app() {
    let report = check(
        fastapi::SPEC,
        fastapi::app(fastapi::Defects::default()),
        "",
        &[],
    )
    .await;
    assert_eq!(
        found(&report),
        BTreeSet::new(),
        "{}",
        contract::report::terminal(&report)
    );
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert!(
        statuses(&report).is_superset(&[200, 201, 204, 404, 422].into()),
        "{:?}",
        statuses(&report)
    );
    assert!(
        report.operations.iter().all(|o| o.succeeded),
        "{}",
        contract::report::terminal(&report)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_defects_through_a_fastapi_style_document() {
    let report = check(
        fastapi::SPEC,
        fastapi::app(fastapi::Defects::all()),
        "",
        &[],
    )
    .await;
    let found = found(&report);
    for expected in [
        ("not_a_server_error", "POST /items/"),
        ("negative_data_rejection", "POST /items/"),
        ("sensitive_data_exposure", "GET /items/{item_id}"),
        ("response_schema_conformance", "GET /items/{item_id}"),
    ] {
        let expected = (expected.0.to_owned(), expected.1.to_owned());
        assert!(
            found.contains(&expected),
            "{expected:?} in {}",
            contract::report::terminal(&report)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_on_a_correct_swagger_20_service() {
    let key = [("api_key", swagger2::API_KEY)];
    let report = check(
        swagger2::SPEC,
        swagger2::app(swagger2::Defects::default()),
        "/v2",
        &key,
    )
    .await;
    assert_eq!(
        found(&report),
        BTreeSet::new(),
        "{}",
        contract::report::terminal(&report)
    );
    assert!(
        statuses(&report).is_superset(&[200, 201, 400, 401, 404, 415].into()),
        "{:?}",
        statuses(&report)
    );
    assert!(
        report.operations.iter().all(|o| o.succeeded),
        "{}",
        contract::report::terminal(&report)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_defects_through_a_swagger_20_document() {
    let key = [("api_key", swagger2::API_KEY)];
    let report = check(
        swagger2::SPEC,
        swagger2::app(swagger2::Defects::all()),
        "/v2",
        &key,
    )
    .await;
    let found = found(&report);
    for expected in [
        ("negative_data_rejection", "POST /pets/{petId}"),
        ("ignored_auth", "POST /pets"),
        ("not_a_server_error", "POST /pets/{petId}/image"),
    ] {
        let expected = (expected.0.to_owned(), expected.1.to_owned());
        assert!(
            found.contains(&expected),
            "{expected:?} in {}",
            contract::report::terminal(&report)
        );
    }
}
