//! The checks: each looks at one request and what came back, and says what is wrong.
//! Names follow Schemathesis so its users feel at home; `sensitive_data_exposure` is ours.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use serde_json::Value;

use openapi::generate::{Case, Kind, Payload};
use openapi::model::Operation;
use openapi::schema::{Direction, Schemas};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Check {
    NotAServerError,
    StatusCodeConformance,
    ContentTypeConformance,
    ResponseHeadersConformance,
    ResponseSchemaConformance,
    NegativeDataRejection,
    PositiveDataAcceptance,
    MissingRequiredHeader,
    UnsupportedMethod,
    UseAfterFree,
    EnsureResourceAvailability,
    IgnoredAuth,
    MaxResponseTime,
    SensitiveDataExposure,
}

impl Check {
    pub const ALL: [Check; 14] = [
        Check::NotAServerError,
        Check::StatusCodeConformance,
        Check::ContentTypeConformance,
        Check::ResponseHeadersConformance,
        Check::ResponseSchemaConformance,
        Check::NegativeDataRejection,
        Check::PositiveDataAcceptance,
        Check::MissingRequiredHeader,
        Check::UnsupportedMethod,
        Check::UseAfterFree,
        Check::EnsureResourceAvailability,
        Check::IgnoredAuth,
        Check::MaxResponseTime,
        Check::SensitiveDataExposure,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Check::NotAServerError => "not_a_server_error",
            Check::StatusCodeConformance => "status_code_conformance",
            Check::ContentTypeConformance => "content_type_conformance",
            Check::ResponseHeadersConformance => "response_headers_conformance",
            Check::ResponseSchemaConformance => "response_schema_conformance",
            Check::NegativeDataRejection => "negative_data_rejection",
            Check::PositiveDataAcceptance => "positive_data_acceptance",
            Check::MissingRequiredHeader => "missing_required_header",
            Check::UnsupportedMethod => "unsupported_method",
            Check::UseAfterFree => "use_after_free",
            Check::EnsureResourceAvailability => "ensure_resource_availability",
            Check::IgnoredAuth => "ignored_auth",
            Check::MaxResponseTime => "max_response_time",
            Check::SensitiveDataExposure => "sensitive_data_exposure",
        }
    }

    pub fn parse(name: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.name() == name.trim())
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the checks need besides the exchange itself.
#[derive(Debug, Clone)]
pub struct Settings {
    pub enabled: BTreeSet<Check>,
    pub max_response_time: Option<Duration>,
    /// Lower-cased, without `_` and `-`: a field whose name contains one is a secret.
    pub sensitive: Vec<String>,
}

/// The default names of secret fields.
pub const SENSITIVE_FIELDS: [&str; 4] = ["password", "password_hash", "passwd", "secret"];

pub fn normalize_field(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The statuses that say "your input is bad", as Schemathesis counts them (plus 413).
const REJECTIONS: [u16; 12] = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429];
/// The 4xx statuses a server may give valid input: not authorised, no such thing, a conflict
/// with the current state, too many requests (as Schemathesis counts them).
const VALID_INPUT_REFUSALS: [u16; 5] = [401, 403, 404, 409, 429];

/// A response as the checks see it.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub elapsed: Duration,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What happened to a request.
#[derive(Debug, Clone)]
pub enum Outcome {
    Response(Response),
    /// No response: connection refused or reset, closed early, or timed out.
    Transport(String),
}

/// One thing found wrong. `key` identifies it for deduplication: the same key is the same
/// defect, however many cases show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub check: Check,
    pub message: String,
    pub key: String,
}

impl Finding {
    fn new(check: Check, key: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            check,
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Runs every enabled check on one exchange of a generated case.
pub fn evaluate(
    settings: &Settings,
    schemas: &Schemas,
    operation: &Operation,
    case: &Case,
    outcome: &Outcome,
) -> Vec<Finding> {
    let mut found = Vec::new();
    let response = match outcome {
        Outcome::Transport(error) => {
            found.push(Finding::new(
                Check::NotAServerError,
                format!("transport: {}", transport_class(error)),
                format!("no response: {error}"),
            ));
            return keep_enabled(settings, found);
        }
        Outcome::Response(response) => response,
    };
    let status = response.status;
    if status >= 500 {
        found.push(Finding::new(
            Check::NotAServerError,
            format!("status {status}"),
            format!("server error {status}"),
        ));
    }
    if let Some(limit) = settings
        .max_response_time
        .filter(|limit| response.elapsed > *limit)
    {
        found.push(Finding::new(
            Check::MaxResponseTime,
            "slow",
            format!(
                "answered in {} ms, over the limit of {} ms",
                response.elapsed.as_millis(),
                limit.as_millis()
            ),
        ));
    }
    match &case.kind {
        Kind::Negative(what) if status < 400 => {
            found.push(Finding::new(
                Check::NegativeDataRejection,
                what.clone(),
                format!("accepted invalid input ({what}) with {status}"),
            ));
        }
        Kind::Negative(what) if status < 500 && !REJECTIONS.contains(&status) => {
            found.push(Finding::new(
                Check::NegativeDataRejection,
                format!("{what} {status}"),
                format!("answered invalid input ({what}) with {status}, which does not say the input was bad"),
            ));
        }
        Kind::MissingHeader(name) if (200..300).contains(&status) => {
            found.push(Finding::new(
                Check::MissingRequiredHeader,
                name.clone(),
                format!("answered {status} without the required header `{name}`"),
            ));
        }
        Kind::Positive
            if (400..500).contains(&status) && !VALID_INPUT_REFUSALS.contains(&status) =>
        {
            found.push(Finding::new(
                Check::PositiveDataAcceptance,
                format!("status {status}"),
                format!("rejected valid input with {status}"),
            ));
        }
        _ => {}
    }
    found.extend(conformance(schemas, operation, response));
    found.extend(sensitive_exposure(settings, &case.body, response));
    keep_enabled(settings, found)
}

/// The response against what the spec documents for its status.
fn conformance(schemas: &Schemas, operation: &Operation, response: &Response) -> Vec<Finding> {
    let status = response.status;
    let Some(spec) = operation.response_for(status) else {
        let documented = operation.documented_statuses().join(", ");
        return vec![Finding::new(
            Check::StatusCodeConformance,
            format!("status {status}"),
            format!("status {status} is not documented (documented: {documented})"),
        )];
    };
    let mut found = Vec::new();
    for (name, required, schema) in &spec.headers {
        match (response.header(name), schema) {
            (None, _) if *required => found.push(Finding::new(
                Check::ResponseHeadersConformance,
                format!("{status} missing {name}"),
                format!("required header `{name}` is missing from the {status} response"),
            )),
            (Some(value), Some(schema)) => {
                let parsed =
                    serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
                let as_text = Value::String(value.to_owned());
                let valid = schemas.is_valid(schema, Direction::Response, &parsed)
                    || schemas.is_valid(schema, Direction::Response, &as_text);
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
    if spec.content.is_empty() {
        return found;
    }
    let Some(content_type) = response.header("content-type") else {
        found.push(Finding::new(
            Check::ContentTypeConformance,
            format!("{status} no content type"),
            format!(
                "no Content-Type header; documented: {}",
                media_types(&spec.content)
            ),
        ));
        return found;
    };
    let Some((media, schema)) = spec
        .content
        .iter()
        .find(|(media, _)| media_matches(media, content_type))
    else {
        found.push(Finding::new(
            Check::ContentTypeConformance,
            format!("{status} {}", essence(content_type)),
            format!(
                "Content-Type `{content_type}` is not documented for {status} (documented: {})",
                media_types(&spec.content)
            ),
        ));
        return found;
    };
    let is_json = {
        let essence = essence(media);
        essence == "application/json" || essence.ends_with("+json")
    };
    if let (true, Some(schema)) = (is_json, schema) {
        match serde_json::from_slice::<Value>(&response.body) {
            Err(error) => found.push(Finding::new(
                Check::ResponseSchemaConformance,
                format!("{status} not json"),
                format!("the {status} body is not valid JSON: {error}"),
            )),
            Ok(body) => {
                let errors = schemas.errors(schema, Direction::Response, &body);
                if let Some(first) = errors.first() {
                    let more = match errors.len() {
                        1 => String::new(),
                        n => format!(" (and {} more)", n - 1),
                    };
                    found.push(Finding::new(
                        Check::ResponseSchemaConformance,
                        format!("{status} {}", strip_values(first)),
                        format!("the {status} body does not match its schema: {first}{more}"),
                    ));
                }
            }
        }
    }
    found
}

/// Secret fields in the body (any depth) or headers, and secrets sent that come back.
fn sensitive_exposure(settings: &Settings, sent: &Payload, response: &Response) -> Vec<Finding> {
    let mut found = Vec::new();
    let is_secret = |name: &str| {
        let name = normalize_field(name);
        settings.sensitive.iter().any(|s| name.contains(s.as_str()))
    };
    if let Ok(body) = serde_json::from_slice::<Value>(&response.body)
        && let Some(path) = secret_field(&body, "", &is_secret)
    {
        found.push(Finding::new(
            Check::SensitiveDataExposure,
            format!("field {}", strip_indices(&path)),
            format!("the response body carries the secret field `{path}`"),
        ));
    }
    for (name, _) in &response.headers {
        if is_secret(name) {
            found.push(Finding::new(
                Check::SensitiveDataExposure,
                format!("header {}", name.to_lowercase()),
                format!("the response carries the secret header `{name}`"),
            ));
        }
    }
    // A secret the client sent must not come back, under whatever name.
    if let Payload::Json(request) = sent {
        let mut secrets = Vec::new();
        collect_secrets(request, &is_secret, &mut secrets);
        let body = String::from_utf8_lossy(&response.body);
        let headers: String = response
            .headers
            .iter()
            .map(|(n, v)| format!("{n}: {v}\n"))
            .collect();
        for secret in secrets.into_iter().filter(|s| s.chars().count() >= 4) {
            let escaped = Value::String(secret.clone()).to_string();
            let escaped = &escaped[1..escaped.len() - 1];
            if body.contains(escaped) || headers.contains(&secret) {
                found.push(Finding::new(
                    Check::SensitiveDataExposure,
                    "echoed secret",
                    "a secret sent in the request (a password-like field) comes back in the response",
                ));
                break;
            }
        }
    }
    found
}

/// The path of the first secret-named field holding a value. Objects are searched, not
/// flagged: `"password": {...}` is a structure (a schema, say), not a leaked password.
fn secret_field(value: &Value, path: &str, is_secret: &impl Fn(&str) -> bool) -> Option<String> {
    match value {
        Value::Object(map) => map.iter().find_map(|(key, child)| {
            let here = format!("{path}/{key}");
            match child {
                Value::Null => None,
                Value::Object(_) => secret_field(child, &here, is_secret),
                _ if is_secret(key) => Some(here),
                _ => secret_field(child, &here, is_secret),
            }
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| secret_field(item, &format!("{path}/{i}"), is_secret)),
        _ => None,
    }
}

fn collect_secrets(value: &Value, is_secret: &impl Fn(&str) -> bool, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match child {
                    Value::String(text) if is_secret(key) => out.push(text.clone()),
                    _ => collect_secrets(child, is_secret, out),
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_secrets(item, is_secret, out)),
        _ => {}
    }
}

fn keep_enabled(settings: &Settings, found: Vec<Finding>) -> Vec<Finding> {
    found
        .into_iter()
        .filter(|f| settings.enabled.contains(&f.check))
        .collect()
}

/// The kind of a transport error, for deduplication: timeouts are one defect, resets another.
fn transport_class(error: &str) -> &'static str {
    let error = error.to_lowercase();
    if error.contains("timed out") || error.contains("timeout") {
        "timeout"
    } else if error.contains("refused") {
        "refused"
    } else {
        "closed"
    }
}

fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Whether a documented media type (possibly `type/*` or `*/*`) covers an actual one.
fn media_matches(documented: &str, actual: &str) -> bool {
    let (documented, actual) = (essence(documented), essence(actual));
    match documented.split_once('/') {
        Some(("*", "*")) => true,
        Some((kind, "*")) => actual.split_once('/').is_some_and(|(k, _)| k == kind),
        _ => documented == actual,
    }
}

fn media_types(content: &[(String, Option<Value>)]) -> String {
    content
        .iter()
        .map(|(m, _)| m.as_str())
        .collect::<Vec<_>>()
        .join(", ")
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

fn strip_indices(path: &str) -> String {
    path.split('/')
        .map(|part| {
            if part.parse::<usize>().is_ok() {
                "*"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            enabled: Check::ALL.into_iter().collect(),
            max_response_time: None,
            sensitive: SENSITIVE_FIELDS
                .iter()
                .map(|s| normalize_field(s))
                .collect(),
        }
    }

    fn response(body: &str) -> Response {
        Response {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn finds_secrets_at_any_depth_but_not_in_structures() {
        let check = |body: &str, sent: Payload, expect: Option<&str>| {
            let found = sensitive_exposure(&settings(), &sent, &response(body));
            assert_eq!(found.first().map(|f| f.message.as_str()), expect, "{body}");
        };
        let none = Payload::None;
        check(r#"{"user": {"name": "a"}}"#, none.clone(), None);
        check(
            r#"{"items": [{"passwordHash": "x"}]}"#,
            none.clone(),
            Some("the response body carries the secret field `/items/0/passwordHash`"),
        );
        check(
            r#"{"Client_Secret": 5}"#,
            none.clone(),
            Some("the response body carries the secret field `/Client_Secret`"),
        );
        check(
            r#"{"password": {"type": "string"}, "passwd": null}"#,
            none.clone(),
            None,
        );
        let sent = Payload::Json(serde_json::json!({"email": "a@b.co", "password": "hunter22"}));
        check(
            r#"{"note": "your pw is hunter22"}"#,
            sent.clone(),
            Some("a secret sent in the request (a password-like field) comes back in the response"),
        );
        check(r#"{"note": "fine"}"#, sent, None);
    }

    #[test]
    fn media_types_match_with_wildcards_and_parameters() {
        assert!(media_matches(
            "application/json",
            "application/json; charset=utf-8"
        ));
        assert!(media_matches("application/*", "application/problem+json"));
        assert!(media_matches("*/*", "text/html"));
        assert!(!media_matches("application/json", "text/plain"));
    }

    #[test]
    fn keys_ignore_the_values_that_vary() {
        assert_eq!(strip_indices("/items/3/password"), "/items/*/password");
        assert_eq!(
            strip_values(r#""abc" is not of type "integer" (at /items/7/age)"#),
            strip_values(r#""xyz" is not of type "integer" (at /items/2/age)"#),
        );
    }
}
