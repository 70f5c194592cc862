//! Helpers for the integration tests: a client for a spawned mock API that checks every
//! response it receives against `specs/mock-api.yaml` (with the contract checker's checks,
//! validated by the jsonschema crate), so the server and its contract cannot
//! drift apart without a test failing; and [`planted`], [`things`], [`fastapi`] and
//! [`swagger2`], small APIs with defects to plant, for the tests of the contract checker
//! (the last two behave as those frameworks do, for their documents in `fixtures/`).

pub mod fastapi;
pub mod heroes;
pub mod httpbin;
pub mod notes;
pub mod planted;
pub mod swagger2;
pub mod things;
pub mod xmlpets;

use std::sync::{Arc, OnceLock};

use mock_api::MockServer;
use reqwest::Method;
use reqwest::header::HeaderMap;
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

    /// A request that is not judged against the contracts: for stubbed routes and injected
    /// faults, which answer whatever they were told to.
    pub fn raw(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// `GET /api/auth/me` with this `Authorization` header value.
    pub async fn me(&self, authorization: &str) -> Reply {
        self.send(
            Method::GET,
            "/api/auth/me",
            None,
            &[("authorization", authorization)],
        )
        .await
    }

    /// `POST /api/auth/logout` with this `Authorization` header value.
    pub async fn logout(&self, authorization: &str) -> Reply {
        self.send(
            Method::POST,
            "/api/auth/logout",
            None,
            &[("authorization", authorization)],
        )
        .await
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

/// Checks one reply against the spec with the contract checker's own checks (status, content
/// type, required headers, body schema, no secret field, no server error), plus one of its own:
/// no body where the spec documents none. Unknown routes and methods must get the framework's
/// 404 and 405 with the JSON error body.
pub fn conforms(method: &Method, path: &str, reply: &Reply) -> Result<(), String> {
    use contract::checks::{self, Check, Settings};
    use contract::http::{Outcome, Response};
    use openapi::generate::{AuthMode, Case, Kind, Payload};

    // The admin API's contract first (its /__admin/reset documents the admin guard's
    // answers too), then the API's.
    static APIS: OnceLock<[openapi::Api; 2]> = OnceLock::new();
    let apis = APIS.get_or_init(|| {
        [mock_api::spec::ADMIN_YAML, mock_api::spec::YAML]
            .map(|yaml| openapi::parse(yaml).expect("the bundled spec parses"))
    });
    let Some((api, template)) = apis
        .iter()
        .find_map(|api| path_template(api, path).map(|template| (api, template)))
    else {
        return expect_error_body(reply, 404);
    };
    let Some(operation) = api
        .operations
        .iter()
        .find(|o| o.path == template && o.method == *method)
    else {
        return expect_error_body(reply, 405);
    };
    let documents_no_body = operation
        .response_for(reply.status)
        .is_some_and(|r| r.content.is_empty());
    if documents_no_body && !reply.text.is_empty() {
        return Err("a body where the spec documents none".to_owned());
    }
    let settings = Settings {
        enabled: [
            Check::NotAServerError,
            Check::StatusCodeConformance,
            Check::ContentTypeConformance,
            Check::ResponseHeadersConformance,
            Check::ResponseSchemaConformance,
            Check::SensitiveDataExposure,
        ]
        .into(),
        max_response_time: None,
        sensitive: checks::SENSITIVE_FIELDS
            .iter()
            .map(|s| checks::normalize_field(s))
            .collect(),
    };
    let response = Response {
        status: reply.status,
        headers: reply
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: reply.text.as_bytes().to_vec(),
        elapsed: std::time::Duration::ZERO,
    };
    // The case is only context for the checks that judge input; none of those is enabled here.
    let case = Case {
        kind: Kind::Positive,
        params: Vec::new(),
        body: Payload::None,
        auth: AuthMode::Normal,
    };
    let findings = checks::evaluate(
        &settings,
        &api.schemas,
        operation,
        &case,
        &Outcome::Response(response),
    );
    match findings.is_empty() {
        true => Ok(()),
        false => Err(findings
            .into_iter()
            .map(|f| format!("{}: {}", f.check, f.message))
            .collect::<Vec<_>>()
            .join("; ")),
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
fn path_template(api: &openapi::Api, path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').collect();
    api.operations
        .iter()
        .map(|o| o.path.as_str())
        .filter(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(part, segment)| {
                    part == segment || (part.starts_with('{') && !segment.is_empty())
                })
        })
        .min_by_key(|template| template.matches('{').count())
        .map(str::to_owned)
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
        max_response_size: contract::transport::DEFAULT_MAX_RESPONSE,
        rate_limit: None,
        concurrency: 8,
        tls: contract::tls::TlsOptions::default(),
        max_failures: None,
        max_time: None,
        namespace_header: None,
        namespace: None,
    }
}

/// What a report found, as (check, operation) pairs.
pub fn found(report: &contract::Report) -> std::collections::BTreeSet<(String, String)> {
    report
        .failures
        .iter()
        .map(|f| (f.check.clone(), f.operation.clone()))
        .collect()
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
    let api = openapi::parse(spec).expect("the spec parses");
    contract::run(Arc::new(api), Arc::new(options), Arc::new(auth), |_| {})
        .await
        .expect("the run starts")
}

/// A fresh scratch folder for one test, named after it and this process.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

/// Runs `mock-api` with `args` where it must refuse to start: exit status 2 and no
/// listening line. Returns what it said on stderr.
pub fn mock_api_refuses(args: &[&std::ffi::OsStr]) -> String {
    let output = std::process::Command::new(binary("mock-api"))
        .args(args)
        .output()
        .expect("mock-api runs");
    assert_eq!(output.status.code(), Some(2), "{args:?}");
    assert!(output.stdout.is_empty(), "{args:?}: no listening line");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The workspace's root folder.
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the workspace")
        .to_path_buf()
}

/// Starts the `mock-api` binary on `127.0.0.1:0` with `args`; the child and the URL of its
/// first line (`mock-api listening on URL`).
pub fn spawn_mock(args: &[&str], stderr: std::process::Stdio) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(binary("mock-api"))
        .args(["--port", "0"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("mock-api starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("its stdout"))
        .read_line(&mut line)
        .expect("its first line");
    let url = line
        .trim()
        .strip_prefix("mock-api listening on ")
        .expect("the listening line")
        .to_owned();
    (child, url)
}
