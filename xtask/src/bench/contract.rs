//! The contract half of `cargo xtask bench`: contract beside Schemathesis on the bundled mock
//! (cases per second, same seed and examples per operation) and on the planted-defects API
//! (what each finds).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::harness::{Pins, Server, pinned};
use crate::process::root;

const SEED: &str = "1";
const EXAMPLES: &str = "100";

/// One tool's run: requests sent and wall time.
struct Run {
    cases: u64,
    seconds: f64,
}

impl Run {
    fn rate(&self) -> f64 {
        self.cases as f64 / self.seconds
    }
}

/// Measures and compares; returns the section for BENCHMARKS.md.
pub fn run(pins: &Pins) -> Result<String> {
    if Command::new("schemathesis")
        .arg("--version")
        .output()
        .is_err()
    {
        bail!("schemathesis is not installed: pip install schemathesis");
    }
    let release = root().join("target/release");
    let (mock, contract, planted) = (
        release.join("mock-api"),
        release.join("contract"),
        release.join("examples/planted"),
    );
    let work = root().join("target/bench");
    std::fs::create_dir_all(&work)?;
    let spec = root().join("specs/mock-api.yaml");
    // Schemathesis 4 tries to sign up through the register operation on its own and fails
    // on a request body given by `$ref`; the check is about conformance, so it is turned off.
    let config = work.join("schemathesis.toml");
    std::fs::write(&config, "[auth]\nauto-signup = false\n")?;

    let tools = Tools {
        pins,
        mock: &mock,
        contract: &contract,
        config: &config,
        spec: &spec,
        work: &work,
    };
    let loopback = tools.speed(None)?;
    let latency = tools.speed(Some(LATENCY_MS))?;

    // What each tool says of the correct servers first: what Schemathesis also says of a
    // defective server's correct twin is its own mistake there, not a defect missed.
    let (false_positive_section, wrongly_found) = false_positives(pins, &tools, &planted)?;

    // The planted defects: what each tool finds on each defective server.
    let mut ours = BTreeSet::new();
    let mut theirs = BTreeSet::new();
    for (fixture, _) in DEFECTIVE {
        let planted_spec = work.join(format!("{fixture}.yaml"));
        let server = Server::start(&planted, &[path(&planted_spec), fixture], pins.server)?;
        let target = server.url("");
        let contract_report = work.join(format!("{fixture}-contract.json"));
        let status = pinned(&contract, pins.load)
            .args(contract_args(&planted_spec, &target, &contract_report))
            .stdout(std::process::Stdio::null())
            .status()?;
        if status.code() != Some(1) {
            bail!("contract should find the defects of {fixture} (exit 1), exited {status}");
        }
        let found = contract_found(&contract_report)?;
        let st_report = work.join(format!("{fixture}-schemathesis.json"));
        pinned(Path::new("schemathesis"), pins.load)
            .args(schemathesis_args(
                &config,
                &planted_spec,
                &target,
                &st_report,
            ))
            .output()?;
        let found_by_them = schemathesis_found(&st_report)?;
        eprintln!(
            "{fixture}: contract found {}, Schemathesis {}",
            found.len(),
            found_by_them.len()
        );
        let named = |set: BTreeSet<(String, String)>| {
            set.into_iter()
                .map(|(check, operation)| (fixture.to_owned(), check, operation))
        };
        ours.extend(named(found));
        theirs.extend(named(found_by_them));
    }
    let mistaken = |(fixture, check, operation): &(String, String, String)| {
        wrongly_found
            .get(&format!("{fixture}-correct"))
            .is_some_and(|set| set.contains(&(check.clone(), operation.clone())))
    };
    let missed: Vec<_> = theirs
        .difference(&ours)
        .filter(|found| !mistaken(found))
        .collect();

    let mut out = String::new();
    let _ = writeln!(out, "## contract against Schemathesis\n");
    let version = Command::new("schemathesis")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "Both check `specs/mock-api.yaml` against a fresh release `mock-api` with `--seed {SEED}` and `--max-examples {EXAMPLES}`; {version} runs `--phases examples,coverage,fuzzing --continue-on-failure` with an explicit `--config-file` (auto sign-up off). A case is one request sent (contract's count includes its probes of undocumented methods). Wall time from process start to exit, the tool pinned apart from the server.\n"
    );
    speed_table(&mut out, &loopback);
    let _ = writeln!(
        out,
        "\nThe same with every answer {LATENCY_MS} ms late (`-H 'Prefer: delay={LATENCY_MS}'` to both tools: the mock's own delay on every request), a stand-in for a network; contract's cases of one operation are in flight together (`--concurrency`, default 16).\n"
    );
    speed_table(&mut out, &latency);
    let _ = writeln!(
        out,
        "\nTarget: at least 30 times Schemathesis's cases per second, on loopback and with latency; with `--reset` (a reset of the mock before each batch of stateful sequences, run at once), at least 15 times with latency. In namespaces (`--namespace-header X-Mock-Namespace`), each lane of sequences resets only its own namespace, before each of its sequences.\n"
    );
    let _ = writeln!(out, "### Planted defects\n");
    let _ = writeln!(
        out,
        "Servers of `tests/src` with defects planted, both tools on each. Schemathesis's failures are named by the matching contract check.\n"
    );
    for (fixture, what) in DEFECTIVE {
        let _ = writeln!(out, "- `{fixture}`: {what}");
    }
    let _ = writeln!(
        out,
        "\n| server | check | operation | contract | Schemathesis |"
    );
    let _ = writeln!(out, "| --- | --- | --- | :---: | :---: |");
    for found in ours.union(&theirs) {
        let mark = |set: &BTreeSet<(String, String, String)>| match set.contains(found) {
            true => "found",
            false => "—",
        };
        // What Schemathesis also says of the correct twin is its mistake, not a find.
        let theirs_mark = match (theirs.contains(found), mistaken(found)) {
            (true, true) => "found (also on the correct server: a false positive)",
            _ => mark(&theirs),
        };
        let (fixture, check, operation) = found;
        let _ = writeln!(
            out,
            "| `{fixture}` | `{check}` | `{operation}` | {} | {theirs_mark} |",
            mark(&ours),
        );
    }
    let verdict = match missed.is_empty() {
        true => "contract finds everything Schemathesis finds that is not also found on the correct server.".to_owned(),
        false => format!(
            "contract misses {} of Schemathesis's findings: {}.",
            missed.len(),
            missed
                .iter()
                .map(|(fixture, check, operation)| format!("`{check}` on `{operation}` of `{fixture}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let _ = writeln!(out, "\n{verdict}");
    out.push_str(&false_positive_section);
    Ok(out)
}

/// Distinct failures as (check, operation).
type Findings = BTreeSet<(String, String)>;

/// The servers of `tests/src` with defects planted, and what they are.
const DEFECTIVE: [(&str, &str); 4] = [
    (
        "planted",
        "every defect of `tests/src/planted.rs` but the slow one (a 500 that needs two conditions at once, an undocumented 418, a body that breaks its schema, a wrong content type, a leaked password, bad input accepted)",
    ),
    (
        "httpbin",
        "httpbin's own: a control character in query text reflected into `Set-Cookie` or another header is a 500, and so is `TRACE`",
    ),
    (
        "heroes",
        "FastAPI with SQLModel's: `name: null` on a `NOT NULL` column and a `readOnly` date-time sent as `\"\"` are 500s on a hero that exists; lax types (a boolean for an integer, a number for a string); an undocumented 400 for a body that is not UTF-8",
    ),
    (
        "xmlpets",
        "a Petstore taking JSON and XML: XML bodies refused with 415 (as Prism refuses the Petstore's), and XML answered under `<Pet>` where the schema names `<pet>`",
    ),
];

/// The correct servers of `tests/src` both tools are run against, with the path their
/// document's paths are under and the headers they need.
const CORRECT: [(&str, &str, &[&str]); 7] = [
    ("planted-correct", "", &[]),
    ("fastapi-correct", "", &[]),
    ("swagger2-correct", "/v2", &["-H", "api_key: secret-key"]),
    ("things-correct", "", &[]),
    ("httpbin-correct", "", &[]),
    ("heroes-correct", "", &[]),
    ("xmlpets-correct", "", &[]),
];

/// Every failure a tool reports on a correct server is its own mistake: counted for both.
fn false_positives(
    pins: &Pins,
    tools: &Tools<'_>,
    planted: &Path,
) -> Result<(String, BTreeMap<String, Findings>)> {
    let mut out = String::new();
    let mut by_fixture = BTreeMap::new();
    let _ = writeln!(out, "\n### False positives on correct servers\n");
    let _ = writeln!(
        out,
        "Correct servers of `tests/src` that answer as the frameworks named do (trailing slashes, `anyOf` with null, 422 errors, recursive schemas, Swagger 2.0 form bodies under a `basePath`, links inferred from structure). Every distinct failure (check, operation) a tool reports on them is a false positive.\n"
    );
    let _ = writeln!(out, "| server | contract | Schemathesis |");
    let _ = writeln!(out, "| --- | ---: | ---: |");
    let mut total = (0, 0);
    for (fixture, base, headers) in CORRECT {
        let spec = tools.work.join(format!("{fixture}.yaml"));
        let server = Server::start(planted, &[path(&spec), fixture], pins.server)?;
        let target = server.url(base);
        let report = tools.work.join(format!("{fixture}-contract.json"));
        pinned(tools.contract, pins.load)
            .args(contract_args(&spec, &target, &report))
            .args(headers)
            .stdout(std::process::Stdio::null())
            .status()?;
        let ours = contract_found(&report)?;
        let st_report = tools.work.join(format!("{fixture}-schemathesis.json"));
        pinned(Path::new("schemathesis"), pins.load)
            .args(schemathesis_args(tools.config, &spec, &target, &st_report))
            .args(headers)
            .output()?;
        let theirs = schemathesis_found(&st_report)?;
        eprintln!(
            "{fixture}: contract {} false positives, Schemathesis {}",
            ours.len(),
            theirs.len()
        );
        let list = |found: &BTreeSet<(String, String)>| match found.is_empty() {
            true => "0".to_owned(),
            false => format!(
                "{} ({})",
                found.len(),
                found
                    .iter()
                    .map(|(check, operation)| format!("`{check}` on `{operation}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let _ = writeln!(out, "| `{fixture}` | {} | {} |", list(&ours), list(&theirs));
        total = (total.0 + ours.len(), total.1 + theirs.len());
        by_fixture.insert(fixture.to_owned(), theirs);
    }
    let _ = writeln!(
        out,
        "| all | {} | {} |\n\nTarget: none for contract.",
        total.0, total.1
    );
    Ok((out, by_fixture))
}

/// The (check, operation) pairs of a contract JSON report.
pub(crate) fn contract_found(report: &Path) -> Result<BTreeSet<(String, String)>> {
    let report: Value = serde_json::from_str(&std::fs::read_to_string(report)?)?;
    let failures = report["failures"]
        .as_array()
        .context("no failures in the report")?;
    Ok(failures
        .iter()
        .map(|f| {
            (
                f["check"].as_str().unwrap_or("").to_owned(),
                f["operation"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect())
}

/// The (check, operation) pairs of a Schemathesis JSON report, checks named as contract's.
pub(crate) fn schemathesis_found(report: &Path) -> Result<BTreeSet<(String, String)>> {
    let report: Value = serde_json::from_str(&std::fs::read_to_string(report)?)?;
    let mut found = BTreeSet::new();
    for failure in report["failures"]
        .as_array()
        .context("no failures in the Schemathesis report")?
    {
        let check = check_name(failure["type"].as_str().unwrap_or("?"));
        for operation in failure["operations"].as_array().into_iter().flatten() {
            found.insert((check.clone(), operation.as_str().unwrap_or("").to_owned()));
        }
    }
    Ok(found)
}

/// The latency added to every answer in the second measurement.
const LATENCY_MS: u32 = 20;

/// Every answer `latency` ms late: the mock's `Prefer: delay` on every request, which the
/// document's own reset operation cannot take away (as it would chaos).
fn late(latency: Option<u32>) -> Vec<String> {
    latency
        .map(|ms| vec!["-H".to_owned(), format!("Prefer: delay={ms}")])
        .unwrap_or_default()
}

/// Speed runs: contract with 1 and 4 workers, with `--reset` alone and in namespaces, then
/// Schemathesis, each on a fresh mock.
type Speed = (Vec<(&'static str, Run)>, Run);

/// What the speed runs need.
struct Tools<'a> {
    pins: &'a Pins,
    mock: &'a Path,
    contract: &'a Path,
    config: &'a Path,
    spec: &'a Path,
    work: &'a Path,
}

impl Tools<'_> {
    fn speed(&self, latency: Option<u32>) -> Result<Speed> {
        let mut runs = Vec::new();
        let reset = ["--reset", "POST /__admin/reset"];
        let namespaces = ["--namespace-header", "X-Mock-Namespace"];
        let runs_of: [(&str, &[&str]); 4] = [
            ("contract, 1 worker", &["--workers", "1"]),
            ("contract, 4 workers (default)", &[]),
            ("contract, `--reset`", &reset),
            (
                "contract, `--reset` in namespaces",
                &[reset[0], reset[1], namespaces[0], namespaces[1]],
            ),
        ];
        for (label, extra) in runs_of {
            let server = Server::start(self.mock, &["--port", "0"], self.pins.server)?;
            let report = self.work.join("contract.json");
            let mut args = contract_args(self.spec, &server.url(""), &report);
            args.extend(extra.iter().map(|a| a.to_string()));
            args.extend(late(latency));
            let run = timed(pinned(self.contract, self.pins.load).args(&args), |_| {
                let report: Value = serde_json::from_str(&std::fs::read_to_string(&report)?)?;
                report["cases"]
                    .as_u64()
                    .context("no cases in the contract report")
            })?;
            eprintln!(
                "{label}, latency {latency:?}: {} cases in {:.2} s",
                run.cases, run.seconds
            );
            runs.push((label, run));
        }
        let server = Server::start(self.mock, &["--port", "0"], self.pins.server)?;
        let report = self.work.join("schemathesis.json");
        let schemathesis = timed(
            pinned(Path::new("schemathesis"), self.pins.load)
                .args(schemathesis_args(
                    self.config,
                    self.spec,
                    &server.url(""),
                    &report,
                ))
                .args(late(latency)),
            |_| {
                let report: Value = serde_json::from_str(&std::fs::read_to_string(&report)?)?;
                report["test_cases"]["generated"]
                    .as_u64()
                    .context("no test_cases.generated in the Schemathesis report")
            },
        )?;
        eprintln!(
            "schemathesis, latency {latency:?}: {} cases in {:.2} s",
            schemathesis.cases, schemathesis.seconds
        );
        Ok((runs, schemathesis))
    }
}

/// One speed table of BENCHMARKS.md.
fn speed_table(out: &mut String, (runs, schemathesis): &Speed) {
    let _ = writeln!(out, "| tool | cases | seconds | cases/s | × Schemathesis |");
    let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: |");
    for (label, run) in runs {
        let _ = writeln!(
            out,
            "| {label} | {} | {:.2} | {:.0} | {:.1} |",
            run.cases,
            run.seconds,
            run.rate(),
            run.rate() / schemathesis.rate()
        );
    }
    let _ = writeln!(
        out,
        "| Schemathesis | {} | {:.2} | {:.0} | 1.0 |",
        schemathesis.cases,
        schemathesis.seconds,
        schemathesis.rate()
    );
}

/// `contract check` of `spec` against `target` with the bench's seed and examples, writing
/// its JSON report to `report`.
fn contract_args(spec: &Path, target: &str, report: &Path) -> Vec<String> {
    [
        "check",
        "--spec",
        path(spec),
        "--target",
        target,
        "--seed",
        SEED,
        "--max-examples",
        EXAMPLES,
    ]
    .into_iter()
    .chain(["--report-json", path(report)])
    .map(str::to_owned)
    .collect()
}

fn schemathesis_args(config: &Path, spec: &Path, url: &str, report: &Path) -> Vec<String> {
    [
        "--config-file",
        path(config),
        "run",
        path(spec),
        "--url",
        url,
        "--seed",
        SEED,
        "--max-examples",
        EXAMPLES,
        "--phases",
        "examples,coverage,fuzzing",
        "--continue-on-failure",
        "--report",
        "json",
        "--report-json-path",
        path(report),
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Schemathesis's failure types, by the contract check that looks for the same thing.
fn check_name(kind: &str) -> String {
    match kind {
        "ServerError" => "not_a_server_error",
        "UndefinedStatusCode" => "status_code_conformance",
        "UndefinedContentType" | "MalformedMediaType" | "MissingContentType" => {
            "content_type_conformance"
        }
        "JsonSchemaError" | "MalformedJson" => "response_schema_conformance",
        "MissingHeaders" | "MalformedHeaders" => "response_headers_conformance",
        "AcceptedNegativeData" => "negative_data_rejection",
        "RejectedPositiveData" => "positive_data_acceptance",
        "MissingHeaderNotRejected" => "missing_required_header",
        "UnsupportedMethodResponse" => "unsupported_method",
        "ResponseTimeExceeded" => "max_response_time",
        "EnsureResourceAvailability" => "ensure_resource_availability",
        "UseAfterFree" => "use_after_free",
        other => other,
    }
    .to_owned()
}

pub(crate) fn path(path: &Path) -> &str {
    path.to_str().unwrap_or_default()
}

/// Runs a command to its end (any exit status) and reads the case count it reports.
fn timed(
    command: &mut Command,
    cases: impl FnOnce(&std::process::Output) -> Result<u64>,
) -> Result<Run> {
    let started = Instant::now();
    let output = command.output().context("running a checker")?;
    let seconds = started.elapsed().as_secs_f64();
    let cases =
        cases(&output).with_context(|| String::from_utf8_lossy(&output.stderr).into_owned())?;
    Ok(Run { cases, seconds })
}
