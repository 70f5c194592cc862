//! Driving a target, in order: log in (if configured); check that protected operations
//! refuse missing and forged credentials; run stateful sequences along the document's links,
//! which also capture real ids; then, per operation and in parallel, the coverage cases and
//! random valid and invalid cases; last, the methods no path documents.
//!
//! - [`options`]: how a run is configured;
//! - [`context`]: what every phase shares, and the seeds that make a run repeat;
//! - [`pool`]: real ids captured for later phases;
//! - [`graph`]: explicit and inferred links between operations;
//! - [`sequences`]: stateful walks and random sequences;
//! - [`ownership`]: a second identity against what the first created;
//! - [`operation`]: one operation's coverage and random cases;
//! - [`probes`]: credentials and undocumented methods.

pub mod context;
pub mod graph;
pub mod operation;
pub mod options;
pub mod ownership;
pub mod pool;
pub mod probes;
pub mod sequences;

use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use crate::auth::Auth;
use crate::checks::Check;
use crate::http::SentRequest;
use crate::report::{Failure, OperationReport, Report};
use context::Shared;
use openapi::generate::Plan;
use openapi::model::Api;
pub use options::Options;

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Login(#[from] crate::auth::LoginFailed),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error("the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

/// Checks every operation of `api` against the target.
pub async fn run(
    api: Arc<Api>,
    options: Arc<Options>,
    auth: Arc<Auth>,
    progress: impl Fn(&str) + Send + Sync + 'static,
) -> Result<Report, RunError> {
    let started = Instant::now();
    let client = crate::transport::client_builder(&options.tls)
        .map_err(RunError::Tls)?
        .timeout(options.request_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(RunError::Client)?;
    auth.log_in_all(&client, &options.target)
        .await
        .map_err(RunError::Login)?;
    let shared = Shared {
        stats: Arc::new(Mutex::new(
            api.operations.iter().map(OperationReport::new).collect(),
        )),
        known: Arc::default(),
        liveness: Arc::default(),
        pacer: Arc::default(),
        health: api.operations.iter().map(|_| Default::default()).collect(),
        budget: Arc::new(context::Budget::new()),
        judges: api.operations.iter().map(|_| OnceLock::new()).collect(),
        api,
        options: options.clone(),
        client,
        auth,
    };

    // The stateful phases run first, one sequence at a time, and leave real ids behind.
    let (pool, mut failures, leftovers, tried) = shared
        .blocking(|ctx| {
            let mut failures = probes::ignored_auth(ctx);
            let outcomes = sequences::sequences(ctx);
            failures.extend(outcomes.failures);
            let owned = ownership::object_level_authorization(ctx);
            failures.extend(owned.failures);
            (outcomes.pool, failures, outcomes.leftovers, owned.tried)
        })
        .await
        .expect("the stateful phase does not panic");
    let pool = Arc::new(pool);
    // Operations whose required parts no value satisfies get no random valid cases (there
    // are none to make); their problems are warnings of the report.
    let problems: Vec<Vec<String>> = shared
        .api
        .operations
        .iter()
        .map(|operation| Plan::new(&shared.api.schemas, operation).problems())
        .collect();
    let mut warnings = shared.api.notes.clone();
    if shared.auth.second().is_some()
        && options
            .settings
            .enabled
            .contains(&Check::ObjectLevelAuthorization)
        && tried == 0
    {
        warnings.push(
            "object_level_authorization: no protected operation acts on a resource a protected operation creates (by the document's links or inferred ones), so the second identity tried nothing".to_owned(),
        );
    }
    for (operation, found) in shared.api.operations.iter().zip(&problems) {
        warnings.extend(found.iter().map(|p| format!("{}: {p}", operation.label())));
    }
    let problems = Arc::new(problems);

    let progress = Arc::new(progress);
    let semaphore = Arc::new(tokio::sync::Semaphore::new(options.workers.max(1)));
    let mut tasks = Vec::new();
    for index in 0..shared.api.operations.len() {
        let (progress, pool, problems) = (progress.clone(), pool.clone(), problems.clone());
        let permit = semaphore
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore stays open");
        tasks.push(shared.blocking(move |ctx| {
            let _permit = permit;
            let found = operation::check_operation(ctx, index, &pool, problems[index].is_empty());
            progress(&ctx.api.operations[index].label());
            found
        }));
    }
    for task in tasks {
        failures.extend(task.await.expect("an operation's checks do not panic"));
    }
    // What only a sequence showed (a 500 on a resource that exists, say), if nothing else did.
    for (key, failure) in leftovers {
        if shared
            .known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key)
        {
            failures.push(failure);
        }
    }
    let mut probes = 0;
    let probing = [Check::UnsupportedMethod, Check::AllowHeaderConformance]
        .iter()
        .any(|c| options.settings.enabled.contains(c));
    let spent = shared.budget.spent().is_some();
    if probing && !shared.liveness.is_down() && !spent {
        let (sent, found) = shared
            .blocking(probes::unsupported_methods)
            .await
            .expect("method probes do not panic");
        probes = sent;
        failures.extend(found);
    }
    // A target that stopped answering is one failure, said once, with its last request; so
    // is an operation that stopped answering while the target did not.
    if let Some((operation, request, error)) = shared.liveness.last_failure() {
        let message = format!(
            "the target stopped answering: {} requests in a row got no response ({error}); nothing more was sent",
            context::DEAD_AFTER
        );
        failures.push(unanswered(operation, request, error, message, options.seed));
    }
    for (operation, health) in shared.api.operations.iter().zip(shared.health.iter()) {
        if let (false, Some((request, error))) = (shared.liveness.is_down(), health.dead()) {
            let message = format!(
                "the operation stopped answering: {} of its requests in a row got no response ({error}); its remaining cases were skipped",
                context::OPERATION_DEAD_AFTER
            );
            failures.push(unanswered(
                operation.label(),
                request,
                error,
                message,
                options.seed,
            ));
        }
    }
    // Credentials that never worked make every protected operation a wall of 401s: said
    // loudly, since nothing behind the wall was checked.
    let secured: Vec<usize> = (0..shared.api.operations.len())
        .filter(|i| shared.api.operations[*i].secured)
        .collect();
    let never_in = !secured.is_empty()
        && secured.iter().all(|i| {
            !shared.health[*i]
                .authorized
                .load(std::sync::atomic::Ordering::Acquire)
        });
    if shared.auth.can_log_in() && never_in {
        warnings.push(format!(
            "the login's credentials never worked: all {} protected operations answered 401 to every request that carried them, so nothing behind the login was checked (see --auth-token and --auth-header)",
            secured.len()
        ));
    }
    if let Some(why) = shared.budget.spent() {
        warnings.push(format!(
            "the run stopped early: {why}; the report shows what was seen until then"
        ));
    }
    let mut operations =
        std::mem::take(&mut *shared.stats.lock().unwrap_or_else(PoisonError::into_inner));
    for (report, operation) in operations.iter_mut().zip(&shared.api.operations) {
        report.failures = failures
            .iter()
            .filter(|f| f.operation == report.operation)
            .count();
        report.finish(operation);
    }
    let cases = operations.iter().map(|o| o.cases).sum::<u64>() + probes;
    Ok(Report {
        target: options.target.clone(),
        seed: options.seed,
        max_examples: options.max_examples,
        checks: options
            .settings
            .enabled
            .iter()
            .map(|c| c.name().to_owned())
            .collect(),
        operations,
        failures,
        cases,
        elapsed_ms: started.elapsed().as_millis() as u64,
        warnings,
    })
}

/// The failure of requests that got no response.
fn unanswered(
    operation: String,
    request: SentRequest,
    error: String,
    message: String,
    seed: u64,
) -> Failure {
    Failure {
        check: Check::NotAServerError.name().to_owned(),
        operation,
        message,
        case: "valid".to_owned(),
        curl: request.curl(),
        request,
        sequence: Vec::new(),
        in_flight: Vec::new(),
        status: None,
        response_excerpt: error,
        seed,
    }
}
