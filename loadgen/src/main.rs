//! The `loadgen` binary. `loadgen [goose options]` runs the load (goose's own options, as
//! goose users know them; no `--host` loads the bundled mock API), made of the demo's
//! scenarios, of an OpenAPI document's operations (`--spec`), or of a scenario file
//! (`--scenario-file`). `loadgen merge A.json
//! B.json ...` merges the JSON reports of several runs exactly and judges thresholds on the
//! result. Exit status: 0 every threshold held, 1 a threshold failed or every request of the
//! run failed, 2 a usage, setup or connection error (or reports that cannot be merged).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use goose::config::GooseConfiguration;
use loadgen::credentials::Credentials;
use loadgen::login;
use loadgen::merge::{self, Totals};
use loadgen::rate::Pacer;
use loadgen::rules::Rule;
use loadgen::run::{RunError, Source};

/// Load on goose: the demo's scenarios by default, an OpenAPI document's operations
/// (`--spec`), or the scenarios of a file (`--scenario-file`). Goose's own options follow.
#[derive(Debug, Parser)]
#[command(name = "loadgen", disable_version_flag = true)]
struct RunArgs {
    /// Load from this OpenAPI document (2.0, 3.0 or 3.1; a file or an http(s) URL): one
    /// transaction per operation, valid requests, ids from what lists hold.
    #[arg(
        long,
        value_name = "FILE|URL",
        help_heading = "What to load",
        conflicts_with = "scenario_file"
    )]
    spec: Option<String>,
    /// Weights of the document's operations, a YAML map: `GET /pets/{petId}: 10`,
    /// `tag:admin: 0` (0 leaves it out; it also brings in writes left out by default).
    #[arg(
        long,
        value_name = "FILE",
        help_heading = "What to load",
        requires = "spec"
    )]
    weights: Option<PathBuf>,
    /// Load from the scenarios of this YAML file (steps, captures, expected statuses, think
    /// times; see docs/loadgen.md).
    #[arg(long, value_name = "FILE", help_heading = "What to load")]
    scenario_file: Option<PathBuf>,
    /// Each user logs in first with this operation, e.g. 'POST /api/auth/login' (with --spec).
    #[arg(
        long,
        value_name = "'METHOD /path'",
        help_heading = "What to load",
        requires = "spec"
    )]
    auth_login: Option<String>,
    /// The JSON body of the login.
    #[arg(
        long,
        value_name = "JSON",
        help_heading = "What to load",
        requires = "auth_login"
    )]
    auth_body: Option<String>,
    /// Where the token is in the login's answer [default: /token].
    #[arg(
        long,
        value_name = "POINTER",
        help_heading = "What to load",
        requires = "auth_login"
    )]
    auth_token: Option<String>,
    /// How the token is sent [default: 'Authorization: Bearer {token}'].
    #[arg(
        long,
        value_name = "'NAME: ...{token}'",
        help_heading = "What to load",
        requires = "auth_login"
    )]
    auth_header: Option<String>,
    /// A header sent with every request of a --spec or --scenario-file load, 'Name: value'
    /// (repeatable); `${NAME}` in the value is read from the environment, so a token need not
    /// sit in the command line: --header 'Authorization: Bearer ${API_TOKEN}'.
    #[arg(
        long = "header",
        value_name = "'NAME: VALUE'",
        help_heading = "Credentials"
    )]
    headers: Vec<String>,
    /// A query parameter sent with every request, 'name=value' (repeatable; `${NAME}` as for
    /// --header): an API key in the query.
    #[arg(
        long = "query",
        value_name = "NAME=VALUE",
        help_heading = "Credentials"
    )]
    query: Vec<String>,
    /// Print the plan of a --spec load (each operation's weight, or why it is left out) and
    /// exit without sending anything.
    #[arg(long, help_heading = "What to load", requires = "spec")]
    dry_run: bool,
    /// An open-model load: start this many transactions per second (`50/s`, `3000/m`)
    /// whatever the answers' latency, with --users (default: one per start per second) to
    /// keep it; starts no user was free for are counted as late. With --spec or
    /// --scenario-file.
    #[arg(long, value_name = "N/s", help_heading = "What to load")]
    rate: Option<String>,
    /// HTTP basic credentials for every request, USER:PASSWORD (`${NAME}` as for --header).
    #[arg(long, value_name = "USER:PASSWORD", help_heading = "Credentials")]
    auth_basic: Option<String>,
    #[command(flatten)]
    goose: GooseConfiguration,
}

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
    // A bad option is a clear message and exit 2, before any load.
    let args = RunArgs::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("loadgen: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    let source = match source(&args) {
        Ok(source) => source,
        Err(error) => {
            eprintln!("loadgen: {error}");
            return ExitCode::from(2);
        }
    };
    let pacer = match args.rate.as_deref().map(Pacer::parse).transpose() {
        Ok(pacer) => pacer.map(std::sync::Arc::new),
        Err(error) => {
            eprintln!("loadgen: {error}");
            return ExitCode::from(2);
        }
    };
    if pacer.is_some() && args.spec.is_none() && args.scenario_file.is_none() {
        eprintln!("loadgen: --rate is for --spec and --scenario-file loads");
        return ExitCode::from(2);
    }
    if args.dry_run {
        return match runtime.block_on(loadgen::run::dry_run(source)) {
            Ok(plan) => {
                print!("{plan}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("loadgen: {error}");
                ExitCode::from(2)
            }
        };
    }
    match runtime.block_on(loadgen::run::run(args.goose, source, pacer)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(RunError::Thresholds(failed)) => {
            eprintln!("loadgen: thresholds failed\n{failed}");
            ExitCode::from(1)
        }
        Err(error @ (RunError::AllFailed(_) | RunError::StartsFailed(_))) => {
            eprintln!("loadgen: FAILED: {error}");
            ExitCode::from(1)
        }
        Err(error) => {
            eprintln!("loadgen: {error}");
            ExitCode::from(2)
        }
    }
}

/// What the load is made of.
fn source(args: &RunArgs) -> Result<Source, String> {
    let login = match &args.auth_login {
        Some(operation) => Some(
            login::parse(
                operation,
                args.auth_body.as_deref(),
                args.auth_token.as_deref(),
                args.auth_header.as_deref(),
            )
            .map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    let credentials = Credentials::parse(&args.headers, &args.query, args.auth_basic.as_deref())
        .map_err(|e| e.to_string())?;
    let given = !args.headers.is_empty() || !args.query.is_empty() || args.auth_basic.is_some();
    Ok(match (&args.spec, &args.scenario_file) {
        (Some(spec), _) => Source::Document {
            location: spec.clone(),
            weights: args.weights.clone(),
            login,
            credentials,
        },
        (None, Some(file)) => Source::Script(file.clone(), credentials),
        (None, None) if given => {
            return Err(
                "--header, --query and --auth-basic are for --spec and --scenario-file loads"
                    .to_owned(),
            );
        }
        (None, None) => Source::Demo,
    })
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
        .map(|t| Rule::parse(t).map_err(|e| e.to_string()))
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
        super::RunArgs::command().debug_assert();
    }
}
