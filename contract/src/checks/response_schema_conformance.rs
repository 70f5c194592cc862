//! `response_schema_conformance`: a JSON body matches the schema documented for its status
//! and media type.

use serde_json::Value;

use crate::checks::finding::{Exchange, Finding, strip_indices};
use crate::checks::names::Check;
use openapi::generate::xml;
use openapi::model::{admits_json, essence, is_json};
use openapi::schema::Direction;

pub fn check(ex: &Exchange<'_>, media: &str, schema: Option<&Value>) -> Option<Finding> {
    if is_xml(media) && ex.response.header("content-type").is_some_and(is_xml) {
        return xml(ex, schema);
    }
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

fn is_xml(media: &str) -> bool {
    let essence = essence(media);
    essence.ends_with("/xml") || essence.ends_with("+xml")
}

/// An XML body is well-formed, one root element, named as the schema's `xml.name` says
/// (its content is not judged: how a server maps it to JSON's types is its own).
fn xml(ex: &Exchange<'_>, schema: Option<&Value>) -> Option<Finding> {
    let status = ex.response.status;
    let root = match xml::parse(&ex.response.body) {
        Ok(root) => root,
        // An empty body is for the status and content type checks to judge.
        Err(xml::XmlError::Empty) if ex.response.body.is_empty() => return None,
        Err(error) => {
            return Some(Finding::new(
                Check::ResponseSchemaConformance,
                format!("{status} not xml"),
                format!("the {status} body is not well-formed XML: {error}"),
            ));
        }
    };
    let expected = xml::declared_root(ex.schemas, schema?)?;
    (root.name != expected).then(|| {
        Finding::new(
            Check::ResponseSchemaConformance,
            format!("{status} xml root"),
            format!(
                "the {status} body's root element is <{}>, not the <{expected}> its schema names",
                root.name
            ),
        )
    })
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
