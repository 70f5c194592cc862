//! The checker over HTTPS, however it is built: a private CA with `--cacert`, `--insecure`,
//! a client certificate (mTLS), and the TLS choice made in contract's own manifest; and the
//! mock fetching its document over HTTPS.

use std::path::PathBuf;

use contract::tls::TlsOptions;
use tests::planted::{self, Defects};
use tests::{contract_options, run_contract};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/tls")
        .join(name)
}

async fn check_over_tls(client_auth: bool, tls: TlsOptions) -> contract::Report {
    let addr = planted::serve_tls(planted::app(Defects::default()), client_auth).await;
    let mut options = contract_options(&format!("https://localhost:{}", addr.port()), 5, 10);
    options.tls = tls;
    run_contract(planted::SPEC, options).await
}

fn transport_errors(report: &contract::Report) -> u64 {
    report.operations.iter().map(|o| o.transport_errors).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speaks_https_to_a_private_ca_and_refuses_an_unknown_one() {
    let trusted = TlsOptions {
        ca_file: Some(fixture("ca.pem")),
        ..TlsOptions::default()
    };
    let report = check_over_tls(false, trusted).await;
    assert_eq!(
        transport_errors(&report),
        0,
        "{}",
        contract::report::terminal(&report)
    );
    assert!(
        report.failures.is_empty(),
        "{}",
        contract::report::terminal(&report)
    );
    assert!(report.operations.iter().all(|o| o.succeeded));
    // The system's roots do not know the test CA: every case fails to connect.
    let report = check_over_tls(false, TlsOptions::default()).await;
    assert!(
        report
            .operations
            .iter()
            .all(|o| o.cases == o.transport_errors && o.cases > 0)
    );
    let insecure = TlsOptions {
        insecure: true,
        ..TlsOptions::default()
    };
    let report = check_over_tls(false, insecure).await;
    assert_eq!(
        transport_errors(&report),
        0,
        "{}",
        contract::report::terminal(&report)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presents_a_client_certificate() {
    let with_cert = TlsOptions {
        ca_file: Some(fixture("ca.pem")),
        client_cert: Some((fixture("client.pem"), fixture("client.key"))),
        ..TlsOptions::default()
    };
    let report = check_over_tls(true, with_cert).await;
    assert_eq!(
        transport_errors(&report),
        0,
        "{}",
        contract::report::terminal(&report)
    );
    let without = TlsOptions {
        ca_file: Some(fixture("ca.pem")),
        ..TlsOptions::default()
    };
    let report = check_over_tls(true, without).await;
    assert!(
        transport_errors(&report) > 0,
        "a server that wants a certificate refuses none"
    );
}

#[test]
fn bad_tls_files_are_exit_2() {
    let dir = tests::temp_dir("tls-files");
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "not a certificate").unwrap();
    let client = fixture("client.pem");
    for (args, expect) in [
        (vec!["--cacert", empty.to_str().unwrap()], "no certificate"),
        (
            vec!["--cacert", "/nonexistent/ca.pem"],
            "/nonexistent/ca.pem",
        ),
        (vec!["--cert", client.to_str().unwrap()], "--key"),
    ] {
        let output = std::process::Command::new(tests::binary("contract"))
            .arg("check")
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expect), "{args:?}: {stderr}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// `mock-api --spec https://...` fetches its document over TLS, trusting the system's roots
/// (here the test CA, through `SSL_CERT_FILE`), and refuses a server it cannot trust with
/// exit 2 and the URL named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mock_fetches_its_document_over_https() {
    let document =
        std::fs::read_to_string(tests::root().join("tests/fixtures/real/petstore3.yaml")).unwrap();
    let router = axum::Router::new().route(
        "/openapi.yaml",
        axum::routing::get(move || async move { document }),
    );
    let addr = planted::serve_tls(router, false).await;
    let url = format!("https://localhost:{}/openapi.yaml", addr.port());
    let named = url.clone();
    let spawn = move |trusted: bool| {
        let mut command = std::process::Command::new(tests::binary("mock-api"));
        command.args(["--port", "0", "--spec", &url]);
        match trusted {
            true => command.env("SSL_CERT_FILE", fixture("ca.pem")),
            false => command.env_remove("SSL_CERT_FILE"),
        };
        command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut served = spawn(true);
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(served.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let _ = served.kill();
    let _ = served.wait();
    assert!(
        line.starts_with("mock-api listening on http://127.0.0.1:"),
        "{line:?}"
    );
    assert!(
        line.trim_end().ends_with("/api/v3"),
        "the document's base: {line:?}"
    );
    let refused = tokio::task::spawn_blocking(move || spawn(false).wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&named), "{stderr}");
}

/// Built alone or with the workspace, the checker's and the mock's rustls have the provider
/// they name: the choice is in each package's own manifest, not left to what else the
/// workspace builds.
#[test]
fn contract_and_mock_alone_choose_their_tls() {
    for package in ["contract", "mock-api"] {
        tls_of_package(package);
    }
}

fn tls_of_package(package: &str) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = std::process::Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-p",
            package,
            "-e",
            "features",
            "-i",
            "rustls",
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let tree = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        tree.contains("rustls feature \"ring\""),
        "{package}: {tree}"
    );
    assert!(
        tree.contains("reqwest feature \"rustls-no-provider\""),
        "{package}: {tree}"
    );
    assert_eq!(
        contract::tls::provider().cipher_suites.len(),
        rustls::crypto::ring::default_provider().cipher_suites.len()
    );
}
