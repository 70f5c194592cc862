//! A case as an HTTP request, before it meets a target: the path with its parameters and
//! query, the parameter headers, and the body with its content type. The checker and the load
//! generator send requests made here, so both put a case on the wire the same way.

use serde_json::Value;

use crate::generate::cases::{Case, Payload};
use crate::generate::wire::{encode_body, param_text, percent_encode};
use crate::model::{Location, Operation};

/// A case as a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The path with its parameters filled in, and the query: joined to a base URL as it is.
    pub path_and_query: String,
    /// Header parameters, in the order of the case.
    pub headers: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub body: Option<Vec<u8>>,
}

/// Renders a case of `operation`. Cookie parameters are not sent (few APIs take them, and
/// they need a cookie jar per case).
pub fn render(operation: &Operation, case: &Case) -> Rendered {
    let mut path = operation.path.clone();
    let mut query: Vec<(String, String)> = Vec::new();
    let mut headers = Vec::new();
    for (location, name, value) in &case.params {
        match location {
            Location::Path => {
                path = path.replace(&format!("{{{name}}}"), &percent_encode(&param_text(value)))
            }
            Location::Query => {
                // `form` arrays repeat the name when exploded (the default) and join with
                // commas when not.
                let explode = operation
                    .params
                    .iter()
                    .find(|p| p.location == Location::Query && p.name == *name)
                    .is_none_or(|p| p.explode);
                match value {
                    Value::Array(items) if explode => {
                        query.extend(items.iter().map(|v| (name.clone(), param_text(v))))
                    }
                    _ => query.push((name.clone(), param_text(value))),
                }
            }
            Location::Header => headers.push((name.clone(), param_text(value))),
            Location::Cookie => {}
        }
    }
    if !query.is_empty() {
        let encoded: Vec<String> = query
            .iter()
            .map(|(n, v)| format!("{}={}", percent_encode(n), percent_encode(v)))
            .collect();
        path = format!("{path}?{}", encoded.join("&"));
    }
    let (content_type, body) = match &case.body {
        Payload::None => (None, None),
        Payload::Json(value) => match &operation.body {
            Some(body) => {
                let (content_type, bytes) = encode_body(body, value);
                (Some(content_type), Some(bytes))
            }
            None => (
                Some("application/json".to_owned()),
                Some(serde_json::to_vec(value).unwrap_or_default()),
            ),
        },
        Payload::Raw {
            content_type,
            bytes,
        } => (content_type.clone(), Some(bytes.clone())),
        Payload::Xml {
            media_type, bytes, ..
        } => (Some(media_type.clone()), Some(bytes.clone())),
    };
    Rendered {
        path_and_query: path,
        headers,
        content_type,
        body,
    }
}
