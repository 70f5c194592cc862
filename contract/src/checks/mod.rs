//! The checks, one file each: what is wrong with one exchange (the stateless checks, run by
//! [`evaluate`]) or with what a sequence or probe saw (the verdicts the engine asks for).
//! A new check is a file here and its name in [`names`].

pub mod allow_header_conformance;
pub mod content_type_conformance;
pub mod ensure_resource_availability;
pub mod finding;
pub mod ignored_auth;
pub mod max_response_time;
pub mod missing_required_header;
pub mod names;
pub mod negative_data_rejection;
pub mod not_a_server_error;
pub mod object_level_authorization;
pub mod positive_data_acceptance;
pub mod response_headers_conformance;
pub mod response_schema_conformance;
pub mod sensitive_data_exposure;
pub mod status_code_conformance;
pub mod unsupported_method;
pub mod use_after_free;

use crate::http::Outcome;
pub use finding::{Exchange, Finding, SENSITIVE_FIELDS, Settings, normalize_field};
pub use names::Check;
use openapi::generate::Case;
use openapi::model::Operation;
use openapi::schema::Schemas;

/// Runs every enabled stateless check on one exchange of a generated case.
pub fn evaluate(
    settings: &Settings,
    schemas: &Schemas,
    operation: &Operation,
    case: &Case,
    outcome: &Outcome,
) -> Vec<Finding> {
    let response = match outcome {
        Outcome::Transport(error) => {
            return keep_enabled(settings, vec![not_a_server_error::transport(error)]);
        }
        Outcome::Response(response) => response,
    };
    let ex = Exchange {
        settings,
        schemas,
        operation,
        case,
        response,
    };
    let mut found: Vec<Finding> = [
        not_a_server_error::check(&ex),
        max_response_time::check(&ex),
        negative_data_rejection::check(&ex),
        missing_required_header::check(&ex),
        positive_data_acceptance::check(&ex),
    ]
    .into_iter()
    .flatten()
    .collect();
    // The response is judged against what the document says of its status, if anything.
    match status_code_conformance::check(&ex) {
        Err(finding) => found.push(finding),
        Ok(None) => {}
        Ok(Some(spec)) => {
            found.extend(response_headers_conformance::check(&ex, spec));
            match content_type_conformance::check(&ex, spec) {
                Err(finding) => found.push(finding),
                // A HEAD answer carries the headers of a GET and never its body.
                Ok(Some(_)) if ex.operation.method.as_str() == "HEAD" => {}
                Ok(Some((media, schema))) => {
                    found.extend(response_schema_conformance::check(&ex, media, schema))
                }
                Ok(None) => {}
            }
        }
    }
    found.extend(sensitive_data_exposure::check(
        settings, &case.body, response,
    ));
    keep_enabled(settings, found)
}

fn keep_enabled(settings: &Settings, found: Vec<Finding>) -> Vec<Finding> {
    found
        .into_iter()
        .filter(|f| settings.enabled.contains(&f.check))
        .collect()
}
