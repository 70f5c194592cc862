//! The loadgen half of `cargo xtask bench`: requests generated per generator CPU-second on a
//! scenario of single GETs (`--scenarios read`), beside wrk, with the server and the
//! generator pinned to separate cores; and, where `perf` works, where loadgen's CPU goes.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::harness::{Pins, Server, first_user_id};
use crate::process::root;

const CONNECTIONS: &str = "32";
/// A weights file that leaves `GET /api/users/{id}` alone in a `--spec` load of the mock.
const READS_ONLY: &str = "GET /api/users: 0\nGET /health: 0\nGET /openapi.json: 0\nGET /openapi.yaml: 0\nPOST /api/users: 0\nPOST /api/auth/register: 0\n";
const SECONDS: &str = "5";

/// Rounds per generator: the median is reported, with the spread.
const ROUNDS: usize = 3;

/// One generator's rounds: requests, and CPU seconds (user + system) of each.
struct Run {
    label: String,
    rounds: Vec<(f64, f64)>,
}

impl Run {
    /// Requests per CPU-second of each round, lowest first.
    fn rates(&self) -> Vec<f64> {
        let mut rates: Vec<f64> = self.rounds.iter().map(|(r, cpu)| r / cpu).collect();
        rates.sort_by(f64::total_cmp);
        rates
    }

    fn per_cpu_second(&self) -> f64 {
        let rates = self.rates();
        rates.get(rates.len() / 2).copied().unwrap_or(0.0)
    }

    /// The round with the median rate: its requests and CPU seconds.
    fn median_round(&self) -> (f64, f64) {
        let median = self.per_cpu_second();
        self.rounds
            .iter()
            .copied()
            .find(|(r, cpu)| r / cpu == median)
            .unwrap_or((0.0, 0.0))
    }
}

pub fn run(pins: &Pins) -> Result<String> {
    if !Path::new("/usr/bin/time").exists() {
        bail!("/usr/bin/time is missing: apt-get install time");
    }
    let release = root().join("target/release");
    let work = root().join("target/bench");
    std::fs::create_dir_all(&work)?;
    let server = Server::start(&release.join("mock-api"), &["--port", "0"], pins.server)?;
    let id = first_user_id(server.url("").trim_start_matches("http://"))?;
    let mut runs = Vec::new();

    let mut wrk = Run {
        label: "wrk (1 thread)".to_owned(),
        rounds: Vec::new(),
    };
    for _ in 0..ROUNDS {
        let (output, cpu) = timed(
            Command::new("wrk")
                .args(["-t1", &format!("-c{CONNECTIONS}"), &format!("-d{SECONDS}s")])
                .arg(server.url(&format!("/api/users/{id}"))),
            pins.load,
        )?;
        let requests = output
            .lines()
            .find_map(|l| {
                l.trim()
                    .split_once(" requests in ")
                    .map(|(n, _)| n.trim().to_owned())
            })
            .context("wrk printed no request count")?;
        wrk.rounds.push((requests.parse()?, cpu));
    }
    runs.push(wrk);

    let report = work.join("loadgen.json");
    // The document-driven load of the same reads: every other operation weighed 0.
    let weights = work.join("reads-only.yaml");
    std::fs::write(&weights, READS_ONLY)?;
    let spec = root().join("specs/mock-api.yaml");
    let read = ["--scenarios", "read"].map(str::to_owned).to_vec();
    let document = [
        "--spec",
        spec.to_str().unwrap_or_default(),
        "--weights",
        weights.to_str().unwrap_or_default(),
    ]
    .map(str::to_owned)
    .to_vec();
    let lighter = [
        "--no-transaction-metrics",
        "--no-scenario-metrics",
        "--no-status-codes",
    ]
    .map(str::to_owned)
    .to_vec();
    let variants: [(&str, Vec<String>); 3] = [
        ("loadgen (goose defaults)", read.clone()),
        ("loadgen, lighter metrics", [read, lighter].concat()),
        ("loadgen --spec, the same reads", document),
    ];
    for (label, extra) in variants {
        let mut run = Run {
            label: label.to_owned(),
            rounds: Vec::new(),
        };
        for _ in 0..ROUNDS {
            let mut command = Command::new(release.join("loadgen"));
            command
                .args(loadgen_args(&server.url(""), &report))
                .args(&extra);
            let (_, cpu) = timed(&mut command, pins.load)?;
            let report: Value = serde_json::from_str(&std::fs::read_to_string(&report)?)?;
            let requests: f64 = report
                .pointer("/raw_metrics/requests")
                .and_then(Value::as_object)
                .context("no requests in the loadgen report")?
                .values()
                .map(|r| {
                    r["success_count"].as_f64().unwrap_or(0.0)
                        + r["fail_count"].as_f64().unwrap_or(0.0)
                })
                .sum();
            run.rounds.push((requests, cpu));
        }
        runs.push(run);
    }
    for run in &runs {
        let (requests, cpu) = run.median_round();
        eprintln!(
            "{}: {requests:.0} requests on {cpu:.2} CPU-s, {:.0} per CPU-s (rounds {:?})",
            run.label,
            run.per_cpu_second(),
            run.rates()
        );
    }
    let profile = profile(&release.join("loadgen"), &server.url(""), &work, pins.load);

    let wrk = runs[0].per_cpu_second();
    let (read, spec) = (runs[1].per_cpu_second(), runs[3].per_cpu_second());
    let mut out = String::new();
    let _ = writeln!(out, "## loadgen against wrk\n");
    let _ = writeln!(
        out,
        "Single GETs of `/api/users/{{id}}` on a release `mock-api`: wrk with {CONNECTIONS} connections and `loadgen --scenarios read` with {CONNECTIONS} users, {SECONDS} s each, the generator pinned to its own core, {ROUNDS} rounds each (the median shown, with the lowest and highest). Both are counted alike: CPU is user + system time of the generator's whole process, start-up included (`/usr/bin/time`), and the requests are every request it sent (wrk's count; loadgen's JSON report with `--no-reset-metrics`, which keeps the requests sent while users started). A by-hand run that takes goose's default report, which resets its metrics once all users have started, counts fewer requests for the same CPU: that is the difference between figures measured one way and the other.\n"
    );
    let _ = writeln!(
        out,
        "| generator | requests | CPU-s | requests per CPU-s | lowest–highest | × wrk |"
    );
    let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: |");
    for run in &runs {
        let (requests, cpu) = run.median_round();
        let rates = run.rates();
        let _ = writeln!(
            out,
            "| {} | {requests:.0} | {cpu:.2} | {:.0} | {:.0}–{:.0} | {:.2} |",
            run.label,
            run.per_cpu_second(),
            rates.first().copied().unwrap_or(0.0),
            rates.last().copied().unwrap_or(0.0),
            run.per_cpu_second() / wrk
        );
    }
    let _ = writeln!(
        out,
        "\nGoal: 0.5 of wrk. `loadgen --spec` loads the same `GET /api/users/{{id}}` from the document (valid cases drawn at start, ids from the list read once), with every other operation weighed 0; its goal: at most 10% more CPU per request than the built-in `read` scenario (here {:.0}% {}).\n",
        ((read / spec - 1.0) * 100.0).abs(),
        if read > spec { "more" } else { "less" }
    );
    match profile {
        Ok(table) => {
            let _ = writeln!(
                out,
                "Where loadgen's CPU goes (`perf record -e cpu-clock` of the default run, samples grouped by the crate or library of their function):\n"
            );
            out.push_str(&table);
            let _ = writeln!(
                out,
                "\nThe kernel's share is the TCP work wrk pays too. The rest is the price of a full HTTP client per request: hyper's connection and header handling, allocations, and goose joining the host and path into a parsed URL for every request. Goose's metrics pipeline (one record per request sent over a channel and aggregated in another task) is a small share of samples; turning off its transaction, scenario and status code tables changes the rate little, as the table above shows."
            );
        }
        Err(error) => {
            let _ = writeln!(out, "No profile: {error:#}.");
        }
    }
    Ok(out)
}

fn loadgen_args(host: &str, report: &Path) -> Vec<String> {
    [
        "--host",
        host,
        "--users",
        CONNECTIONS,
        "--increase-rate",
        "1000",
    ]
    .into_iter()
    .chain([
        "--run-time",
        &format!("{SECONDS}s"),
        // Every request counts, as wrk's do: those of the users' start too.
        "--no-reset-metrics",
        "--quiet",
        "--no-telnet",
        "--report-file",
        report.to_str().unwrap_or_default(),
    ])
    .map(str::to_owned)
    .collect()
}

/// Runs a command under `/usr/bin/time` on the load core; returns its stdout and CPU seconds.
fn timed(command: &mut Command, core: Option<&str>) -> Result<(String, f64)> {
    let mut timed = Command::new("/usr/bin/time");
    timed.args(["-f", "cpu %U %S"]);
    if let Some(core) = core {
        timed.args(["taskset", "-c", core]);
    }
    timed.arg(command.get_program()).args(command.get_args());
    let output = timed.output().context("running a generator")?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("cpu "))
        .context("no CPU time")?;
    let cpu: f64 = line
        .split_whitespace()
        .skip(1)
        .filter_map(|n| n.parse::<f64>().ok())
        .sum();
    Ok((String::from_utf8_lossy(&output.stdout).into_owned(), cpu))
}

/// `perf record` of a default loadgen run, its samples grouped by crate.
fn profile(loadgen: &Path, host: &str, work: &Path, core: Option<&str>) -> Result<String> {
    let data = work.join("perf.data");
    let mut record = Command::new("perf");
    record
        .args(["record", "-e", "cpu-clock", "-F", "999", "-o"])
        .arg(&data)
        .arg("--");
    if let Some(core) = core {
        record.args(["taskset", "-c", core]);
    }
    record
        .arg(loadgen)
        .args(loadgen_args(host, &work.join("profiled.json")));
    let status = record
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("perf is not installed")?;
    if !status.success() {
        bail!("perf record failed ({status})");
    }
    let report = Command::new("perf")
        .args([
            "report",
            "--stdio",
            "--no-children",
            "--sort",
            "symbol",
            "-g",
            "none",
            "-i",
        ])
        .arg(&data)
        .output()?;
    let text = String::from_utf8_lossy(&report.stdout);
    let mut groups: Vec<(&str, f64)> = GROUPS.iter().map(|(name, _)| (*name, 0.0)).collect();
    groups.push(("other", 0.0));
    for line in text.lines() {
        let line = line.trim_start();
        let Some((percent, symbol)) = line.split_once('%') else {
            continue;
        };
        let Ok(percent) = percent.trim().parse::<f64>() else {
            continue;
        };
        let index = GROUPS
            .iter()
            .position(|(_, needles)| needles.iter().any(|n| symbol.contains(n)))
            .unwrap_or(GROUPS.len());
        groups[index].1 += percent;
    }
    groups.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut table = String::from("| where | share of samples |\n| --- | ---: |\n");
    for (name, share) in groups.iter().filter(|(_, share)| *share >= 0.05) {
        let _ = writeln!(table, "| {name} | {share:.1}% |");
    }
    Ok(table)
}

/// Sample groups, first match wins: a symbol's crate or library.
const GROUPS: [(&str, &[&str]); 10] = [
    ("kernel: TCP, syscalls, scheduling", &["[k]"]),
    (
        "allocation: malloc, free, memmove",
        &[
            "malloc",
            "_int_free",
            "cfree",
            "realloc",
            "__memmove",
            "__memcpy",
            "__memset",
            "tcache",
            "unlink_chunk",
        ],
    ),
    (
        "URLs: parsing and joining (url, percent_encoding)",
        &["url::", "percent_encoding", "idna"],
    ),
    (
        "goose metrics: records, channel, aggregation",
        &["goose::metrics", "flume", "GooseRequestMetric"],
    ),
    ("goose request path", &["goose::"]),
    ("reqwest", &["reqwest::"]),
    ("hyper, hyper-util, http", &["hyper", "http::", "httparse"]),
    ("tokio runtime", &["tokio::", "mio::"]),
    ("clock reads", &["clock_gettime", "chrono"]),
    (
        "std: hashing, strings, collections",
        &["core::", "alloc::", "std::", "hashbrown"],
    ),
];
