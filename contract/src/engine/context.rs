//! What every phase shares: the document, the options, the client and the credentials, the
//! set of defects already reported (each is reported once), and the proptest settings and
//! seeds that make a run repeat.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use tokio::runtime::Handle;

use crate::auth::Auth;
use crate::checks::{self, Check, Finding};
use crate::engine::options::Options;
use crate::http::{Outcome, SentRequest, build, excerpt, send};
use crate::report::{Failure, OperationReport};
use openapi::generate::{AuthMode, Case, Judges, Kind, Plan};
use openapi::model::{Api, Operation};

/// Distinct failures an operation may report per phase, so that a badly broken server
/// cannot keep the run going for ever.
pub(crate) const MAX_FAILURES_PER_PHASE: usize = 20;

/// Requests in a row that got no response before the target counts as down.
pub(crate) const DEAD_AFTER: usize = 8;
/// What a case that was not sent "got": no findings are made of it.
const NOT_SENT: &str =
    "not sent: the target had stopped answering, or a budget of the run was spent";

/// Whether the target still answers. After [`DEAD_AFTER`] requests in a row got no
/// response, nothing more is sent: every phase runs out quickly and the report says why.
#[derive(Debug, Default)]
pub(crate) struct Liveness {
    streak: AtomicUsize,
    down: AtomicBool,
    /// The last request that got no response: its operation, the request and the error.
    last: Mutex<Option<(String, SentRequest, String)>>,
}

impl Liveness {
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Acquire)
    }

    /// Takes note of one exchange with the target.
    pub fn note(&self, operation: &Operation, request: &SentRequest, outcome: &Outcome) {
        match outcome {
            Outcome::Response(_) => self.streak.store(0, Ordering::Release),
            Outcome::Transport(error) => {
                *self.last.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some((operation.label(), request.clone(), error.clone()));
                if self.streak.fetch_add(1, Ordering::AcqRel) + 1 >= DEAD_AFTER {
                    self.down.store(true, Ordering::Release);
                }
            }
        }
    }

    /// The last request that got no response, once the target is down.
    pub fn last_failure(&self) -> Option<(String, SentRequest, String)> {
        match self.is_down() {
            true => self
                .last
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            false => None,
        }
    }
}

/// The run's budgets (`--max-time`, `--max-failures`): once one is spent, nothing more is
/// sent, every phase runs out quickly, and the report says why.
#[derive(Debug)]
pub(crate) struct Budget {
    started: Instant,
    spent: Mutex<Option<String>>,
}

impl Budget {
    pub fn new() -> Budget {
        Budget {
            started: Instant::now(),
            spent: Mutex::new(None),
        }
    }

    /// Why the run stopped early, if it did.
    pub fn spent(&self) -> Option<String> {
        self.spent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether a budget is spent, given the failures found so far.
    fn is_spent(&self, options: &Options, failures: usize) -> bool {
        let mut spent = self.spent.lock().unwrap_or_else(PoisonError::into_inner);
        if spent.is_none() {
            if let Some(limit) = options.max_time.filter(|t| self.started.elapsed() >= *t) {
                *spent = Some(format!("--max-time {} s was reached", limit.as_secs_f64()));
            } else if let Some(limit) = options.max_failures.filter(|n| failures >= *n) {
                *spent = Some(format!("--max-failures {limit} was reached"));
            }
        }
        spent.is_some()
    }
}

/// Requests of one operation in a row that got no response before the operation is skipped.
pub(crate) const OPERATION_DEAD_AFTER: usize = 5;
/// Bytes of answers a slow operation remembers, so that it is not asked the same twice.
const REMEMBERED_BYTES: usize = 4 << 20;

/// One operation's health: a streak of requests with no response (after
/// [`OPERATION_DEAD_AFTER`] its remaining cases are skipped), and, once an answer was over
/// `--max-response-time`, the answers it gave, by request.
#[derive(Debug, Default)]
pub(crate) struct Health {
    streak: AtomicUsize,
    /// The request that made the operation count as dead, and its error.
    dead: Mutex<Option<(SentRequest, String)>>,
    slow: AtomicBool,
    answers: Mutex<(usize, HashMap<String, Outcome>)>,
    /// A request with the login's credentials was answered other than 401.
    pub authorized: AtomicBool,
    /// A valid case was answered: until then, an invalid one that gets no answer (a
    /// connection closed on a header it could not read) is not blamed on the server.
    answered_valid: AtomicBool,
}

impl Health {
    fn is_skipped(&self) -> bool {
        self.streak.load(Ordering::Acquire) >= OPERATION_DEAD_AFTER
    }

    /// The request that made the operation count as dead, and its error.
    pub fn dead(&self) -> Option<(SentRequest, String)> {
        self.dead
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn note(&self, request: &SentRequest, outcome: &Outcome) {
        match outcome {
            Outcome::Response(response) => {
                self.streak.store(0, Ordering::Release);
                if self.slow.load(Ordering::Acquire) {
                    let curl = request.curl();
                    let mut answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
                    let size = response.body.len() + curl.len();
                    if answers.0 + size <= REMEMBERED_BYTES {
                        answers.0 += size;
                        answers.1.insert(curl, outcome.clone());
                    }
                }
            }
            Outcome::Transport(error) => {
                if self.streak.fetch_add(1, Ordering::AcqRel) + 1 == OPERATION_DEAD_AFTER {
                    *self.dead.lock().unwrap_or_else(PoisonError::into_inner) =
                        Some((request.clone(), error.clone()));
                }
            }
        }
    }

    fn remembered(&self, request: &SentRequest) -> Option<Outcome> {
        if !self.slow.load(Ordering::Acquire) {
            return None;
        }
        let answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        answers.1.get(&request.curl()).cloned()
    }
}

/// The longest `Retry-After` of a 429 that is waited out before the one retry.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

/// Spaces requests out to a rate (`--rate-limit`), across every worker.
#[derive(Debug, Default)]
pub(crate) struct Pacer {
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    /// Waits for the next slot of a rate of `per_second` requests.
    async fn wait(&self, per_second: f64) {
        let interval = Duration::from_secs_f64(1.0 / per_second);
        let now = Instant::now();
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
            let slot = next.map_or(now, |next| next.max(now));
            *next = Some(slot + interval);
            slot
        };
        tokio::time::sleep(slot.saturating_duration_since(now)).await;
    }
}

/// What the phases share, owned, so that each blocking task can hold its own handle to it.
#[derive(Clone)]
pub(crate) struct Shared {
    pub api: Arc<Api>,
    pub options: Arc<Options>,
    pub client: reqwest::Client,
    pub auth: Arc<Auth>,
    pub stats: Arc<Mutex<Vec<OperationReport>>>,
    pub known: Arc<Mutex<BTreeSet<Key>>>,
    pub liveness: Arc<Liveness>,
    pub pacer: Arc<Pacer>,
    pub health: Arc<[Health]>,
    pub budget: Arc<Budget>,
    /// Per operation, how the server reads its parts: made at first use, once per run.
    pub judges: Arc<[OnceLock<Arc<Judges>>]>,
}

impl Shared {
    /// Runs `work` on a blocking thread: proptest and the probes drive requests synchronously.
    pub fn blocking<T: Send + 'static>(
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
                liveness: &shared.liveness,
                pacer: &shared.pacer,
                health: &shared.health,
                budget: &shared.budget,
                judges: &shared.judges,
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
    pub liveness: &'a Liveness,
    pub pacer: &'a Pacer,
    /// Per operation: whether it still answers, and what a slow one already answered.
    pub health: &'a [Health],
    pub budget: &'a Budget,
    pub judges: &'a [OnceLock<Arc<Judges>>],
}

impl<'a> Context<'a> {
    /// The plan of an operation: its judges are made once per run, whatever asks.
    pub fn plan(&self, index: usize) -> Plan<'a> {
        let operation = &self.api.operations[index];
        let judges = self.judges[index]
            .get_or_init(|| Arc::new(Judges::new(&self.api.schemas, operation)))
            .clone();
        Plan::with_judges(&self.api.schemas, operation, judges)
    }
}

impl Context<'_> {
    /// The options and identities of each lane of stateful sequences, when the target has
    /// namespaces (`--namespace-header`): lane `n` runs in namespace `contract-n`, its
    /// requests, login and reset all carrying its header. Empty without namespaces.
    pub fn lanes(&self, count: usize) -> Vec<(Options, Auth)> {
        let Some(name) = &self.options.namespace_header else {
            return Vec::new();
        };
        (0..count)
            .map(|lane| {
                let header = (name.trim().to_owned(), format!("contract-{lane}"));
                let mut options = self.options.clone();
                options.headers.push(header.clone());
                options.namespace = Some(header.clone());
                (options, self.auth.in_namespace(header))
            })
            .collect()
    }

    /// This context with a lane's options and identities (see [`Context::lanes`]).
    pub fn in_lane<'b>(&'b self, (options, auth): &'b (Options, Auth)) -> Context<'b> {
        Context {
            api: self.api,
            options,
            client: self.client,
            handle: self.handle.clone(),
            auth,
            stats: self.stats,
            known: self.known,
            liveness: self.liveness,
            pacer: self.pacer,
            health: self.health,
            budget: self.budget,
            judges: self.judges,
        }
    }

    pub fn is_known(&self, key: &Key) -> bool {
        self.known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(key)
    }

    /// Whether a budget of the run is spent: nothing more is sent.
    pub fn out_of_budget(&self) -> bool {
        // A run without budgets takes no lock per request.
        if self.options.max_time.is_none() && self.options.max_failures.is_none() {
            return false;
        }
        let failures = self
            .known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        self.budget.is_spent(self.options, failures)
    }

    /// Remembers a defect; true when it was new.
    pub fn learn(&self, key: Key) -> bool {
        self.known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key)
    }

    /// Sends a case for an operation and waits for its answer.
    pub fn send(&self, index: usize, case: &Case) -> (SentRequest, Outcome) {
        self.handle
            .block_on(self.send_async(index, case, self.auth))
    }

    /// The same, with the credentials of another identity.
    pub fn send_as(&self, index: usize, case: &Case, auth: &Auth) -> (SentRequest, Outcome) {
        self.handle.block_on(self.send_async(index, case, auth))
    }

    /// Sends cases of one operation, up to `--concurrency` at once, and gives their answers
    /// in the order of the cases, so what is judged next does not depend on timing.
    pub fn send_all(&self, index: usize, cases: &[Case]) -> Vec<(SentRequest, Outcome)> {
        let jobs: Vec<(usize, &Case)> = cases.iter().map(|case| (index, case)).collect();
        self.send_each(&jobs, self.options.concurrency)
    }

    /// Sends cases of any operations, up to `lanes` at once; the answers in their order.
    pub fn send_each(&self, jobs: &[(usize, &Case)], lanes: usize) -> Vec<(SentRequest, Outcome)> {
        use futures_util::stream::{self, StreamExt};
        self.handle.block_on(
            stream::iter(jobs)
                .map(|(index, case)| self.send_async(*index, case, self.auth))
                .buffered(lanes.max(1))
                .collect(),
        )
    }

    /// Sends requests outside any operation's cases (probes), paced, up to `lanes` at once;
    /// the outcomes in their order.
    pub fn send_requests(&self, requests: Vec<reqwest::Request>, lanes: usize) -> Vec<Outcome> {
        use futures_util::stream::{self, StreamExt};
        self.handle.block_on(
            stream::iter(requests)
                .map(|request| self.send_paced(request))
                .buffered(lanes.max(1))
                .collect(),
        )
    }

    /// Requests in flight at once in a phase that runs alone (the stateful phase, the
    /// probes): every worker's share.
    pub fn solo_lanes(&self) -> usize {
        self.options.concurrency.max(1) * self.options.workers.max(1)
    }

    /// Runs `work` on each item on up to `lanes` threads (each may send and wait), telling
    /// it which lane it runs in; the results in the items' order.
    pub fn in_parallel<T: Sync, R: Send>(
        &self,
        items: &[T],
        lanes: usize,
        work: impl Fn(usize, &T) -> R + Sync,
    ) -> Vec<R> {
        let lanes = lanes.clamp(1, items.len().max(1));
        if lanes == 1 {
            return items.iter().map(|item| work(0, item)).collect();
        }
        let next = AtomicUsize::new(0);
        let mut results: Vec<Option<R>> = items.iter().map(|_| None).collect();
        std::thread::scope(|scope| {
            let lanes: Vec<_> = (0..lanes)
                .map(|lane| {
                    let (work, next) = (&work, &next);
                    scope.spawn(move || {
                        let mut done = Vec::new();
                        loop {
                            let at = next.fetch_add(1, Ordering::Relaxed);
                            let Some(item) = items.get(at) else {
                                return done;
                            };
                            done.push((at, work(lane, item)));
                        }
                    })
                })
                .collect();
            for lane in lanes {
                let done = lane
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                for (at, result) in done {
                    results[at] = Some(result);
                }
            }
        });
        results.into_iter().flatten().collect()
    }

    /// Sends a case for an operation. A protected operation that answers 401 to the login's
    /// token gets a fresh login and the case once more (a logout may have revoked the token).
    async fn send_async(&self, index: usize, case: &Case, auth: &Auth) -> (SentRequest, Outcome) {
        let operation = &self.api.operations[index];
        let (mut attempt, mut sent) = self.send_once(index, case, auth).await;
        let token_refused = matches!(&attempt.1, Outcome::Response(r) if r.status == 401);
        if token_refused && operation.secured && case.auth == AuthMode::Normal && auth.can_log_in()
        {
            let fresh = auth.log_in(self.client, &self.options.target).await;
            if fresh.is_ok() {
                (attempt, sent) = self.send_once(index, case, auth).await;
            }
        }
        // Neither a case not sent nor one answered from memory counts as sent.
        if !sent {
            return attempt;
        }
        if let Outcome::Response(response) = &attempt.1 {
            let health = &self.health[index];
            if self
                .options
                .settings
                .max_response_time
                .is_some_and(|limit| response.elapsed > limit)
            {
                health.slow.store(true, Ordering::Release);
            }
            if operation.secured && case.auth == AuthMode::Normal && response.status != 401 {
                health.authorized.store(true, Ordering::Release);
            }
            if case.kind == Kind::Positive {
                health.answered_valid.store(true, Ordering::Release);
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

    /// Sends a case once; the flag says whether it went to the target.
    async fn send_once(
        &self,
        index: usize,
        case: &Case,
        auth: &Auth,
    ) -> ((SentRequest, Outcome), bool) {
        let operation = &self.api.operations[index];
        let (request, built) = build(
            self.api,
            &self.options.target,
            &self.options.headers,
            auth,
            operation,
            case,
        );
        let health = &self.health[index];
        if self.liveness.is_down() || health.is_skipped() || self.out_of_budget() {
            return ((request, Outcome::Transport(NOT_SENT.to_owned())), false);
        }
        // An operation known to be slow is not asked again what it already answered.
        if let Some(outcome) = health.remembered(&request) {
            return ((request, outcome), false);
        }
        let outcome = match built {
            Some(built) => {
                // A 429 that says when to come back is waited out (up to a bound) and the
                // request sent once more.
                let again = built.try_clone();
                let mut outcome = self.send_paced(built).await;
                if let (Some(wait), Some(again)) = (retry_after(&outcome), again) {
                    tokio::time::sleep(wait).await;
                    outcome = self.send_paced(again).await;
                }
                self.liveness.note(operation, &request, &outcome);
                health.note(&request, &outcome);
                outcome
            }
            None => Outcome::Transport("the request could not be built".to_owned()),
        };
        ((request, outcome), true)
    }

    async fn send_paced(&self, request: reqwest::Request) -> Outcome {
        if let Some(rate) = self.options.rate_limit {
            self.pacer.wait(rate).await;
        }
        send(self.client, request, self.options.max_response_size).await
    }

    /// The stateless checks on one exchange.
    pub fn check(&self, index: usize, case: &Case, outcome: &Outcome) -> Vec<Finding> {
        if matches!(outcome, Outcome::Transport(error) if error == NOT_SENT) {
            return Vec::new();
        }
        // No answer to an invalid case counts only where valid ones of the operation are
        // answered: otherwise it says nothing of how the server treats bad input.
        if matches!(outcome, Outcome::Transport(_))
            && case.kind != Kind::Positive
            && !self.health[index].answered_valid.load(Ordering::Acquire)
        {
            return Vec::new();
        }
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
            && !self.plan(index).is_valid(case)
        {
            found.retain(|f| f.check != Check::PositiveDataAcceptance);
        }
        found
    }

    /// Sends the configured reset request, if any.
    pub fn reset(&self) {
        if let Some((method, path)) = &self.options.reset {
            let url = match path.starts_with("http://") || path.starts_with("https://") {
                true => path.clone(),
                false => format!("{}{path}", self.options.target.trim_end_matches('/')),
            };
            let mut request = self.client.request(method.clone(), url);
            // In a namespace, only that namespace is reset.
            if let Some((name, value)) = &self.options.namespace {
                request = request.header(name, value);
            }
            // Made inside the runtime: a lane's thread has none of its own (reqwest's timer).
            let _ = self.handle.block_on(async move { request.send().await });
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
            in_flight: Vec::new(),
            status,
            response_excerpt,
            seed: self.options.seed,
        }
    }
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

/// A random valid case for an operation, the same for the same seed.
pub(crate) fn sample_case(ctx: &Context<'_>, index: usize, salt: u64) -> Case {
    let plan = ctx.plan(index);
    let seed = case_seed(ctx.options.seed, index, 4, salt);
    let mut runner = TestRunner::new_with_rng(
        proptest_config(1, 0),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    );
    match plan.positive().new_tree(&mut runner) {
        Ok(tree) => tree.current(),
        Err(_) => plan.base(),
    }
}

/// How long a 429 asks to wait, in seconds, if it says and it is not too long.
fn retry_after(outcome: &Outcome) -> Option<Duration> {
    let Outcome::Response(response) = outcome else {
        return None;
    };
    let seconds: u64 = response.header("retry-after")?.trim().parse().ok()?;
    let wait = Duration::from_secs(seconds);
    (response.status == 429 && wait <= MAX_RETRY_AFTER).then_some(wait)
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

#[cfg(test)]
mod tests {
    use super::*;

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
