//! `mock-api --spec` on the real documents of `tests/fixtures/real`, checked by Schemathesis
//! and by contract: every failure either reports is a way the mock breaks the document it
//! serves (or a quirk of the tool), and the table says how many each finds.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use super::contract::{contract_found, path, schemathesis_found};
use crate::ci::SPEC_MOCKS;
use crate::harness::{Pins, Server, pinned};
use crate::process::root;

/// The one credential the mocks accept, sent by both tools.
const CREDENTIAL: &str = "bench-credential";

/// Findings read one by one and explained: (document, check, operation or `*`, why). A
/// finding not here is a defect of the mock until read.
const EXPLAINED: [(&str, &str, &str, &str); 16] = [
    (
        "fastapi-template.json",
        "status_code_conformance",
        "GET /api/v1/items/{id}",
        "FastAPI documents no 404; a missing item gets one from FastAPI and the mock alike",
    ),
    (
        "fastapi-template.json",
        "status_code_conformance",
        "PUT /api/v1/items/{id}",
        "FastAPI documents no 404; a missing item gets one from FastAPI and the mock alike",
    ),
    (
        "fastapi-template.json",
        "status_code_conformance",
        "DELETE /api/v1/items/{id}",
        "FastAPI documents no 404; a missing item gets one from FastAPI and the mock alike",
    ),
    (
        "fastapi-template.json",
        "status_code_conformance",
        "GET /api/v1/users/{user_id}",
        "FastAPI documents no 404; a missing item gets one from FastAPI and the mock alike",
    ),
    (
        "fastapi-template.json",
        "status_code_conformance",
        "PATCH /api/v1/users/{user_id}",
        "FastAPI documents no 404; a missing item gets one from FastAPI and the mock alike",
    ),
    (
        "fastapi-template.json",
        "status_code_conformance",
        "DELETE /api/v1/users/{user_id}",
        "FastAPI documents no 404; a missing item gets one from FastAPI and the mock alike",
    ),
    (
        "fastapi-template.json",
        "status_code_conformance",
        "Stateful tests",
        "FastAPI documents no 404; a missing item gets one from FastAPI and the mock alike",
    ),
    (
        "realworld-conduit.yml",
        "status_code_conformance",
        "*",
        "RealWorld documents no 404 for an unknown slug; its servers answer one, as the mock does",
    ),
    (
        "kafka-rest-v3.yaml",
        "status_code_conformance",
        "PATCH /clusters/{cluster_id}/topics/{topic_name}",
        "Kafka documents no 404 for an unknown topic; the proxy answers one, as the mock does",
    ),
    (
        "kafka-rest-v3.yaml",
        "status_code_conformance",
        "Stateful tests",
        "the same reading of a name as a path makes another topic, which does not exist: a 404 where Kafka documents none",
    ),
    (
        "kafka-rest-v3.yaml",
        "ensure_resource_availability",
        "Stateful tests",
        "Schemathesis puts a name it sent in a JSON body into a path as it is: `%C2%AE` in the name reads back as `®` in the path, which names another topic",
    ),
    (
        "petstore-expanded-2.0.yaml",
        "negative_data_rejection",
        "GET /pets",
        "Schemathesis calls `?tags=` a string; for an array parameter it is an array, as servers read it",
    ),
    (
        "petstore3.yaml",
        "negative_data_rejection",
        "POST /pet",
        "Schemathesis calls the form field `photoUrls=AAA` a string; a form's one field of an array is an array of one, as servers read it",
    ),
    (
        "petstore3.yaml",
        "negative_data_rejection",
        "PUT /pet",
        "the same form reading as `POST /pet`",
    ),
    (
        "petstore3.yaml",
        "positive_data_acceptance",
        "POST /pet",
        "Schemathesis writes an array of objects into a form as the objects' keys (`tags=id&tags=name`), which no server reads as tags",
    ),
    (
        "petstore3.yaml",
        "positive_data_acceptance",
        "PUT /pet",
        "the same form writing as `POST /pet`",
    ),
];

/// Why a finding is not a defect of the mock, if it was read and explained.
fn explained(document: &str, (check, operation): &(String, String)) -> Option<&'static str> {
    EXPLAINED
        .iter()
        .find(|(d, c, o, _)| *d == document && c == check && (*o == "*" || o == operation))
        .map(|(_, _, _, why)| *why)
}

/// Runs both tools on each document's mock; returns the section for BENCHMARKS.md.
pub fn run(pins: &Pins) -> Result<String> {
    let release = root().join("target/release");
    let (mock_api, contract) = (release.join("mock-api"), release.join("contract"));
    let work = root().join("target/bench");
    std::fs::create_dir_all(&work)?;
    let config = work.join("schemathesis-spec-mocks.toml");
    std::fs::write(&config, "[auth]\nauto-signup = false\n")?;
    let headers = [
        format!("Authorization: Bearer {CREDENTIAL}"),
        format!("api_key: {CREDENTIAL}"),
    ];
    let mut out = String::new();
    let _ = writeln!(out, "## mock-api --spec on real documents\n");
    let _ = writeln!(
        out,
        "Each document of `tests/fixtures/real` that CI serves, by a release `mock-api --spec DOC --seed 1 --credential {CREDENTIAL}`, checked by Schemathesis (`--checks all --exclude-checks ignored_auth`, every phase, stateful included, `--max-examples 50`) and by contract (CI's options: `--seed 1 --max-examples 100`, each lane of sequences in a namespace of its own, reset before each sequence). A failure is a distinct (check, operation); Schemathesis's are named by the matching contract check. The status check is left out of CI for the documents whose operations document no 404 where a real server answers one (the mock warns at start), and counted here.\n"
    );
    let _ = writeln!(
        out,
        "| document | Schemathesis | contract | not explained |\n| --- | --- | --- | ---: |"
    );
    let mut reasons: Vec<String> = Vec::new();
    let mut unexplained_total = 0;
    for (document, _) in SPEC_MOCKS {
        let spec = root().join(document);
        let name = Path::new(document)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(document);
        let args = [
            "--port",
            "0",
            "--seed",
            "1",
            "--spec",
            path(&spec),
            "--credential",
            CREDENTIAL,
        ];
        let mock = Server::start(&mock_api, &args, pins.server)?;
        let report = work.join(format!("spec-mock-{name}-contract.json"));
        let reset = format!("POST {}", mock.url("/__admin/reset"));
        let mut command = pinned(&contract, pins.load);
        command
            .args(["check", "--spec", path(&spec), "--target", &mock.base_url()])
            .args(["--seed", "1", "--max-examples", "100", "--reset", &reset])
            .args(["--namespace-header", "X-Mock-Namespace"])
            .args(["--report-json", path(&report)])
            .stdout(std::process::Stdio::null());
        for header in &headers {
            command.args(["--header", header]);
        }
        command.status()?;
        let ours = contract_found(&report)?;
        drop(mock);
        let mock = Server::start(&mock_api, &args, pins.server)?;
        let st_report = work.join(format!("spec-mock-{name}-schemathesis.json"));
        let mut command = pinned(Path::new("schemathesis"), pins.load);
        command
            .args(["--config-file", path(&config), "run", path(&spec)])
            .args([
                "--url",
                &mock.base_url(),
                "--seed",
                "1",
                "--max-examples",
                "50",
            ])
            .args(["--checks", "all", "--exclude-checks", "ignored_auth"])
            .args(["--continue-on-failure", "--report", "json"])
            .args(["--report-json-path", path(&st_report)]);
        for header in &headers {
            command.args(["-H", header]);
        }
        command.output()?;
        let theirs = schemathesis_found(&st_report)?;
        eprintln!(
            "{name}: Schemathesis {} failures, contract {}",
            theirs.len(),
            ours.len()
        );
        let list = |found: &std::collections::BTreeSet<(String, String)>| {
            let mut text = found.len().to_string();
            if !found.is_empty() {
                let names: Vec<String> = found
                    .iter()
                    .map(|(check, operation)| format!("`{check}` on `{operation}`"))
                    .collect();
                let _ = write!(text, " ({})", names.join(", "));
            }
            text
        };
        let unexplained = ours
            .union(&theirs)
            .filter(|finding| explained(name, finding).is_none())
            .count();
        unexplained_total += unexplained;
        for finding in ours.union(&theirs) {
            if let Some(why) = explained(name, finding) {
                let line = format!("- `{name}`, `{}` on `{}`: {why}.", finding.0, finding.1);
                if !reasons.contains(&line) {
                    reasons.push(line);
                }
            }
        }
        let _ = writeln!(
            out,
            "| `{name}` | {} | {} | {unexplained} |",
            list(&theirs),
            list(&ours)
        );
    }
    let _ = writeln!(
        out,
        "\nEach finding was read one by one; those that the document or the tool make, not the mock:\n"
    );
    for line in reasons {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "\n{unexplained_total} findings not explained. Target: none, on any document: nothing either tool finds that the document lets the mock avoid."
    );
    Ok(out)
}
