//! Responses as the document describes them: a status the operation documents, its media
//! type, its required headers, and a body that conforms (an example, a stored item, or a
//! generated value); errors in the documented error shape, else in our JSON error body.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use openapi::generate::wire::param_text;
use openapi::model::{Api, Operation, ResponseSpec, StatusKey};

use crate::core::error::error_response;
use crate::engines::spec::values::{
    conform, full, set_if_valid, simplest, strip_write_only, valid,
};

/// The JSON schema of a documented response, and the media type to answer it in.
fn json_content(spec: &ResponseSpec) -> Option<(&str, Option<&Value>)> {
    spec.json()
}

/// The media type a response says it is: a documented wildcard (`text/*`, `image/*`) names
/// no type, so the plainest one it covers.
fn concrete(media: &str) -> &str {
    match media.split(';').next().unwrap_or(media).trim() {
        "text/*" => "text/plain",
        essence if essence.contains('*') => "application/octet-stream",
        _ => media,
    }
}

/// A response of `status` with the documented required headers (values from their schemas).
fn with_headers(
    api: &Api,
    spec: &ResponseSpec,
    status: StatusCode,
    mut response: Response,
) -> Response {
    *response.status_mut() = status;
    for (name, required, schema) in &spec.headers {
        let (true, Some(schema)) = (*required, schema) else {
            continue;
        };
        let lower = name.to_ascii_lowercase();
        if lower == "content-type" || lower == "content-length" {
            continue;
        }
        let text = param_text(&simplest(&api.schemas, schema));
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(lower), HeaderValue::from_str(&text)) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// JSON numbers as a client reads them back: a whole number past 64 bits (a request's
/// `-3911909976510490396852224`, which the parser holds as a float) is written in whole
/// digits, not as `-3.91e24`, which Python and JavaScript read as a float where the schema
/// says integer.
struct WholeNumbers;

impl serde_json::ser::Formatter for WholeNumbers {
    fn write_f64<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        value: f64,
    ) -> std::io::Result<()> {
        if value.is_finite() && value.fract() == 0.0 && value.abs() >= 1e15 {
            return write!(writer, "{value:.0}");
        }
        serde_json::ser::CompactFormatter.write_f64(writer, value)
    }
}

/// A value as JSON bytes, whole numbers in whole digits.
fn json_bytes(value: &Value) -> Vec<u8> {
    use serde::Serialize;
    let mut bytes = Vec::with_capacity(128);
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, WholeNumbers);
    match value.serialize(&mut serializer) {
        Ok(()) => bytes,
        Err(_) => serde_json::to_vec(value).unwrap_or_default(),
    }
}

fn json_body(media: &str, value: &Value) -> Response {
    let mut response = Response::new(Body::from(json_bytes(value)));
    let media = HeaderValue::from_str(media)
        .unwrap_or_else(|_| HeaderValue::from_static("application/json"));
    response.headers_mut().insert(header::CONTENT_TYPE, media);
    response
}

/// The documented response of `status` with a stored item as it is: it was made to fit
/// this very schema when it was stored, so it is not checked again.
pub fn stored(api: &Api, operation: &Operation, status: u16, item: &Value) -> Response {
    let status_code = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    match operation.response_for(status) {
        Some(spec) => match json_content(spec) {
            Some((media, _)) => with_headers(api, spec, status_code, json_body(media, item)),
            None => documented(api, operation, status, Some(item)),
        },
        None => documented(api, operation, status, Some(item)),
    }
}

/// The documented response of `status` with a body made from `value` (or, with none, the
/// response's example or a generated value). A value that does not fit the schema is made
/// to fit it.
pub fn documented(
    api: &Api,
    operation: &Operation,
    status: u16,
    value: Option<&Value>,
) -> Response {
    let status_code = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let Some(spec) = operation.response_for(status) else {
        return match value {
            Some(value) => {
                let mut response = json_body("application/json", value);
                *response.status_mut() = status_code;
                response
            }
            None => status_code.into_response(),
        };
    };
    if matches!(status, 204 | 304) || spec.content.is_empty() {
        // No body; a 2.0 document's `produces` still names its type, which its tools expect.
        let mut response = Response::new(Body::empty());
        let media = json_content(spec)
            .map(|(media, _)| media)
            .or_else(|| spec.content.first().map(|(media, _)| media.as_str()));
        if let Some(value) = media.and_then(|m| HeaderValue::from_str(concrete(m)).ok()) {
            response.headers_mut().insert(header::CONTENT_TYPE, value);
        }
        return with_headers(api, spec, status_code, response);
    }
    let response = match json_content(spec) {
        Some((media, schema)) => {
            let body = match (value, schema) {
                (Some(value), Some(schema)) => conform(&api.schemas, schema, value),
                (Some(value), None) => value.clone(),
                (None, schema) => example(api, spec, media)
                    .or_else(|| schema.map(|s| full(&api.schemas, s)))
                    .unwrap_or_else(|| json!({})),
            };
            json_body(media, &body)
        }
        None => {
            // Not JSON: the example as text, else an empty body of the documented type.
            let (media, _) = &spec.content[0];
            let text = example(api, spec, media)
                .map(|v| match v {
                    Value::String(text) => text,
                    other => other.to_string(),
                })
                .unwrap_or_default();
            let mut response = Response::new(Body::from(text));
            if let Ok(value) = HeaderValue::from_str(concrete(media)) {
                response.headers_mut().insert(header::CONTENT_TYPE, value);
            }
            response
        }
    };
    with_headers(api, spec, status_code, response)
}

/// The response's first example for a media type that is valid (an example the schema
/// refuses would make the mock break its own document).
fn example(api: &Api, spec: &ResponseSpec, media: &str) -> Option<Value> {
    let schema = spec
        .content
        .iter()
        .find(|(m, _)| m == media)
        .and_then(|(_, s)| s.as_ref());
    spec.examples
        .iter()
        .filter(|(m, _, _)| m == media)
        .map(|(_, _, value)| {
            let mut value = value.clone();
            if let Some(schema) = schema {
                strip_write_only(&api.schemas, schema, &mut value);
            }
            value
        })
        .find(|value| schema.is_none_or(|s| valid(&api.schemas, s, value)))
}

/// Names an error body's message field may have.
const MESSAGE_FIELDS: [&str; 5] = ["message", "detail", "error", "msg", "title"];

/// An error of `status` the operation documents, its body saying why where the documented
/// shape has a message field; else our JSON error body (also where the documented response
/// has no schema: Swagger 2.0's `produces` without one), or the message as text in the only
/// media type documented.
pub fn error(api: &Api, operation: &Operation, status: u16, code: &str, message: &str) -> Response {
    let status_code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let Some(spec) = operation.response_for(status) else {
        return error_response(status_code, code, message, None);
    };
    let (media, schema) = match json_content(spec) {
        Some((media, Some(schema))) => (media, schema),
        Some((_, None)) => return with_headers(api, spec, status_code, error_body(code, message)),
        None => {
            let response = match spec.content.first() {
                Some((media, _)) if !matches!(status, 204 | 304) => {
                    let mut response = Response::new(Body::from(message.to_owned()));
                    if let Ok(value) = HeaderValue::from_str(concrete(media)) {
                        response.headers_mut().insert(header::CONTENT_TYPE, value);
                    }
                    response
                }
                _ => Response::new(Body::empty()),
            };
            return with_headers(api, spec, status_code, response);
        }
    };
    let mut body = example(api, spec, media).unwrap_or_else(|| full(&api.schemas, schema));
    let declared = api.schemas.resolve(schema).get("properties");
    if let Value::Object(object) = &mut body {
        let fields = MESSAGE_FIELDS
            .into_iter()
            .filter(|f| declared.is_some_and(|d| d.get(*f).is_some()));
        for field in fields {
            if set_if_valid(&api.schemas, schema, object, field, json!(message)) {
                break;
            }
        }
    }
    with_headers(api, spec, status_code, json_body(media, &body))
}

/// Our JSON error body, as a response whose status the caller sets.
fn error_body(code: &str, message: &str) -> Response {
    json_body("application/json", &json!({"error": message, "code": code}))
}

/// Why the mock refuses a request: the meaning its status is chosen by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A parameter or body the document does not allow; `in_path` when a path parameter is
    /// what is wrong (no item can have that id).
    BadInput { in_path: bool },
    /// No item with that id, or none above it.
    Missing,
    /// No credentials, or not of the documented form.
    Unauthorized,
    /// A body in a media type the operation does not take.
    MediaType,
}

/// The status a refusal gets: one the operation documents, chosen by meaning (400 or 422
/// for bad input, 404 for a missing item, 401 or 403 for credentials, 415 for a media
/// type), then `default` (or a `4XX` range) with the status meant; for bad input, then the
/// documented 4xx nearest in meaning (never 401 or 403 before another). A missing item or
/// missing credentials get 404 or 401 undocumented, and so does any refusal of an
/// operation that documents no 4xx at all (the engine says so at start).
pub fn refusal_status(operation: &Operation, refusal: Refusal) -> u16 {
    let meant: &[u16] = match refusal {
        Refusal::BadInput { in_path: false } => &[400, 422],
        Refusal::BadInput { in_path: true } => &[400, 422, 404],
        Refusal::Missing => &[404, 410],
        Refusal::Unauthorized => &[401, 403],
        Refusal::MediaType => &[415, 400, 422],
    };
    if let Some(&status) = meant.iter().find(|s| operation.documents(**s)) {
        return status;
    }
    let first = meant[0];
    // A missing item is a 404 and missing credentials a 401 from any server, documented or
    // not (the engine says so at start): another status would tell the client its data was
    // wrong.
    let by_meaning_only = matches!(refusal, Refusal::Missing | Refusal::Unauthorized);
    if operation.response_for(first).is_some() || by_meaning_only {
        return first;
    }
    // Credentials statuses tell a client to sign in again: never the answer to bad data.
    let credentials = |s: u16| matches!(s, 401 | 403 | 407);
    let documented: Vec<u16> = operation
        .responses
        .iter()
        .filter_map(|(key, _)| match key {
            StatusKey::Code(code) if (400..500).contains(code) => Some(*code),
            _ => None,
        })
        .collect();
    let nearest = |pool: &mut dyn Iterator<Item = u16>| pool.min_by_key(|s| s.abs_diff(first));
    nearest(&mut documented.iter().copied().filter(|s| !credentials(*s)))
        .or_else(|| nearest(&mut documented.iter().copied()))
        .unwrap_or(first)
}

/// Whether an operation documents any 4xx (a code, the `4XX` range or `default`): where it
/// documents none, its refusals are statuses the document does not have.
pub fn documents_refusals(operation: &Operation) -> bool {
    operation.responses.iter().any(|(key, _)| match key {
        StatusKey::Code(code) => (400..500).contains(code),
        StatusKey::Range(class) => *class == 4,
        StatusKey::Default => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operation(statuses: &[&str]) -> Operation {
        let responses: Vec<String> = statuses
            .iter()
            .map(|s| format!("\"{s}\": {{\"description\": \"d\"}}"))
            .collect();
        let text = format!(
            r#"{{"openapi": "3.0.3", "info": {{"title": "t", "version": "1"}}, "paths": {{
                "/pets/{{id}}": {{"post": {{"parameters": [{{"name": "id", "in": "path",
                "required": true, "schema": {{"type": "integer"}}}}],
                "responses": {{{}}}}}}}}}}}"#,
            responses.join(", ")
        );
        openapi::parse(&text).unwrap().operations.remove(0)
    }

    #[test]
    fn whole_numbers_past_64_bits_are_written_in_digits() {
        let value: Value =
            serde_json::from_str(r#"{"a": -3911909976510490396852224, "b": 1.5, "c": 7}"#).unwrap();
        let text = String::from_utf8(json_bytes(&value)).unwrap();
        assert_eq!(text, r#"{"a":-3911909976510490396852224,"b":1.5,"c":7}"#);
    }

    #[test]
    fn refusals_take_a_documented_status_by_meaning() {
        let bad = Refusal::BadInput { in_path: false };
        // The Swagger Petstore 2.0's `POST /pet`: 405 is its only error.
        assert_eq!(refusal_status(&operation(&["200", "405"]), bad), 405);
        // springfox: 401, 403 and 404; bad input is never answered as a credentials status.
        let springfox = operation(&["200", "201", "401", "403", "404"]);
        assert_eq!(refusal_status(&springfox, bad), 404);
        assert_eq!(refusal_status(&springfox, Refusal::Unauthorized), 401);
        // FastAPI: 422; a missing item or credentials still get 404 and 401.
        let fastapi = operation(&["200", "422"]);
        assert_eq!(refusal_status(&fastapi, bad), 422);
        assert_eq!(refusal_status(&fastapi, Refusal::Missing), 404);
        assert_eq!(refusal_status(&fastapi, Refusal::Unauthorized), 401);
        // `default` covers the status meant.
        assert_eq!(refusal_status(&operation(&["200", "default"]), bad), 400);
        // A path parameter no item can have is the documented 404.
        let in_path = Refusal::BadInput { in_path: true };
        assert_eq!(refusal_status(&operation(&["200", "404"]), in_path), 404);
        // Nothing documented: the status meant.
        assert_eq!(
            refusal_status(&operation(&["200"]), Refusal::MediaType),
            415
        );
        assert!(!documents_refusals(&operation(&["200"])));
    }
}
