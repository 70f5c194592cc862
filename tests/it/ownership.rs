//! `object_level_authorization`: with two identities, what one creates the other can neither
//! read nor change; in-process and through the CLI's `--auth-login` given twice.

use contract::auth::{Auth, Login};
use serde_json::json;
use tests::notes::{self, Defects};
use tests::{contract_options, found, run_contract_with};

fn login(user: &str) -> Login {
    Login::parse("POST /login", json!({ "user": user }), "/token").unwrap()
}

fn two_users() -> Auth {
    Auth::new(Some(login("ann"))).with_second(login("bob"))
}

/// The notes API with `defects`, checked by ann and bob; the report and how many requests
/// came for notes their sender did not own.
async fn check_notes(defects: Defects) -> (contract::Report, usize) {
    let served = notes::app(defects);
    let addr = tests::planted::serve(served.router.clone()).await;
    let options = contract_options(&format!("http://{addr}"), 3, 20);
    let report = run_contract_with(notes::SPEC, options, two_users()).await;
    (report, served.foreign_requests())
}

fn owned(report: &contract::Report) -> Vec<String> {
    let mut operations: Vec<String> = report
        .failures
        .iter()
        .filter(|f| f.check == "object_level_authorization")
        .map(|f| f.operation.clone())
        .collect();
    operations.sort();
    operations
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_when_each_user_sees_only_their_own_notes() {
    let (report, foreign) = check_notes(Defects::default()).await;
    assert_eq!(
        found(&report),
        Default::default(),
        "{}",
        contract::report::terminal(&report)
    );
    // The second identity did try the first one's note: read, write and delete.
    assert!(foreign >= 3, "{foreign} foreign requests");
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_notes_another_user_can_read() {
    let (report, _) = check_notes(Defects {
        shared_reads: true,
        ..Defects::default()
    })
    .await;
    assert_eq!(owned(&report), ["GET /notes/{id}"]);
    let failure = &report.failures[0];
    assert_eq!(
        failure.sequence.len(),
        2,
        "the create, then the foreign read"
    );
    assert!(failure.sequence[0].contains("Bearer token-ann"));
    assert!(
        failure.curl.contains("Bearer token-bob"),
        "{}",
        failure.curl
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_notes_another_user_can_change_or_delete() {
    let (report, _) = check_notes(Defects {
        shared_writes: true,
        ..Defects::default()
    })
    .await;
    assert_eq!(owned(&report), ["DELETE /notes/{id}", "PUT /notes/{id}"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_second_identity_the_check_is_not_run() {
    let served = notes::app(Defects {
        shared_reads: true,
        shared_writes: true,
    });
    let addr = tests::planted::serve(served.router.clone()).await;
    let options = contract_options(&format!("http://{addr}"), 3, 10);
    let report = run_contract_with(notes::SPEC, options, Auth::new(Some(login("ann")))).await;
    assert!(owned(&report).is_empty());
}

/// `contract check` of the notes API with these extra arguments: exit status and stdout.
async fn notes_cli(defects: Defects, extra: &[&str]) -> (Option<i32>, String, String) {
    let addr = tests::planted::serve(notes::app(defects).router).await;
    let dir = tests::temp_dir("ownership-cli");
    let spec = dir.join(format!("notes-{}.yaml", addr.port()));
    std::fs::write(&spec, notes::SPEC).unwrap();
    let mut args: Vec<String> = [
        "check",
        "--spec",
        spec.to_str().unwrap(),
        "--target",
        &format!("http://{addr}"),
        "--max-examples",
        "5",
        "--seed",
        "1",
    ]
    .map(str::to_owned)
    .to_vec();
    args.extend(extra.iter().map(|a| a.to_string()));
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(tests::binary("contract"))
            .args(&args)
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_takes_a_second_login() {
    let two = [
        "--auth-login",
        "POST /login",
        "--auth-body",
        r#"{"user": "ann"}"#,
        "--auth-login",
        "POST /login",
        "--auth-body",
        r#"{"user": "bob"}"#,
    ];
    let (code, stdout, stderr) = notes_cli(
        Defects {
            shared_reads: true,
            ..Defects::default()
        },
        &two,
    )
    .await;
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("object_level_authorization — GET /notes/{id}"),
        "{stdout}"
    );
    let (code, stdout, stderr) = notes_cli(Defects::default(), &two).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_user_twice_or_three_logins_are_usage_errors() {
    let (code, _, stderr) = notes_cli(
        Defects::default(),
        &[
            "--auth-login",
            "POST /login",
            "--auth-body",
            r#"{"user": "ann"}"#,
            "--auth-login",
            "POST /login",
            "--auth-body",
            r#"{"user": "ann"}"#,
        ],
    )
    .await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("same token"), "{stderr}");
    let login = ["--auth-login", "POST /login"];
    let (code, _, stderr) = notes_cli(Defects::default(), &[login, login, login].concat()).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("at most twice"), "{stderr}");
}
