//! One operation's cases: the deterministic coverage cases, then random valid and invalid
//! ones under proptest, which shrinks each new failure to a minimal request and, since known
//! failures no longer count, goes on to the next distinct one.

use std::cell::RefCell;

use proptest::sample::Index;
use proptest::strategy::Strategy;
use proptest::test_runner::{RngAlgorithm, TestError, TestRng, TestRunner};

use crate::checks::Finding;
use crate::engine::context::{
    Context, Key, MAX_FAILURES_PER_PHASE, case_seed, hit, proptest_config,
};
use crate::engine::pool::{Pool, pool_for};
use crate::http::{Outcome, SentRequest};
use crate::report::Failure;
use openapi::generate::{Case, Kind, Plan};

/// Checks one operation, on a blocking thread (proptest drives its test synchronously).
pub(crate) fn check_operation(
    ctx: &Context<'_>,
    index: usize,
    pool: &Pool,
    satisfiable: bool,
) -> Vec<Failure> {
    let operation = &ctx.api.operations[index];
    let plan = Plan::new(&ctx.api.schemas, operation).with_pool(pool_for(pool, operation));
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
