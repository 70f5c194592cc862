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

/// A template that only looks values up (`/orders/{{ path.id }}/{{ uuid }}`): rendered by
/// walking the request's facts, without minijinja's machinery, which stays for the rest.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    /// A root and the keys below it: `body.user.name`, `headers['x-id']`.
    Lookup(String, Vec<String>),
}

/// The parts of a template made of text and plain lookups only, else `None`.
fn lookups(text: &str) -> Option<Vec<Part>> {
    if text.contains("{%") || text.contains("{#") {
        return None;
    }
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            parts.push(Part::Text(rest[..open].to_owned()));
        }
        let after = &rest[open + 2..];
        let close = after.find("}}")?;
        parts.push(lookup(after[..close].trim())?);
        rest = &after[close + 2..];
    }
    if rest.contains("}}") {
        return None;
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_owned()));
    }
    Some(parts)
}

/// `root.key['other key'].more`, with keys of letters, digits and `_`, or quoted.
fn lookup(expression: &str) -> Option<Part> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let root_end = expression
        .find(|c: char| !word(c))
        .unwrap_or(expression.len());
    let root = &expression[..root_end];
    if !ROOTS.contains(&root) {
        return None;
    }
    let mut keys = Vec::new();
    let mut rest = &expression[root_end..];
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(|c: char| !word(c)).unwrap_or(after.len());
            if end == 0 || after[..end].chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            keys.push(after[..end].to_owned());
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix("['") {
            let end = after.find("']")?;
            let key = &after[..end];
            if key.contains(['\\', '\'']) {
                return None;
            }
            keys.push(key.to_owned());
            rest = &after[end + 2..];
        } else {
            return None;
        }
    }
    Some(Part::Lookup(root.to_owned(), keys))
}

/// A lookup's text, as minijinja renders the same value; `None` where the value is one
/// minijinja renders in its own way (null, an array, an object), so that it renders it.
fn looked_up(facts: &Facts, root: &str, keys: &[String]) -> Option<String> {
    let flat = |map: &BTreeMap<String, String>| match keys {
        [] => None,
        [key] => Some(map.get(key).cloned().unwrap_or_default()),
        _ => Some(String::new()),
    };
    match root {
        "path" => flat(&facts.path),
        "query" => flat(&facts.query),
        "headers" => flat(&facts.headers),
        "now" if keys.is_empty() => Some(facts.now.clone()),
        "uuid" if keys.is_empty() => Some(facts.uuid.clone()),
        "body" => {
            let mut value = &facts.body;
            for key in keys {
                match value.get(key.as_str()) {
                    Some(inner) => value = inner,
                    None if value.is_object() || keys.is_empty() => return Some(String::new()),
                    None => return None,
                }
            }
            match value {
                Value::String(text) => Some(text.clone()),
                // Whole numbers print alike; floats and booleans (`True`) are minijinja's.
                Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A stub response's templates, compiled once: its body's template strings in order, and its
/// header values.
#[derive(Debug)]
pub struct Compiled {
    env: Environment<'static>,
    /// The templates' names in `env`, in order.
    names: Vec<String>,
    /// Per template, its parts when it only looks values up.
    fast: Vec<Option<Vec<Part>>>,
    /// The body as JSON text with holes where its templates go, written once.
    skeleton: Option<Skeleton>,
    pub needs: Needs,
}

/// A body's JSON text around its templates: what [`Compiled::render_text`] fills in.
#[derive(Debug)]
enum Skeleton {
    /// The body is one template string, sent as text.
    Text,
    /// JSON text, and where each template's (escaped) string goes.
    Json(Vec<Piece>),
}

#[derive(Debug)]
enum Piece {
    Json(String),
    Hole,
}

/// The body's JSON text with a hole for each template string, in the order
/// [`collect`] meets them.
fn skeleton(value: &Value, out: &mut Vec<Piece>) {
    let push = |text: &str, out: &mut Vec<Piece>| match out.last_mut() {
        Some(Piece::Json(last)) => last.push_str(text),
        _ => out.push(Piece::Json(text.to_owned())),
    };
    match value {
        Value::String(text) if is_template(text) => out.push(Piece::Hole),
        Value::Array(items) => {
            push("[", out);
            for (at, item) in items.iter().enumerate() {
                if at > 0 {
                    push(",", out);
                }
                skeleton(item, out);
            }
            push("]", out);
        }
        Value::Object(map) => {
            push("{", out);
            for (at, (key, item)) in map.iter().enumerate() {
                if at > 0 {
                    push(",", out);
                }
                push(&Value::String(key.clone()).to_string(), out);
                push(":", out);
                skeleton(item, out);
            }
            push("}", out);
        }
        other => push(&other.to_string(), out),
    }
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
        let skeleton = body.map(|body| match body {
            Value::String(_) => Skeleton::Text,
            other => {
                let mut pieces = Vec::new();
                skeleton(other, &mut pieces);
                Skeleton::Json(pieces)
            }
        });
        Ok(Some(Compiled {
            env,
            names: (0..sources.len()).map(|i| i.to_string()).collect(),
            fast: sources.iter().map(|source| lookups(source)).collect(),
            skeleton,
            needs,
        }))
    }

    fn render_one(&self, index: usize, facts: &Facts, context: &Context<'_>) -> String {
        if let Some(parts) = &self.fast[index] {
            let mut out = String::new();
            for part in parts {
                match part {
                    Part::Text(text) => out.push_str(text),
                    Part::Lookup(root, keys) => match looked_up(facts, root, keys) {
                        Some(text) => out.push_str(&text),
                        None => return self.render_slow(index, context),
                    },
                }
            }
            return out;
        }
        self.render_slow(index, context)
    }

    fn render_slow(&self, index: usize, context: &Context<'_>) -> String {
        let context = context.get();
        self.env
            .get_template(&self.names[index])
            .and_then(|t| t.render(context))
            .unwrap_or_default()
    }

    /// The body's text with its templates rendered (JSON, or the text of a body that is one
    /// template), and the header values (in the order given); no value is built on the way.
    pub fn render_text(&self, facts: &Facts) -> (Option<String>, Vec<String>) {
        let context = Context {
            facts,
            value: std::cell::OnceCell::new(),
        };
        let mut next = 0;
        let body = self.skeleton.as_ref().map(|skeleton| match skeleton {
            Skeleton::Text => {
                next = 1;
                self.render_one(0, facts, &context)
            }
            Skeleton::Json(pieces) => {
                let mut out = String::new();
                for piece in pieces {
                    match piece {
                        Piece::Json(text) => out.push_str(text),
                        Piece::Hole => {
                            let text = self.render_one(next, facts, &context);
                            next += 1;
                            out.push_str(&Value::String(text).to_string());
                        }
                    }
                }
                out
            }
        });
        let headers = (next..self.names.len())
            .map(|index| self.render_one(index, facts, &context))
            .collect();
        (body, headers)
    }

    /// The body with its templates rendered, and the header values (in the order given).
    pub fn render(&self, body: Option<&Value>, facts: &Facts) -> (Option<Value>, Vec<String>) {
        // minijinja's view of the facts, built only if a template needs more than lookups.
        let context = Context {
            facts,
            value: std::cell::OnceCell::new(),
        };
        let context = &context;
        let mut next = 0;
        let body = body.map(|b| self.fill(b, context, &mut next));
        let headers = (next..self.names.len())
            .map(|index| self.render_one(index, facts, context))
            .collect();
        (body, headers)
    }

    fn fill(&self, value: &Value, context: &Context<'_>, next: &mut usize) -> Value {
        match value {
            Value::String(text) if is_template(text) => {
                let index = *next;
                *next += 1;
                Value::String(self.render_one(index, context.facts, context))
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

/// The facts, and minijinja's value of them made on first use.
struct Context<'a> {
    facts: &'a Facts,
    value: std::cell::OnceCell<minijinja::Value>,
}

impl Context<'_> {
    fn get(&self) -> &minijinja::Value {
        self.value
            .get_or_init(|| minijinja::Value::from(minijinja::value::Serde(self.facts)))
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
        let (text, headers) = compiled.render_text(&facts);
        let parsed: Value = serde_json::from_str(&text.unwrap()).unwrap();
        assert_eq!(Some(parsed), rendered);
        assert_eq!(headers, ["/a/7"]);
    }

    #[test]
    fn lookups_render_as_minijinja_does() {
        assert_eq!(
            lookups("/a/{{ path.id }}/{{ headers['x-id'] }}"),
            Some(vec![
                Part::Text("/a/".into()),
                Part::Lookup("path".into(), vec!["id".into()]),
                Part::Text("/".into()),
                Part::Lookup("headers".into(), vec!["x-id".into()]),
            ])
        );
        for slow in [
            "{{ path.id | upper }}",
            "{% if x %}{% endif %}",
            "{{ body.items[0] }}",
            "{{ 1 + 2 }}",
        ] {
            assert_eq!(lookups(slow), None, "{slow}");
        }
        // Each template rendered both ways gives the same text.
        let facts = Facts {
            path: [("id".to_owned(), "7".to_owned())].into(),
            headers: [("x-id".to_owned(), "h".to_owned())].into(),
            body: serde_json::json!({"n": 1.5, "i": 42, "ok": true, "s": "t", "o": {"k": "v"}, "z": null, "a": [1]}),
            now: "2026-01-01T00:00:00Z".into(),
            uuid: "u".into(),
            ..Facts::default()
        };
        let sources = [
            "{{ path.id }}",
            "{{ headers['x-id'] }}",
            "{{ query.q }}",
            "{{ body.n }}",
            "{{ body.i }}",
            "{{ body.ok }}",
            "{{ body.s }}",
            "{{ body.o.k }}",
            "{{ body.z }}",
            "{{ body.a }}",
            "{{ body.o }}",
            "{{ body.missing }}",
            "{{ body.s.deeper }}",
            "at {{ now }} as {{ uuid }}",
        ];
        let body = Value::Array(sources.iter().map(|s| Value::String((*s).into())).collect());
        let compiled = Compiled::new(Some(&body), &[], &["id"]).unwrap().unwrap();
        let (fast, _) = compiled.render(Some(&body), &facts);
        let context = minijinja::Value::from(minijinja::value::Serde(&facts));
        let slow: Vec<Value> = sources
            .iter()
            .map(|source| Value::String(environment().render_str(source, &context).unwrap()))
            .collect();
        assert_eq!(fast, Some(Value::Array(slow)));
    }
}
