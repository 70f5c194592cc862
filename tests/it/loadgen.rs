//! loadgen: a short real run against a spawned mock where every scenario succeeds, exit
//! statuses for bad options, unreachable hosts and breached thresholds, and the merge of
//! known reports pinned by snapshots.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

fn loadgen(args: &[&str]) -> Output {
    Command::new(tests::binary("loadgen"))
        .args(args)
        .output()
        .expect("loadgen runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn every_scenario_succeeds_against_a_spawned_mock() {
    let mock = mock_api::MockServer::start().unwrap();
    let dir = tests::temp_dir("loadgen-run");
    let report = dir.join("run.json");
    // Weights 4 + 4 + 2 + 1: eleven users give every scenario at least one.
    let output = loadgen(&[
        "--host",
        mock.url(),
        "--users",
        "11",
        "--increase-rate",
        "100",
        "--run-time",
        "2s",
        "--quiet",
        "--threshold",
        "error-rate<=0%",
        "--report-file",
        report.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let mut totals = loadgen::merge::Totals::default();
    totals.add("run.json", &report).unwrap();
    // The logins and id lists of each user's start come before goose resets its metrics
    // (once all users are running); `/api/auth/me` succeeding shows the login worked.
    for request in [
        "GET /api/users?page",
        "GET /api/users?search",
        "GET /api/users/{id}",
        "GET /api/auth/me",
        "POST /api/users",
        "PUT /api/users/{id}",
        "DELETE /api/users/{id}",
    ] {
        let scope = totals
            .requests
            .get(request)
            .unwrap_or_else(|| panic!("{request} in {:?}", totals.requests.keys()));
        assert!(
            scope.successes > 0 && scope.failures == 0,
            "{request}: {scope:?}"
        );
    }
    // The crud scenario cleans up after itself: only users being created at the stop remain.
    assert!(mock.items() <= 2 + 1, "{} users left", mock.items());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_breached_threshold_exits_1_and_says_which_and_by_how_much() {
    // No --host: the bundled mock.
    let output = loadgen(&[
        "--users",
        "2",
        "--increase-rate",
        "10",
        "--run-time",
        "1s",
        "--quiet",
        "--threshold",
        "p99<1us",
        "--no-threshold-abort",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let text = text(&output);
    assert!(
        text.contains("FAIL p99<1us: observed") && text.contains("off by"),
        "{text}"
    );
}

#[test]
fn bad_options_and_unreachable_hosts_exit_2_before_any_load() {
    for (args, message) in [
        (&["--users", "lots"][..], "--users"),
        (&["--no-such-flag"], "--no-such-flag"),
        (&["--threshold", "p95<"], "p95<"),
        (
            &["--host", "http://127.0.0.1:9", "--run-time", "1s"],
            "cannot reach http://127.0.0.1:9",
        ),
        // Goose refuses it when the load is set up: the option and why are named.
        (
            &["--increase-rate", "0", "--run-time", "1s"],
            "`configuration.increase_rate` must be non-zero",
        ),
    ] {
        let output = loadgen(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
        assert!(
            text(&output).contains(message),
            "{args:?}: {}",
            text(&output)
        );
    }
}

/// A goose JSON report with one request whose response times (ms) are given.
fn report(dir: &Path, name: &str, request: &str, times_ms: &[u64], failures: u64) -> String {
    let mut buckets = serde_json::Map::new();
    for ms in times_ms {
        let count = buckets.entry((ms * 1000).to_string()).or_insert(json!(0));
        *count = json!(count.as_u64().unwrap() + 1);
    }
    let (method, path) = request.split_once(' ').unwrap();
    let report = json!({"raw_metrics": {"duration": 10, "requests": {request: {
        "method": method, "path": path,
        "success_count": times_ms.len() as u64 - failures, "fail_count": failures,
        "status_code_counts": {"200": times_ms.len() as u64 - failures},
        "raw_data": {
            "times_us": buckets,
            "minimum_time_us": times_ms.iter().min().unwrap() * 1000,
            "maximum_time_us": times_ms.iter().max().unwrap() * 1000,
            "total_time_us": times_ms.iter().sum::<u64>() * 1000,
            "counter": times_ms.len(),
        }
    }}}});
    let path = dir.join(name);
    std::fs::write(&path, report.to_string()).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn merged_reports_and_verdicts_are_pinned() {
    let dir = tests::temp_dir("loadgen-merge");
    let a = report(
        &dir,
        "a.json",
        "GET /api/users",
        &(1..=60).collect::<Vec<_>>(),
        0,
    );
    let b = report(
        &dir,
        "b.json",
        "GET /api/users",
        &(41..=100).collect::<Vec<_>>(),
        3,
    );
    let c = report(&dir, "c.json", "POST /api/users", &[5, 7, 9, 250], 0);
    let merged = dir.join("merged.json");
    let output = loadgen(&[
        "merge",
        &a,
        &b,
        &c,
        "--output",
        merged.to_str().unwrap(),
        "--threshold",
        "p95<200ms",
        "--threshold",
        "error-rate<1%",
        "--threshold",
        "p50<=50ms for GET /api/users",
        "--threshold",
        "rps>=10",
    ]);
    // error-rate is 3 of 124 (2.4%) and p95 is 100ms: one rule fails, so exit 1.
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    insta::assert_snapshot!(
        "loadgen_merge_output",
        String::from_utf8_lossy(&output.stdout)
    );
    let merged: Value = serde_json::from_str(&std::fs::read_to_string(&merged).unwrap()).unwrap();
    insta::assert_json_snapshot!("loadgen_merged_report", merged, {".requests.*.buckets_us" => "[buckets]", ".all.buckets_us" => "[buckets]"});
    // A merged report merges again, to the same result.
    let again = loadgen(&["merge", dir.join("merged.json").to_str().unwrap()]);
    assert!(text(&again).contains("3 reports"), "{}", text(&again));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn merge_refuses_what_it_cannot_read() {
    let dir = tests::temp_dir("loadgen-bad");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"hello\": 1}").unwrap();
    let output = loadgen(&["merge", bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).contains("not a goose JSON report"),
        "{}",
        text(&output)
    );
    let output = loadgen(&["merge", "/nonexistent.json"]);
    assert_eq!(output.status.code(), Some(2));
    let output = loadgen(&["merge", bad.to_str().unwrap(), "--threshold", "p95<<1"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    std::fs::remove_dir_all(dir).unwrap();
}

/// The requests of a loadgen JSON report, by name.
fn requests(report: &Path) -> loadgen::merge::Totals {
    let report: Value = serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    let mut totals = loadgen::merge::Totals::default();
    totals.add("run.json", &report).unwrap();
    totals
}

/// A short run against a spawned mock, with these extra options; its report.
fn short_run(dir: &Path, extra: &[&str]) -> (Output, loadgen::merge::Totals, mock_api::MockServer) {
    short_run_on(mock_api::MockServer::start().unwrap(), dir, extra)
}

/// A short run against `mock`, with these extra options; its report.
fn short_run_on(
    mock: mock_api::MockServer,
    dir: &Path,
    extra: &[&str],
) -> (Output, loadgen::merge::Totals, mock_api::MockServer) {
    let report = dir.join("run.json");
    let mut args = vec![
        "--host",
        mock.url(),
        "--users",
        "6",
        "--increase-rate",
        "100",
        "--run-time",
        "2s",
        "--quiet",
        "--no-telnet",
        "--no-reset-metrics",
        "--report-file",
        report.to_str().unwrap(),
    ];
    args.extend(extra);
    let output = loadgen(&args);
    let totals = match output.status.code() {
        Some(0) => requests(&report),
        _ => loadgen::merge::Totals::default(),
    };
    (output, totals, mock)
}

#[test]
fn a_document_load_sends_every_operation_with_no_failure() {
    let dir = tests::temp_dir("loadgen-document");
    let weights = dir.join("weights.yaml");
    // The login is sent with the login's own body; logging out and resetting would pull the
    // ground from under the other users, so they are left out.
    std::fs::write(
        &weights,
        "POST /api/auth/login: 1\nPOST /api/auth/logout: 0\nPOST /__admin/reset: 0\n",
    )
    .unwrap();
    let spec = tests::root().join("specs/mock-api.yaml");
    let (output, totals, mock) = short_run(
        &dir,
        &[
            "--spec",
            spec.to_str().unwrap(),
            "--weights",
            weights.to_str().unwrap(),
            "--auth-login",
            "POST /api/auth/login",
            "--auth-body",
            r#"{"email": "user@example.com", "password": "user123"}"#,
            "--threshold",
            "error-rate<=0%",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let api = openapi::parse(mock_api::spec::YAML).unwrap();
    for operation in &api.operations {
        let label = operation.label();
        if label == "POST /api/auth/logout" || label == "POST /__admin/reset" {
            continue;
        }
        let scope = totals
            .requests
            .get(&label)
            .unwrap_or_else(|| panic!("{label} in {:?}", totals.requests.keys()));
        assert!(
            scope.successes > 0 && scope.failures == 0,
            "{label}: {scope:?}"
        );
    }
    // Every create was followed by its delete: only the seed users and those created in the
    // last moment remain.
    assert!(mock.items() <= 2 + 6, "{} users left", mock.items());
    std::fs::remove_dir_all(dir).unwrap();
}

/// `mock-api --spec` of a document in `tests/fixtures/real`, with `seed_items` items in each
/// collection: the document's path, its model, and the mock.
fn spec_mock(
    name: &str,
    seed_items: usize,
) -> (
    std::path::PathBuf,
    std::sync::Arc<openapi::Api>,
    mock_api::MockServer,
) {
    let spec = tests::root().join("tests/fixtures/real").join(name);
    let document = std::fs::read_to_string(&spec).unwrap();
    let api = std::sync::Arc::new(openapi::parse(&document).unwrap());
    let config = mock_api::Config {
        spec: Some(mock_api::app::SpecConfig {
            api: api.clone(),
            text: std::sync::Arc::from(document.as_str()),
            options: mock_api::engines::spec::Options {
                seed_items,
                ..Default::default()
            },
        }),
        ..mock_api::Config::default()
    };
    (
        spec,
        api,
        mock_api::MockServer::start_with(&config).unwrap(),
    )
}

#[test]
fn a_scenario_file_runs_against_a_spec_mock_of_the_petstore() {
    let dir = tests::temp_dir("loadgen-petstore-script");
    let script = dir.join("adopt.yaml");
    std::fs::write(
        &script,
        r#"
scenarios:
  - name: adopt
    steps:
      - method: POST
        path: /pet
        headers: {Authorization: "Bearer load-token"}
        json: {name: "pet-${user}", photoUrls: ["${uuid}.png"], status: available}
        capture: {id: /id}
        expect: [200]
      - {method: GET, path: "/pet/${id}", headers: {Authorization: "Bearer load-token"}, expect: [200]}
      - {method: DELETE, path: "/pet/${id}", headers: {Authorization: "Bearer load-token"}, expect: [200]}
      - {method: GET, path: "/pet/${id}", name: gone, headers: {Authorization: "Bearer load-token"}, expect: [404]}
"#,
    )
    .unwrap();
    let (_, _, mock) = spec_mock("petstore3.yaml", 0);
    let (output, totals, mock) = short_run_on(
        mock,
        &dir,
        &[
            "--scenario-file",
            script.to_str().unwrap(),
            "--threshold",
            "error-rate<=0%",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    for name in [
        "POST /pet",
        "GET /pet/${id}",
        "DELETE /pet/${id}",
        "GET gone",
    ] {
        let scope = totals
            .requests
            .get(name)
            .unwrap_or_else(|| panic!("{name} in {:?}", totals.requests.keys()));
        assert!(
            scope.successes > 0 && scope.failures == 0,
            "{name}: {scope:?}"
        );
    }
    // Every pet made was deleted, but those of the last moment.
    assert!(mock.items() <= 6, "{} pets left", mock.items());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_real_document_loads_its_own_spec_mock_with_no_failure() {
    let dir = tests::temp_dir("loadgen-real-document");
    let (spec, api, mock) = spec_mock("petstore-expanded-2.0.yaml", 5);
    let (output, totals, mock) = short_run_on(
        mock,
        &dir,
        &[
            "--spec",
            spec.to_str().unwrap(),
            "--threshold",
            "error-rate<=0%",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    for operation in &api.operations {
        let label = operation.label();
        let scope = totals
            .requests
            .get(&label)
            .unwrap_or_else(|| panic!("{label} in {:?}", totals.requests.keys()));
        assert!(
            scope.successes > 0 && scope.failures == 0,
            "{label}: {scope:?}"
        );
    }
    // Creates were cleaned up after; the seed items the reads used are mostly still there.
    assert!(mock.items() <= 5 + 6, "{} pets left", mock.items());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_scenario_file_captures_and_fills_in_values() {
    let dir = tests::temp_dir("loadgen-script");
    let script = dir.join("scenarios.yaml");
    std::fs::write(
        &script,
        r#"
scenarios:
  - name: signup
    weight: 2
    steps:
      - method: POST
        path: /api/users
        json: {email: "load-${uuid}@example.com", name: "Load ${user}", password: "longenough1"}
        capture: {id: /id}
        expect: [201]
      - {method: GET, path: "/api/users/${id}", name: "one", think: 10ms}
      - {method: DELETE, path: "/api/users/${id}", expect: [204]}
  - name: me
    steps:
      - method: POST
        path: /api/auth/login
        json: {email: user@example.com, password: user123}
        capture: {token: /token}
      - method: GET
        path: /api/auth/me
        headers: {Authorization: "Bearer ${token}"}
"#,
    )
    .unwrap();
    let (output, totals, _mock) = short_run(
        &dir,
        &[
            "--scenario-file",
            script.to_str().unwrap(),
            "--threshold",
            "error-rate<=0%",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    for name in [
        "POST /api/users",
        "GET one",
        "DELETE /api/users/${id}",
        "POST /api/auth/login",
        "GET /api/auth/me",
    ] {
        let scope = totals
            .requests
            .get(name)
            .unwrap_or_else(|| panic!("{name} in {:?}", totals.requests.keys()));
        assert!(
            scope.successes > 0 && scope.failures == 0,
            "{name}: {scope:?}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_weights_scenarios_and_reports_exit_2_before_any_load() {
    let dir = tests::temp_dir("loadgen-bad");
    let spec = tests::root().join("specs/mock-api.yaml");
    let weights = dir.join("weights.yaml");
    std::fs::write(&weights, "GET /nowhere: 3\n").unwrap();
    let undefined = dir.join("undefined.yaml");
    std::fs::write(
        &undefined,
        "scenarios:\n  - name: lost\n    steps:\n      - {method: GET, path: \"/api/users/${id}\"}\n",
    )
    .unwrap();
    let malformed = dir.join("malformed.yaml");
    std::fs::write(
        &malformed,
        "scenarios:\n  - name: x\n    steps: [{method: GET, path: /a, bogus: 1}]\n",
    )
    .unwrap();
    let missing_dir = dir.join("no/such/dir/report.json");
    for (args, message) in [
        (
            vec![
                "--spec",
                spec.to_str().unwrap(),
                "--weights",
                weights.to_str().unwrap(),
            ],
            "\"GET /nowhere\" is neither an operation",
        ),
        (
            vec!["--scenario-file", undefined.to_str().unwrap()],
            "scenario `lost`, step 1 (GET /api/users/${id}): ${id} is not defined",
        ),
        (
            vec!["--scenario-file", malformed.to_str().unwrap()],
            "unknown field `bogus`",
        ),
        (
            vec!["--report-file", missing_dir.to_str().unwrap()],
            "does not exist",
        ),
    ] {
        let mut all = vec!["--run-time", "1s", "--quiet"];
        all.extend(args.iter().copied());
        let output = loadgen(&all);
        assert_eq!(output.status.code(), Some(2), "{all:?}: {}", text(&output));
        assert!(
            text(&output).contains(message),
            "{all:?}: {}",
            text(&output)
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_load_keeps_the_path_of_its_host() {
    // A Swagger 2.0 service under `basePath: /v2`: the document's paths go under it.
    let addr = tests::planted::serve(tests::swagger2::app(Default::default())).await;
    let dir = tests::temp_dir("loadgen-base-path");
    let spec = dir.join("swagger2.yaml");
    std::fs::write(&spec, tests::swagger2::SPEC).unwrap();
    let report = dir.join("run.json");
    let args: Vec<String> = [
        "--host",
        &format!("http://{addr}/v2"),
        "--spec",
        spec.to_str().unwrap(),
        "--users",
        "2",
        "--increase-rate",
        "100",
        "--run-time",
        "1s",
        "--quiet",
        "--no-telnet",
        "--no-reset-metrics",
        "--report-file",
        report.to_str().unwrap(),
    ]
    .map(str::to_owned)
    .to_vec();
    let output = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        loadgen(&args)
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let totals = requests(&report);
    let scope = totals
        .requests
        .get("GET /pets")
        .unwrap_or_else(|| panic!("GET /pets in {:?}", totals.requests.keys()));
    assert!(scope.successes > 0 && scope.failures == 0, "{scope:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// The Petstore 3 as `mock-api --spec` serves it, most of it behind an API key or OAuth2:
/// static credentials (one read from the environment) load 17 of its 19 operations with no
/// failure, the plan says why the other two are left out (on the terminal and in the JSON
/// report), the reads that no list gives ids to use items each user made at its start, and
/// those are deleted at its end.
#[test]
fn a_protected_document_loads_with_static_credentials_and_says_its_plan() {
    let dir = tests::temp_dir("loadgen-protected");
    let (spec, api, mock) = spec_mock("petstore3.yaml", 0);
    let report = dir.join("run.json");
    let output = Command::new(tests::binary("loadgen"))
        .env("LOADGEN_TEST_API_KEY", "special-key")
        .args([
            "--spec",
            spec.to_str().unwrap(),
            "--host",
            mock.url(),
            "--header",
            "api_key: ${LOADGEN_TEST_API_KEY}",
            "--header",
            "Authorization: Bearer special-token",
            "--users",
            "4",
            "--increase-rate",
            "100",
            "--run-time",
            "2s",
            "--quiet",
            "--no-telnet",
            "--no-reset-metrics",
            "--report-file",
            report.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("loadgen plan"), "{stdout}");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let plan = json["plan"].as_array().unwrap();
    assert_eq!(plan.len(), api.operations.len());
    let left_out: Vec<&str> = plan
        .iter()
        .filter(|line| {
            line["note"]
                .as_str()
                .is_some_and(|n| n.starts_with("left out"))
        })
        .map(|line| line["operation"].as_str().unwrap())
        .collect();
    assert_eq!(
        left_out,
        ["PUT /pet", "POST /user/createWithList"],
        "{plan:#?}"
    );
    let totals = requests(&report);
    for operation in &api.operations {
        let label = operation.label();
        if left_out.contains(&label.as_str()) {
            assert!(!totals.requests.contains_key(&label), "{label} was sent");
            continue;
        }
        let scope = totals
            .requests
            .get(&label)
            .unwrap_or_else(|| panic!("{label} in {:?}", totals.requests.keys()));
        assert!(
            scope.successes > 0 && scope.failures == 0,
            "{label}: {scope:?}"
        );
    }
    // What the users made at their start went at their end; only the creates of the last
    // moment (one pet, order and user per user at most) may remain.
    assert!(mock.items() <= 4 * 3, "{} items left", mock.items());
    // Without credentials the plan says why the protected operations are left out.
    let dry = loadgen(&["--spec", spec.to_str().unwrap(), "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry));
    let dry = String::from_utf8_lossy(&dry.stdout);
    assert!(
        dry.lines()
            .any(|l| l.contains("GET /pet/findByStatus") && l.contains("protected")),
        "{dry}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn credentials_that_cannot_be_sent_exit_2_naming_the_option() {
    let spec = tests::root().join("tests/fixtures/real/petstore3.yaml");
    let spec = spec.to_str().unwrap();
    for (args, expected) in [
        (
            vec!["--header", "api_key: ${LOADGEN_SURELY_UNSET_VARIABLE}"],
            "--header",
        ),
        (vec!["--header", "no colon here"], "--header"),
        (vec!["--query", "novalue"], "--query"),
        (vec!["--auth-basic", "nocolon"], "--auth-basic"),
    ] {
        let mut all = vec!["--spec", spec, "--dry-run"];
        all.extend(args);
        let output = loadgen(&all);
        assert_eq!(output.status.code(), Some(2), "{}", text(&output));
        assert!(text(&output).contains(expected), "{}", text(&output));
    }
    // Credentials apply to a document or a file, not the demo's own scenarios.
    let output = loadgen(&["--header", "X-Key: 1", "--host", "http://127.0.0.1:9"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
}

/// An open-model load: starts on a schedule whatever the answers' latency. Six users and
/// answers 50 ms late (120 a second at most) cannot keep 500 starts a second: the starts
/// that came when no user was free are counted as late, on the terminal and in the JSON
/// report.
#[test]
fn an_open_model_load_counts_its_late_starts() {
    let dir = tests::temp_dir("loadgen-rate");
    let script = dir.join("slow.yaml");
    std::fs::write(
        &script,
        "scenarios:\n  - name: slow\n    steps:\n      - {method: GET, path: /health, headers: {Prefer: delay=50}}\n",
    )
    .unwrap();
    let (output, _, _mock) = short_run(
        &dir,
        &[
            "--scenario-file",
            script.to_str().unwrap(),
            "--rate",
            "500/s",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    let (starts, late) = (
        report["rate"]["starts"].as_u64().unwrap(),
        report["rate"]["late"].as_u64().unwrap(),
    );
    assert!(
        starts > 1 && late > 0 && late < starts,
        "{}",
        report["rate"]
    );
    assert!(text(&output).contains("late"), "{}", text(&output));
    for bad in ["0/s", "fast", "5/h"] {
        let spec = tests::root().join("tests/fixtures/real/petstore3.yaml");
        let output = loadgen(&["--spec", spec.to_str().unwrap(), "--dry-run", "--rate", bad]);
        assert_eq!(output.status.code(), Some(2), "{}", text(&output));
        assert!(text(&output).contains("--rate"), "{}", text(&output));
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// Real documents of `tests/fixtures/real`, each loaded against `mock-api --spec` of itself:
/// the plan loads at least this many operations (by default, or with a weights file that
/// names the writes the plan leaves out for want of a delete, as the plan says to), every
/// one of them is sent and answered as documented, and no transaction fails.
#[test]
fn real_documents_load_most_of_their_operations_without_failures() {
    // (document, extra options, weights, operations loaded at least, of)
    let cases: [(&str, &[&str], &str, usize, usize); 4] = [
        ("petclinic-rest.yml", &[], "", 34, 37),
        (
            "springfox-market.json",
            &[],
            "PUT /customer/cart: 1\nDELETE /customer/cart: 1\nPUT /customer/cart/delivery: 1\nPOST /customer/cart/pay: 1\nPUT /customer/contacts: 1\nPOST /register: 1\n",
            13,
            13,
        ),
        (
            "kafka-rest-v3.yaml",
            &[],
            "POST /clusters/{cluster_id}/acls: 1\nDELETE /clusters/{cluster_id}/acls: 1\nPOST /clusters/{cluster_id}/acls:batch: 1\nPOST /clusters/{cluster_id}/broker-configs:alter: 1\nPOST /clusters/{cluster_id}/brokers/{broker_id}/configs:alter: 1\n",
            48,
            50,
        ),
        (
            "realworld-conduit.yml",
            &["--header", "Authorization: Token jwt.from.a.login"],
            "PUT /user: 1\nPOST /users: 1\nPOST /users/login: 1\n",
            19,
            19,
        ),
    ];
    for (name, extra, weights, at_least, of) in cases {
        let dir = tests::temp_dir("loadgen-real");
        let (spec, api, mock) = spec_mock(name, 0);
        assert_eq!(api.operations.len(), of, "{name}");
        let report = dir.join("run.json");
        let mut args: Vec<String> = [
            "--spec",
            spec.to_str().unwrap(),
            "--host",
            mock.url(),
            "--users",
            "4",
            "--increase-rate",
            "100",
            "--run-time",
            "2s",
            "--quiet",
            "--no-telnet",
            "--no-reset-metrics",
            "--report-file",
            report.to_str().unwrap(),
        ]
        .map(str::to_owned)
        .to_vec();
        args.extend(extra.iter().map(|a| a.to_string()));
        if !weights.is_empty() {
            let file = dir.join("weights.yaml");
            std::fs::write(&file, weights).unwrap();
            args.extend(["--weights".to_owned(), file.to_str().unwrap().to_owned()]);
        }
        let output = Command::new(tests::binary("loadgen"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{name}: {}", text(&output));
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let loaded: Vec<&str> = json["plan"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|line| {
                line["weight"].as_u64().is_some_and(|w| w > 0)
                    || line["note"]
                        .as_str()
                        .is_some_and(|n| n.starts_with("sent after"))
            })
            .map(|line| line["operation"].as_str().unwrap())
            .collect();
        assert!(
            loaded.len() >= at_least,
            "{name}: {} of {of} loaded: {:#?}",
            loaded.len(),
            json["plan"]
        );
        let totals = requests(&report);
        for label in &loaded {
            let scope = totals
                .requests
                .get(*label)
                .unwrap_or_else(|| panic!("{name}: {label} was never sent"));
            assert!(
                scope.successes > 0 && scope.failures == 0,
                "{name}: {label}: {scope:?}"
            );
        }
        // No transaction failed, one that could send nothing included.
        let failed: u64 = json["raw_metrics"]["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|scenario| scenario.as_array().unwrap())
            .map(|t| t["fail_count"].as_u64().unwrap())
            .sum();
        assert_eq!(
            failed, 0,
            "{name}: {}",
            json["raw_metrics"]["transaction_errors"]
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}

/// Every user's start fails to make what the load needs (the mock refuses every create
/// with a fault rule): the run says so and exits 1, rather than passing on reads that could
/// send nothing.
#[test]
fn a_load_whose_every_user_fails_at_its_start_exits_1() {
    let (spec, _, mock) = spec_mock("petclinic-rest.yml", 0);
    let admin = format!("http://{}/__admin/faults", mock.addr());
    let rule = tokio::runtime::Runtime::new().unwrap().block_on(async move {
        let rule = serde_json::json!({"method": "POST", "path": "/petclinic/api/owners", "status": 503});
        let answer = reqwest::Client::new()
            .post(admin)
            .header("Host", "localhost")
            .json(&rule)
            .send()
            .await
            .unwrap();
        (answer.status().as_u16(), answer.text().await.unwrap())
    });
    assert_eq!(rule.0, 201, "{}", rule.1);
    let output = loadgen(&[
        "--spec",
        spec.to_str().unwrap(),
        "--host",
        mock.url(),
        "--users",
        "2",
        "--increase-rate",
        "100",
        "--run-time",
        "1s",
        "--quiet",
        "--no-telnet",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let text = text(&output);
    assert!(
        text.contains("POST /owners answered 503 at its start"),
        "{text}"
    );
    assert!(
        text.contains("every one of the 2 users failed at its start"),
        "{text}"
    );
}
