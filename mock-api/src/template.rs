//! Stub responses built from the request (minijinja): a string of a stub's body or a header
//! value holding `{{ ... }}` is a template over `path` (the stub's path parameters), `query`,
//! `headers` (lower-case names), `body` (the JSON body), `now` (the mock's clock, RFC 3339) and
//! `uuid` (a fresh id). Templates are checked when the stub is made; a stub without one never
//! renders anything.

use std::collections::BTreeMap;

use minijinja::{Environment, UndefinedBehavior};
use serde_json::Value;

/// What a template may name first.
const ROOTS: [&str; 6] = ["path", "query", "headers", "body", "now", "uuid"];

/// Whether a text is a template.
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

/// Whether any string in a value is a template.
pub fn has_template(value: &Value) -> bool {
    match value {
        Value::String(text) => is_template(text),
        Value::Array(items) => items.iter().any(has_template),
        Value::Object(map) => map.values().any(has_template),
        _ => false,
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // What a request does not have renders empty: never an error at request time.
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env
}

/// Checks a template: it parses, and names only what a request to a path with `params` has.
pub fn check(text: &str, params: &[&str]) -> Result<(), String> {
    let env = environment();
    let template = env
        .template_from_str(text)
        .map_err(|e| format!("the template {text:?} does not parse: {e}"))?;
    for variable in template.undeclared_variables(true) {
        let mut parts = variable.split('.');
        let root = parts.next().unwrap_or_default();
        if !ROOTS.contains(&root) {
            return Err(format!(
                "the template {text:?} names `{root}`; a template may use {}",
                ROOTS.join(", ")
            ));
        }
        if let (Some(name), "path") = (parts.next(), root)
            && !params.contains(&name)
        {
            return Err(format!(
                "the template {text:?} names `path.{name}`, which the stub's path has not"
            ));
        }
    }
    Ok(())
}

/// Checks every template in a value; the error names where it is.
pub fn check_all(value: &Value, params: &[&str], at: &str) -> Result<(), String> {
    match value {
        Value::String(text) if is_template(text) => {
            check(text, params).map_err(|e| format!("{at}: {e}"))
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| check_all(item, params, &format!("{at}/{i}"))),
        Value::Object(map) => map
            .iter()
            .try_for_each(|(key, item)| check_all(item, params, &format!("{at}/{key}"))),
        _ => Ok(()),
    }
}

/// What a template sees of one request.
#[derive(Debug, serde::Serialize)]
pub struct Facts {
    pub path: BTreeMap<String, String>,
    pub query: BTreeMap<String, String>,
    pub headers: BTreeMap<String, String>,
    pub body: Value,
    pub now: String,
    pub uuid: String,
}

/// Renders one text; a template that fails renders empty (it was checked at creation).
pub fn render(text: &str, facts: &Facts) -> String {
    if !is_template(text) {
        return text.to_owned();
    }
    environment()
        .render_str(text, minijinja::value::Serde(facts))
        .unwrap_or_default()
}

/// Renders every template in a value.
pub fn render_all(value: &Value, facts: &Facts) -> Value {
    match value {
        Value::String(text) => Value::String(render(text, facts)),
        Value::Array(items) => Value::Array(items.iter().map(|v| render_all(v, facts)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), render_all(v, facts)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_and_renders() {
        assert!(check("{{ path.id }} at {{ now }}", &["id"]).is_ok());
        assert!(
            check("{{ path.nope }}", &["id"])
                .unwrap_err()
                .contains("path.nope")
        );
        assert!(
            check("{{ secrets }}", &[])
                .unwrap_err()
                .contains("`secrets`")
        );
        assert!(
            check("{{ unclosed", &[])
                .unwrap_err()
                .contains("does not parse")
        );
        let facts = Facts {
            path: [("id".to_owned(), "7".to_owned())].into(),
            query: BTreeMap::new(),
            headers: BTreeMap::new(),
            body: serde_json::json!({"name": "ann"}),
            now: "2026-01-01T00:00:00Z".to_owned(),
            uuid: "u".to_owned(),
        };
        assert_eq!(
            render_all(
                &serde_json::json!({"id": "{{ path.id }}", "who": "{{ body.name }}", "gone": "{{ query.x }}"}),
                &facts
            ),
            serde_json::json!({"id": "7", "who": "ann", "gone": ""})
        );
    }
}
