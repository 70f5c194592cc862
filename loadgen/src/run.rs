//! A load run: goose's own options, the scenarios registered (the demo's, a document's or a
//! file's), the bundled mock API when no `--host` is given, and checks before any load starts
//! (the host answers, the report directories exist).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use goose::config::{GooseConfiguration, GooseDefault};
use goose::prelude::*;

use crate::credentials::Credentials;
use crate::login::Login;
use crate::rate::Pacer;
use crate::{document, scenarios, script};

/// What the load is made of.
#[derive(Debug)]
pub enum Source {
    /// The demo's scenarios against the users API.
    Demo,
    /// An OpenAPI document's operations.
    Document {
        location: String,
        weights: Option<PathBuf>,
        login: Option<Login>,
        credentials: Credentials,
    },
    /// The scenarios of a file.
    Script(PathBuf, Credentials),
}

/// Why a run did not pass.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A `--threshold` rule failed: the run happened, and its result is a failure.
    #[error("{0}")]
    Thresholds(String),
    /// Every request of the run failed: whatever the thresholds say, nothing was measured but
    /// failures.
    #[error("every one of the {0} requests failed: nothing of the target was measured")]
    AllFailed(usize),
    /// Every user failed to make, at its start, the items its load needed.
    #[error("{0}")]
    StartsFailed(String),
    /// The run could not happen: a bad option, an unreachable host, a goose error.
    #[error("{0}")]
    Setup(String),
}

/// Runs the scenarios with a goose configuration; returns the metrics when every threshold
/// held.
pub async fn run(
    mut config: GooseConfiguration,
    source: Source,
    pacer: Option<Arc<Pacer>>,
) -> Result<GooseMetrics, RunError> {
    // An open-model load keeps its rate with as many users as starts in a second (each
    // answer may take up to a second), all started at once, unless told otherwise.
    if let Some(pacer) = &pacer {
        let users = *config
            .users
            .get_or_insert((pacer.per_second().ceil() as usize).clamp(1, 1000));
        config
            .increase_rate
            .get_or_insert_with(|| users.to_string());
    }
    // A sharded run names its report after its index: `--report-file shard-{index}.json`.
    if let Ok(index) = std::env::var("JOB_COMPLETION_INDEX") {
        for file in &mut config.report_file {
            *file = file.replace("{index}", &index);
        }
    }
    let report_files = config.report_file.clone();
    let host = config.host.clone().filter(|h| !h.is_empty());
    let (_mock, host) = match host {
        Some(host) => (None, host),
        None => {
            let mock = mock_api::MockServer::start()
                .map_err(|e| RunError::Setup(format!("starting the bundled mock API: {e}")))?;
            let url = mock.url().to_owned();
            (Some(mock), url)
        }
    };
    // A host with a path (`http://api/v2`, a document's base path) ends with `/`, so the
    // document's paths are joined under it rather than in place of its last segment.
    let host = match host.trim_end_matches('/').split_once("://") {
        Some((_, rest)) if rest.contains('/') => format!("{}/", host.trim_end_matches('/')),
        _ => host,
    };
    if config.host.is_some() {
        config.host = Some(host.clone());
    }
    reachable(&host).await?;
    for file in &config.report_file {
        let parent = std::path::Path::new(file)
            .parent()
            .filter(|p| !p.as_os_str().is_empty());
        if let Some(parent) = parent.filter(|p| !p.is_dir()) {
            return Err(RunError::Setup(format!(
                "--report-file {file}: the directory {} does not exist",
                parent.display()
            )));
        }
    }
    let (registered, plan, starts) = load(source, pacer.clone()).await?;
    if let Some(plan) = &plan {
        print!("{}", document::plan_table(plan));
    }
    let setup = |e: GooseError| RunError::Setup(describe_goose(&e));
    let mut attack = *GooseAttack::initialize_with_config(config)
        .map_err(setup)?
        .set_default(GooseDefault::Host, host.as_str())
        .map_err(setup)?;
    for scenario in registered {
        attack = attack.register_scenario(scenario);
    }
    let metrics = match attack.execute().await {
        Ok(metrics) => metrics,
        Err(GooseError::ThresholdsFailed { failed, .. }) => {
            let lines: Vec<String> = failed
                .iter()
                .map(|f| describe_failed(&f.rule, &f.observed, f.value))
                .collect();
            return Err(RunError::Thresholds(lines.join("\n")));
        }
        Err(error) => return Err(RunError::Setup(describe_goose(&error))),
    };
    if let Some(plan) = &plan {
        add_to_reports(&report_files, "plan", plan)?;
    }
    if let Some(failed) = starts.and_then(|s| s.all_failed()) {
        return Err(RunError::StartsFailed(failed));
    }
    if let Some(pacer) = &pacer {
        let paced = pacer.paced();
        println!(
            "loadgen: --rate {}/s: {} starts, {} late{}",
            paced.per_second,
            paced.starts,
            paced.late,
            match paced.late {
                0 => String::new(),
                _ => " (no user was free at their time: more --users, or a target slower than the rate allows)".to_owned(),
            }
        );
        add_to_reports(&report_files, "rate", &paced)?;
    }
    let (successes, failures) =
        metrics
            .requests
            .values()
            .fold((0usize, 0usize), |(ok, failed), request| {
                (
                    ok.saturating_add(request.success_count),
                    failed.saturating_add(request.fail_count),
                )
            });
    if successes == 0 && failures > 0 {
        return Err(RunError::AllFailed(failures));
    }
    Ok(metrics)
}

/// The plan of a `--spec` load, as the terminal shows it, without any load (`--dry-run`).
pub async fn dry_run(source: Source) -> Result<String, RunError> {
    match load(source, None).await? {
        (_, Some(plan), _) => Ok(document::plan_table(&plan)),
        (_, None, _) => Err(RunError::Setup("--dry-run needs --spec".to_owned())),
    }
}

/// A field added to each JSON report goose wrote: the plan (`"plan": [{operation, weight,
/// note}]`), the open model's starts (`"rate": {per_second, starts, late}`).
fn add_to_reports(
    files: &[String],
    field: &str,
    value: &impl serde::Serialize,
) -> Result<(), RunError> {
    for file in files.iter().filter(|f| f.ends_with(".json")) {
        let failed = |e: String| RunError::Setup(format!("--report-file {file}: {e}"));
        let text = std::fs::read_to_string(file).map_err(|e| failed(e.to_string()))?;
        let mut report: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| failed(e.to_string()))?;
        if let Some(object) = report.as_object_mut() {
            object.insert(
                field.to_owned(),
                serde_json::to_value(value).map_err(|e| failed(e.to_string()))?,
            );
        }
        let text = serde_json::to_string(&report).map_err(|e| failed(e.to_string()))?;
        std::fs::write(file, text).map_err(|e| failed(e.to_string()))?;
    }
    Ok(())
}

/// What a load of the source is made of, checked before any load: the scenarios, and for
/// a document the plan.
type Loaded = (
    Vec<Scenario>,
    Option<Vec<document::PlanLine>>,
    Option<Arc<document::Starts>>,
);

/// The scenarios of a source, checked before any load.
async fn load(source: Source, pacer: Option<Arc<Pacer>>) -> Result<Loaded, RunError> {
    let setup = |e: String| RunError::Setup(e);
    match source {
        Source::Demo => scenarios::all()
            .map(|s| (s, None, None))
            .map_err(|e| setup(describe_goose(&e))),
        Source::Script(file, credentials) => script::read(&file, credentials, pacer)
            .map(|s| (s, None, None))
            .map_err(|e| setup(e.to_string())),
        Source::Document {
            location,
            weights,
            login,
            credentials,
        } => {
            let client = reqwest_client()?;
            let api = openapi::load(&client, &location)
                .await
                .map_err(|e| setup(e.to_string()))?;
            for note in &api.notes {
                eprintln!("loadgen: note: {note}");
            }
            let weights = match &weights {
                Some(file) => {
                    document::read_weights(file, &api).map_err(|e| setup(e.to_string()))?
                }
                None => Default::default(),
            };
            document::scenarios(Arc::new(api), &weights, login, credentials, pacer)
                .map(|load| (load.scenarios, Some(load.plan), Some(load.starts)))
                .map_err(|e| setup(e.to_string()))
        }
    }
}

/// A goose error with what it refused: goose's own text for an invalid option says only
/// that one was.
fn describe_goose(error: &GooseError) -> String {
    match error {
        GooseError::InvalidOption {
            option,
            value,
            detail,
        } => format!("{option} {value:?}: {detail}"),
        other => other.to_string(),
    }
}

/// A failed rule with what was observed and by how much it missed.
fn describe_failed(rule: &str, observed: &str, value: Option<f64>) -> String {
    match (crate::rules::Rule::parse(rule), value) {
        (Ok(parsed), Some(value)) => {
            let (limit, unit) = parsed.limit();
            format!(
                "FAIL {rule}: observed {observed}, limit {limit}{unit}, off by {:.2}{unit}",
                (value - limit).abs()
            )
        }
        _ => format!("FAIL {rule}: observed {observed}"),
    }
}

/// Fails early, with a clear message, when nothing answers at the host.
async fn reachable(host: &str) -> Result<(), RunError> {
    let client = reqwest_client()?;
    client
        .get(host)
        .send()
        .await
        .map(drop)
        .map_err(|e| RunError::Setup(format!("cannot reach {host}: {e}")))
}

/// The client that fetches the document and checks the host: HTTPS as every tool speaks it.
fn reqwest_client() -> Result<reqwest::Client, RunError> {
    openapi::tls::client_builder(&openapi::tls::TlsOptions::default())
        .map_err(|e| RunError::Setup(e.to_string()))?
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| RunError::Setup(e.to_string()))
}
