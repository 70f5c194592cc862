//! Helpers for the integration tests: a client for a spawned mock API that checks every
//! response it receives against `specs/mock-api.yaml`, so the server and its contract cannot
//! drift apart without a test failing; and [`planted`] and [`things`], small APIs with
//! defects to plant, for the tests of the contract checker.

pub mod planted;
pub mod things;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Draft, Validator};
use mock_api::MockServer;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde_json::{Value, json};

/// A spawned mock API and a client whose every response is checked against the spec.
pub struct Api {
    pub server: MockServer,
    pub client: reqwest::Client,
}

/// What the server answered, after it passed the contract checks.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    /// The body parsed as JSON, or `Null` when it is empty or not JSON.
    pub body: Value,
}

impl Reply {
    /// The `code` of an error body.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The seed credentials every fresh mock holds.
pub const ADMIN: (&str, &str) = ("admin@example.com", "admin123");
pub const USER: (&str, &str) = ("user@example.com", "user123");

impl Api {
    pub fn start() -> Api {
        Api::start_with(&mock_api::Config::default())
    }

    pub fn start_with(config: &mock_api::Config) -> Api {
        let server = MockServer::start_with(config).expect("the mock API starts");
        Api {
            server,
            client: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(body), &[]).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None, &[]).await
    }

    /// A request with a JSON body (if any) and extra headers.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.exchange(request).await
    }

    /// Sends a request built by the caller (raw bodies, odd headers) and checks the reply.
    pub async fn exchange(&self, request: reqwest::RequestBuilder) -> Reply {
        let request = request.build().expect("a well-formed request");
        let method = request.method().clone();
        let path = request.url().path().to_owned();
        let response = self
            .client
            .execute(request)
            .await
            .expect("the mock API answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a readable body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        let reply = Reply {
            status,
            headers,
            text,
            body,
        };
        if let Err(problem) = conforms(&method, &path, &reply) {
            panic!(
                "{method} {path} answered {status} against the contract: {problem}\nbody: {}",
                reply.text
            );
        }
        reply
    }

    /// Logs in and returns the token.
    pub async fn login(&self, (email, password): (&str, &str)) -> String {
        let reply = self
            .post(
                "/api/auth/login",
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(reply.status, 200, "login of {email}: {}", reply.text);
        reply.body["token"].as_str().expect("a token").to_owned()
    }

    /// Creates a user and returns its JSON.
    pub async fn create_user(&self, email: &str, name: &str) -> Value {
        let reply = self
            .post(
                "/api/users",
                json!({"email": email, "password": "pw-123456", "name": name}),
            )
            .await;
        assert_eq!(reply.status, 201, "create {email}: {}", reply.text);
        reply.body
    }
}

/// Checks one reply against the spec: the operation exists, the status is documented, the
/// content type and body match, required headers are present; and, whatever the spec says,
/// no password-like field appears anywhere in the body.
pub fn conforms(method: &Method, path: &str, reply: &Reply) -> Result<(), String> {
    // The OpenAPI document describes (and gives examples of) password fields; it is the one
    // body where they belong.
    let describes_the_api = path.starts_with("/openapi.");
    if let (false, Some(field)) = (describes_the_api, secret_field(&reply.body)) {
        return Err(format!("the body carries a secret field `{field}`"));
    }
    let spec = mock_api::spec::json();
    let Some(template) = path_template(spec, path) else {
        // Unknown routes are answered by the framework's fallback: 404 with the error body.
        return expect_error_body(reply, 404);
    };
    let operation_pointer = format!(
        "/paths/{}/{}",
        escape(&template),
        method.as_str().to_lowercase()
    );
    if spec.pointer(&operation_pointer).is_none() {
        return expect_error_body(reply, 405);
    }
    let status = reply.status.to_string();
    let mut response_pointer = format!("{operation_pointer}/responses/{status}");
    let mut response = spec
        .pointer(&response_pointer)
        .ok_or_else(|| format!("status {status} is not documented"))?;
    if let Some(reference) = response.get("$ref").and_then(Value::as_str) {
        response_pointer = reference.trim_start_matches('#').to_owned();
        response = spec.pointer(&response_pointer).ok_or("a dangling $ref")?;
    }
    if let Some(headers) = response.get("headers").and_then(Value::as_object) {
        for (name, header) in headers {
            if header["required"] == true && reply.header(name).is_none() {
                return Err(format!("required header {name} is missing"));
            }
        }
    }
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return match reply.text.is_empty() {
            true => Ok(()),
            false => Err("a body where the spec documents none".to_owned()),
        };
    };
    let content_type = reply.header(CONTENT_TYPE.as_str()).unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !content.contains_key(media_type) {
        return Err(format!("content type {content_type:?} is not documented"));
    }
    if media_type != "application/json" {
        return Ok(());
    }
    let schema_pointer = format!("{response_pointer}/content/application~1json/schema");
    let validator = validator(&schema_pointer)?;
    let errors: Vec<String> = validator
        .iter_errors(&reply.body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    match errors.is_empty() {
        true => Ok(()),
        false => Err(format!("the body breaks the schema: {}", errors.join("; "))),
    }
}

fn expect_error_body(reply: &Reply, status: u16) -> Result<(), String> {
    let ok = reply.status == status
        && reply.body["error"].is_string()
        && reply.body["code"].is_string()
        && reply.body.as_object().map(|o| o.len()) == Some(2);
    match ok {
        true => Ok(()),
        false => Err(format!("expected {status} with the JSON error body")),
    }
}

/// The spec path template that `path` falls under; literal segments win over `{params}`.
fn path_template(spec: &Value, path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').collect();
    let paths = spec["paths"].as_object()?;
    paths
        .keys()
        .filter(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(part, segment)| {
                    part == segment || (part.starts_with('{') && !segment.is_empty())
                })
        })
        .min_by_key(|template| template.matches('{').count())
        .cloned()
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// A compiled validator for the schema at a JSON pointer into the spec. The root document is
/// the whole spec with a `$ref` to that pointer, so references to `#/components/...` resolve.
fn validator(pointer: &str) -> Result<Arc<Validator>, String> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(found) = cache.lock().unwrap().get(pointer) {
        return Ok(found.clone());
    }
    let mut root = mock_api::spec::json().clone();
    // A JSON pointer in a URI fragment percent-encodes what a URI may not hold, such as braces.
    let fragment = pointer.replace('{', "%7B").replace('}', "%7D");
    root["$ref"] = Value::String(format!("#{fragment}"));
    let validator = jsonschema::options()
        .with_draft(Draft::Draft7)
        .should_validate_formats(true)
        .build(&root)
        .map_err(|e| format!("the schema at {pointer} does not compile: {e}"))?;
    let validator = Arc::new(validator);
    cache
        .lock()
        .unwrap()
        .insert(pointer.to_owned(), validator.clone());
    Ok(validator)
}

/// The name of a password-like field at any depth, if there is one.
pub fn secret_field(value: &Value) -> Option<String> {
    match value {
        Value::Object(map) => map.iter().find_map(|(key, value)| {
            let lower = key.to_lowercase();
            let secret = ["password", "passwd", "secret", "hash"]
                .iter()
                .any(|s| lower.contains(s));
            if secret {
                Some(key.clone())
            } else {
                secret_field(value)
            }
        }),
        Value::Array(items) => items.iter().find_map(secret_field),
        _ => None,
    }
}

/// A binary of the workspace next to this test executable (`target/<profile>/NAME`), built
/// on demand when missing (`cargo xtask ci` builds them first).
pub fn binary(package: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test executable");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let path = dir.join(format!("{package}{}", std::env::consts::EXE_SUFFIX));
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let status = std::process::Command::new(cargo)
            .args(["build", "--quiet", "-p", package, "--bin", package])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building {package}");
    }
    path
}

/// Options for an in-process contract run with every check on.
pub fn contract_options(target: &str, seed: u64, max_examples: u32) -> contract::Options {
    use contract::checks::{self, Check, Settings};
    contract::Options {
        target: target.to_owned(),
        max_examples,
        seed,
        settings: Settings {
            enabled: Check::ALL
                .into_iter()
                .filter(|c| *c != Check::MaxResponseTime)
                .collect(),
            max_response_time: None,
            sensitive: checks::SENSITIVE_FIELDS
                .iter()
                .map(|s| checks::normalize_field(s))
                .collect(),
        },
        headers: Vec::new(),
        workers: 2,
        request_timeout: std::time::Duration::from_secs(5),
        reset: None,
    }
}

/// Runs the contract checker in-process against `target` with `spec`.
pub async fn run_contract(spec: &str, options: contract::Options) -> contract::Report {
    run_contract_with(spec, options, contract::auth::Auth::default()).await
}

/// The same, with credentials.
pub async fn run_contract_with(
    spec: &str,
    options: contract::Options,
    auth: contract::auth::Auth,
) -> contract::Report {
    let api = contract::spec::parse(spec).expect("the spec parses");
    contract::run(Arc::new(api), Arc::new(options), Arc::new(auth), |_| {})
        .await
        .expect("the run starts")
}
