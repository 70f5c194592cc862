//! `cargo xtask load`: N local load generators against one release mock API, each with 1/N
//! of the users and its index in `JOB_COMPLETION_INDEX` (as a Kubernetes Indexed Job gives
//! it), then `loadgen merge` of their reports with the thresholds judged on the whole.

use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::harness::Server;
use crate::process::{cargo, exec, root};

const USAGE: &str =
    "usage: cargo xtask load [--shards N] [--users N] [--run-time 10s] [--threshold RULE]...";

pub fn run(args: &[String]) -> Result<()> {
    let mut shards = 2usize;
    let mut users = 20usize;
    let mut run_time = "10s".to_owned();
    let mut thresholds: Vec<String> = Vec::new();
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .with_context(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--shards" => shards = value()?.parse().context("--shards takes a number")?,
            "--users" => users = value()?.parse().context("--users takes a number")?,
            "--run-time" => run_time = value()?.clone(),
            "--threshold" => thresholds.push(value()?.clone()),
            _ => bail!("unknown option {flag}\n{USAGE}"),
        }
    }
    if shards == 0 || users < shards {
        bail!("--users ({users}) must be at least --shards ({shards}), and --shards at least 1");
    }
    if thresholds.is_empty() {
        thresholds = vec!["p95<50ms".to_owned(), "error-rate<=0%".to_owned()];
    }
    exec(cargo().args([
        "build",
        "--release",
        "--locked",
        "-p",
        "loadgen",
        "-p",
        "mock-api",
    ]))?;
    let release = root().join("target/release");
    let out = root().join("target/load");
    std::fs::create_dir_all(&out)?;
    let server = Server::start(&release.join("mock-api"), &["--port", "0"], None)?;
    let host = server.url("");
    eprintln!("{shards} generators, {users} users in all, {run_time}, against {host}");
    let per_shard = users.div_ceil(shards).to_string();
    let report = out.join("shard-{index}.json");
    let children: Vec<Child> = (0..shards)
        .map(|index| {
            Command::new(release.join("loadgen"))
                .args([
                    "--host",
                    &host,
                    "--users",
                    &per_shard,
                    "--increase-rate",
                    &per_shard,
                    "--run-time",
                    &run_time,
                ])
                .args([
                    "--quiet",
                    "--no-telnet",
                    "--report-file",
                    report.to_str().unwrap_or_default(),
                ])
                .env("JOB_COMPLETION_INDEX", index.to_string())
                .stdout(Stdio::null())
                .spawn()
                .context("starting a generator")
        })
        .collect::<Result<_>>()?;
    for (index, mut child) in children.into_iter().enumerate() {
        let status = child.wait()?;
        if !status.success() {
            bail!("generator {index} failed ({status})");
        }
    }
    let mut merge = Command::new(release.join("loadgen"));
    merge.arg("merge");
    merge.args((0..shards).map(|i| out.join(format!("shard-{i}.json"))));
    merge.arg("--output").arg(out.join("merged.json"));
    for rule in &thresholds {
        merge.args(["--threshold", rule]);
    }
    exec(&mut merge)
}
