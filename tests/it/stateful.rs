//! The contract checker between calls: links inferred from structure, deleted resources,
//! lost creates and updates, ignored auth, login with token refresh, reset, shrunk sequences.

use contract::auth::{Auth, Login};
use serde_json::json;
use tests::things::{self, Defects};
use tests::{contract_options, run_contract_with};

async fn check_things(defects: Defects, auth: Auth) -> contract::Report {
    let addr = tests::planted::serve(things::app(defects)).await;
    let mut options = contract_options(&format!("http://{addr}"), 11, 30);
    options.reset = Some((reqwest::Method::POST, "/reset".to_owned()));
    run_contract_with(things::SPEC, options, auth).await
}

fn login() -> Auth {
    Auth::new(Some(
        Login::parse(
            "POST /login",
            json!({"password": things::PASSWORD}),
            "/token",
        )
        .unwrap(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_on_a_correct_stateful_target() {
    let report = check_things(Defects::default(), login()).await;
    assert!(
        report.failures.is_empty(),
        "{}",
        contract::report::terminal(&report)
    );
    let op = |label: &str| {
        report
            .operations
            .iter()
            .find(|o| o.operation == label)
            .unwrap()
    };
    // Inferred links fed real ids: reads and deletes of things that exist succeeded.
    assert!(
        op("GET /things/{thingId}").statuses.contains_key(&200),
        "{:?}",
        op("GET /things/{thingId}")
    );
    assert!(op("DELETE /things/{thingId}").statuses.contains_key(&204));
    assert!(op("PUT /things/{thingId}").succeeded);
    // The login's token reached the protected operation.
    assert!(op("GET /whoami").succeeded);
    assert!(
        op("GET /whoami").never_seen.is_empty(),
        "401 was seen too: {:?}",
        op("GET /whoami")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_credentials_a_protected_operation_never_succeeds() {
    let report = check_things(Defects::default(), Auth::default()).await;
    let whoami = report
        .operations
        .iter()
        .find(|o| o.operation == "GET /whoami")
        .unwrap();
    assert!(!whoami.succeeded);
    assert_eq!(whoami.never_seen, ["200"]);
    let terminal = contract::report::terminal(&report);
    let line = terminal
        .lines()
        .find(|l| l.trim_start().starts_with("GET /whoami") && l.contains("never"))
        .unwrap_or("");
    assert!(
        line.ends_with("never answered 2xx; documented but never seen: 200"),
        "{terminal}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_each_stateful_defect() {
    let cases = [
        (
            Defects {
                serves_deleted: true,
                ..Defects::default()
            },
            "use_after_free",
            "still answered 200",
        ),
        (
            Defects {
                loses_created: true,
                ..Defects::default()
            },
            "ensure_resource_availability",
            "answered 404 for what it made",
        ),
        (
            Defects {
                ignores_auth: true,
                ..Defects::default()
            },
            "ignored_auth",
            "answered 200 without credentials",
        ),
        (
            Defects {
                drops_field_on_update: true,
                ..Defects::default()
            },
            "ensure_resource_availability",
            "field `tag`",
        ),
    ];
    for (defects, check, message) in cases {
        let report = check_things(defects, login()).await;
        let found = report
            .failures
            .iter()
            .find(|f| f.check == check && f.message.contains(message));
        assert!(
            found.is_some(),
            "{check} / {message}:\n{}",
            contract::report::terminal(&report)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_sequence_is_shrunk_to_its_fewest_steps() {
    let defects = Defects {
        serves_deleted: true,
        ..Defects::default()
    };
    let report = check_things(defects, login()).await;
    let failure = report
        .failures
        .iter()
        .find(|f| f.check == "use_after_free")
        .unwrap();
    let steps: Vec<&str> = failure
        .sequence
        .iter()
        .map(|c| c.split('\'').next().unwrap().trim())
        .collect();
    // Two steps (create, delete), each with its probe: the read that finds what was created,
    // and the read after the delete that should not.
    assert_eq!(
        steps,
        [
            "curl -X POST",
            "curl -X GET",
            "curl -X DELETE",
            "curl -X GET"
        ],
        "{:#?}",
        failure.sequence
    );
    assert!(
        failure.sequence[2].contains("/things/1'"),
        "the delete is bound to the id created: {:?}",
        failure.sequence
    );
    let terminal = contract::report::terminal(&report);
    assert!(
        terminal.contains("sequence (run in order; the last request fails):"),
        "{terminal}"
    );
    // With a reset before each sequence, the same seed gives the same sequence.
    let again = check_things(defects, login()).await;
    let twin = again
        .failures
        .iter()
        .find(|f| f.check == "use_after_free")
        .unwrap();
    assert_eq!(
        twin.sequence,
        failure
            .sequence
            .iter()
            .map(|c| c.replace(&report.target, &again.target))
            .collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_on_the_bundled_mock_with_login_and_reset() {
    let mock = mock_api::MockServer::start().unwrap();
    let mut options = contract_options(mock.url(), 5, 20);
    options.reset = Some((reqwest::Method::POST, "/__admin/reset".to_owned()));
    let auth = Auth::new(Some(
        Login::parse(
            "POST /api/auth/login",
            json!({"email": "user@example.com", "password": "user123"}),
            "/token",
        )
        .unwrap(),
    ));
    let report = run_contract_with(mock_api::spec::YAML, options, auth).await;
    assert!(
        report.failures.is_empty(),
        "{}",
        contract::report::terminal(&report)
    );
    let op = |label: &str| {
        report
            .operations
            .iter()
            .find(|o| o.operation == label)
            .unwrap()
    };
    assert!(op("GET /api/auth/me").succeeded && op("POST /api/auth/logout").succeeded);
    assert!(op("DELETE /api/users/{id}").succeeded && op("PUT /api/users/{id}").succeeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_that_fails_stops_the_run_with_a_clear_error() {
    let addr = tests::planted::serve(things::app(Defects::default())).await;
    let api = openapi::parse(things::SPEC).unwrap();
    let auth = Auth::new(Some(
        Login::parse("POST /login", json!({"password": "wrong"}), "/token").unwrap(),
    ));
    let options = contract_options(&format!("http://{addr}"), 1, 5);
    let result = contract::run(
        std::sync::Arc::new(api),
        std::sync::Arc::new(options),
        std::sync::Arc::new(auth),
        |_| {},
    )
    .await;
    let error = result.unwrap_err().to_string();
    assert!(
        error.contains("login at POST") && error.contains("401"),
        "{error}"
    );
}
