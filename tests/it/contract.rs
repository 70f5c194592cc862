//! The contract checker finds planted defects, each in a small throwaway target, stays silent
//! on correct targets (the bundled mock among them), and reports reproducibly.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use contract::checks::Check;
use tests::planted::{self, Defects};
use tests::{contract_options, found, run_contract};

async fn check_planted(
    defects: Defects,
    options: impl FnOnce(&mut contract::Options),
) -> contract::Report {
    let addr = planted::serve(planted::app(defects)).await;
    let mut opts = contract_options(&format!("http://{addr}"), 7, 50);
    options(&mut opts);
    run_contract(planted::SPEC, opts).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_on_a_correct_target() {
    let report = check_planted(Defects::default(), |_| {}).await;
    assert_eq!(found(&report), BTreeSet::new(), "{:#?}", report.failures);
    assert!(report.cases > 200, "it did test: {} cases", report.cases);
    let statuses: BTreeSet<u16> = report
        .operations
        .iter()
        .flat_map(|o| o.statuses.keys().copied())
        .collect();
    assert!(
        statuses.is_superset(&[200, 201, 400, 404, 415].into()),
        "{statuses:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_each_planted_defect() {
    let get = "GET /items/{id}";
    let post = "POST /items";
    let cases: [(Defects, &str, &str); 6] = [
        (
            Defects {
                server_error: true,
                ..Defects::default()
            },
            "not_a_server_error",
            post,
        ),
        (
            Defects {
                undocumented_status: true,
                ..Defects::default()
            },
            "status_code_conformance",
            get,
        ),
        (
            Defects {
                schema_break: true,
                ..Defects::default()
            },
            "response_schema_conformance",
            get,
        ),
        (
            Defects {
                wrong_content_type: true,
                ..Defects::default()
            },
            "content_type_conformance",
            get,
        ),
        (
            Defects {
                leaked_password: true,
                ..Defects::default()
            },
            "sensitive_data_exposure",
            get,
        ),
        (
            Defects {
                accepts_bad_input: true,
                ..Defects::default()
            },
            "negative_data_rejection",
            post,
        ),
    ];
    for (defects, check, operation) in cases {
        let report = check_planted(defects, |_| {}).await;
        let found = found(&report);
        assert!(
            found.contains(&(check.to_owned(), operation.to_owned())),
            "{check}: {found:?}"
        );
        let failure = report.failures.iter().find(|f| f.check == check).unwrap();
        assert!(failure.curl.starts_with("curl -X "), "{failure:?}");
        assert_eq!(failure.seed, 7);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_shrunk_to_a_minimal_request() {
    // 500 only when qty > 50 and the name is longer than 5: the shrunk case sits at both edges.
    let report = check_planted(
        Defects {
            server_error: true,
            ..Defects::default()
        },
        |_| {},
    )
    .await;
    let failure = report
        .failures
        .iter()
        .find(|f| f.check == "not_a_server_error")
        .unwrap();
    let body: serde_json::Value =
        serde_json::from_str(failure.request.body.as_deref().unwrap()).unwrap();
    assert_eq!(body["qty"], 51, "{body}");
    assert_eq!(body["name"].as_str().unwrap().chars().count(), 6, "{body}");
    assert_eq!(failure.status, Some(500));
    assert_eq!(failure.response_excerpt, r#"{"error":"boom"}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_every_distinct_failure_once() {
    let all = Defects::all_but_slow();
    let report = check_planted(all, |_| {}).await;
    let checks: BTreeSet<&str> = report.failures.iter().map(|f| f.check.as_str()).collect();
    for check in [
        "not_a_server_error",
        "status_code_conformance",
        "response_schema_conformance",
        "content_type_conformance",
        "sensitive_data_exposure",
        "negative_data_rejection",
    ] {
        assert!(checks.contains(check), "{check} in {checks:?}");
    }
    let keys: Vec<(&str, &str, &str)> = report
        .failures
        .iter()
        .map(|f| (f.check.as_str(), f.operation.as_str(), f.message.as_str()))
        .collect();
    let distinct: BTreeSet<_> = keys.iter().collect();
    assert_eq!(
        distinct.len(),
        keys.len(),
        "no failure is reported twice: {keys:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_answer_breaks_max_response_time() {
    let report = check_planted(
        Defects {
            slow: true,
            ..Defects::default()
        },
        |o| {
            o.settings.enabled.insert(Check::MaxResponseTime);
            o.settings.max_response_time = Some(Duration::from_millis(60));
            o.max_examples = 20;
        },
    )
    .await;
    assert_eq!(
        found(&report),
        [("max_response_time".to_owned(), "GET /items/{id}".to_owned())].into()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_timeout_is_a_failure_of_the_case() {
    let report = check_planted(
        Defects {
            slow: true,
            ..Defects::default()
        },
        |o| {
            o.request_timeout = Duration::from_millis(60);
            o.max_examples = 20;
        },
    )
    .await;
    let failure = report
        .failures
        .iter()
        .find(|f| f.check == "not_a_server_error")
        .expect("a timeout failure");
    assert_eq!(failure.status, None);
    assert!(failure.message.contains("timed out"), "{}", failure.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_is_a_failure_not_a_crash() {
    let addr = planted::serve_dropping().await;
    let report = run_contract(
        planted::SPEC,
        contract_options(&format!("http://{addr}"), 1, 5),
    )
    .await;
    let failure = report
        .failures
        .iter()
        .find(|f| f.operation == "GET /items/{id}")
        .expect("a failure");
    assert_eq!(
        (failure.check.as_str(), failure.status),
        ("not_a_server_error", None)
    );
    assert!(
        failure.message.starts_with("no response"),
        "{}",
        failure.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_sends_the_same_requests() {
    let defects = Defects {
        server_error: true,
        schema_break: true,
        accepts_bad_input: true,
        ..Defects::default()
    };
    let run = || async {
        let report = check_planted(defects, |o| o.seed = 99).await;
        let requests: Vec<String> = report
            .failures
            .iter()
            .map(|f| f.curl.split_once("/items").unwrap().1.to_owned())
            .collect();
        (requests, report.cases)
    };
    let (first, second) = (run().await, run().await);
    assert!(!first.0.is_empty());
    assert_eq!(first, second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_nothing_on_the_bundled_mock() {
    let mock = mock_api::MockServer::start().unwrap();
    let report = run_contract(mock_api::spec::YAML, contract_options(mock.url(), 3, 30)).await;
    assert_eq!(
        report.failures.len(),
        0,
        "{}",
        contract::report::terminal(&report)
    );
    assert_eq!(report.operations.len(), 13);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequences_with_a_reset_run_at_once_in_namespaces_of_their_own() {
    let mock = mock_api::MockServer::start().unwrap();
    let mut options = contract_options(mock.url(), 3, 20);
    options.reset = Some((reqwest::Method::POST, "/__admin/reset".to_owned()));
    options.namespace_header = Some("X-Mock-Namespace".to_owned());
    let login = contract::auth::Login::parse(
        "POST /api/auth/login",
        serde_json::json!({"email": "user@example.com", "password": "user123"}),
        "/token",
    )
    .unwrap();
    let auth = contract::auth::Auth::new(Some(login));
    let report = tests::run_contract_with(mock_api::spec::YAML, options, auth).await;
    assert_eq!(
        report.failures.len(),
        0,
        "{}",
        contract::report::terminal(&report)
    );
}

/// A store per namespace (named in `X-Mock-Namespace`), with the namespace of every reset
/// and of every create recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_lane_resets_and_uses_only_its_own_namespace() {
    use axum::extract::{Path, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};
    const SPEC: &str = r#"
openapi: 3.0.3
info: {title: namespaced, version: "1"}
paths:
  /things:
    post:
      responses:
        "201": {description: made, content: {application/json: {schema: {type: object, required: [id], properties: {id: {type: integer}}}}}}
  /things/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
    get:
      responses:
        "200": {description: it, content: {application/json: {schema: {type: object, required: [id], properties: {id: {type: integer}}}}}}
        "404": {description: gone}
    delete:
      responses:
        "204": {description: gone}
        "404": {description: gone}
"#;
    #[derive(Default)]
    struct Seen {
        stores: BTreeMap<String, Vec<i64>>,
        resets: Vec<String>,
        creates: Vec<String>,
    }
    type Shared = Arc<Mutex<Seen>>;
    fn namespace(headers: &HeaderMap) -> String {
        headers
            .get("x-mock-namespace")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }
    let seen = Shared::default();
    let router = axum::Router::new()
        .route(
            "/reset",
            axum::routing::post(|State(seen): State<Shared>, headers: HeaderMap| async move {
                let mut seen = seen.lock().unwrap();
                let ns = namespace(&headers);
                seen.stores.remove(&ns);
                seen.resets.push(ns);
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/things",
            axum::routing::post(|State(seen): State<Shared>, headers: HeaderMap| async move {
                let mut seen = seen.lock().unwrap();
                let ns = namespace(&headers);
                seen.creates.push(ns.clone());
                let store = seen.stores.entry(ns).or_default();
                let id = store.len() as i64 + 1;
                store.push(id);
                (StatusCode::CREATED, axum::Json(serde_json::json!({"id": id})))
            }),
        )
        .route(
            "/things/{id}",
            axum::routing::get(
                |State(seen): State<Shared>, headers: HeaderMap, Path(id): Path<String>| async move {
                    let seen = seen.lock().unwrap();
                    let id = id.parse::<i64>().unwrap_or(-1);
                    match seen.stores.get(&namespace(&headers)).is_some_and(|s| s.contains(&id)) {
                        true => axum::Json(serde_json::json!({"id": id})).into_response(),
                        false => StatusCode::NOT_FOUND.into_response(),
                    }
                },
            )
            .delete(
                |State(seen): State<Shared>, headers: HeaderMap, Path(id): Path<String>| async move {
                    let mut seen = seen.lock().unwrap();
                    let id = id.parse::<i64>().unwrap_or(-1);
                    let store = seen.stores.entry(namespace(&headers)).or_default();
                    match store.iter().position(|i| *i == id) {
                        Some(at) => {
                            store.remove(at);
                            StatusCode::NO_CONTENT
                        }
                        None => StatusCode::NOT_FOUND,
                    }
                },
            ),
        )
        .with_state(seen.clone());
    let addr = planted::serve(router).await;
    let mut options = contract_options(&format!("http://{addr}"), 4, 20);
    options.reset = Some((reqwest::Method::POST, "/reset".to_owned()));
    options.namespace_header = Some("X-Mock-Namespace".to_owned());
    let report = run_contract(SPEC, options).await;
    assert_eq!(found(&report), Default::default());
    let seen = seen.lock().unwrap();
    let lane = |ns: &String| ns.starts_with("contract-");
    // Every lane's reset named its lane; the one reset of all (before the later phases,
    // which run in the target's own data) named none.
    assert!(
        seen.resets.iter().filter(|ns| lane(ns)).count() > 1,
        "{:?}",
        seen.resets
    );
    assert!(seen.resets.iter().all(|ns| lane(ns) || ns.is_empty()));
    assert!(seen.creates.iter().any(lane), "{:?}", seen.creates);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_are_pinned_for_a_known_seed() {
    let defects = Defects {
        server_error: true,
        undocumented_status: true,
        ..Defects::default()
    };
    let addr = planted::serve(planted::app(defects)).await;
    let target = format!("http://{addr}");
    let mut options = contract_options(&target, 42, 10);
    options.workers = 1;
    let report = run_contract(planted::SPEC, options).await;
    let terminal = contract::report::terminal(&report).replace(&target, "http://TARGET");
    insta::assert_snapshot!("contract_terminal", terminal);
    let json = contract::report::json(&report).replace(&target, "http://TARGET");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    insta::assert_json_snapshot!("contract_json", json, {".elapsed_ms" => "[ms]"});
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_of_a_seed_does_not_depend_on_workers_or_concurrency() {
    let mut reports = Vec::new();
    for (workers, concurrency) in [(1, 1), (1, 3), (1, 16), (4, 16)] {
        let addr = planted::serve(planted::app(Defects::all_but_slow())).await;
        let target = format!("http://{addr}");
        let mut options = contract_options(&target, 9, 30);
        options.workers = workers;
        options.concurrency = concurrency;
        let report = run_contract(planted::SPEC, options).await;
        assert!(!report.failures.is_empty(), "the planted defects are found");
        // What was sent and judged. This server hands out ids in the order creates arrive,
        // so what a stateful sequence saw may carry other ids; the single requests may not.
        let failures: Vec<_> = report
            .failures
            .iter()
            .map(|f| match f.sequence.is_empty() {
                true => (f.check.clone(), f.curl.replace(&target, ""), f.status),
                false => (f.check.clone(), f.operation.clone(), None),
            })
            .collect();
        // With several workers, a read may meet an item another operation's case just
        // created: the statuses are compared with one worker only.
        let operations: Vec<_> = report
            .operations
            .iter()
            .map(|o| {
                let statuses = (workers == 1).then(|| o.statuses.clone());
                (o.operation.clone(), o.cases, statuses)
            })
            .collect();
        reports.push((failures, operations));
    }
    for other in &reports[1..] {
        assert_eq!(reports[0].0, other.0);
        let cases = |operations: &[(String, u64, Option<_>)]| -> Vec<(String, u64)> {
            operations
                .iter()
                .map(|(o, cases, _)| (o.clone(), *cases))
                .collect()
        };
        assert_eq!(cases(&reports[0].1), cases(&other.1));
        if other.1.iter().all(|(_, _, s)| s.is_some()) {
            assert_eq!(reports[0].1, other.1);
        }
    }
}

fn contract_cli(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(tests::binary("contract"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn cli_exit_status_0_on_the_bundled_mock_with_reports() {
    let dir = tests::temp_dir("contract-cli");
    let (json, junit) = (dir.join("report.json"), dir.join("junit.xml"));
    let (code, stdout, stderr) = contract_cli(&[
        "check",
        "--max-examples",
        "10",
        "--seed",
        "5",
        "--report-json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("13 operations") && stdout.contains("0 failures; seed 5"),
        "{stdout}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(
        (
            report["seed"].as_u64(),
            report["failures"].as_array().map(Vec::len)
        ),
        (Some(5), Some(0))
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(r#"<testcase name="GET /api/users/{id}""#),
        "{xml}"
    );
    assert!(!xml.contains("<failure"), "{xml}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_exit_status_1_on_violations_with_junit_failures() {
    let addr = planted::serve(planted::app(Defects {
        server_error: true,
        ..Defects::default()
    }))
    .await;
    let dir = tests::temp_dir("contract-cli1");
    let spec = dir.join("planted.yaml");
    std::fs::write(&spec, planted::SPEC).unwrap();
    let junit = dir.join("junit.xml");
    let target = format!("http://{addr}");
    let args: Vec<String> = [
        "check",
        "--spec",
        spec.to_str().unwrap(),
        "--target",
        &target,
        "--seed",
        "1",
        "--max-examples",
        "20",
        "--junit",
        junit.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    // The target serves on this runtime, so the CLI waits on a blocking thread.
    let (code, stdout, _) = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        contract_cli(&args)
    })
    .await
    .unwrap();
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("not_a_server_error — POST /items")
            && stdout.contains("reproduce: --seed 1"),
        "{stdout}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<failure") && xml.contains("not_a_server_error"),
        "{xml}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn cli_exit_status_2_on_usage_spec_and_connection_errors() {
    let dir = tests::temp_dir("contract-cli2");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let v40 = write(
        "v40.yaml",
        "openapi: 4.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n",
    );
    let v12 = write(
        "v12.yaml",
        "swagger: '1.2'\ninfo: {title: t, version: '1'}\npaths: {}\n",
    );
    let not_openapi = write("notes.yaml", "title: shopping\nitems: [milk]\n");
    let cases: [(&[&str], &str); 9] = [
        (&["check", "--spec", &v40], "OpenAPI 4.0.0 is not supported"),
        (&["check", "--spec", &v12], "OpenAPI 1.2 is not supported"),
        (
            &["check", "--spec", &not_openapi],
            "this is not an OpenAPI document",
        ),
        (
            &["check", "--spec", "/nonexistent/spec.yaml"],
            "cannot read /nonexistent/spec.yaml",
        ),
        (
            &["check", "--target", "http://127.0.0.1:9"],
            "cannot reach the target",
        ),
        (
            &["check", "--checks", "not_a_check"],
            "unknown check \"not_a_check\"",
        ),
        (&["check", "-H", "no-colon"], "'Name: value'"),
        (&["check", "-H", "Bad Name: x"], "not a valid header name"),
        (&["check", "--rate-limit", "fast"], "not a rate"),
    ];
    for (args, message) in cases {
        let (code, _, stderr) = contract_cli(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(message) && !stderr.contains("panicked"),
            "{args:?}: {stderr}"
        );
    }
    let (code, _, _) = contract_cli(&["check", "--max-examples", "lots"]);
    assert_eq!(code, Some(2));
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_reads_the_spec_from_a_url_or_from_the_target() {
    let mock = mock_api::MockServer::start().unwrap();
    let url = mock.url().to_owned();
    let yaml = format!("{url}/openapi.yaml");
    let runs: [Vec<String>; 2] = [
        // No --spec: the target serves /openapi.json, which is used.
        [
            "check",
            "--target",
            &url,
            "--max-examples",
            "5",
            "--seed",
            "2",
        ]
        .map(String::from)
        .to_vec(),
        [
            "check",
            "--spec",
            &yaml,
            "--target",
            &url,
            "--max-examples",
            "5",
            "--seed",
            "2",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for args in runs {
        let (code, stdout, stderr) = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            contract_cli(&args)
        })
        .await
        .unwrap();
        assert_eq!(code, Some(0), "{stdout}\n{stderr}");
        assert!(stderr.contains("13 operations of mock-api"), "{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_finds_the_document_where_frameworks_serve_it_or_says_there_is_none() {
    // Spring serves its document at /v3/api-docs.
    let served = planted::app(Defects::default()).route(
        "/v3/api-docs",
        axum::routing::get(|| async { planted::SPEC }),
    );
    let spring = planted::serve(served).await;
    let bare = planted::serve(planted::app(Defects::default())).await;
    let run = |addr: std::net::SocketAddr| {
        let args: Vec<String> = [
            "check",
            "--target",
            &format!("http://{addr}"),
            "--max-examples",
            "5",
        ]
        .map(String::from)
        .to_vec();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            contract_cli(&args)
        })
    };
    let (code, stdout, stderr) = run(spring).await.unwrap();
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stderr.contains("serves at /v3/api-docs"), "{stderr}");
    assert!(stdout.contains("GET /items/{id}"), "{stdout}");
    let (code, _, stderr) = run(bare).await.unwrap();
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("serves no OpenAPI document"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budgets_stop_the_run_with_what_was_seen() {
    let addr = planted::serve(planted::app(Defects::all_but_slow())).await;
    let target = format!("http://{addr}");
    let full = run_contract(planted::SPEC, contract_options(&target, 4, 50)).await;
    assert!(full.failures.len() > 2);
    let mut options = contract_options(&target, 4, 50);
    options.max_failures = Some(1);
    let stopped = run_contract(planted::SPEC, options).await;
    assert!(
        stopped
            .warnings
            .iter()
            .any(|w| w.contains("--max-failures 1 was reached")),
        "{:?}",
        stopped.warnings
    );
    assert!(!stopped.failures.is_empty() && stopped.cases < full.cases);
    let mut options = contract_options(&target, 4, 50);
    options.max_time = Some(Duration::from_millis(1));
    let stopped = run_contract(planted::SPEC, options).await;
    assert!(
        stopped.warnings.iter().any(|w| w.contains("--max-time")),
        "{:?}",
        stopped.warnings
    );
    assert!(stopped.cases < full.cases);
}

#[test]
fn cli_filters_operations() {
    let (code, stdout, stderr) = contract_cli(&[
        "check",
        "--max-examples",
        "3",
        "--include-path-regex",
        "^/api/users",
        "--exclude-method",
        "delete",
        "--include-method",
        "GET",
        "--include-method",
        "DELETE",
    ]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    // The table of operations comes first, up to the first blank line.
    let checked: Vec<&str> = stdout
        .lines()
        .take_while(|l| !l.is_empty())
        .filter(|l| {
            l.starts_with("  GET ") || l.starts_with("  DELETE ") || l.starts_with("  POST ")
        })
        .map(|l| l.split_whitespace().take(2).last().unwrap_or_default())
        .collect();
    assert_eq!(checked, ["/api/users", "/api/users/{id}"], "{stdout}");
    let (code, _, stderr) = contract_cli(&["check", "--include-path", "/nowhere"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("no operation of the document is left"),
        "{stderr}"
    );
    let (code, _, stderr) = contract_cli(&["check", "--include-path-regex", "("]);
    assert_eq!(code, Some(2), "{stderr}");
}

/// An operation the loader sets aside (a body only in XML) is still documented: its method
/// is never probed as unsupported on a path the checker does check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_set_aside_is_not_probed_as_unsupported() {
    const SPEC: &str = r#"
openapi: 3.0.3
info: {title: orders, version: "1"}
paths:
  /orders:
    get:
      responses:
        "200":
          description: the orders
          content:
            application/json:
              schema: {type: array, items: {type: string}}
    post:
      requestBody:
        required: true
        content:
          application/xml:
            schema: {type: object}
      responses:
        "201": {description: made}
"#;
    let router = axum::Router::new().route(
        "/orders",
        axum::routing::get(|| async { axum::Json(serde_json::json!(["o-1"])) })
            .post(|| async { axum::http::StatusCode::CREATED }),
    );
    let addr = planted::serve(router).await;
    let report = run_contract(SPEC, contract_options(&format!("http://{addr}"), 1, 20)).await;
    assert_eq!(found(&report), Default::default(), "{:?}", report.failures);
    assert_eq!(report.operations.len(), 1, "only GET /orders is checked");
}

/// A Kafka-like server: a delete resets a config (its read documents no 404, so it cannot
/// say "gone"), a delete on the ACL collection removes some of it, and HEAD answers carry no
/// body. None of that is a failure; with a 404 documented, the reset is a use after free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_is_judged_only_where_the_document_can_say_gone() {
    use axum::Json;
    use axum::extract::Path;
    use axum::http::StatusCode;
    use axum::routing::get;
    let app = axum::Router::new()
        .route(
            "/configs/{name}",
            get(|Path(name): Path<String>| async move {
                Json(serde_json::json!({"name": name, "value": "default"}))
            })
            .delete(|| async { StatusCode::NO_CONTENT }),
        )
        .route(
            "/configs",
            axum::routing::post(|| async {
                let made = serde_json::json!({"name": "compression", "value": "default"});
                (StatusCode::CREATED, Json(made))
            }),
        )
        .route(
            "/acls",
            get(|| async { Json(serde_json::json!([])) })
                .delete(|| async { Json(serde_json::json!({"deleted": 0})) }),
        )
        .route("/health", axum::routing::head(|| async { StatusCode::OK }));
    let addr = planted::serve(app).await;
    let spec = |read_404: &str| {
        format!(
            r##"
openapi: 3.0.3
info: {{title: configs, version: "1"}}
paths:
  /configs:
    post:
      responses: {{"201": {{description: made, content: {{application/json: {{schema: {{type: object, properties: {{name: {{type: string}}}}}}}}}}}}}}
  /configs/{{name}}:
    parameters: [{{name: name, in: path, required: true, schema: {{type: string}}}}]
    get:
      responses:
        "200": {{description: one, content: {{application/json: {{schema: {{type: object, required: [name, value], properties: {{name: {{type: string}}, value: {{type: string}}}}}}}}}}}}
        {read_404}
    delete: {{responses: {{"204": {{description: reset}}}}}}
  /acls:
    get: {{responses: {{"200": {{description: all, content: {{application/json: {{schema: {{type: array, items: {{type: object}}}}}}}}}}}}}}
    delete:
      parameters: [{{name: principal, in: query, schema: {{type: string}}}}]
      responses: {{"200": {{description: removed, content: {{application/json: {{schema: {{type: object}}}}}}}}}}
  /health:
    head: {{responses: {{"200": {{description: up, content: {{application/json: {{schema: {{type: object}}}}}}}}}}}}
"##
        )
    };
    let target = format!("http://{addr}");
    let report = run_contract(&spec(""), contract_options(&target, 3, 20)).await;
    assert_eq!(found(&report), BTreeSet::new(), "{:#?}", report.failures);
    let report = run_contract(
        &spec(r#""404": {description: none}"#),
        contract_options(&target, 3, 20),
    )
    .await;
    assert!(
        found(&report).contains(&(
            "use_after_free".to_owned(),
            "GET /configs/{name}".to_owned()
        )),
        "{:#?}",
        report.failures
    );
}

/// httpbin answers `/status/863`: a status past 599 is no server error (only undocumented,
/// and here it is documented under `default`); an API with entity tags answers 412 to an
/// `If-Match` that does not match and 304 to an `If-None-Match` that does, which are answers
/// to the precondition, not refusals of valid input. A server that answers 500 there is
/// still found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_past_599_and_preconditions_are_not_blamed() {
    use tests::httpbin;
    let addr = planted::serve(httpbin::app(httpbin::Defects::default())).await;
    let report = run_contract(
        httpbin::SPEC,
        contract_options(&format!("http://{addr}"), 5, 30),
    )
    .await;
    assert_eq!(found(&report), BTreeSet::new(), "{:#?}", report.failures);
    let statuses: BTreeSet<u16> = report
        .operations
        .iter()
        .flat_map(|o| o.statuses.keys().copied())
        .collect();
    assert!(statuses.is_superset(&[863, 412].into()), "{statuses:?}");
    let addr = planted::serve(httpbin::app(httpbin::Defects {
        server_error_past_599: true,
        ..httpbin::Defects::default()
    }))
    .await;
    let report = run_contract(
        httpbin::SPEC,
        contract_options(&format!("http://{addr}"), 5, 30),
    )
    .await;
    assert!(
        found(&report).contains(&(
            "not_a_server_error".to_owned(),
            "GET /status/{code}".to_owned()
        )),
        "{:#?}",
        report.failures
    );
}

/// httpbin reflects query text into `Set-Cookie` and other headers, and a control character
/// there is a 500; its `TRACE` is a 500 too. Valid strings carry control characters often
/// enough to find each, and every documented method is sent; the same server that
/// percent-encodes what it reflects, and answers `TRACE`, is silent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_in_reflected_text_and_trace_are_sent() {
    use tests::httpbin;
    let addr = planted::serve(httpbin::app(httpbin::Defects::httpbin())).await;
    let report = run_contract(
        httpbin::SPEC,
        contract_options(&format!("http://{addr}"), 6, 30),
    )
    .await;
    let errors: BTreeSet<String> = found(&report)
        .into_iter()
        .filter(|(check, _)| check == "not_a_server_error")
        .map(|(_, operation)| operation)
        .collect();
    let expected = [
        "GET /cookies/set",
        "GET /response-headers",
        "TRACE /status/{code}",
    ];
    assert_eq!(
        errors,
        expected.map(str::to_owned).into(),
        "{:#?}",
        report.failures
    );
    let addr = planted::serve(httpbin::app(httpbin::Defects::default())).await;
    let report = run_contract(
        httpbin::SPEC,
        contract_options(&format!("http://{addr}"), 6, 30),
    )
    .await;
    assert_eq!(found(&report), BTreeSet::new(), "{:#?}", report.failures);
}

/// FastAPI with SQLModel (and a connexion-style `PUT`): failures that need a stored row
/// (`name: null` on a `NOT NULL` column, a `readOnly` date-time sent as `""`) show only on a
/// hero that exists; lax validators take a boolean for an integer; a body that is not UTF-8
/// gets FastAPI's undocumented 400. Each is found; the correct server is silent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_dependent_edges_lax_types_and_unparsable_bodies() {
    use tests::heroes;
    let addr = planted::serve(heroes::app(heroes::Defects::all())).await;
    let report = run_contract(
        heroes::SPEC,
        contract_options(&format!("http://{addr}"), 7, 30),
    )
    .await;
    let seen = found(&report);
    for (check, operation) in [
        ("not_a_server_error", "PATCH /heroes/{hero_id}"),
        ("not_a_server_error", "PUT /heroes/{hero_id}"),
        ("negative_data_rejection", "POST /heroes/"),
        ("status_code_conformance", "POST /heroes/"),
    ] {
        assert!(
            seen.contains(&(check.to_owned(), operation.to_owned())),
            "{check} on {operation}: {:#?}",
            report.failures
        );
    }
    let addr = planted::serve(heroes::app(heroes::Defects::default())).await;
    let report = run_contract(
        heroes::SPEC,
        contract_options(&format!("http://{addr}"), 7, 30),
    )
    .await;
    assert_eq!(found(&report), BTreeSet::new(), "{:#?}", report.failures);
}

/// Numeric formats in responses are read as their clients read them: an `int64` written as
/// a float (`-9.22e18`, its last digits lost), an `int32` past its range, a `float` past
/// `f32`. A `Content-Type: */*` names no type, and an empty body is no JSON. A server that
/// answers each as documented is silent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn formats_wildcards_and_empty_bodies_in_responses() {
    use axum::http::header;
    use axum::response::IntoResponse;
    const SPEC: &str = r#"
openapi: 3.0.3
info: {title: formats, version: "1"}
paths:
  /long:
    get:
      responses:
        "200": {description: n, content: {application/json: {schema: {type: integer, format: int64}}}}
  /int:
    get:
      responses:
        "200": {description: n, content: {application/json: {schema: {type: integer, format: int32}}}}
  /real:
    get:
      responses:
        "200": {description: n, content: {application/json: {schema: {type: number, format: float}}}}
  /star:
    get:
      responses:
        "200": {description: a thing, content: {"*/*": {schema: {type: object}}}}
  /empty:
    get:
      responses:
        "200": {description: a thing, content: {application/json: {schema: {type: object}}}}
"#;
    let app = |broken: bool| {
        let number = move |bad: &'static str, good: &'static str| {
            axum::routing::get(move || async move {
                let body = if broken { bad } else { good };
                ([(header::CONTENT_TYPE, "application/json")], body)
            })
        };
        axum::Router::new()
            .route("/long", number("-9.22e18", "-9220000000000000000"))
            .route("/int", number("3000000000", "7"))
            .route("/real", number("1e39", "1.5"))
            .route(
                "/star",
                axum::routing::get(move || async move {
                    let media = if broken { "*/*" } else { "application/json" };
                    ([(header::CONTENT_TYPE, media)], "{}").into_response()
                }),
            )
            .route(
                "/empty",
                axum::routing::get(move || async move {
                    let body = if broken { "" } else { "{}" };
                    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
                }),
            )
    };
    let addr = planted::serve(app(true)).await;
    let report = run_contract(SPEC, contract_options(&format!("http://{addr}"), 8, 5)).await;
    let seen = found(&report);
    for (check, operation) in [
        ("response_schema_conformance", "GET /long"),
        ("response_schema_conformance", "GET /int"),
        ("response_schema_conformance", "GET /real"),
        ("content_type_conformance", "GET /star"),
        ("response_schema_conformance", "GET /empty"),
    ] {
        assert!(
            seen.contains(&(check.to_owned(), operation.to_owned())),
            "{check} on {operation}: {:#?}",
            report.failures
        );
    }
    let addr = planted::serve(app(false)).await;
    let report = run_contract(SPEC, contract_options(&format!("http://{addr}"), 8, 5)).await;
    assert_eq!(found(&report), BTreeSet::new(), "{:#?}", report.failures);
}

/// A Petstore taking XML as JAXB does: contract sends the body as XML too (the schema's
/// names, attribute and wrapped array), and checks XML answers for well-formedness and
/// their root. A server that refuses XML, names the root otherwise or never closes it is
/// found; the correct one is silent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xml_bodies_are_sent_and_xml_answers_checked() {
    use tests::xmlpets::{self, Defects};
    let run = |defects: Defects| async move {
        let addr = planted::serve(xmlpets::app(defects)).await;
        let report = run_contract(
            xmlpets::SPEC,
            contract_options(&format!("http://{addr}"), 9, 20),
        )
        .await;
        (found(&report), report)
    };
    let (seen, report) = run(Defects::default()).await;
    assert_eq!(seen, BTreeSet::new(), "{:#?}", report.failures);
    let xml_sent = report
        .operations
        .iter()
        .any(|o| o.operation == "POST /pet" && o.statuses.contains_key(&200));
    assert!(xml_sent, "{}", contract::report::terminal(&report));
    for (defects, check, operation) in [
        (
            Defects {
                refuses_xml: true,
                ..Defects::default()
            },
            "positive_data_acceptance",
            "POST /pet",
        ),
        (
            Defects {
                wrong_root: true,
                ..Defects::default()
            },
            "response_schema_conformance",
            "GET /pet/{petId}",
        ),
        (
            Defects {
                malformed: true,
                ..Defects::default()
            },
            "response_schema_conformance",
            "GET /pet/{petId}",
        ),
    ] {
        let (seen, report) = run(defects).await;
        assert!(
            seen.contains(&(check.to_owned(), operation.to_owned())),
            "{defects:?}: {:#?}",
            report.failures
        );
    }
}

/// The checker drives the bundled mock only as the mock says it is driven: its reset, its
/// namespace header and its seed logins (a user, then an admin) all work as given.
#[test]
fn the_bundled_mock_says_how_to_reset_and_log_in_to_it() {
    let mock = mock_api::MockServer::start().unwrap();
    let driving = mock_api::MockServer::driving();
    let url = mock.url().to_owned();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async move {
            let client = reqwest::Client::new();
            let (method, path) = openapi::login::operation(&driving.reset).unwrap();
            let reset = client
                .request(method, format!("{url}{path}"))
                .header("Host", "localhost")
                .header(driving.namespace_header.as_str(), "driving")
                .send()
                .await
                .unwrap();
            assert!(reset.status().is_success(), "{}", reset.status());
            let mut roles = Vec::new();
            for body in &driving.login_bodies {
                let login =
                    openapi::login::Login::parse(&driving.login, body.clone(), "/token").unwrap();
                let answer: serde_json::Value = client
                    .request(login.method.clone(), format!("{url}{}", login.path))
                    .json(&login.body)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let token = login.token_in(&answer).expect("a token");
                let me: serde_json::Value = client
                    .get(format!("{url}/api/auth/me"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                roles.push(me["role"].as_str().unwrap_or_default().to_owned());
            }
            assert_eq!(roles, ["user", "admin"]);
        });
}
