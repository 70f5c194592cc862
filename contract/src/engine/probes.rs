//! Probes outside the cases of an operation: protected operations without and with forged
//! credentials (`ignored_auth`), and the methods a path does not document
//! (`unsupported_method`).

use std::collections::{BTreeMap, HashMap};

use reqwest::Method;

use crate::checks::{
    Check, Finding, allow_header_conformance, ignored_auth as judge_auth, unsupported_method,
};
use crate::engine::context::Context;
use crate::http::{Outcome, build};
use crate::report::Failure;
use openapi::generate::{AuthMode, Case, Kind, Payload, param_text};
use openapi::model::{Location, Operation};
use openapi::template::template_matches;

/// Protected operations must refuse a request without credentials and one with a forged
/// token (`ignored_auth`).
pub(crate) fn ignored_auth(ctx: &Context<'_>) -> Vec<Failure> {
    let mut failures = Vec::new();
    if !ctx.options.settings.enabled.contains(&Check::IgnoredAuth) {
        return failures;
    }
    let mut jobs = Vec::new();
    for (index, _) in ctx
        .api
        .operations
        .iter()
        .enumerate()
        .filter(|(_, o)| o.secured)
    {
        let base = ctx.plan(index).base();
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

/// Where a path is looked for: its depth and its first segment (`{` for a template one).
fn bucket(path: &str) -> (usize, &str) {
    let depth = path.split('/').count();
    let first = path.split('/').nth(1).unwrap_or("");
    match first.contains('{') {
        true => (depth, "{"),
        false => (depth, first),
    }
}

/// Sends every method a path does not document (and that no other documented path matching
/// the same URL takes) and expects 405 with an `Allow` header that lists the path's methods;
/// asks each path `OPTIONS` too, and judges the `Allow` of any answer. A defect shown on many
/// paths (no `Allow` anywhere) is one failure, with how many more showed it. Returns how many
/// probes were sent, and the failures.
pub(crate) fn unsupported_methods(ctx: &Context<'_>) -> (u64, Vec<Failure>) {
    let mut probes = Vec::new();
    // Each path's operations, and every documented (method, template) by the template's
    // depth and first segment: a probe looks only where a match can be.
    let mut by_path: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, operation) in ctx.api.operations.iter().enumerate() {
        by_path.entry(&operation.path).or_default().push(index);
    }
    let mut templates: HashMap<(usize, &str), Vec<(&Method, &str)>> = HashMap::new();
    for (method, path) in ctx
        .api
        .operations
        .iter()
        .map(|o| (&o.method, o.path.as_str()))
        .chain(ctx.api.left_out.iter().map(|(m, p)| (m, p.as_str())))
    {
        templates
            .entry(bucket(path))
            .or_default()
            .push((method, path));
    }
    for (path, indices) in by_path {
        let documented: Vec<&Operation> = indices.iter().map(|&i| &ctx.api.operations[i]).collect();
        // Path parameters from the simplest valid case of a documented operation.
        let base = ctx.plan(indices[0]).base();
        let params: Vec<_> = base
            .params
            .into_iter()
            .filter(|(l, _, _)| *l == Location::Path)
            .collect();
        let concrete = params
            .iter()
            .fold(path.to_owned(), |url, (_, name, value)| {
                url.replace(&format!("{{{name}}}"), &param_text(value))
            });
        let (depth, first) = bucket(&concrete);
        let candidates: Vec<(&Method, &str)> = [(depth, first), (depth, "{")]
            .iter()
            .filter_map(|key| templates.get(key))
            .flatten()
            .copied()
            .collect();
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ] {
            // `PUT /user/login` is also `PUT /user/{username}`: not undocumented there.
            let taken = candidates
                .iter()
                .any(|(m, p)| **m == method && template_matches(p, &concrete));
            if taken {
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
                let methods: Vec<String> =
                    documented.iter().map(|o| o.method.to_string()).collect();
                probes.push(((probe, case, request, methods), built));
            }
        }
    }
    let (probes, built): (Vec<_>, Vec<_>) = probes.into_iter().unzip();
    let outcomes = match ctx.liveness.is_down() {
        true => Vec::new(),
        false => ctx.send_requests(built, ctx.solo_lanes()),
    };
    // Each defect once, with the probes that showed it.
    let mut shown: Vec<(Finding, usize, Vec<String>)> = Vec::new();
    let mut failures = Vec::new();
    for ((probe, case, request, documented), outcome) in probes.iter().zip(&outcomes) {
        ctx.liveness.note(probe, request, outcome);
        let method = probe.method.as_str();
        let label = format!("{method} {}", probe.path);
        let documented: Vec<&str> = documented.iter().map(String::as_str).collect();
        let allow = match outcome {
            Outcome::Response(r) if r.status == 405 || (200..300).contains(&r.status) => {
                r.header("allow").map(|allow| (allow, r.status == 405))
            }
            _ => None,
        };
        if let Some((allow, refused)) = allow
            && let Some(finding) =
                allow_header_conformance::judge(allow, &documented, method, refused)
            && ctx
                .options
                .settings
                .enabled
                .contains(&Check::AllowHeaderConformance)
            && ctx.learn((probe.path.clone(), finding.check, finding.key.clone()))
        {
            failures.push(ctx.failure(&probe.path, case, (request, outcome), finding, &[]));
        }
        // OPTIONS may be answered as the server likes; only its Allow is judged.
        if probe.method == Method::OPTIONS
            || !ctx
                .options
                .settings
                .enabled
                .contains(&Check::UnsupportedMethod)
        {
            continue;
        }
        if let Some(finding) = unsupported_method::judge(method, outcome) {
            match shown.iter_mut().find(|(f, _, _)| f.key == finding.key) {
                Some((_, _, others)) => others.push(label),
                None => {
                    let failure =
                        ctx.failure(&label, case, (request, outcome), finding.clone(), &[]);
                    failures.push(failure);
                    shown.push((finding, failures.len() - 1, Vec::new()));
                }
            }
        }
    }
    for (_, at, others) in shown {
        if !others.is_empty() {
            let listed: Vec<&str> = others.iter().take(5).map(String::as_str).collect();
            let more = match others.len() > 5 {
                true => format!(", and {} more", others.len() - 5),
                false => String::new(),
            };
            failures[at].message.push_str(&format!(
                "; the same for {} other probe(s): {}{more}",
                others.len(),
                listed.join(", ")
            ));
        }
    }
    (outcomes.len() as u64, failures)
}
