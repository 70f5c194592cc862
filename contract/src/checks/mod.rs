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
                // A HEAD answer carries the headers of a GET and never its body; a 204 or
                // 304 has none either.
                Ok(Some(_)) if finding::without_content(&ex) => {}
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::http::Response;

    /// A 204 and a 304 have no content (RFC 9110), whatever the document describes under
    /// them: neither an empty body nor a missing Content-Type is the server's fault. A 200
    /// that is as empty is.
    #[test]
    fn answers_without_content_are_not_judged_by_their_body() {
        let api = openapi::parse(
            r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /things:
    get:
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: object}}}}
        "204": {description: none, content: {application/json: {schema: {type: object}}}}
        "304": {description: same, content: {application/json: {schema: {type: object}}}}
"##,
        )
        .unwrap();
        let operation = &api.operations[0];
        let case = openapi::generate::Plan::new(&api.schemas, operation).base();
        let settings = Settings {
            enabled: Check::ALL.into_iter().collect(),
            max_response_time: None,
            sensitive: Vec::new(),
        };
        let judged = |status: u16, content_type: Option<&str>| {
            let response = Response {
                status,
                headers: content_type
                    .map(|t| ("content-type".to_owned(), t.to_owned()))
                    .into_iter()
                    .collect(),
                body: Vec::new(),
                elapsed: Duration::ZERO,
            };
            let outcome = Outcome::Response(response);
            evaluate(&settings, &api.schemas, operation, &case, &outcome)
                .into_iter()
                .map(|f| f.check)
                .collect::<Vec<_>>()
        };
        for status in [204, 304] {
            assert_eq!(judged(status, None), [], "{status}");
            assert_eq!(judged(status, Some("application/json")), [], "{status}");
        }
        assert_eq!(
            judged(200, Some("application/json")),
            [Check::ResponseSchemaConformance]
        );
        assert_eq!(judged(200, None), [Check::ContentTypeConformance]);
    }
}
