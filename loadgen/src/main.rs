//! The `loadgen` binary. `loadgen [goose options]` runs the load (goose's own options, as
//! goose users know them; no `--host` loads the bundled mock API). `loadgen merge A.json
//! B.json ...` merges the JSON reports of several runs exactly and judges thresholds on the
//! result. Exit status: 0 every threshold held, 1 a threshold failed or every request of the
//! run failed, 2 a usage, setup or connection error (or reports that cannot be merged).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use goose::config::GooseConfiguration;
use loadgen::merge::{self, Totals};
use loadgen::rules::Rule;
use loadgen::run::RunError;

/// Merge the JSON reports of several loadgen (goose) runs into one result: counts and
/// failures add, latency histograms add bucket by bucket, percentiles are computed from the
/// merged buckets. Thresholds are judged on the merged result.
#[derive(Debug, Parser)]
#[command(name = "loadgen merge")]
struct MergeArgs {
    /// The JSON reports (`--report-file NAME.json` of each run, or merged reports).
    #[arg(required = true, value_name = "REPORT")]
    reports: Vec<PathBuf>,
    /// A rule in goose's syntax, judged on the merged result (repeatable): `p95<500ms`,
    /// `error-rate<1%`, `rps>=200`, `p99<2s for GET /api/users/{id}`.
    #[arg(long = "threshold", value_name = "RULE")]
    thresholds: Vec<String>,
    /// Write the merged report (JSON; it can be merged again).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("merge") {
        return merge_main(MergeArgs::parse_from(std::env::args().skip(1)));
    }
    // goose's own parser: a bad option is a clear message and exit 2, before any load.
    let config = GooseConfiguration::parse_args_default_or_exit();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("loadgen: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(loadgen::run::run(config)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(RunError::Thresholds(failed)) => {
            eprintln!("loadgen: thresholds failed\n{failed}");
            ExitCode::from(1)
        }
        Err(error @ RunError::AllFailed(_)) => {
            eprintln!("loadgen: FAILED: {error}");
            ExitCode::from(1)
        }
        Err(error) => {
            eprintln!("loadgen: {error}");
            ExitCode::from(2)
        }
    }
}

fn merge_main(args: MergeArgs) -> ExitCode {
    match merge_reports(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("loadgen merge: {error}");
            ExitCode::from(2)
        }
    }
}

/// Merges, prints, writes; `Ok(true)` when every threshold held.
fn merge_reports(args: &MergeArgs) -> Result<bool, String> {
    let rules = args
        .thresholds
        .iter()
        .map(|t| Rule::parse(t))
        .collect::<Result<Vec<_>, _>>()?;
    let mut totals = Totals::default();
    for path in &args.reports {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| format!("reading {name}: {e}"))?;
        let report: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{name} is not JSON: {e}"))?;
        totals.add(&name, &report).map_err(|e| e.to_string())?;
    }
    let verdicts: Vec<_> = rules.iter().map(|rule| rule.judge(&totals)).collect();
    print!("{}", merge::table(&totals));
    for verdict in &verdicts {
        println!("{verdict}");
    }
    if let Some(output) = &args.output {
        let json = serde_json::to_string_pretty(&merge::to_json(
            &totals,
            serde_json::to_value(&verdicts).unwrap_or_default(),
        ))
        .map_err(|e| e.to_string())?;
        std::fs::write(output, json).map_err(|e| format!("writing {}: {e}", output.display()))?;
    }
    Ok(verdicts.iter().all(|v| v.passed))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        super::MergeArgs::command().debug_assert();
    }
}
