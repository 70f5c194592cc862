//! `response_headers_conformance`: every required response header is there, and every
//! documented one matches its schema (as JSON, or as text).

use serde_json::Value;

use crate::checks::finding::{Exchange, Finding};
use crate::checks::names::Check;
use openapi::model::ResponseSpec;
use openapi::schema::Direction;

pub fn check(ex: &Exchange<'_>, spec: &ResponseSpec) -> Vec<Finding> {
    let status = ex.response.status;
    let mut found = Vec::new();
    for (name, required, schema) in &spec.headers {
        match (ex.response.header(name), schema) {
            (None, _) if *required => found.push(Finding::new(
                Check::ResponseHeadersConformance,
                format!("{status} missing {name}"),
                format!("required header `{name}` is missing from the {status} response"),
            )),
            (Some(value), Some(schema)) => {
                let parsed =
                    serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
                let as_text = Value::String(value.to_owned());
                let valid = ex.schemas.is_valid(schema, Direction::Response, &parsed)
                    || ex.schemas.is_valid(schema, Direction::Response, &as_text);
                if !valid {
                    found.push(Finding::new(
                        Check::ResponseHeadersConformance,
                        format!("{status} invalid {name}"),
                        format!("header `{name}: {value}` does not match its schema"),
                    ));
                }
            }
            _ => {}
        }
    }
    found
}
