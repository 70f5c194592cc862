//! Probes outside the cases of an operation: protected operations without and with forged
//! credentials (`ignored_auth`), and the methods a path does not document
//! (`unsupported_method`).

use reqwest::Method;

use crate::checks::{Check, ignored_auth as judge_auth, unsupported_method};
use crate::engine::context::Context;
use crate::http::{Outcome, build};
use crate::report::Failure;
use openapi::generate::{AuthMode, Case, Kind, Payload, Plan};
use openapi::model::{Location, Operation};

/// Protected operations must refuse a request without credentials and one with a forged
/// token (`ignored_auth`).
pub(crate) fn ignored_auth(ctx: &Context<'_>) -> Vec<Failure> {
    let mut failures = Vec::new();
    if !ctx.options.settings.enabled.contains(&Check::IgnoredAuth) {
        return failures;
    }
    let mut jobs = Vec::new();
    for (index, operation) in ctx
        .api
        .operations
        .iter()
        .enumerate()
        .filter(|(_, o)| o.secured)
    {
        let base = Plan::new(&ctx.api.schemas, operation).base();
        for (mode, what) in [
            (AuthMode::Missing, "without credentials"),
            (AuthMode::Forged, "with a forged token"),
        ] {
            let case = Case {
                auth: mode,
                ..base.clone()
            };
            jobs.push((index, case, what));
        }
    }
    let sending: Vec<(usize, &Case)> = jobs.iter().map(|(i, case, _)| (*i, case)).collect();
    let answers = ctx.send_each(&sending, ctx.solo_lanes());
    for ((index, case, what), (request, outcome)) in jobs.iter().zip(answers) {
        let label = ctx.api.operations[*index].label();
        if let Outcome::Response(response) = &outcome
            && let Some(finding) = judge_auth::judge(response.status, what)
            && ctx.learn((label.clone(), finding.check, finding.key.clone()))
        {
            failures.push(ctx.failure(&label, case, (&request, &outcome), finding, &[]));
        }
    }
    failures
}

/// Sends every method a path does not document and expects 405 with an `Allow` header.
/// Returns how many probes were sent, and the failures.
pub(crate) fn unsupported_methods(ctx: &Context<'_>) -> (u64, Vec<Failure>) {
    let mut probes = Vec::new();
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
            let (request, built) = build(
                ctx.api,
                &ctx.options.target,
                &ctx.options.headers,
                ctx.auth,
                &probe,
                &case,
            );
            if let Some(built) = built {
                probes.push((probe, case, request, built));
            }
        }
    }
    let (probes, built): (Vec<_>, Vec<_>) = probes
        .into_iter()
        .map(|(probe, case, request, built)| ((probe, case, request), built))
        .unzip();
    let outcomes = match ctx.liveness.is_down() {
        true => Vec::new(),
        false => ctx.send_requests(built, ctx.solo_lanes()),
    };
    let mut failures = Vec::new();
    for ((probe, case, request), outcome) in probes.iter().zip(&outcomes) {
        ctx.liveness.note(probe, request, outcome);
        let method = probe.method.as_str();
        if let Some(finding) = unsupported_method::judge(method, outcome) {
            failures.push(ctx.failure(
                &format!("{method} {}", probe.path),
                case,
                (request, outcome),
                finding,
                &[],
            ));
        }
    }
    (outcomes.len() as u64, failures)
}
