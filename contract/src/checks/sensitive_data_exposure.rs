//! `sensitive_data_exposure`: no password-like field with a value at any depth of any
//! response, with or without `writeOnly` in the document, nor in headers; and no secret the
//! client sent comes back under any name. A name is secret when it ends with one of the
//! secret words (`client_secret`, `userPassword`, `password_hash`), not when it merely holds
//! one (`secret_name`, a hero's alias, is not). A refusal (4xx) that quotes the caller's own
//! input back (a 422 listing what was wrong) leaks nothing the caller did not have.

use serde_json::Value;

use crate::checks::finding::{Finding, Settings, normalize_field, strip_indices};
use crate::checks::names::Check;
use crate::http::Response;
use openapi::generate::Payload;

/// Secret fields in the body (any depth) or headers, and secrets sent that come back.
pub fn check(settings: &Settings, sent: &Payload, response: &Response) -> Vec<Finding> {
    let mut found = Vec::new();
    let is_secret = |name: &str| {
        let name = normalize_field(name);
        settings
            .sensitive
            .iter()
            .any(|s| name.ends_with(s.as_str()))
    };
    let mut secrets = Vec::new();
    if let Payload::Json(request) = sent {
        collect_secrets(request, &is_secret, &mut secrets);
    }
    let refusal = (400..500).contains(&response.status);
    // What a refusal may quote back: every string the caller sent.
    let mut quoted = Vec::new();
    if let (true, Payload::Json(request)) = (refusal, sent) {
        collect_strings(request, &mut quoted);
    }
    let own = |value: &str| quoted.iter().any(|q| q == value);
    if let Ok(body) = serde_json::from_slice::<Value>(&response.body)
        && let Some(path) = secret_field(&body, "", &is_secret, &own)
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
    // A secret the client sent must not come back, under whatever name, in an answer that
    // is not a refusal quoting the request.
    if !refusal {
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

/// The path of the first secret-named field holding a value that is not `own` (quoted from
/// the request). Objects are searched, not flagged: `"password": {...}` is a structure (a
/// schema, say), not a leaked password; nor are `null`, `true` or `""`.
fn secret_field(
    value: &Value,
    path: &str,
    is_secret: &impl Fn(&str) -> bool,
    own: &impl Fn(&str) -> bool,
) -> Option<String> {
    match value {
        Value::Object(map) => map.iter().find_map(|(key, child)| {
            let here = format!("{path}/{key}");
            match child {
                Value::String(text) if is_secret(key) && !text.is_empty() && !own(text) => {
                    Some(here)
                }
                Value::Number(_) if is_secret(key) => Some(here),
                _ => secret_field(child, &here, is_secret, own),
            }
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| secret_field(item, &format!("{path}/{i}"), is_secret, own)),
        _ => None,
    }
}

/// Every string in a value.
fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) => out.push(text.clone()),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        _ => {}
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::checks::finding::SENSITIVE_FIELDS;

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
            let found = check(&settings(), &sent, &response(body));
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
        check(r#"{"note": "fine"}"#, sent.clone(), None);
        // A name that merely holds a secret word, and a refusal quoting the request.
        check(r#"{"secret_name": "Spider-Boy"}"#, none.clone(), None);
        check(r#"{"has_password": true}"#, none.clone(), None);
        let quoted = Response {
            status: 422,
            ..response(r#"{"detail": [{"input": {"password": "hunter22"}}]}"#)
        };
        assert_eq!(super::check(&settings(), &sent, &quoted), []);
        // A refusal carrying a secret the caller did not send still leaks it.
        let other = Response {
            status: 422,
            ..response(r#"{"detail": [{"input": {"password": "not-yours"}}]}"#)
        };
        assert_eq!(super::check(&settings(), &sent, &other).len(), 1);
        check(
            r#"{"userPassword": "x1"}"#,
            none.clone(),
            Some("the response body carries the secret field `/userPassword`"),
        );
    }
}
