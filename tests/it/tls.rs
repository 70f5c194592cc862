//! The checker over HTTPS, however it is built: a private CA with `--cacert`, `--insecure`,
//! a client certificate (mTLS), and the TLS choice made in contract's own manifest.

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

/// Built alone or with the workspace, the checker's rustls has the provider it names: the
/// choice is in contract's own manifest, not left to what else the workspace builds.
#[test]
fn contract_alone_chooses_its_tls() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = std::process::Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-p",
            "contract",
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
    assert!(tree.contains("rustls feature \"ring\""), "{tree}");
    assert!(
        tree.contains("reqwest feature \"rustls-no-provider\""),
        "{tree}"
    );
    assert_eq!(
        contract::tls::provider().cipher_suites.len(),
        rustls::crypto::ring::default_provider().cipher_suites.len()
    );
}
