//! Probes outside the cases of an operation: protected operations without and with forged
//! credentials (`ignored_auth`), and the methods a path does not document
//! (`unsupported_method`).

use reqwest::Method;

use crate::checks::{Check, ignored_auth as judge_auth, unsupported_method};
use crate::engine::context::Context;
use crate::http::{Outcome, build, send};
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
            let (request, outcome) = ctx.send(index, &case);
            if let Outcome::Response(response) = &outcome
                && let Some(finding) = judge_auth::judge(response.status, what)
                && ctx.learn((operation.label(), finding.check, finding.key.clone()))
            {
                failures.push(ctx.failure(
                    &operation.label(),
                    &case,
                    (&request, &outcome),
                    finding,
                    &[],
                ));
            }
        }
    }
    failures
}

/// Sends every method a path does not document and expects 405 with an `Allow` header.
/// Returns how many probes were sent, and the failures.
pub(crate) fn unsupported_methods(ctx: &Context<'_>) -> (u64, Vec<Failure>) {
    let mut sent = 0;
    let mut failures = Vec::new();
    let mut paths: Vec<&str> = ctx.api.operations.iter().map(|o| o.path.as_str()).collect();
    paths.dedup();
    for path in paths {
        if ctx.liveness.is_down() {
            break;
        }
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
            let Some(built) = built else { continue };
            let outcome =
                ctx.handle
                    .block_on(send(ctx.client, built, ctx.options.max_response_size));
            ctx.liveness.note(&probe, &request, &outcome);
            sent += 1;
            if let Some(finding) = unsupported_method::judge(method.as_str(), &outcome) {
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
