//! Driving a target. In order: log in (if configured); check that protected operations refuse
//! missing and forged credentials; run stateful sequences along the spec's links (see
//! [`crate::stateful`]), which also capture real ids; then, per operation and in parallel, the
//! coverage cases and random valid and invalid cases under proptest, which shrinks each
//! failure to a minimal request and, because known failures no longer count, goes on to find
//! the next distinct one.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use proptest::sample::Index;
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use serde::Serialize;
use serde_json::Value;
use tokio::runtime::Handle;

use crate::auth::Auth;
use crate::checks::{self, Check, Finding, Outcome, Response, Settings};
use crate::stateful;
use openapi::generate::{AuthMode, Case, Kind, Payload, Plan, encode_body, param_text};
use openapi::model::{Api, Location, Operation, SecurityKind};

/// How a run is configured.
#[derive(Debug, Clone)]
pub struct Options {
    /// The base URL; operation paths are appended to it.
    pub target: String,
    /// Random cases per operation, for valid and for invalid input each; half as many
    /// random stateful sequences.
    pub max_examples: u32,
    pub seed: u64,
    pub settings: Settings,
    /// Sent with every request (`-H`).
    pub headers: Vec<(String, String)>,
    /// Operations checked at once.
    pub workers: usize,
    pub request_timeout: Duration,
    /// Sent before each stateful sequence, so that sequences are independent (`--reset`).
    pub reset: Option<(Method, String)>,
}

/// A request as sent, kept for the report.
#[derive(Debug, Clone, Serialize)]
pub struct SentRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

impl SentRequest {
    /// A curl command line that sends the same request.
    pub fn curl(&self) -> String {
        let mut words = vec![
            "curl".to_owned(),
            "-X".to_owned(),
            self.method.clone(),
            quote(&self.url),
        ];
        for (name, value) in &self.headers {
            words.push("-H".to_owned());
            words.push(quote(&format!("{name}: {value}")));
        }
        if let Some(body) = &self.body {
            words.push("--data-raw".to_owned());
            words.push(quote(body));
        }
        words.join(" ")
    }
}

/// Single-quotes for a POSIX shell.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// One distinct defect, with the smallest request (or sequence) that shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub check: String,
    pub operation: String,
    pub message: String,
    /// How the case was made: `valid`, or `invalid: <the constraint it breaks>`.
    pub case: String,
    pub request: SentRequest,
    pub curl: String,
    /// For a failure found by a stateful sequence: every request of the (shrunk) sequence up
    /// to the failing one, as curl lines to run in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sequence: Vec<String>,
    /// `None` when no response came back.
    pub status: Option<u16>,
    pub response_excerpt: String,
    pub seed: u64,
}

/// What happened to one operation, and how much of its documented behaviour was seen.
#[derive(Debug, Clone, Serialize)]
pub struct OperationReport {
    pub operation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    pub cases: u64,
    /// Responses by status code.
    pub statuses: BTreeMap<u16, u64>,
    pub transport_errors: u64,
    pub failures: usize,
    /// The statuses the spec documents (`200`, `4XX`, `default`).
    pub documented: Vec<String>,
    /// Documented statuses never produced (ranges and `default` count as seen when any
    /// status they cover was).
    pub never_seen: Vec<String>,
    /// Whether it ever answered 2xx.
    pub succeeded: bool,
}

/// The result of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub target: String,
    pub seed: u64,
    pub max_examples: u32,
    pub checks: Vec<String>,
    pub operations: Vec<OperationReport>,
    pub failures: Vec<Failure>,
    /// Requests sent, probes of undocumented methods included.
    pub cases: u64,
    /// Wall time of the run, in milliseconds.
    pub elapsed_ms: u64,
    /// Problems of the document itself (a schema no value satisfies, say) and what of it
    /// was not checked: said once, never blamed on the target.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Distinct failures an operation may report per phase, so that a badly broken server
/// cannot keep the run going for ever.
pub(crate) const MAX_FAILURES_PER_PHASE: usize = 20;
/// The longest excerpt of a response body kept in the report.
const EXCERPT: usize = 300;

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Login(String),
}

/// Checks every operation of `api` against the target.
pub async fn run(
    api: Arc<Api>,
    options: Arc<Options>,
    auth: Arc<Auth>,
    progress: impl Fn(&str) + Send + Sync + 'static,
) -> Result<Report, RunError> {
    let started = Instant::now();
    let client = reqwest::Client::builder()
        .timeout(options.request_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client with a timeout and no redirects");
    auth.log_in(&client, &options.target)
        .await
        .map_err(RunError::Login)?;
    let shared = Shared {
        stats: Arc::new(Mutex::new(
            api.operations.iter().map(OperationReport::new).collect(),
        )),
        known: Arc::default(),
        api,
        options: options.clone(),
        client,
        auth,
    };

    // The stateful phases run first, one sequence at a time, and leave real ids behind.
    let (pool, mut failures, leftovers) = shared
        .blocking(|ctx| {
            let mut failures = stateful::ignored_auth(ctx);
            let outcomes = stateful::sequences(ctx);
            failures.extend(outcomes.failures);
            (outcomes.pool, failures, outcomes.leftovers)
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
            let found = check_operation(ctx, index, &pool, problems[index].is_empty());
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
    if options.settings.enabled.contains(&Check::UnsupportedMethod) {
        let (sent, found) = shared
            .blocking(unsupported_methods)
            .await
            .expect("method probes do not panic");
        probes = sent;
        failures.extend(found);
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

impl OperationReport {
    fn new(operation: &Operation) -> OperationReport {
        OperationReport {
            operation: operation.label(),
            operation_id: operation.operation_id.clone(),
            cases: 0,
            statuses: BTreeMap::new(),
            transport_errors: 0,
            failures: 0,
            documented: operation.documented_statuses(),
            never_seen: Vec::new(),
            succeeded: false,
        }
    }

    /// Works out the spec coverage from the statuses seen.
    fn finish(&mut self, operation: &Operation) {
        use openapi::model::StatusKey;
        self.succeeded = self.statuses.keys().any(|s| (200..300).contains(s));
        let seen = |key: &StatusKey| match key {
            StatusKey::Code(code) => self.statuses.contains_key(code),
            StatusKey::Range(class) => self.statuses.keys().any(|s| s / 100 == *class),
            // `default` covers whatever no other entry documents.
            StatusKey::Default => self.statuses.keys().any(|s| {
                !operation
                    .responses
                    .iter()
                    .any(|(k, _)| matches!(k, StatusKey::Code(c) if c == s))
            }),
        };
        self.never_seen = operation
            .responses
            .iter()
            .filter(|(k, _)| !seen(k))
            .map(|(k, _)| k.to_string())
            .collect();
    }
}

/// What the phases share, owned, so that each blocking task can hold its own handle to it.
#[derive(Clone)]
struct Shared {
    api: Arc<Api>,
    options: Arc<Options>,
    client: reqwest::Client,
    auth: Arc<Auth>,
    stats: Arc<Mutex<Vec<OperationReport>>>,
    known: Arc<Mutex<BTreeSet<Key>>>,
}

impl Shared {
    /// Runs `work` on a blocking thread: proptest and the probes drive requests synchronously.
    fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Context<'_>) -> T + Send + 'static,
    ) -> tokio::task::JoinHandle<T> {
        let shared = self.clone();
        let handle = Handle::current();
        tokio::task::spawn_blocking(move || {
            let ctx = Context {
                api: &shared.api,
                options: &shared.options,
                client: &shared.client,
                handle,
                auth: &shared.auth,
                stats: &shared.stats,
                known: &shared.known,
            };
            work(&ctx)
        })
    }
}

/// What identifies one defect: the operation, the check, and the check's key.
pub(crate) type Key = (String, Check, String);

/// What every phase needs to send cases and judge them.
pub(crate) struct Context<'a> {
    pub api: &'a Api,
    pub options: &'a Options,
    pub client: &'a reqwest::Client,
    pub handle: Handle,
    pub auth: &'a Auth,
    pub stats: &'a Mutex<Vec<OperationReport>>,
    /// Every defect reported so far, by any phase: each is reported once.
    pub known: &'a Mutex<BTreeSet<Key>>,
}

impl Context<'_> {
    pub fn is_known(&self, key: &Key) -> bool {
        self.known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(key)
    }

    /// Remembers a defect; true when it was new.
    pub fn learn(&self, key: Key) -> bool {
        self.known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key)
    }

    /// Sends a case for an operation. A protected operation that answers 401 to the login's
    /// token gets a fresh login and the case once more (a logout may have revoked the token).
    pub fn send(&self, index: usize, case: &Case) -> (SentRequest, Outcome) {
        let operation = &self.api.operations[index];
        let mut attempt = self.send_once(operation, case);
        let token_refused = matches!(&attempt.1, Outcome::Response(r) if r.status == 401);
        if token_refused
            && operation.secured
            && case.auth == AuthMode::Normal
            && self.auth.can_log_in()
        {
            let fresh = self
                .handle
                .block_on(self.auth.log_in(self.client, &self.options.target));
            if fresh.is_ok() {
                attempt = self.send_once(operation, case);
            }
        }
        let mut stats = self.stats.lock().unwrap_or_else(PoisonError::into_inner);
        stats[index].cases += 1;
        match &attempt.1 {
            Outcome::Response(response) => {
                *stats[index].statuses.entry(response.status).or_default() += 1
            }
            Outcome::Transport(_) => stats[index].transport_errors += 1,
        }
        attempt
    }

    fn send_once(&self, operation: &Operation, case: &Case) -> (SentRequest, Outcome) {
        let (request, built) = build(self.api, self.options, self.auth, operation, case);
        let outcome = match built {
            Some(built) => self.handle.block_on(send(self.client, built)),
            None => Outcome::Transport("the request could not be built".to_owned()),
        };
        (request, outcome)
    }

    /// The stateless checks on one exchange.
    pub fn check(&self, index: usize, case: &Case, outcome: &Outcome) -> Vec<Finding> {
        let operation = &self.api.operations[index];
        let mut found = checks::evaluate(
            &self.options.settings,
            &self.api.schemas,
            operation,
            case,
            outcome,
        );
        // A refusal is blamed only for a case the validator confirms valid as the server
        // sees it (pooled ids and stateful bases are not drawn through the validator).
        if found
            .iter()
            .any(|f| f.check == Check::PositiveDataAcceptance)
            && !Plan::new(&self.api.schemas, operation).is_valid(case)
        {
            found.retain(|f| f.check != Check::PositiveDataAcceptance);
        }
        found
    }

    /// Sends the configured reset request, if any.
    pub fn reset(&self) {
        if let Some((method, path)) = &self.options.reset {
            let url = format!("{}{path}", self.options.target.trim_end_matches('/'));
            let _ = self
                .handle
                .block_on(self.client.request(method.clone(), url).send());
        }
    }

    pub fn failure(
        &self,
        operation: &str,
        case: &Case,
        (request, outcome): (&SentRequest, &Outcome),
        finding: Finding,
        sequence: &[SentRequest],
    ) -> Failure {
        let (status, response_excerpt) = match outcome {
            Outcome::Response(response) => (Some(response.status), excerpt(&response.body)),
            Outcome::Transport(error) => (None, error.clone()),
        };
        Failure {
            check: finding.check.name().to_owned(),
            operation: operation.to_owned(),
            message: finding.message,
            case: case.kind.to_string(),
            curl: request.curl(),
            request: request.clone(),
            sequence: sequence.iter().map(SentRequest::curl).collect(),
            status,
            response_excerpt,
            seed: self.options.seed,
        }
    }
}

/// Checks one operation, on a blocking thread (proptest drives its test synchronously).
fn check_operation(
    ctx: &Context<'_>,
    index: usize,
    pool: &stateful::Pool,
    satisfiable: bool,
) -> Vec<Failure> {
    let operation = &ctx.api.operations[index];
    let plan =
        Plan::new(&ctx.api.schemas, operation).with_pool(stateful::pool_for(pool, operation));
    let label = operation.label();
    let mut failures = Vec::new();
    for case in plan.coverage() {
        // A coverage case meant valid that the validator refuses is not sent at all.
        if case.kind == Kind::Positive && !plan.is_valid(&case) {
            continue;
        }
        let exchange = ctx.send(index, &case);
        for finding in ctx.check(index, &case, &exchange.1) {
            if ctx.learn((label.clone(), finding.check, finding.key.clone())) {
                failures.push(ctx.failure(&label, &case, (&exchange.0, &exchange.1), finding, &[]));
            }
        }
    }
    if satisfiable {
        for phase in [Phase::Valid, Phase::Invalid] {
            fuzz(ctx, index, &plan, phase, &mut failures);
        }
    }
    failures
}

/// The kinds of random cases.
#[derive(Debug, Clone, Copy)]
enum Phase {
    Valid = 1,
    Invalid = 2,
}

/// proptest's settings for a budget of cases: no files written, generous rejections, and
/// at most `shrink` simplification steps.
pub(crate) fn proptest_config(cases: u32, shrink: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: shrink,
        // Valid cases are filtered by the validator; a schema that rarely yields one ends
        // the phase rather than the run's time.
        max_local_rejects: 4_096,
        max_global_rejects: 65_536,
        ..Config::default()
    }
}

/// Random cases of one phase, shrinking each new failure and going on after it.
fn fuzz(
    ctx: &Context<'_>,
    index: usize,
    plan: &Plan<'_>,
    phase: Phase,
    failures: &mut Vec<Failure>,
) {
    let label = ctx.api.operations[index].label();
    // Only invalid cases use the index (which violation to pick); a valid case without one
    // has nothing to shrink in vain.
    let strategy = match phase {
        Phase::Valid => plan.positive().prop_map(|case| (case, None)).boxed(),
        Phase::Invalid => (plan.positive(), proptest::arbitrary::any::<Index>())
            .prop_map(|(c, i)| (c, Some(i)))
            .boxed(),
    };
    let mut budget = ctx.options.max_examples;
    for round in 0..MAX_FAILURES_PER_PHASE {
        if budget == 0 {
            return;
        }
        let seed = case_seed(ctx.options.seed, index, phase as u64, round as u64);
        let mut runner = TestRunner::new_with_rng(
            proptest_config(budget, 512),
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
        );
        // The first new finding of the round becomes its target: shrinking keeps to it.
        let target: RefCell<Option<Key>> = RefCell::new(None);
        // The last case that failed on the target: once shrinking ends, the minimal one.
        let last: RefCell<Option<(Case, SentRequest, Outcome, Finding)>> = RefCell::new(None);
        let ran = RefCell::new(0u32);
        let result = runner.run(&strategy, |(base, choice)| {
            let Some(case) = pick(plan, phase, base, choice) else {
                return Ok(());
            };
            let (request, outcome) = ctx.send(index, &case);
            let findings = ctx.check(index, &case, &outcome);
            let keyed: Vec<(Key, String)> = findings
                .iter()
                .map(|f| ((label.clone(), f.check, f.key.clone()), f.message.clone()))
                .collect();
            if target.borrow().is_none() {
                *ran.borrow_mut() += 1;
            }
            let verdict = hit(&target, &|key| ctx.is_known(key), &keyed);
            if verdict.is_err() {
                let wanted = target.borrow().clone();
                let finding = findings
                    .into_iter()
                    .find(|f| Some((label.clone(), f.check, f.key.clone())) == wanted);
                *last.borrow_mut() = finding.map(|f| (case, request, outcome, f));
            }
            verdict
        });
        budget = budget.saturating_sub(ran.into_inner());
        match (result, target.into_inner(), last.into_inner()) {
            (Err(TestError::Fail(..)), Some(key), Some((case, request, outcome, finding))) => {
                if ctx.learn(key) {
                    failures.push(ctx.failure(&label, &case, (&request, &outcome), finding, &[]));
                }
            }
            _ => return,
        }
    }
}

/// The verdict of one proptest case: it fails on the round's target finding, or on the first
/// finding not yet known (which becomes the target).
pub(crate) fn hit(
    target: &RefCell<Option<Key>>,
    is_known: &dyn Fn(&Key) -> bool,
    findings: &[(Key, String)],
) -> Result<(), TestCaseError> {
    let mut target = target.borrow_mut();
    let found = findings.iter().find(|(key, _)| match &*target {
        Some(wanted) => key == wanted,
        None => !is_known(key),
    });
    match found {
        Some((key, message)) => {
            target.get_or_insert_with(|| key.clone());
            Err(TestCaseError::fail(message.clone()))
        }
        None => Ok(()),
    }
}

/// The case a phase makes from a random valid base: the base itself, or one of its
/// single-constraint violations.
fn pick(plan: &Plan<'_>, phase: Phase, base: Case, index: Option<Index>) -> Option<Case> {
    match (phase, index) {
        (Phase::Invalid, Some(index)) => {
            let negatives = plan.negatives(&base);
            (!negatives.is_empty()).then(|| negatives[index.index(negatives.len())].clone())
        }
        _ => Some(base),
    }
}

/// 32 bytes of seed for one operation, phase and round, from the run's seed (SplitMix64).
pub(crate) fn case_seed(seed: u64, operation: usize, phase: u64, round: u64) -> [u8; 32] {
    let mut state = seed
        ^ (operation as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (phase << 56)
        ^ (round << 40);
    let mut out = [0u8; 32];
    for chunk in out.chunks_mut(8) {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out
}

/// Whether a header carries credentials: `Authorization`, cookies, or an API key header the
/// document's security schemes name. A case without credentials drops all of them.
fn is_credential(api: &Api, name: &str) -> bool {
    name.eq_ignore_ascii_case("authorization")
        || name.eq_ignore_ascii_case("cookie")
        || api.security_schemes.iter().any(|scheme| {
            matches!(&scheme.kind, SecurityKind::ApiKey(Location::Header, key) if key.eq_ignore_ascii_case(name))
        })
}

/// The API key sent when a case forges credentials for an API key scheme.
const FORGED_KEY: &str = "forged-0000000000000000000000000000000000000000";

/// The token sent when a case forges credentials.
const FORGED_TOKEN: &str = "Bearer forged-0000000000000000000000000000000000000000";

/// The request for a case: what the report shows and what reqwest sends (`None` when a
/// header value cannot be sent at all).
fn build(
    api: &Api,
    options: &Options,
    auth: &Auth,
    operation: &Operation,
    case: &Case,
) -> (SentRequest, Option<reqwest::Request>) {
    let mut path = operation.path.clone();
    let mut query: Vec<(String, String)> = Vec::new();
    let mut headers: Vec<(String, String)> = options.headers.clone();
    let is_authorization =
        |(name, _): &(String, String)| name.eq_ignore_ascii_case("authorization");
    match case.auth {
        AuthMode::Normal => {
            if let (true, Some(token), false) = (
                operation.secured,
                auth.header(),
                headers.iter().any(is_authorization),
            ) {
                headers.push(("Authorization".to_owned(), token));
            }
        }
        AuthMode::Missing => headers.retain(|(name, _)| !is_credential(api, name)),
        AuthMode::Forged => {
            headers.retain(|(name, _)| !is_credential(api, name));
            // A forged credential goes where the operation's scheme wants one.
            let key_header = operation
                .security
                .iter()
                .flatten()
                .filter_map(|name| api.security_schemes.iter().find(|s| s.name == *name))
                .find_map(|scheme| match &scheme.kind {
                    SecurityKind::ApiKey(Location::Header, key) => Some(key.clone()),
                    _ => None,
                });
            match key_header {
                Some(key) => headers.push((key, FORGED_KEY.to_owned())),
                None => headers.push(("Authorization".to_owned(), FORGED_TOKEN.to_owned())),
            }
        }
    }
    for (location, name, value) in &case.params {
        match location {
            Location::Path => {
                path = path.replace(&format!("{{{name}}}"), &encode(&param_text(value)))
            }
            Location::Query => {
                // `form` arrays repeat the name when exploded (the default) and join with
                // commas when not.
                let explode = operation
                    .params
                    .iter()
                    .find(|p| p.location == Location::Query && p.name == *name)
                    .is_none_or(|p| p.explode);
                match value {
                    Value::Array(items) if explode => {
                        query.extend(items.iter().map(|v| (name.clone(), param_text(v))))
                    }
                    _ => query.push((name.clone(), param_text(value))),
                }
            }
            Location::Header => headers.push((name.clone(), param_text(value))),
            Location::Cookie => {}
        }
    }
    let mut url = format!("{}{path}", options.target.trim_end_matches('/'));
    if !query.is_empty() {
        let encoded: Vec<String> = query
            .iter()
            .map(|(n, v)| format!("{}={}", encode(n), encode(v)))
            .collect();
        url = format!("{url}?{}", encoded.join("&"));
    }
    let (content_type, body) = match &case.body {
        Payload::None => (None, None),
        Payload::Json(value) => match &operation.body {
            Some(body) => {
                let (content_type, bytes) = encode_body(body, value);
                (Some(content_type), Some(bytes))
            }
            None => (
                Some("application/json".to_owned()),
                Some(serde_json::to_vec(value).unwrap_or_default()),
            ),
        },
        Payload::Raw {
            content_type,
            bytes,
        } => (content_type.clone(), Some(bytes.clone())),
    };
    if let Some(content_type) = &content_type {
        headers.push(("Content-Type".to_owned(), content_type.clone()));
    }
    let sent = SentRequest {
        method: operation.method.to_string(),
        url: url.clone(),
        headers: headers.clone(),
        body: body
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned()),
    };
    (sent, to_reqwest(&operation.method, &url, &headers, body))
}

fn to_reqwest(
    method: &Method,
    url: &str,
    headers: &[(String, String)],
    body: Option<Vec<u8>>,
) -> Option<reqwest::Request> {
    let mut request = reqwest::Request::new(method.clone(), reqwest::Url::parse(url).ok()?);
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
        let value = HeaderValue::from_str(value).ok()?;
        request.headers_mut().append(name, value);
    }
    if let Some(body) = body {
        *request.body_mut() = Some(body.into());
    }
    Some(request)
}

async fn send(client: &reqwest::Client, request: reqwest::Request) -> Outcome {
    let started = Instant::now();
    let response = match client.execute(request).await {
        Ok(response) => response,
        Err(error) => return Outcome::Transport(describe(&error)),
    };
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    match response.bytes().await {
        Ok(body) => Outcome::Response(Response {
            status,
            headers,
            body: body.to_vec(),
            elapsed: started.elapsed(),
        }),
        Err(error) => Outcome::Transport(format!("the body was cut off: {}", describe(&error))),
    }
}

/// A transport error with its causes, which is where the useful words are.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "timed out waiting for the response".to_owned();
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Sends every method a path does not document and expects 405 with an `Allow` header.
/// Returns how many probes were sent, and the failures.
fn unsupported_methods(ctx: &Context<'_>) -> (u64, Vec<Failure>) {
    let mut sent = 0;
    let mut failures = Vec::new();
    let mut paths: Vec<&str> = ctx.api.operations.iter().map(|o| o.path.as_str()).collect();
    paths.dedup();
    for path in paths {
        let documented: Vec<&Operation> = ctx
            .api
            .operations
            .iter()
            .filter(|o| o.path == path)
            .collect();
        // Path parameters from the simplest valid case of a documented operation.
        let base = Plan::new(&ctx.api.schemas, documented[0]).base();
        let params: Vec<_> = base
            .params
            .into_iter()
            .filter(|(l, _, _)| *l == Location::Path)
            .collect();
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            if documented.iter().any(|o| o.method == method) {
                continue;
            }
            let probe = Operation {
                method: method.clone(),
                body: None,
                secured: false,
                ..documented[0].clone()
            };
            let case = Case {
                kind: Kind::Positive,
                params: params.clone(),
                body: Payload::None,
                auth: AuthMode::Normal,
            };
            let (request, built) = build(ctx.api, ctx.options, ctx.auth, &probe, &case);
            let Some(built) = built else { continue };
            let outcome = ctx.handle.block_on(send(ctx.client, built));
            sent += 1;
            let problem = match &outcome {
                Outcome::Transport(error) => Some(format!("no response: {error}")),
                Outcome::Response(r) if r.status != 405 => Some(format!(
                    "undocumented method {method} answered {} instead of 405",
                    r.status
                )),
                Outcome::Response(r) if r.header("allow").is_none() => Some(
                    "405 without an Allow header listing the methods the path supports".to_owned(),
                ),
                Outcome::Response(_) => None,
            };
            if let Some(message) = problem {
                let finding = Finding {
                    check: Check::UnsupportedMethod,
                    key: method.to_string(),
                    message,
                };
                failures.push(ctx.failure(
                    &format!("{method} {path}"),
                    &case,
                    (&request, &outcome),
                    finding,
                    &[],
                ));
            }
        }
    }
    (sent, failures)
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    match text.char_indices().nth(EXCERPT) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.into_owned(),
    }
}

/// Percent-encodes a path segment or query part: everything but RFC 3986's unreserved
/// characters.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_lines_survive_the_shell() {
        let request = SentRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:1/a?q=x%20y".into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Some(r#"{"name":"O'Brien"}"#.into()),
        };
        assert_eq!(
            request.curl(),
            r#"curl -X POST 'http://127.0.0.1:1/a?q=x%20y' -H 'Content-Type: application/json' --data-raw '{"name":"O'\''Brien"}'"#
        );
    }

    #[test]
    fn seeds_differ_by_operation_phase_and_round() {
        let seeds = [
            case_seed(1, 0, 1, 0),
            case_seed(1, 1, 1, 0),
            case_seed(1, 0, 2, 0),
            case_seed(1, 0, 1, 1),
            case_seed(2, 0, 1, 0),
        ];
        for (i, a) in seeds.iter().enumerate() {
            for b in &seeds[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(case_seed(9, 3, 2, 1), case_seed(9, 3, 2, 1));
    }
}
