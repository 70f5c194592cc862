//! One operation's cases: the deterministic coverage cases, then random valid and invalid
//! ones drawn by proptest. Cases are sent in batches, up to `--concurrency` at once, and
//! judged in the order they were drawn, so the report depends on the seed, not on timing.
//! The first new finding is shrunk (one request at a time) to a minimal request; since known
//! failures no longer count, the phase goes on to the next distinct one.

use proptest::sample::Index;
use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};

use crate::checks::{Check, Finding};
use crate::engine::context::{Context, Key, MAX_FAILURES_PER_PHASE, case_seed, proptest_config};
use crate::engine::pool::Pool;
use crate::http::{Outcome, SentRequest};
use crate::report::Failure;
use openapi::generate::{Case, Kind, Payload, Plan};
use openapi::model::Operation;

/// Simplifications tried on a failing case: each one sends a request.
const SHRINK_STEPS: u32 = 512;
/// Requests in flight shown with a failure that did not show again alone.
const IN_FLIGHT_SHOWN: usize = 10;
/// Cases drawn ahead per batch, as a multiple of `--concurrency`.
const BATCH_PER_SLOT: usize = 4;

/// Checks one operation, on a blocking thread.
pub(crate) fn check_operation(
    ctx: &Context<'_>,
    index: usize,
    pool: &Pool,
    satisfiable: bool,
) -> Vec<Failure> {
    let operation = &ctx.api.operations[index];
    let plan = ctx.plan(index).with_pool(pool.for_operation(operation));
    let label = operation.label();
    let mut failures = Vec::new();
    // A coverage case meant valid that the validator refuses is not sent at all.
    let mut coverage: Vec<Case> = plan
        .coverage()
        .into_iter()
        .filter(|case| case.kind != Kind::Positive || plan.is_valid(case))
        .collect();
    coverage.extend(login_cases(ctx, &plan, operation));
    let answers = ctx.send_all(index, &coverage);
    for (case, (request, outcome)) in coverage.iter().zip(&answers) {
        let fresh: Vec<Finding> = ctx
            .check(index, case, outcome)
            .into_iter()
            .filter(|f| !ctx.is_known(&key(&label, f)))
            .collect();
        if fresh.is_empty() {
            continue;
        }
        // Sent with others at once: what does not show again alone is said to be a race.
        let again: Vec<Key> = match fresh.iter().all(|f| f.check == Check::MaxResponseTime) {
            true => fresh.iter().map(|f| key(&label, f)).collect(),
            false => {
                let (_, outcome) = ctx.send(index, case);
                ctx.check(index, case, &outcome)
                    .iter()
                    .map(|f| key(&label, f))
                    .collect()
            }
        };
        for finding in fresh {
            let this = key(&label, &finding);
            if ctx.learn(this.clone()) {
                let mut failure = ctx.failure(&label, case, (request, outcome), finding, &[]);
                if !again.contains(&this) {
                    race(&mut failure, &answers);
                }
                failures.push(failure);
            }
        }
    }
    if satisfiable {
        for phase in [Phase::Valid, Phase::Invalid] {
            Fuzz::new(ctx, index, &plan, phase).run(&mut failures);
        }
    }
    failures
}

/// The configured logins' bodies, as cases of the login operation: its one input known to
/// succeed. A body the document's schema refuses is an edge (only the answer is judged).
fn login_cases(ctx: &Context<'_>, plan: &Plan<'_>, operation: &Operation) -> Vec<Case> {
    let bodies = ctx
        .auth
        .login_bodies(operation.method.as_str(), &operation.path);
    bodies
        .into_iter()
        .map(|body| {
            let mut case = plan.base();
            case.body = Payload::Json(body);
            if !plan.is_valid(&case) {
                case.kind = Kind::Edge("the configured login's body".to_owned());
            }
            case
        })
        .collect()
}

/// Marks a failure that did not show again when its request was sent alone, with the
/// requests that were in flight with it.
fn race(failure: &mut Failure, batch: &[(SentRequest, Outcome)]) {
    failure.message.push_str(
        " (it did not show again when the request was sent alone: a race, or state other requests left)",
    );
    failure.in_flight = batch
        .iter()
        .map(|(request, _)| request.curl())
        .filter(|curl| *curl != failure.curl)
        .take(IN_FLIGHT_SHOWN)
        .collect();
}

fn key(label: &str, finding: &Finding) -> Key {
    (label.to_owned(), finding.check, finding.key.clone())
}

/// The kinds of random cases.
#[derive(Debug, Clone, Copy)]
enum Phase {
    Valid = 1,
    Invalid = 2,
}

/// A drawn value: a valid base, and for an invalid case which of its violations to send.
type Drawn = (Case, Option<Index>);

/// One phase of random cases of one operation.
struct Fuzz<'c, 'a> {
    ctx: &'c Context<'a>,
    index: usize,
    plan: &'c Plan<'c>,
    phase: Phase,
    label: String,
    strategy: BoxedStrategy<Drawn>,
}

/// A failing exchange: the case, what was sent and got, and the finding.
type Failing = (Case, SentRequest, Outcome, Finding);

impl<'c, 'a> Fuzz<'c, 'a> {
    fn new(ctx: &'c Context<'a>, index: usize, plan: &'c Plan<'c>, phase: Phase) -> Self {
        // Only invalid cases use the index (which violation to pick); a valid case without
        // one has nothing to shrink in vain.
        let strategy = match phase {
            Phase::Valid => plan.positive().prop_map(|case| (case, None)).boxed(),
            Phase::Invalid => (plan.positive(), proptest::arbitrary::any::<Index>())
                .prop_map(|(c, i)| (c, Some(i)))
                .boxed(),
        };
        Fuzz {
            ctx,
            index,
            plan,
            phase,
            label: ctx.api.operations[index].label(),
            strategy,
        }
    }

    /// Draws `--max-examples` cases in batches, sends each batch at once, and judges the
    /// answers in the order drawn.
    fn run(&self, failures: &mut Vec<Failure>) {
        let ctx = self.ctx;
        let seed = case_seed(ctx.options.seed, self.index, self.phase as u64, 0);
        let mut runner = TestRunner::new_with_rng(
            proptest_config(ctx.options.max_examples, SHRINK_STEPS),
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
        );
        let batch = ctx.options.concurrency.max(1) * BATCH_PER_SLOT;
        let mut left = ctx.options.max_examples as usize;
        let mut found = 0;
        while left > 0 && found < MAX_FAILURES_PER_PHASE {
            let mut trees = Vec::new();
            let mut cases = Vec::new();
            while trees.len() < batch.min(left) {
                // A strategy that keeps rejecting its draws ends the phase.
                let Ok(tree) = self.strategy.new_tree(&mut runner) else {
                    left = 0;
                    break;
                };
                if let Some(case) = self.pick(tree.current()) {
                    cases.push(case);
                    trees.push(Some(tree));
                } else {
                    trees.push(None);
                }
            }
            left = left.saturating_sub(trees.len());
            let answers = ctx.send_all(self.index, &cases);
            // Judged by reference: only an exchange with a finding is copied.
            let mut answered = cases.iter().zip(&answers);
            for tree in trees.into_iter().flatten() {
                let Some((case, (request, outcome))) = answered.next() else {
                    break;
                };
                let fresh: Vec<Finding> = ctx
                    .check(self.index, case, outcome)
                    .into_iter()
                    .filter(|f| !ctx.is_known(&key(&self.label, f)))
                    .collect();
                let mut fresh = fresh.into_iter();
                let Some(first) = fresh.next() else {
                    continue;
                };
                // The first is shrunk; the others the same case showed are reported as they
                // are, and so is any 5xx seen while shrinking.
                let others: Vec<Finding> = fresh.collect();
                let failing = (case.clone(), request.clone(), outcome.clone(), first);
                let (shrunk, bycatch, alone) = self.shrink(tree, failing);
                // Each other finding with the shrunk request if it shows there too.
                let on_shrunk: Vec<Key> = ctx
                    .check(self.index, &shrunk.0, &shrunk.2)
                    .iter()
                    .map(|f| key(&self.label, f))
                    .collect();
                let others: Vec<Failing> = others
                    .into_iter()
                    .map(|f| match on_shrunk.contains(&key(&self.label, &f)) {
                        true => (shrunk.0.clone(), shrunk.1.clone(), shrunk.2.clone(), f),
                        false => (case.clone(), request.clone(), outcome.clone(), f),
                    })
                    .collect();
                let first_key = key(&self.label, &shrunk.3);
                for (case, request, outcome, finding) in
                    std::iter::once(shrunk).chain(others).chain(bycatch)
                {
                    let this = key(&self.label, &finding);
                    if ctx.learn(this.clone()) {
                        let mut failure =
                            ctx.failure(&self.label, &case, (&request, &outcome), finding, &[]);
                        if this == first_key && !alone {
                            race(&mut failure, &answers);
                        }
                        failures.push(failure);
                        found += 1;
                    }
                }
                if found >= MAX_FAILURES_PER_PHASE {
                    return;
                }
            }
        }
    }

    /// The simplest case that still shows the same finding, one request at a time, as
    /// proptest's own runner shrinks; the server errors seen on the way that are new; and
    /// whether the finding showed for a request sent alone (a shrinking step, or the case
    /// sent once more when nothing simpler shows it). A slow answer is not shrunk: its time
    /// is not a function of the input, and every step would wait for it again.
    fn shrink(&self, mut tree: BoxedValueTree, failing: Failing) -> (Failing, Vec<Failing>, bool) {
        let wanted = key(&self.label, &failing.3);
        let mut best = failing;
        let mut bycatch: Vec<Failing> = Vec::new();
        if wanted.1 == Check::MaxResponseTime {
            return (best, bycatch, true);
        }
        let mut alone = false;
        let replay = |case: &Case| {
            let (request, outcome) = self.ctx.send(self.index, case);
            let shows = self
                .ctx
                .check(self.index, case, &outcome)
                .into_iter()
                .find(|f| key(&self.label, f) == wanted);
            shows.map(|finding| (case.clone(), request, outcome, finding))
        };
        // Most findings do not depend on the input (an undocumented status for any
        // request): the simplest case of the same kind is tried first, one request, before
        // shrinking step by step through what may be a large value.
        if let Some(simplest) = self.simplest(&best.0)
            && simplest != best.0
            && let Some(found) = replay(&simplest)
        {
            return (found, bycatch, true);
        }
        if !tree.simplify() {
            alone = replay(&best.0).is_some();
            return (best, bycatch, alone);
        }
        for _ in 0..SHRINK_STEPS {
            let still = self.pick(tree.current()).and_then(|case| {
                let (request, outcome) = self.ctx.send(self.index, &case);
                let mut showed = None;
                for finding in self.ctx.check(self.index, &case, &outcome) {
                    let found = key(&self.label, &finding);
                    if found == wanted {
                        showed = Some(finding);
                    } else if finding.check == Check::NotAServerError
                        && !self.ctx.is_known(&found)
                        && !bycatch.iter().any(|b| key(&self.label, &b.3) == found)
                    {
                        bycatch.push((case.clone(), request.clone(), outcome.clone(), finding));
                    }
                }
                showed.map(|finding| (case, request, outcome, finding))
            });
            let more = match still {
                Some(smaller) => {
                    best = smaller;
                    alone = true;
                    tree.simplify()
                }
                None => tree.complicate(),
            };
            if !more {
                break;
            }
        }
        if !alone {
            alone = replay(&best.0).is_some();
        }
        (best, bycatch, alone)
    }

    /// The simplest case of the same kind as `case`: the plan's base when it is valid, or
    /// the base's violation of the same constraint.
    fn simplest(&self, case: &Case) -> Option<Case> {
        let base = self.plan.base();
        match case.kind {
            Kind::Positive => self.plan.is_valid(&base).then_some(base),
            _ => self
                .plan
                .negatives(&base)
                .into_iter()
                .find(|n| n.kind == case.kind),
        }
    }

    /// The case drawn: the base itself, or one of its single-constraint violations.
    fn pick(&self, (base, index): Drawn) -> Option<Case> {
        match (self.phase, index) {
            (Phase::Invalid, Some(index)) => {
                let negatives = self.plan.negatives(&base);
                (!negatives.is_empty()).then(|| negatives[index.index(negatives.len())].clone())
            }
            _ => Some(base),
        }
    }
}

type BoxedValueTree = Box<dyn ValueTree<Value = Drawn>>;
