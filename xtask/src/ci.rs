//! `cargo xtask ci`: exactly what CI runs, so anyone can reproduce a CI failure locally.

use std::process::Command;

use anyhow::Result;

use crate::harness::Server;
use crate::process::{cargo, exec, root};

/// The admin token CI's mock runs with, so the checker also proves the admin API refuses
/// requests without it.
const ADMIN_TOKEN: &str = "ci-admin-token";

/// The reset of the bundled mock, relative to its root.
const BUNDLED_RESET: &str = "POST /__admin/reset";

/// The one credential CI's spec-driven mocks accept, so `ignored_auth` proves they refuse
/// forged ones.
const CREDENTIAL: &str = "ci-credential";

/// Real-world documents served by `mock-api --spec` in CI, with the checker's extra options.
pub const SPEC_MOCKS: [(&str, &[&str]); 7] = [
    ("tests/fixtures/real/petstore3.yaml", &[]),
    // FastAPI documents no 404; the mock, like FastAPI, answers 404 for an item that does
    // not exist, which the status check calls undocumented.
    (
        "tests/fixtures/real/fastapi-template.json",
        &["--exclude-checks", "status_code_conformance"],
    ),
    ("tests/fixtures/real/petstore-expanded-2.0.yaml", &[]),
    ("tests/fixtures/real/petclinic-rest.yml", &[]),
    ("tests/fixtures/real/springfox-market.json", &[]),
    // RealWorld's `GET /articles/{slug}` and Kafka's `PATCH .../topics/{topic_name}` document
    // no 404, yet an unknown slug or topic gets one from the real servers and the mock alike
    // (it warns so at start): the status check calls it undocumented.
    (
        "tests/fixtures/real/realworld-conduit.yml",
        &["--exclude-checks", "status_code_conformance"],
    ),
    (
        "tests/fixtures/real/kafka-rest-v3.yaml",
        &["--exclude-checks", "status_code_conformance"],
    ),
];

pub fn run() -> Result<()> {
    exec(cargo().args(["fmt", "--all", "--check"]))?;
    exec(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The binary tests start `target/debug/mock-api`; building it first keeps them from
    // building it themselves while cargo test holds the build directory.
    exec(cargo().args(["build", "--workspace", "--bins", "--locked"]))?;
    // CI never writes snapshots: a changed shape fails until a human reviews and accepts it.
    exec(
        cargo()
            .args(["test", "--workspace", "--locked"])
            .env("INSTA_UPDATE", "no"),
    )?;
    // The mock honours its own contract: the checker on its default target and spec, with a
    // login so that the protected operations are exercised too.
    contract_check(
        BUNDLED_RESET,
        &[
            "--auth-login",
            "POST /api/auth/login",
            "--auth-body",
            r#"{"email": "user@example.com", "password": "user123"}"#,
        ],
    )?;
    // The admin API honours its contract too, with its token wanted (so `ignored_auth` runs).
    let mock_api = root().join("target/debug/mock-api");
    let mock = Server::start(
        &mock_api,
        &["--port", "0", "--admin-token", ADMIN_TOKEN],
        None,
    )?;
    contract_check(
        BUNDLED_RESET,
        &[
            "--spec",
            "specs/mock-admin.yaml",
            "--target",
            &mock.url(""),
            "--header",
            &format!("Authorization: Bearer {ADMIN_TOKEN}"),
        ],
    )?;
    drop(mock);
    // `mock-api --spec` honours any document it serves: the checker, stateful sequences
    // included, against real-world documents (3.0, 3.1, 2.0; FastAPI, Spring, springfox,
    // RealWorld, Kafka), each under its own base path.
    for (document, extra) in SPEC_MOCKS {
        let mock = Server::start(
            &mock_api,
            &[
                "--port",
                "0",
                "--seed",
                "1",
                "--spec",
                document,
                "--credential",
                CREDENTIAL,
            ],
            None,
        )?;
        // The document's paths are under the printed base; the admin API is at the root.
        let base = mock.base_url();
        let reset = format!("POST {}", mock.url("/__admin/reset"));
        let (bearer, api_key) = (
            format!("Authorization: Bearer {CREDENTIAL}"),
            format!("api_key: {CREDENTIAL}"),
        );
        // Each lane of sequences in a namespace of its own, reset alone: at once, not in turn.
        let mut args = vec![
            "--spec",
            document,
            "--target",
            &base,
            "--header",
            &bearer,
            "--header",
            &api_key,
            "--namespace-header",
            "X-Mock-Namespace",
        ];
        args.extend_from_slice(extra);
        contract_check(&reset, &args)?;
    }
    // The client examples, as users of those languages run them: each starts the binary.
    exec(
        Command::new("python3")
            .args(["-m", "pytest", "-q", "examples/python"])
            .current_dir(root())
            .env("MOCK_API_BIN", &mock_api),
    )?;
    exec(
        Command::new("node")
            .args(["--test", "examples/node/mock-api.test.mjs"])
            .current_dir(root())
            .env("MOCK_API_BIN", &mock_api),
    )?;
    // A short smoke load on the bundled mock: fails if it gets slow or any request fails.
    exec(cargo().args([
        "run",
        "--quiet",
        "--locked",
        "-p",
        "loadgen",
        "--",
        "--users",
        "11",
        "--increase-rate",
        "100",
        "--run-time",
        "5s",
        "--quiet",
        "--no-telnet",
        "--threshold",
        "p95<100ms",
        "--threshold",
        "error-rate<=0%",
    ]))?;
    Ok(())
}

/// `contract check` with CI's fixed seed (a failure reproduces anywhere), 100 examples per
/// operation and the mock's `reset` before each sequence, plus `args`.
fn contract_check(reset: &str, args: &[&str]) -> Result<()> {
    exec(
        cargo()
            .args([
                "run", "--quiet", "--locked", "-p", "contract", "--", "check",
            ])
            .args(["--seed", "1", "--max-examples", "100"])
            .args(["--reset", reset])
            .args(args),
    )
}
