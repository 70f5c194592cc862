//! `response_schema_conformance`: a JSON body matches the schema documented for its status
//! and media type.

use serde_json::Value;

use crate::checks::finding::{Exchange, Finding, strip_indices};
use crate::checks::names::Check;
use openapi::model::{admits_json, is_json};
use openapi::schema::Direction;

pub fn check(ex: &Exchange<'_>, media: &str, schema: Option<&Value>) -> Option<Finding> {
    // A schema under `*/*` (springfox) describes the JSON such a server answers.
    let answered_json = || {
        ex.response
            .header("content-type")
            .is_some_and(|sent| is_json(sent) && admits_json(media))
    };
    let schema = schema.filter(|_| is_json(media) || answered_json())?;
    let status = ex.response.status;
    let body = match serde_json::from_slice::<Value>(&ex.response.body) {
        Ok(body) => body,
        Err(error) => {
            return Some(Finding::new(
                Check::ResponseSchemaConformance,
                format!("{status} not json"),
                format!("the {status} body is not valid JSON: {error}"),
            ));
        }
    };
    let errors = ex.schemas.errors(schema, Direction::Response, &body);
    let first = errors.first()?;
    let more = match errors.len() {
        1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    Some(Finding::new(
        Check::ResponseSchemaConformance,
        format!("{status} {}", strip_values(first)),
        format!("the {status} body does not match its schema: {first}{more}"),
    ))
}

/// A validation message without the offending value, so that one defect is one key.
fn strip_values(message: &str) -> String {
    match message.rfind(" (at ") {
        Some(at) => {
            let (text, location) = message.split_at(at);
            let kind = text
                .split_whitespace()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .join(" ");
            format!("{}{}", kind, strip_indices(location))
        }
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_the_values_that_vary() {
        assert_eq!(strip_indices("/items/3/password"), "/items/*/password");
        assert_eq!(
            strip_values(r#""abc" is not of type "integer" (at /items/7/age)"#),
            strip_values(r#""xyz" is not of type "integer" (at /items/2/age)"#),
        );
    }
}
