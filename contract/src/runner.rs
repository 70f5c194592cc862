//! Driving a target: for each operation, the coverage cases, then random valid and invalid
//! cases under proptest, which shrinks each failure to a minimal request and, because known
//! failures no longer count, goes on to find the next distinct one.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use serde::Serialize;
use tokio::runtime::Handle;

use crate::checks::{self, Check, Finding, Outcome, Response, Settings};
use crate::generate::{Case, Kind, Payload, Plan, param_text};
use crate::spec::{Api, Location, Operation};

/// How a run is configured.
#[derive(Debug, Clone)]
pub struct Options {
    /// The base URL; operation paths are appended to it.
    pub target: String,
    /// Random cases per operation, for valid and for invalid input each.
    pub max_examples: u32,
    pub seed: u64,
    pub settings: Settings,
    /// Sent with every request (`-H`).
    pub headers: Vec<(String, String)>,
    /// Operations checked at once.
    pub workers: usize,
    pub request_timeout: Duration,
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

/// One distinct defect, with the smallest request that shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub check: String,
    pub operation: String,
    pub message: String,
    /// How the case was made: `valid`, or `invalid: <the constraint it breaks>`.
    pub case: String,
    pub request: SentRequest,
    pub curl: String,
    /// `None` when no response came back.
    pub status: Option<u16>,
    pub response_excerpt: String,
    pub seed: u64,
}

/// What happened to one operation.
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
    pub cases: u64,
    /// Wall time of the run, in milliseconds.
    pub elapsed_ms: u64,
}

/// Distinct failures an operation may report per kind of case, so that a badly broken
/// server cannot keep the run going for ever.
const MAX_FAILURES_PER_PHASE: usize = 20;
/// The longest excerpt of a response body kept in the report.
const EXCERPT: usize = 300;

/// Checks every operation of `api` against the target.
pub async fn run(
    api: Arc<Api>,
    options: Arc<Options>,
    progress: impl Fn(&str) + Send + Sync + 'static,
) -> Report {
    let started = Instant::now();
    let client = reqwest::Client::builder()
        .timeout(options.request_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client with a timeout and no redirects");
    let progress = Arc::new(progress);
    let semaphore = Arc::new(tokio::sync::Semaphore::new(options.workers.max(1)));
    let mut tasks = Vec::new();
    for index in 0..api.operations.len() {
        let (api, options, client, progress) = (
            api.clone(),
            options.clone(),
            client.clone(),
            progress.clone(),
        );
        let permit = semaphore
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore stays open");
        let handle = Handle::current();
        tasks.push(tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut driver = Driver {
                api: &api,
                options: &options,
                client: &client,
                handle,
                index,
                report: OperationReport::new(&api.operations[index]),
                failures: Vec::new(),
            };
            driver.check_operation();
            progress(&api.operations[index].label());
            (driver.report, driver.failures)
        }));
    }
    let mut operations = Vec::new();
    let mut failures = Vec::new();
    for task in tasks {
        let (report, found) = task.await.expect("an operation's checks do not panic");
        operations.push(report);
        failures.extend(found);
    }
    // Undocumented methods, once per path.
    if options.settings.enabled.contains(&Check::UnsupportedMethod) {
        let handle = Handle::current();
        let (api2, options2, client2) = (api.clone(), options.clone(), client.clone());
        let (reports, found) = tokio::task::spawn_blocking(move || {
            unsupported_methods(&api2, &options2, &client2, handle)
        })
        .await
        .expect("method probes do not panic");
        for (index, cases, status) in reports {
            operations[index].cases += cases;
            *operations[index].statuses.entry(status).or_default() += 1;
        }
        for failure in &found {
            if let Some(index) = api
                .operations
                .iter()
                .position(|o| failure.operation.ends_with(&format!(" {}", o.path)))
            {
                operations[index].failures += 1;
            }
        }
        failures.extend(found);
    }
    let cases = operations.iter().map(|o| o.cases).sum();
    Report {
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
    }
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
        }
    }
}

/// Checks one operation, on a blocking thread (proptest drives its test synchronously).
struct Driver<'a> {
    api: &'a Api,
    options: &'a Options,
    client: &'a reqwest::Client,
    handle: Handle,
    index: usize,
    report: OperationReport,
    failures: Vec<Failure>,
}

/// The kinds of random cases.
#[derive(Debug, Clone, Copy)]
enum Phase {
    Valid = 1,
    Invalid = 2,
}

impl<'a> Driver<'a> {
    /// The operation, borrowed from the API rather than from the driver, so the driver can
    /// change its counters while a plan for the operation is alive.
    fn operation(&self) -> &'a Operation {
        &self.api.operations[self.index]
    }

    fn check_operation(&mut self) {
        let plan = Plan::new(&self.api.schemas, self.operation());
        let mut known: BTreeSet<(Check, String)> = BTreeSet::new();
        for case in plan.coverage() {
            let (request, outcome, findings) = self.exchange(&case);
            for finding in findings {
                if known.insert((finding.check, finding.key.clone())) {
                    self.record(&case, &request, &outcome, finding);
                }
            }
        }
        for phase in [Phase::Valid, Phase::Invalid] {
            self.fuzz(&plan, phase, &mut known);
        }
        self.report.failures = self.failures.len();
    }

    /// Random cases of one phase, shrinking each new failure and going on after it.
    fn fuzz(&mut self, plan: &Plan<'_>, phase: Phase, known: &mut BTreeSet<(Check, String)>) {
        let strategy = (plan.positive(), proptest::arbitrary::any::<Index>());
        let mut budget = self.options.max_examples;
        for round in 0..MAX_FAILURES_PER_PHASE {
            if budget == 0 {
                return;
            }
            let config = Config {
                cases: budget,
                failure_persistence: None,
                max_shrink_iters: 512,
                max_local_rejects: 65_536,
                max_global_rejects: 65_536,
                ..Config::default()
            };
            let seed = case_seed(self.options.seed, self.index, phase as u64, round as u64);
            let mut runner =
                TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
            // The first new finding of the round becomes its target: shrinking keeps to it.
            let target: RefCell<Option<(Check, String)>> = RefCell::new(None);
            let ran = RefCell::new(0u32);
            let this = RefCell::new(&mut *self);
            let result = runner.run(&strategy, |(base, index)| {
                let Some(case) = pick(plan, phase, base, index) else {
                    return Ok(());
                };
                let mut driver = this.borrow_mut();
                let (_, _, findings) = driver.exchange(&case);
                if target.borrow().is_none() {
                    *ran.borrow_mut() += 1;
                }
                let mut target = target.borrow_mut();
                let hit = findings.iter().find(|f| match &*target {
                    Some((check, key)) => f.check == *check && &f.key == key,
                    None => !known.contains(&(f.check, f.key.clone())),
                });
                match hit {
                    Some(finding) => {
                        target.get_or_insert((finding.check, finding.key.clone()));
                        Err(TestCaseError::fail(finding.message.clone()))
                    }
                    None => Ok(()),
                }
            });
            budget = budget.saturating_sub(ran.into_inner());
            match result {
                Ok(()) | Err(TestError::Abort(_)) => return,
                Err(TestError::Fail(_, (base, index))) => {
                    let Some(case) = pick(plan, phase, base, index) else {
                        return;
                    };
                    let wanted = target.into_inner();
                    // Send the minimal case once more to capture its response for the report.
                    let (request, outcome, findings) = self.exchange(&case);
                    let mut recorded = false;
                    for finding in findings {
                        let key = (finding.check, finding.key.clone());
                        if known.insert(key.clone()) {
                            recorded |= Some(&key) == wanted.as_ref();
                            self.record(&case, &request, &outcome, finding);
                        }
                    }
                    // A flaky failure that did not show again is still known, so the run moves on.
                    if let (false, Some(key)) = (recorded, wanted) {
                        known.insert(key);
                    }
                }
            }
        }
    }

    /// Sends a case and runs the checks on what came back.
    fn exchange(&mut self, case: &Case) -> (SentRequest, Outcome, Vec<Finding>) {
        let operation = self.operation();
        let (request, built) = build(self.options, operation, case);
        let outcome = match built {
            Some(built) => self.handle.block_on(send(self.client, built)),
            None => Outcome::Transport("the request could not be built".to_owned()),
        };
        self.report.cases += 1;
        match &outcome {
            Outcome::Response(response) => {
                *self.report.statuses.entry(response.status).or_default() += 1
            }
            Outcome::Transport(_) => self.report.transport_errors += 1,
        }
        let findings = checks::evaluate(
            &self.options.settings,
            &self.api.schemas,
            operation,
            case,
            &outcome,
        );
        (request, outcome, findings)
    }

    fn record(&mut self, case: &Case, request: &SentRequest, outcome: &Outcome, finding: Finding) {
        self.failures.push(failure(
            self.options,
            &self.operation().label(),
            &case.kind,
            request,
            outcome,
            finding,
        ));
    }
}

fn failure(
    options: &Options,
    operation: &str,
    kind: &Kind,
    request: &SentRequest,
    outcome: &Outcome,
    finding: Finding,
) -> Failure {
    let (status, response_excerpt) = match outcome {
        Outcome::Response(response) => (Some(response.status), excerpt(&response.body)),
        Outcome::Transport(error) => (None, error.clone()),
    };
    Failure {
        check: finding.check.name().to_owned(),
        operation: operation.to_owned(),
        message: finding.message,
        case: kind.to_string(),
        curl: request.curl(),
        request: request.clone(),
        status,
        response_excerpt,
        seed: options.seed,
    }
}

/// The case a phase makes from a random valid base: the base itself, or one of its
/// single-constraint violations.
fn pick(plan: &Plan<'_>, phase: Phase, base: Case, index: Index) -> Option<Case> {
    match phase {
        Phase::Valid => Some(base),
        Phase::Invalid => {
            let negatives = plan.negatives(&base);
            (!negatives.is_empty()).then(|| negatives[index.index(negatives.len())].clone())
        }
    }
}

/// 32 bytes of seed for one operation, phase and round, from the run's seed (SplitMix64).
fn case_seed(seed: u64, operation: usize, phase: u64, round: u64) -> [u8; 32] {
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

/// The request for a case: what the report shows and what reqwest sends (`None` when a
/// header value cannot be sent at all).
fn build(
    options: &Options,
    operation: &Operation,
    case: &Case,
) -> (SentRequest, Option<reqwest::Request>) {
    let mut path = operation.path.clone();
    let mut query: Vec<(String, String)> = Vec::new();
    let mut headers: Vec<(String, String)> = options.headers.clone();
    for (location, name, value) in &case.params {
        match location {
            Location::Path => {
                path = path.replace(&format!("{{{name}}}"), &encode_segment(&param_text(value)))
            }
            Location::Query => match value {
                serde_json::Value::Array(items) => {
                    query.extend(items.iter().map(|v| (name.clone(), param_text(v))))
                }
                _ => query.push((name.clone(), param_text(value))),
            },
            Location::Header => headers.push((name.clone(), param_text(value))),
            Location::Cookie => {}
        }
    }
    let mut url = format!("{}{path}", options.target.trim_end_matches('/'));
    if !query.is_empty() {
        let encoded: Vec<String> = query
            .iter()
            .map(|(n, v)| format!("{}={}", encode_query(n), encode_query(v)))
            .collect();
        url = format!("{url}?{}", encoded.join("&"));
    }
    let (content_type, body) = match &case.body {
        Payload::None => (None, None),
        Payload::Json(value) => {
            let media = operation
                .body
                .as_ref()
                .map_or("application/json", |b| b.media_type.as_str());
            (
                Some(media.to_owned()),
                Some(serde_json::to_vec(value).unwrap_or_default()),
            )
        }
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
/// Returns, per probe, the operation it is counted under and the status; and the failures.
fn unsupported_methods(
    api: &Api,
    options: &Options,
    client: &reqwest::Client,
    handle: Handle,
) -> (Vec<(usize, u64, u16)>, Vec<Failure>) {
    let mut counted = Vec::new();
    let mut failures = Vec::new();
    let mut paths: Vec<&str> = api.operations.iter().map(|o| o.path.as_str()).collect();
    paths.dedup();
    for path in paths {
        let documented: Vec<&Operation> =
            api.operations.iter().filter(|o| o.path == path).collect();
        let index = api
            .operations
            .iter()
            .position(|o| o.path == path)
            .unwrap_or(0);
        // Path parameters from the simplest valid case of a documented operation.
        let base = Plan::new(&api.schemas, documented[0]).base();
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
                ..documented[0].clone()
            };
            let case = Case {
                kind: Kind::Positive,
                params: params.clone(),
                body: Payload::None,
            };
            let (request, built) = build(options, &probe, &case);
            let Some(built) = built else { continue };
            let outcome = handle.block_on(send(client, built));
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
            if let Outcome::Response(r) = &outcome {
                counted.push((index, 1, r.status));
            }
            if let Some(message) = problem {
                let finding = Finding {
                    check: Check::UnsupportedMethod,
                    key: method.to_string(),
                    message,
                };
                failures.push(failure(
                    options,
                    &format!("{method} {path}"),
                    &case.kind,
                    &request,
                    &outcome,
                    finding,
                ));
            }
        }
    }
    (counted, failures)
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    match text.char_indices().nth(EXCERPT) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.into_owned(),
    }
}

/// Percent-encodes a path segment: everything but RFC 3986's unreserved characters.
fn encode_segment(text: &str) -> String {
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

fn encode_query(text: &str) -> String {
    encode_segment(text)
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
