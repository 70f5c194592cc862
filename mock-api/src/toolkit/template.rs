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

/// The roots a stub's templates name: only those are gathered from a request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    pub path: bool,
    pub query: bool,
    pub headers: bool,
    pub body: bool,
    pub now: bool,
    pub uuid: bool,
}

impl Needs {
    fn add(&mut self, root: &str) {
        match root {
            "path" => self.path = true,
            "query" => self.query = true,
            "headers" => self.headers = true,
            "body" => self.body = true,
            "now" => self.now = true,
            _ => self.uuid = true,
        }
    }
}

/// What a template sees of one request (only what its stub's templates name is filled in).
#[derive(Debug, Default, serde::Serialize)]
pub struct Facts {
    pub path: BTreeMap<String, String>,
    pub query: BTreeMap<String, String>,
    pub headers: BTreeMap<String, String>,
    pub body: Value,
    pub now: String,
    pub uuid: String,
}

/// A stub response's templates, compiled once: its body's template strings in order, and its
/// header values.
#[derive(Debug)]
pub struct Compiled {
    env: Environment<'static>,
    /// The templates' names in `env`, in order.
    names: Vec<String>,
    pub needs: Needs,
}

impl Compiled {
    /// Compiles the templates of a body and header values (checked, see [`check`]).
    pub fn new(
        body: Option<&Value>,
        headers: &[&str],
        params: &[&str],
    ) -> Result<Option<Compiled>, String> {
        let mut sources = Vec::new();
        if let Some(body) = body {
            collect(body, &mut sources);
        }
        sources.extend(headers.iter().map(|h| h.to_string()));
        if sources.is_empty() {
            return Ok(None);
        }
        let mut env = environment();
        let mut needs = Needs::default();
        for (index, source) in sources.iter().enumerate() {
            check(source, params)?;
            env.add_template_owned(index.to_string(), source.clone())
                .map_err(|e| e.to_string())?;
            let template = env
                .get_template(&index.to_string())
                .map_err(|e| e.to_string())?;
            for variable in template.undeclared_variables(false) {
                needs.add(&variable);
            }
        }
        Ok(Some(Compiled {
            env,
            names: (0..sources.len()).map(|i| i.to_string()).collect(),
            needs,
        }))
    }

    fn render_one(&self, index: usize, context: &minijinja::Value) -> String {
        self.env
            .get_template(&self.names[index])
            .and_then(|t| t.render(context))
            .unwrap_or_default()
    }

    /// The body with its templates rendered, and the header values (in the order given).
    pub fn render(&self, body: Option<&Value>, facts: &Facts) -> (Option<Value>, Vec<String>) {
        let context = minijinja::Value::from(minijinja::value::Serde(facts));
        let mut next = 0;
        let body = body.map(|b| self.fill(b, &context, &mut next));
        let headers = (next..self.names.len())
            .map(|index| self.render_one(index, &context))
            .collect();
        (body, headers)
    }

    fn fill(&self, value: &Value, context: &minijinja::Value, next: &mut usize) -> Value {
        match value {
            Value::String(text) if is_template(text) => {
                let index = *next;
                *next += 1;
                Value::String(self.render_one(index, context))
            }
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.fill(v, context, next)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.fill(v, context, next)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// The template strings of a value, in the order [`Compiled::fill`] meets them.
fn collect(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) if is_template(text) => out.push(text.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect(v, out)),
        _ => {}
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
        let body = serde_json::json!({"id": "{{ path.id }}", "who": "{{ body.name }}", "gone": "{{ query.x }}", "n": 1});
        let compiled = Compiled::new(Some(&body), &["/a/{{ path.id }}"], &["id"])
            .unwrap()
            .unwrap();
        assert!(compiled.needs.path && compiled.needs.body && !compiled.needs.headers);
        let facts = Facts {
            path: [("id".to_owned(), "7".to_owned())].into(),
            body: serde_json::json!({"name": "ann"}),
            ..Facts::default()
        };
        let (rendered, headers) = compiled.render(Some(&body), &facts);
        assert_eq!(
            rendered,
            Some(serde_json::json!({"id": "7", "who": "ann", "gone": "", "n": 1}))
        );
        assert_eq!(headers, ["/a/7"]);
    }
}
