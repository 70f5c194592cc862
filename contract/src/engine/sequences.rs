//! Testing between calls. Along the links of [`crate::engine::graph`] it runs a walk per
//! creating operation (create, read, update, delete) and random sequences under proptest,
//! probing after each step:
//! - after a DELETE succeeds, every operation on that resource must answer 404
//!   (`use_after_free`);
//! - after a create, the linked read must find it, and after an update the read must carry
//!   every field the update returned (`ensure_resource_availability`).
//!
//! A failing sequence is shrunk to its fewest steps. The ids it captured are handed to the
//! other phases through the [`Pool`].

use std::collections::BTreeMap;

use proptest::collection::vec;
use proptest::strategy::{Strategy, Union, ValueTree};
use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};
use reqwest::Method;
use serde_json::Value;

use crate::checks::{Check, Finding, ensure_resource_availability, use_after_free};
use crate::engine::context::{
    Context, Key, MAX_FAILURES_PER_PHASE, case_seed, proptest_config, sample_case,
};
use crate::engine::graph::Graph;
use crate::engine::pool::{Pool, path_params};
use crate::http::{Outcome, Response, SentRequest};
use crate::report::Failure;
use openapi::generate::Case;
use openapi::model::LinkSpec;

/// Most steps in a random sequence.
const MAX_STEPS: usize = 5;
/// Times a finding of concurrent random sequences may fail to show again alone before it
/// is no longer tried.
const MAX_DOUBTS: u32 = 2;
/// Simplifications tried on a failing random sequence: each one sends a whole sequence.
const SEQUENCE_SHRINK_STEPS: u32 = 64;

/// What the sequences found.
pub(crate) struct Outcomes {
    /// The ids left on the target for the other phases.
    pub pool: Pool,
    /// Failures of the stateful checks, each with its shrunk sequence.
    pub failures: Vec<Failure>,
    /// Failures of stateless checks seen along the way. They are left to the per-operation
    /// phases, which shrink single requests better, and reported only if those never see them.
    pub leftovers: BTreeMap<Key, Failure>,
}

/// Whether a check needs a sequence to fail: only those steer and shrink sequences.
fn needs_state(check: Check) -> bool {
    matches!(
        check,
        Check::UseAfterFree | Check::EnsureResourceAvailability
    )
}

/// Runs the walks and the random sequences.
pub(crate) fn sequences(ctx: &Context<'_>) -> Outcomes {
    let graph = Graph::new(ctx.api);
    let mut outcomes = Outcomes {
        pool: Pool::new(),
        failures: Vec::new(),
        leftovers: BTreeMap::new(),
    };
    let enabled = [Check::UseAfterFree, Check::EnsureResourceAvailability];
    if !graph.is_empty()
        && enabled
            .iter()
            .any(|c| ctx.options.settings.enabled.contains(c))
    {
        // Walks run at once (one at a time when each needs a reset first); their findings
        // are judged and shrunk in order.
        let walks = walks(ctx, &graph);
        let first_new = |key: &Key| needs_state(key.1) && !ctx.is_known(key);
        let lanes = ctx.lanes(sequence_lanes(ctx));
        let lanes: Vec<Context<'_>> = lanes.iter().map(|lane| ctx.in_lane(lane)).collect();
        let runs = run_batch(ctx, &lanes, &graph, &walks, &first_new);
        for (steps, run) in walks.into_iter().zip(runs) {
            shrink_and_record(ctx, &graph, steps, run, &mut outcomes);
        }
        random_sequences(ctx, &lanes, &graph, &mut outcomes);
    }
    outcomes.pool = seed_pool(ctx, &graph);
    outcomes
}

/// Keeps the stateless failures a run saw, the first of each.
fn keep_leftovers(ctx: &Context<'_>, run: &Run<'_, '_>, leftovers: &mut BTreeMap<Key, Failure>) {
    for found in run.found.iter().filter(|f| !needs_state(f.finding.check)) {
        leftovers.entry(found.key()).or_insert_with(|| {
            let sequence = &run.requests[..found.sent.min(run.requests.len())];
            ctx.failure(
                &found.operation,
                &found.case,
                (&found.request, &found.outcome),
                found.finding.clone(),
                sequence,
            )
        });
    }
}

/// Random cases tried per operation to seed the pool, until [`SEEDED`] are answered 2xx: a
/// server's own defect (a 500 on some inputs) should not leave every later read without ids.
const SEED_ATTEMPTS: u64 = 6;
/// Items made per creating operation for the later phases: a delete's cases take the oldest,
/// the others the newest (see `Plan::base`).
const SEEDED: usize = 2;

/// Ids for the other phases: after a reset (if any), one create per creating operation and
/// one read of every list.
fn seed_pool(ctx: &Context<'_>, graph: &Graph) -> Pool {
    ctx.reset();
    let mut run = Run::new(ctx, graph);
    for index in 0..ctx.api.operations.len() {
        if !graph.links[index].is_empty() || !graph.feeds[index].is_empty() {
            let operation = &ctx.api.operations[index];
            if operation.method == Method::DELETE {
                continue;
            }
            let mut made = 0;
            for salt in 0..SEED_ATTEMPTS {
                let before = run.store.len();
                let case = sample_case(ctx, index, salt);
                run.step(index, case, &|_: &Key| false, false);
                if run.store.len() > before {
                    made += 1;
                }
                // A list is read once: what it holds is there after one read.
                if made >= SEEDED || (operation.method == Method::GET && made > 0) {
                    break;
                }
            }
        }
    }
    run.store
}

/// A walk per operation with links: it, then each linked operation (reads first, deletes
/// last), each bound to what the first step created, updates followed by their edge cases.
fn walks(ctx: &Context<'_>, graph: &Graph) -> Vec<Vec<(usize, Case)>> {
    let api = ctx.api;
    let mut walks = Vec::new();
    for (index, links) in graph.links.iter().enumerate() {
        let mut targets: Vec<usize> = links
            .iter()
            .map(|l| l.target)
            .filter(|t| *t != index)
            .collect();
        targets.sort_by_key(|t| match api.operations[*t].method {
            Method::GET => 0,
            Method::DELETE => 2,
            _ => 1,
        });
        targets.dedup();
        if targets.is_empty() {
            continue;
        }
        let mut steps = vec![(index, sample_case(ctx, index, 1))];
        for target in targets {
            let plan = ctx.plan(target);
            steps.push((target, plan.base()));
            // An update's edges go to the item just made, where a failure that depends on
            // the stored row (a nullable field `null` on a `NOT NULL` column) can show.
            if matches!(api.operations[target].method, Method::PUT | Method::PATCH) {
                steps.extend(plan.item_edges().into_iter().map(|case| (target, case)));
            }
        }
        walks.push(steps);
    }
    walks
}

/// How stateful sequences share the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sharing {
    /// One at a time, each after a reset: a run repeats exactly (one lane).
    Alone,
    /// Each lane in a namespace of its own, reset alone before each of its sequences.
    Namespaces,
    /// At once; with `--reset`, the target is reset once before each batch rather than
    /// before each sequence, and a finding counts only once its sequence shows it again
    /// alone, after a reset of its own.
    Together,
}

fn sharing(ctx: &Context<'_>) -> Sharing {
    match (&ctx.options.namespace_header, ctx.solo_lanes()) {
        (Some(_), _) => Sharing::Namespaces,
        (None, 1) => Sharing::Alone,
        (None, _) => Sharing::Together,
    }
}

/// Sequences in flight at once.
fn sequence_lanes(ctx: &Context<'_>) -> usize {
    match sharing(ctx) {
        Sharing::Alone => 1,
        Sharing::Namespaces | Sharing::Together => ctx.solo_lanes(),
    }
}

/// Runs a batch of sequences, each lane in its context (its namespace, if any); together,
/// after one reset of the target for the whole batch.
fn run_batch<'c, 'a>(
    ctx: &'c Context<'a>,
    lanes: &'c [Context<'a>],
    graph: &'c Graph,
    batch: &[Vec<(usize, Case)>],
    stop: &(dyn Fn(&Key) -> bool + Sync),
) -> Vec<Run<'c, 'a>> {
    let together = sharing(ctx) == Sharing::Together;
    if together {
        ctx.reset();
    }
    ctx.in_parallel(batch, sequence_lanes(ctx), |lane, steps| {
        let lane = lanes.get(lane).unwrap_or(ctx);
        match together {
            true => Run::steps(lane, graph, steps, stop),
            false => Run::execute(lane, graph, steps, stop),
        }
    })
}

/// Whether a sequence shows a finding again when run alone: one seen while other sequences
/// ran at once may have been their doing (a delete in between), and the server is not
/// blamed for it. Sequences in namespaces of their own, or one at a time, ran alone.
fn confirmed(ctx: &Context<'_>, graph: &Graph, steps: &[(usize, Case)], key: &Key) -> bool {
    match sharing(ctx) {
        Sharing::Alone | Sharing::Namespaces => true,
        Sharing::Together => Run::execute(ctx, graph, steps, &|k: &Key| k == key)
            .found
            .iter()
            .any(|f| f.key() == *key),
    }
}

/// Runs a failing sequence again without each step in turn, keeping every removal after
/// which the same failure still shows, then records what is left. `first` is the
/// sequence's first run.
fn shrink_and_record(
    ctx: &Context<'_>,
    graph: &Graph,
    steps: Vec<(usize, Case)>,
    first: Run<'_, '_>,
    outcomes: &mut Outcomes,
) {
    let mut first = Some(first);
    for _ in 0..MAX_FAILURES_PER_PHASE {
        let first_new = |key: &Key| needs_state(key.1) && !ctx.is_known(key);
        let mut best = match first.take() {
            Some(run) => run,
            None => Run::execute(ctx, graph, &steps, &first_new),
        };
        keep_leftovers(ctx, &best, &mut outcomes.leftovers);
        let Some(found) = best.found.iter().find(|f| first_new(&f.key())) else {
            return;
        };
        let (key, step) = (found.key(), found.step);
        if !confirmed(ctx, graph, &steps[..=step], &key) {
            return;
        }
        let same = |k: &Key| *k == key;
        let mut minimal: Vec<(usize, Case)> = steps[..=step].to_vec();
        let mut i = 0;
        while i < minimal.len() && minimal.len() > 1 {
            let mut candidate = minimal.clone();
            candidate.remove(i);
            let run = Run::execute(ctx, graph, &candidate, &same);
            if run.found.iter().any(|f| same(&f.key())) {
                (minimal, best) = (candidate, run);
            } else {
                i += 1;
            }
        }
        // The smallest run that still showed it (at worst the first one) is the evidence.
        if ctx.learn(key.clone())
            && let Some(found) = best.found.into_iter().find(|f| same(&f.key()))
        {
            outcomes
                .failures
                .push(found.into_failure(ctx, &best.requests));
        }
    }
}

/// Random sequences of operations, drawn by proptest and run in batches (at once unless
/// each needs a reset); each new finding, judged in the order drawn, is shrunk to the fewest
/// steps.
fn random_sequences(
    ctx: &Context<'_>,
    lanes: &[Context<'_>],
    graph: &Graph,
    outcomes: &mut Outcomes,
) {
    let steps = Union::new(ctx.api.operations.iter().enumerate().map(|(index, _)| {
        ctx.plan(index)
            .positive()
            .prop_map(move |case| (index, case))
            .boxed()
    }));
    let strategy = vec(steps, 1..=MAX_STEPS);
    let seed = case_seed(ctx.options.seed, usize::MAX, 3, 0);
    let budget = (ctx.options.max_examples / 2).max(10);
    let mut runner = TestRunner::new_with_rng(
        proptest_config(budget, SEQUENCE_SHRINK_STEPS),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    );
    let (contexts, lanes) = (lanes, sequence_lanes(ctx));
    let mut left = budget as usize;
    let mut found = 0;
    let first_new = |key: &Key| needs_state(key.1) && !ctx.is_known(key);
    let mut doubted: BTreeMap<Key, u32> = BTreeMap::new();
    while left > 0 && found < MAX_FAILURES_PER_PHASE {
        let mut trees = Vec::new();
        while trees.len() < lanes.min(left) {
            match strategy.new_tree(&mut runner) {
                Ok(tree) => trees.push(tree),
                Err(_) => {
                    left = 0;
                    break;
                }
            }
        }
        left = left.saturating_sub(trees.len());
        let drawn: Vec<Vec<(usize, Case)>> = trees.iter().map(ValueTree::current).collect();
        let runs = run_batch(ctx, contexts, graph, &drawn, &first_new);
        for ((tree, steps), run) in trees.into_iter().zip(drawn).zip(runs) {
            keep_leftovers(ctx, &run, &mut outcomes.leftovers);
            let Some(key) = run.found.iter().map(Found::key).find(|k| first_new(k)) else {
                continue;
            };
            // A finding that twice did not show again alone is taken for the doing of
            // concurrent sequences, and not confirmed (nor blamed) again.
            let doubts = doubted.entry(key.clone()).or_default();
            if *doubts >= MAX_DOUBTS {
                continue;
            }
            if !confirmed(ctx, graph, &steps, &key) {
                *doubts += 1;
                continue;
            }
            let Some(failure) = shrink_sequence(ctx, graph, tree, run, &key) else {
                continue;
            };
            if ctx.learn(key) {
                outcomes.failures.push(failure);
                found += 1;
            }
        }
    }
}

/// The shortest sequence proptest finds that still shows `key`, one run at a time.
fn shrink_sequence(
    ctx: &Context<'_>,
    graph: &Graph,
    mut tree: impl ValueTree<Value = Vec<(usize, Case)>>,
    run: Run<'_, '_>,
    key: &Key,
) -> Option<Failure> {
    let evidence = |run: Run<'_, '_>| {
        let Run {
            found, requests, ..
        } = run;
        found
            .into_iter()
            .find(|f| f.key() == *key)
            .map(|f| f.into_failure(ctx, &requests))
    };
    let mut best = evidence(run)?;
    if !tree.simplify() {
        return Some(best);
    }
    for _ in 0..SEQUENCE_SHRINK_STEPS {
        let run = Run::execute(ctx, graph, &tree.current(), &|k: &Key| k == key);
        let more = match evidence(run) {
            Some(failure) => {
                best = failure;
                tree.simplify()
            }
            None => tree.complicate(),
        };
        if !more {
            break;
        }
    }
    Some(best)
}

/// A finding of a sequence, with what showed it.
struct Found {
    finding: Finding,
    operation: String,
    case: Case,
    request: SentRequest,
    outcome: Outcome,
    /// The step of the sequence it showed in, and how many requests had been sent by then.
    step: usize,
    sent: usize,
}

impl Found {
    fn key(&self) -> Key {
        (
            self.operation.clone(),
            self.finding.check,
            self.finding.key.clone(),
        )
    }

    fn into_failure(self, ctx: &Context<'_>, requests: &[SentRequest]) -> Failure {
        let sequence = &requests[..self.sent.min(requests.len())];
        ctx.failure(
            &self.operation,
            &self.case,
            (&self.request, &self.outcome),
            self.finding,
            sequence,
        )
    }
}

/// One execution of a sequence.
struct Run<'c, 'a> {
    ctx: &'c Context<'a>,
    graph: &'c Graph,
    store: Pool,
    requests: Vec<SentRequest>,
    found: Vec<Found>,
    step: usize,
}

impl<'c, 'a> Run<'c, 'a> {
    fn new(ctx: &'c Context<'a>, graph: &'c Graph) -> Run<'c, 'a> {
        Run {
            ctx,
            graph,
            store: Pool::new(),
            requests: Vec::new(),
            found: Vec::new(),
            step: 0,
        }
    }

    /// Resets the target (if configured) and runs the steps, stopping at the first finding
    /// for which `stop` is true.
    fn execute(
        ctx: &'c Context<'a>,
        graph: &'c Graph,
        steps: &[(usize, Case)],
        stop: &dyn Fn(&Key) -> bool,
    ) -> Run<'c, 'a> {
        ctx.reset();
        Run::steps(ctx, graph, steps, stop)
    }

    /// Runs the steps on the target as it is (see [`Run::execute`]).
    fn steps(
        ctx: &'c Context<'a>,
        graph: &'c Graph,
        steps: &[(usize, Case)],
        stop: &dyn Fn(&Key) -> bool,
    ) -> Run<'c, 'a> {
        let mut run = Run::new(ctx, graph);
        for (step, (index, case)) in steps.iter().enumerate() {
            run.step = step;
            if run.step(*index, case.clone(), stop, true) {
                break;
            }
        }
        run
    }

    /// Sends one step (bound to what earlier steps captured) and its probes; true when a
    /// finding for which `stop` is true showed.
    fn step(
        &mut self,
        index: usize,
        mut case: Case,
        stop: &dyn Fn(&Key) -> bool,
        probe: bool,
    ) -> bool {
        let operation = &self.ctx.api.operations[index];
        for name in path_params(operation) {
            if let Some(value) = self
                .store
                .get(&operation.path, &name)
                .and_then(|v| v.last())
            {
                case.bind(&name, value.clone());
            }
        }
        let (request, outcome) = self.send(index, &case);
        let findings = self.ctx.check(index, &case, &outcome);
        if self.note(findings, index, &case, &request, &outcome, stop) {
            return true;
        }
        let Outcome::Response(response) = &outcome else {
            return false;
        };
        if !(200..300).contains(&response.status) {
            return false;
        }
        let body: Option<Value> = serde_json::from_slice(&response.body).ok();
        self.capture(index, &case, response, body.as_ref());
        if !probe {
            return false;
        }
        match operation.method {
            // A DELETE on a collection (`DELETE /jobs`, `DELETE /clusters/{id}/acls?...`)
            // clears some of it or a setting; only one naming an item (`DELETE /jobs/{id}`)
            // makes it gone.
            Method::DELETE if openapi::resources::names_item(&operation.path) => {
                self.probe_deleted(index, &case, stop)
            }
            Method::DELETE => false,
            Method::PUT | Method::PATCH => {
                self.probe_updated(index, &case, body.as_ref(), stop)
                    || self.probe_created(index, stop)
            }
            _ => self.probe_created(index, stop),
        }
    }

    fn send(&mut self, index: usize, case: &Case) -> (SentRequest, Outcome) {
        let exchange = self.ctx.send(index, case);
        self.requests.push(exchange.0.clone());
        exchange
    }

    /// Keeps the enabled findings; true when one of them stops the sequence.
    fn note(
        &mut self,
        findings: Vec<Finding>,
        index: usize,
        case: &Case,
        request: &SentRequest,
        outcome: &Outcome,
        stop: &dyn Fn(&Key) -> bool,
    ) -> bool {
        let mut stopped = false;
        let operation = self.ctx.api.operations[index].label();
        for finding in findings
            .into_iter()
            .filter(|f| self.ctx.options.settings.enabled.contains(&f.check))
        {
            stopped |= stop(&(operation.clone(), finding.check, finding.key.clone()));
            self.found.push(Found {
                finding,
                operation: operation.clone(),
                case: case.clone(),
                request: request.clone(),
                outcome: outcome.clone(),
                step: self.step,
                sent: self.requests.len(),
            });
        }
        stopped
    }

    /// Stores what the links and lists of a 2xx response give.
    fn capture(&mut self, index: usize, case: &Case, response: &Response, body: Option<&Value>) {
        let header = |name: &str| response.header(name).map(str::to_owned);
        let links = &self.graph.links[index];
        self.store
            .take_links(self.ctx.api, links, case, &header, body);
        if let Some(body) = body {
            self.store.take_feeds(&self.graph.feeds[index], body);
        }
    }

    /// After a DELETE succeeded, every operation on the same resource must answer 404.
    fn probe_deleted(&mut self, index: usize, deleted: &Case, stop: &dyn Fn(&Key) -> bool) -> bool {
        let api = self.ctx.api;
        let operation = &api.operations[index];
        for name in path_params(operation) {
            if let Some(value) = deleted.path_param(&name) {
                self.store.forget(&operation.path, &name, value);
            }
        }
        let same_path: Vec<usize> = (0..api.operations.len())
            .filter(|i| api.operations[*i].path == operation.path)
            .collect();
        for probe in same_path {
            let mut case = self.ctx.plan(probe).base();
            for name in path_params(operation) {
                if let Some(value) = deleted.path_param(&name) {
                    case.bind(&name, value.clone());
                }
            }
            let (request, outcome) = self.send(probe, &case);
            let mut findings = self.ctx.check(probe, &case, &outcome);
            // Only an operation that can say "gone" is blamed for not saying it: one that
            // documents neither 404 nor 410 (Kafka's configs, which a delete resets) cannot.
            let can_say_gone = [404, 410]
                .iter()
                .any(|s| api.operations[probe].response_for(*s).is_some());
            if let Outcome::Response(response) = &outcome
                && can_say_gone
            {
                let label = api.operations[probe].label();
                findings.extend(use_after_free::judge(
                    &operation.label(),
                    &label,
                    response.status,
                ));
            }
            if self.note(findings, probe, &case, &request, &outcome, stop) {
                return true;
            }
        }
        false
    }

    /// After a create (any 2xx with links to a GET), the linked GET must find the resource.
    fn probe_created(&mut self, index: usize, stop: &dyn Fn(&Key) -> bool) -> bool {
        let api = self.ctx.api;
        let reads: Vec<&LinkSpec> = self.graph.links[index]
            .iter()
            .filter(|l| api.operations[l.target].method == Method::GET)
            .collect();
        for link in reads {
            let target = &api.operations[link.target];
            let mut case = self.ctx.plan(link.target).base();
            let mut bound = false;
            for (param, _) in &link.parameters {
                if let Some(value) = self.store.get(&target.path, param).and_then(|v| v.last()) {
                    case.bind(param, value.clone());
                    bound = true;
                }
            }
            if !bound {
                continue;
            }
            let (request, outcome) = self.send(link.target, &case);
            let mut findings = self.ctx.check(link.target, &case, &outcome);
            if let Outcome::Response(response) = &outcome {
                let source = api.operations[index].label();
                findings.extend(ensure_resource_availability::judge_found(
                    &source,
                    &target.label(),
                    response.status,
                ));
            }
            if self.note(findings, link.target, &case, &request, &outcome, stop) {
                return true;
            }
        }
        false
    }

    /// After an update, a read of the same resource must carry every field the update
    /// answered with.
    fn probe_updated(
        &mut self,
        index: usize,
        updated: &Case,
        written: Option<&Value>,
        stop: &dyn Fn(&Key) -> bool,
    ) -> bool {
        let api = self.ctx.api;
        let operation = &api.operations[index];
        let Some(read) = api
            .operations
            .iter()
            .position(|o| o.path == operation.path && o.method == Method::GET)
        else {
            return false;
        };
        let mut case = self.ctx.plan(read).base();
        for name in path_params(operation) {
            if let Some(value) = updated.path_param(&name) {
                case.bind(&name, value.clone());
            }
        }
        let (request, outcome) = self.send(read, &case);
        let mut findings = self.ctx.check(read, &case, &outcome);
        if let Outcome::Response(response) = &outcome {
            let (update, read_label) = (operation.label(), api.operations[read].label());
            match ensure_resource_availability::judge_found(&update, &read_label, response.status) {
                Some(finding) => findings.push(finding),
                None => {
                    if let (Some(Value::Object(written)), Ok(Value::Object(read_back))) =
                        (written, serde_json::from_slice::<Value>(&response.body))
                    {
                        findings.extend(ensure_resource_availability::judge_kept(
                            &update,
                            &read_label,
                            written,
                            &read_back,
                        ));
                    }
                }
            }
        }
        self.note(findings, read, &case, &request, &outcome, stop)
    }
}
