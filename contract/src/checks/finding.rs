//! What the checks share: one exchange to judge, the settings, and what a check reports.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::checks::names::Check;
use crate::http::Response;
use openapi::generate::Case;
use openapi::model::{Location, Operation, essence};
use openapi::schema::Schemas;

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

/// One request of a generated case and the response it got, as every check sees it.
pub struct Exchange<'a> {
    pub settings: &'a Settings,
    pub schemas: &'a Schemas,
    pub operation: &'a Operation,
    pub case: &'a Case,
    pub response: &'a Response,
}

/// The headers that make a request conditional (RFC 9110 section 13).
const PRECONDITIONS: [&str; 5] = [
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "if-range",
];

/// Whether a case carries a precondition: then 304 and 412 are answers to it, not to the
/// data.
pub fn conditional(case: &Case) -> bool {
    case.params.iter().any(|(location, name, _)| {
        *location == Location::Header && PRECONDITIONS.contains(&name.to_ascii_lowercase().as_str())
    })
}

/// Whether the answer has no content whatever the document describes: an answer to `HEAD`,
/// a 204 or a 304 (RFC 9110 section 6.4.1). Its body, and the type of a body, are not the
/// server's to get wrong.
pub fn without_content(ex: &Exchange<'_>) -> bool {
    ex.operation.method.as_str() == "HEAD" || matches!(ex.response.status, 204 | 304)
}

/// Whether the status answers a precondition the case carries.
pub fn answers_precondition(ex: &Exchange<'_>) -> bool {
    matches!(ex.response.status, 304 | 412) && conditional(ex.case)
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
    pub fn new(check: Check, key: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            check,
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Whether a documented media type (possibly `type/*` or `*/*`) covers an actual one.
pub fn media_matches(documented: &str, actual: &str) -> bool {
    let (documented, actual) = (essence(documented), essence(actual));
    match documented.split_once('/') {
        Some(("*", "*")) => true,
        Some((kind, "*")) => actual.split_once('/').is_some_and(|(k, _)| k == kind),
        _ => documented == actual,
    }
}

pub fn strip_indices(path: &str) -> String {
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
}
