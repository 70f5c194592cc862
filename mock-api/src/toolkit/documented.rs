//! The responses the served document gives each operation, chosen per request as Prism users
//! write it: `Prefer: code=404` answers the operation's documented 404, `Prefer: example=NAME`
//! its example of that name. The body is the named example, else the response's first
//! example, else the schema's own, else the simplest value the schema allows. The document
//! is read on the first such request, so start-up does not pay for it.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use openapi::generate::canonical;
use openapi::model::{Api, ResponseSpec, StatusKey};
use openapi::template::{PathTemplate, Segment};

/// What a request asked for: a status, an example by name, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Choice {
    pub code: Option<u16>,
    pub example: Option<String>,
}

/// Why a documented response cannot be given.
#[derive(Debug, thiserror::Error)]
pub enum ChoiceError {
    #[error("{0} is not an operation of the document")]
    NoOperation(String),
    #[error("{operation} documents no {code} response")]
    NoStatus { operation: String, code: u16 },
    #[error("{operation} has no example named {name:?}")]
    NoExample { operation: String, name: String },
    #[error("the document cannot be read: {0}")]
    Document(String),
}

/// What [`Documented::check_stub`] reads of a stub.
#[derive(Debug)]
pub struct StubParts<'a> {
    /// `GET`, ..., or `ANY`.
    pub method: &'a str,
    /// Exact, or a template.
    pub path: &'a str,
    pub responses: Vec<ResponsePart<'a>>,
}

/// One response of a stub, as the document judges it.
#[derive(Debug)]
pub struct ResponsePart<'a> {
    pub status: u16,
    /// The body to judge by the documented schema; `None` for no body, or one that is not
    /// judged (built by a template, or carrying a fault).
    pub judged_body: Option<&'a Value>,
}

/// Why a stub is not one the document allows.
#[derive(Debug, thiserror::Error)]
#[error("the stub does not match the served document: {}", .0.join("; "))]
pub struct Mismatch(pub Vec<String>);

/// The document's operations, read once.
#[derive(Debug)]
pub struct Documented {
    yaml: &'static str,
    api: OnceLock<Result<Arc<Api>, String>>,
    /// The path the document's paths are served under (`/api/v3`), or `""`.
    base: String,
}

impl Documented {
    /// An embedded document, read on the first request that asks for it.
    pub fn new(yaml: &'static str) -> Documented {
        Documented {
            yaml,
            api: OnceLock::new(),
            base: String::new(),
        }
    }

    /// A document read already, served under `base`.
    pub fn loaded(api: Arc<Api>, base: &str) -> Documented {
        Documented {
            yaml: "",
            api: OnceLock::from(Ok(api)),
            base: base.to_owned(),
        }
    }

    /// The document, parsed on first use.
    fn api(&self) -> Result<&Arc<Api>, &str> {
        self.api
            .get_or_init(|| {
                openapi::parse(self.yaml)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(String::as_str)
    }

    /// The documented response `choice` asks for, to a request of `method` on `path`.
    pub fn respond(
        &self,
        method: &Method,
        path: &str,
        choice: &Choice,
    ) -> Result<Response, ChoiceError> {
        let api = self
            .api()
            .map_err(|e| ChoiceError::Document(e.to_owned()))?;
        let relative = path.strip_prefix(self.base.as_str()).unwrap_or(path);
        let operation = api
            .documented_operations()
            .find(|o| o.method.as_str() == method.as_str() && o.serves(relative))
            .ok_or_else(|| ChoiceError::NoOperation(format!("{method} {path}")))?;
        let label = operation.label();
        let has = |response: &ResponseSpec, name: &str| {
            response.examples.iter().any(|(_, n, _)| n == name)
        };
        let (status, response) = match (choice.code, &choice.example) {
            (Some(code), _) => (
                code,
                operation.response_for(code).ok_or(ChoiceError::NoStatus {
                    operation: label.clone(),
                    code,
                })?,
            ),
            // An example alone: the first documented response that has it.
            (None, Some(name)) => operation
                .responses
                .iter()
                .find_map(|(key, response)| match key {
                    StatusKey::Code(code) if has(response, name) => Some((*code, response)),
                    _ => None,
                })
                .ok_or_else(|| ChoiceError::NoExample {
                    operation: label.clone(),
                    name: name.clone(),
                })?,
            (None, None) => {
                return Err(ChoiceError::NoStatus {
                    operation: label,
                    code: 0,
                });
            }
        };
        let media = response
            .content
            .iter()
            .find(|(media, _)| openapi::model::is_json(media))
            .or(response.content.first());
        let body = match &choice.example {
            Some(name) => Some(
                response
                    .examples
                    .iter()
                    .find(|(_, n, _)| n == name)
                    .map(|(_, _, value)| value.clone())
                    .ok_or_else(|| ChoiceError::NoExample {
                        operation: label.clone(),
                        name: name.clone(),
                    })?,
            ),
            None => response
                .examples
                .first()
                .map(|(_, _, value)| value.clone())
                .or_else(|| {
                    let schema = media?.1.as_ref()?;
                    let own = api.schemas.resolve(schema).get("examples");
                    own.and_then(|e| e.get(0).cloned())
                        .or_else(|| Some(canonical(&api.schemas, schema, false)))
                }),
        };
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
        let mut reply = match (body, media) {
            (Some(body), Some((media, _))) if !matches!(status.as_u16(), 204 | 304) => {
                let text = match &body {
                    Value::String(text) if !openapi::model::is_json(media) => text.clone(),
                    other => other.to_string(),
                };
                let mut reply = Response::new(Body::from(text));
                if let Ok(value) = HeaderValue::from_str(media) {
                    reply.headers_mut().insert(header::CONTENT_TYPE, value);
                }
                reply
            }
            _ => Response::new(Body::empty()),
        };
        *reply.status_mut() = status;
        Ok(reply)
    }
}

/// Whether a stub's path (exact, or a template) names the same URLs as an operation's
/// template: segment by segment, a literal matches itself or a parameter, a stub's parameter
/// only a parameter.
fn path_fits(stub: &str, operation: &str) -> bool {
    let (stub, operation) = (PathTemplate::new(stub), PathTemplate::new(operation));
    stub.segments().len() == operation.segments().len()
        && stub
            .segments()
            .iter()
            .zip(operation.segments())
            .all(|(s, o)| match (s, o) {
                (Segment::Literal(text), _) => o.fit(text).is_some(),
                (Segment::Param { .. }, Segment::Param { .. }) => true,
                (Segment::Param { .. }, Segment::Literal(_)) => false,
            })
}

impl Documented {
    /// A stub checked against the document (`--strict-stubs`, or `"strict": true`): its
    /// method and path must be an operation's, and each response's status one the
    /// operation documents, with a body its schema allows. A body built by a template, or a
    /// response that carries a fault, is not judged by its body.
    pub fn check_stub(&self, stub: &StubParts<'_>) -> Result<(), Mismatch> {
        let api = self
            .api()
            .map_err(|e| Mismatch(vec![format!("the document cannot be read: {e}")]))?;
        let method = stub.method.to_ascii_uppercase();
        let any = method == "ANY" || method == "*";
        let Some(path) = stub.path.strip_prefix(self.base.as_str()) else {
            return Err(Mismatch(vec![format!(
                "{} is not under the served base path {}",
                stub.path, self.base
            )]));
        };
        let path = if path.is_empty() { "/" } else { path };
        let operations: Vec<&openapi::Operation> = api
            .documented_operations()
            .filter(|o| path_fits(path, &o.path))
            .filter(|o| any || o.method.as_str() == method)
            .collect();
        if operations.is_empty() {
            return Err(Mismatch(vec![format!(
                "no operation of the document is {} {}",
                stub.method, stub.path
            )]));
        }
        let mut reasons = Vec::new();
        for (at, response) in stub.responses.iter().enumerate() {
            // Every operation the stub stands for must allow the response.
            for operation in &operations {
                let label = operation.label();
                let Some(spec) = operation.response_for(response.status) else {
                    reasons.push(format!(
                        "response {}: {label} documents no {} response (documented: {})",
                        at + 1,
                        response.status,
                        operation.documented_statuses().join(", ")
                    ));
                    continue;
                };
                let Some(body) = response.judged_body else {
                    continue;
                };
                let schema = spec
                    .content
                    .iter()
                    .find(|(media, _)| openapi::model::is_json(media))
                    .and_then(|(_, schema)| schema.as_ref());
                match schema {
                    Some(schema) => {
                        let errors = api
                            .schemas
                            .errors(schema, openapi::Direction::Response, body);
                        reasons.extend(errors.into_iter().take(3).map(|e| {
                            format!(
                                "response {}: the body does not fit {label}'s {}: {e}",
                                at + 1,
                                response.status
                            )
                        }));
                    }
                    None if spec.content.is_empty() => reasons.push(format!(
                        "response {}: {label}'s {} has no body",
                        at + 1,
                        response.status
                    )),
                    None => {}
                }
            }
        }
        match reasons.is_empty() {
            true => Ok(()),
            false => Err(Mismatch(reasons)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::path_fits;

    #[test]
    fn stub_paths_fit_templates() {
        assert!(path_fits("/api/users/{id}", "/api/users/{userId}"));
        assert!(path_fits("/api/users/7", "/api/users/{id}"));
        assert!(path_fits("/api/users/me", "/api/users/me"));
        assert!(!path_fits("/api/users/{id}", "/api/users/me"));
        assert!(!path_fits("/api/users", "/api/users/{id}"));
    }
}
