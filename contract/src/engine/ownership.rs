//! `object_level_authorization`, when a second identity is configured: every protected
//! operation that creates a resource makes one as the first identity, and every protected
//! operation its links lead to is tried on it as the second (reads first, deletes last).
//! Before a read is tried as the second, the first must be able to read it: a resource its
//! own creator cannot see blames nobody.

use reqwest::Method;
use serde_json::Value;

use crate::checks::{Check, object_level_authorization};
use crate::engine::context::{Context, sample_case};
use crate::engine::graph::{Graph, evaluate};
use crate::http::Outcome;
use crate::report::Failure;

/// What the phase found, and how many requests the second identity sent.
pub(crate) struct Ownership {
    pub failures: Vec<Failure>,
    pub tried: usize,
}

pub(crate) fn object_level_authorization(ctx: &Context<'_>) -> Ownership {
    let mut found = Ownership {
        failures: Vec::new(),
        tried: 0,
    };
    let Some(second) = ctx.auth.second() else {
        return found;
    };
    if !ctx
        .options
        .settings
        .enabled
        .contains(&Check::ObjectLevelAuthorization)
    {
        return found;
    }
    let operations = &ctx.api.operations;
    let graph = Graph::new(ctx.api);
    for (index, links) in graph.links.iter().enumerate() {
        let creator = &operations[index];
        if !creator.secured || links.is_empty() || ctx.liveness.is_down() {
            continue;
        }
        let case = sample_case(ctx, index, 2);
        let (created, outcome) = ctx.send(index, &case);
        let Outcome::Response(response) = &outcome else {
            continue;
        };
        if !(200..300).contains(&response.status) {
            continue;
        }
        let body: Option<Value> = serde_json::from_slice(&response.body).ok();
        let mut targets: Vec<_> = links
            .iter()
            .filter(|link| link.target != index && operations[link.target].secured)
            .collect();
        targets.sort_by_key(|link| match operations[link.target].method {
            Method::GET => 0,
            Method::DELETE => 2,
            _ => 1,
        });
        for link in targets {
            let target = &operations[link.target];
            let mut probe = ctx.plan(link.target).base();
            let bound = link.parameters.iter().all(|(param, expression)| {
                evaluate(expression, &case, response, body.as_ref())
                    .map(|value| probe.bind(param, value))
                    .is_some()
            });
            if !bound {
                continue;
            }
            if target.method == Method::GET {
                let (_, own) = ctx.send(link.target, &probe);
                if !matches!(&own, Outcome::Response(r) if (200..300).contains(&r.status)) {
                    continue;
                }
            }
            let (request, outcome) = ctx.send_as(link.target, &probe, second);
            found.tried += 1;
            let Outcome::Response(answer) = &outcome else {
                continue;
            };
            let label = target.label();
            if let Some(finding) =
                object_level_authorization::judge(&creator.label(), &label, answer.status)
                && ctx.learn((label.clone(), finding.check, finding.key.clone()))
            {
                let sequence = [created.clone(), request.clone()];
                found.failures.push(ctx.failure(
                    &label,
                    &probe,
                    (&request, &outcome),
                    finding,
                    &sequence,
                ));
            }
        }
    }
    found
}
