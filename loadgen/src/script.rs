//! Load from a scenario file (`--scenario-file`): named scenarios with weights and steps, for
//! flows a document cannot say. A step is a request (method, path, query, headers, a JSON
//! body), the statuses it may answer with, values captured from its JSON answer by pointer,
//! and a think time. `${name}` in a path, query, header or body string stands for a value
//! captured by an earlier step of the scenario, or for `${uuid}`, `${random}` (a number) or
//! `${user}` (the goose user's index).
//!
//! ```yaml
//! scenarios:
//!   - name: signup
//!     weight: 2
//!     steps:
//!       - {method: POST, path: /api/users, json: {email: "load-${uuid}@example.com"}, capture: {id: /id}, expect: [201]}
//!       - {method: GET, path: "/api/users/${id}", think: 100ms}
//!       - {method: DELETE, path: "/api/users/${id}", expect: [204]}
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use goose::prelude::*;
use serde_json::Value;

use crate::credentials::Credentials;
use crate::rate::Pacer;
use crate::send::{Request, send};

/// Why a scenario file cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {what}")]
pub struct ScriptError {
    file: String,
    what: String,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    scenarios: Vec<ScenarioFile>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: String,
    #[serde(default = "one")]
    weight: usize,
    steps: Vec<StepFile>,
}

fn one() -> usize {
    1
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StepFile {
    /// What reports call it, after the method [default: the path as written, variables and
    /// all, so every id is one line].
    name: Option<String>,
    method: String,
    path: String,
    #[serde(default)]
    query: BTreeMap<String, String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    json: Option<Value>,
    /// Variable name to JSON pointer in the answer.
    #[serde(default)]
    capture: BTreeMap<String, String>,
    /// The statuses that are a success [default: any 2xx].
    #[serde(default)]
    expect: Vec<u16>,
    /// How long to wait after the step: `250ms`, `2s`.
    think: Option<String>,
}

/// A step, checked.
struct Step {
    name: String,
    method: reqwest::Method,
    file: StepFile,
    think: Duration,
}

/// The variables every step may use without a capture.
const BUILTINS: [&str; 3] = ["uuid", "random", "user"];

/// Reads and checks a scenario file: every variable defined before it is used, every method,
/// path, pointer and think time well-formed.
pub fn read(
    path: &Path,
    credentials: Credentials,
    pacer: Option<Arc<Pacer>>,
) -> Result<Vec<Scenario>, ScriptError> {
    let credentials = Arc::new(credentials);
    let file_name = path.display().to_string();
    let error = |what: String| ScriptError {
        file: file_name.clone(),
        what,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    let file: File = yaml_serde::from_str(&text).map_err(|e| error(e.to_string()))?;
    if file.scenarios.is_empty() {
        return Err(error("no scenarios".to_owned()));
    }
    let mut scenarios = Vec::new();
    for scenario in file.scenarios {
        let mut defined: Vec<String> = BUILTINS.iter().map(|b| b.to_string()).collect();
        let mut steps = Vec::new();
        for (number, step) in scenario.steps.into_iter().enumerate() {
            let at = |what: String| {
                error(format!(
                    "scenario `{}`, step {} ({} {}): {what}",
                    scenario.name,
                    number + 1,
                    step.method,
                    step.path
                ))
            };
            let method = reqwest::Method::from_bytes(step.method.to_ascii_uppercase().as_bytes())
                .ok()
                .filter(|m| {
                    [
                        reqwest::Method::GET,
                        reqwest::Method::POST,
                        reqwest::Method::PUT,
                        reqwest::Method::PATCH,
                        reqwest::Method::DELETE,
                    ]
                    .contains(m)
                })
                .ok_or_else(|| {
                    at("the method is one of GET, POST, PUT, PATCH, DELETE".to_owned())
                })?;
            if !step.path.starts_with('/') {
                return Err(at("the path must start with '/'".to_owned()));
            }
            let mut used = variables(&step.path);
            for (name, value) in step.query.iter().chain(&step.headers) {
                used.extend(variables(name));
                used.extend(variables(value));
            }
            if let Some(json) = &step.json {
                json_variables(json, &mut used);
            }
            if let Some(missing) = used.iter().find(|v| !defined.contains(v)) {
                return Err(at(format!(
                    "${{{missing}}} is not defined by an earlier capture (nor one of {})",
                    BUILTINS.join(", ")
                )));
            }
            for (name, pointer) in &step.capture {
                if !pointer.is_empty() && !pointer.starts_with('/') {
                    return Err(at(format!(
                        "capture {name}: {pointer:?} is not a JSON pointer such as /id"
                    )));
                }
                defined.push(name.clone());
            }
            let think = match &step.think {
                Some(text) => duration(text).ok_or_else(|| {
                    at(format!("think {text:?} is not a time such as 250ms or 2s"))
                })?,
                None => Duration::ZERO,
            };
            // Goose puts the method in front of the name in its reports.
            let name = step.name.clone().unwrap_or_else(|| step.path.clone());
            steps.push(Step {
                name,
                method,
                file: step,
                think,
            });
        }
        let steps = Arc::new(steps);
        let (credentials, pacer) = (credentials.clone(), pacer.clone());
        let transaction = Transaction::new(Arc::new(move |user| {
            let (steps, credentials, pacer) = (steps.clone(), credentials.clone(), pacer.clone());
            Box::pin(async move {
                if let Some(pacer) = &pacer {
                    pacer.wait().await;
                }
                run_steps(&steps, &credentials, user).await
            })
        }))
        .set_name(&scenario.name);
        scenarios.push(
            Scenario::new(&scenario.name)
                .set_weight(scenario.weight.max(1))
                .map_err(|e| error(e.to_string()))?
                .register_transaction(transaction),
        );
    }
    Ok(scenarios)
}

/// One run of a scenario's steps, captures carried along.
async fn run_steps(
    steps: &[Step],
    credentials: &Credentials,
    user: &mut GooseUser,
) -> TransactionResult {
    let mut values: HashMap<String, String> = HashMap::new();
    values.insert("user".to_owned(), user.weighted_users_index.to_string());
    for step in steps {
        values.insert("uuid".to_owned(), uuid());
        values.insert("random".to_owned(), rand::random::<u32>().to_string());
        let fill = |text: &str| substitute(text, &values);
        let mut path = fill(&step.file.path);
        if !step.file.query.is_empty() {
            let query: Vec<String> = step
                .file
                .query
                .iter()
                .map(|(n, v)| format!("{}={}", encode(&fill(n)), encode(&fill(v))))
                .collect();
            path = format!("{path}?{}", query.join("&"));
        }
        let headers = step
            .file
            .headers
            .iter()
            .map(|(n, v)| (fill(n), fill(v)))
            .collect();
        let body = step
            .file
            .json
            .as_ref()
            .map(|json| serde_json::to_vec(&fill_json(json, &values)).unwrap_or_default());
        let answer = send(
            user,
            Request {
                method: &step.method,
                path: &path,
                name: &step.name,
                headers,
                content_type: body.as_ref().map(|_| "application/json".to_owned()),
                body,
                expect: &step.file.expect,
                read: !step.file.capture.is_empty(),
                credentials,
            },
        )
        .await?;
        // A step that got no answer, or no value to capture, ends this run of the scenario.
        let Some((_, json)) = answer else {
            return Ok(());
        };
        for (name, pointer) in &step.file.capture {
            let value = json.as_ref().and_then(|j| j.pointer(pointer));
            match value {
                Some(Value::String(text)) => values.insert(name.clone(), text.clone()),
                Some(other) => values.insert(name.clone(), other.to_string()),
                None => return Ok(()),
            };
        }
        if !step.think.is_zero() {
            tokio::time::sleep(step.think).await;
        }
    }
    Ok(())
}

/// The names of the `${name}` variables in a text.
fn variables(text: &str) -> Vec<String> {
    text.split("${")
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

fn json_variables(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) => out.extend(variables(text)),
        Value::Array(items) => items.iter().for_each(|v| json_variables(v, out)),
        Value::Object(map) => {
            for (key, value) in map {
                out.extend(variables(key));
                json_variables(value, out);
            }
        }
        _ => {}
    }
}

fn substitute(text: &str, values: &HashMap<String, String>) -> String {
    let mut out = text.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("${{{name}}}"), value);
    }
    out
}

/// A JSON body with its variables filled in; a string that is one variable and nothing else
/// whose value is a number or a boolean becomes that JSON value.
fn fill_json(value: &Value, values: &HashMap<String, String>) -> Value {
    match value {
        Value::String(text) => {
            let filled = substitute(text, values);
            let whole = variables(text).len() == 1 && text.starts_with("${") && text.ends_with('}');
            match (whole, serde_json::from_str::<Value>(&filled)) {
                (true, Ok(typed @ (Value::Number(_) | Value::Bool(_)))) => typed,
                _ => Value::String(filled),
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| fill_json(v, values)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (substitute(k, values), fill_json(v, values)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `250ms`, `2s`, `1.5s`.
fn duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, scale) = match text.strip_suffix("ms") {
        Some(number) => (number, 1e-3),
        None => (text.strip_suffix('s')?, 1.0),
    };
    let seconds = number.trim().parse::<f64>().ok()? * scale;
    (seconds.is_finite() && (0.0..=3600.0).contains(&seconds))
        .then(|| Duration::from_secs_f64(seconds))
}

fn encode(text: &str) -> String {
    openapi::generate::wire::percent_encode(text)
}

/// A random UUID (version 4), for unique values in bodies.
fn uuid() -> String {
    let bytes: [u8; 16] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-4{}-{:x}{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        8 | (bytes[8] & 0x3),
        &hex[17..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_times_and_variables() {
        assert_eq!(duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(duration("soon"), None);
        assert_eq!(variables("/a/${id}/b/${x}"), ["id", "x"]);
        let values: HashMap<String, String> = [
            ("id".to_owned(), "7".to_owned()),
            ("name".to_owned(), "ann".to_owned()),
        ]
        .into();
        assert_eq!(
            fill_json(
                &serde_json::json!({"id": "${id}", "who": "${name}-${id}"}),
                &values
            ),
            serde_json::json!({"id": 7, "who": "ann-7"})
        );
        assert_eq!(uuid().len(), 36);
    }
}
