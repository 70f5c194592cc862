//! Loading an OpenAPI 3.0 document and flattening it into the operations the checker drives:
//! parameters, request body, documented responses, with every `$ref` outside schemas resolved.

use std::fmt;

use openapiv3::{
    MediaType, OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, RequestBody, Response,
    StatusCode,
};
use reqwest::Method;
use serde_json::Value;

use crate::schema::{Direction, Schemas};

/// Why a document cannot be checked against.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read {0}: {1}")]
    Read(String, String),
    #[error("the document is neither JSON nor YAML: {0}")]
    Syntax(String),
    #[error(
        "this is an OpenAPI {0} document; only OpenAPI 3.0.x is supported (convert 2.0 with swagger2openapi; 3.1 is not supported yet)"
    )]
    Version(String),
    #[error("the document has no `openapi` field: it is not an OpenAPI 3.0 document")]
    NotOpenApi,
    #[error("the document is not valid OpenAPI 3.0: {0}")]
    Structure(String),
    #[error("unresolvable $ref {0:?}: {1}")]
    Reference(String, String),
    #[error("schema at {0} does not compile: {1}")]
    Schema(String, String),
}

/// A checkable API: the operations of a document and its schemas.
#[derive(Debug)]
pub struct Api {
    pub title: String,
    pub version: String,
    pub operations: Vec<Operation>,
    pub schemas: Schemas,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Location {
    Path,
    Query,
    Header,
    Cookie,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub location: Location,
    pub required: bool,
    /// The OpenAPI schema, as written (it may be a `$ref`).
    pub schema: Value,
    pub examples: Vec<Value>,
}

#[derive(Debug, Clone)]
pub struct Body {
    pub required: bool,
    /// The JSON media type the checker sends (`application/json` or a `+json` type).
    pub media_type: String,
    pub schema: Value,
    pub examples: Vec<Value>,
    /// Every media type the operation accepts, to know which ones are wrong.
    pub accepts: Vec<String>,
}

/// An OpenAPI link: values from a response that feed parameters of another operation.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkSpec {
    /// The index of the target operation in [`Api::operations`].
    pub target: usize,
    /// Parameter name and runtime expression (`$response.body#/id`, `$request.path.id`, ...).
    pub parameters: Vec<(String, String)>,
}

/// What a documented response allows.
#[derive(Debug, Clone)]
pub struct ResponseSpec {
    /// Links from this response, explicit in the spec.
    pub links: Vec<LinkSpec>,
    /// Media types with their schemas (`None`: any body).
    pub content: Vec<(String, Option<Value>)>,
    /// Header name, whether it is required, and its schema.
    pub headers: Vec<(String, bool, Option<Value>)>,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub method: Method,
    pub path: String,
    pub operation_id: Option<String>,
    pub params: Vec<Param>,
    pub body: Option<Body>,
    /// Exact codes first, then `4XX`-style ranges, then `default`.
    pub responses: Vec<(StatusKey, ResponseSpec)>,
    /// The operation declares a security requirement (and not an empty one).
    pub secured: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKey {
    Code(u16),
    Range(u16),
    Default,
}

impl Operation {
    /// `GET /api/users/{id}`: how reports name the operation.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The response documented for a status: exact code, then range, then `default`.
    pub fn response_for(&self, status: u16) -> Option<&ResponseSpec> {
        let find = |wanted: StatusKey| self.responses.iter().find(|(key, _)| *key == wanted);
        find(StatusKey::Code(status))
            .or_else(|| find(StatusKey::Range(status / 100)))
            .or_else(|| find(StatusKey::Default))
            .map(|(_, spec)| spec)
    }

    /// The documented statuses, as the spec writes them.
    pub fn documented_statuses(&self) -> Vec<String> {
        self.responses
            .iter()
            .map(|(key, _)| key.to_string())
            .collect()
    }
}

impl fmt::Display for StatusKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusKey::Code(code) => write!(f, "{code}"),
            StatusKey::Range(class) => write!(f, "{class}XX"),
            StatusKey::Default => f.write_str("default"),
        }
    }
}

/// Parses a document (JSON or YAML text).
pub fn parse(text: &str) -> Result<Api, SpecError> {
    let doc: Value = match serde_json::from_str(text) {
        Ok(doc) => doc,
        Err(_) => yaml_serde::from_str(text).map_err(|e| SpecError::Syntax(e.to_string()))?,
    };
    from_value(doc)
}

pub fn from_value(doc: Value) -> Result<Api, SpecError> {
    match (
        doc.get("openapi").and_then(Value::as_str),
        doc.get("swagger"),
    ) {
        (Some(version), _) if version.starts_with("3.0") => {}
        (Some(version), _) => return Err(SpecError::Version(version.to_owned())),
        (None, Some(version)) => {
            return Err(SpecError::Version(
                version.as_str().unwrap_or("2.0").to_owned(),
            ));
        }
        (None, None) => return Err(SpecError::NotOpenApi),
    }
    let openapi: OpenAPI =
        serde_json::from_value(doc.clone()).map_err(|e| SpecError::Structure(e.to_string()))?;
    let schemas = Schemas::new(doc)?;
    let global_security = openapi.security.clone();
    let mut operations = Vec::new();
    for (path, item) in openapi.paths.iter() {
        let item = resolve(&schemas, item, "paths")?;
        for (method, operation) in item.iter() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes())
                .map_err(|e| SpecError::Structure(e.to_string()))?;
            // Operation parameters override path-level ones with the same name and location.
            let mut params: Vec<Param> = Vec::new();
            for param in item.parameters.iter().chain(&operation.parameters) {
                let param = to_param(resolve(&schemas, param, "parameters")?)?;
                params.retain(|p| !(p.name == param.name && p.location == param.location));
                params.push(param);
            }
            let body = match &operation.request_body {
                Some(body) => to_body(resolve(&schemas, body, "requestBodies")?),
                None => None,
            };
            let mut responses = Vec::new();
            for (status, response) in &operation.responses.responses {
                let key = match status {
                    StatusCode::Code(code) => StatusKey::Code(*code),
                    StatusCode::Range(class) => StatusKey::Range(*class),
                };
                responses.push((
                    key,
                    to_response(&schemas, resolve(&schemas, response, "responses")?)?,
                ));
            }
            responses.sort_by_key(|(key, _)| matches!(key, StatusKey::Range(_)));
            if let Some(default) = &operation.responses.default {
                let response = to_response(&schemas, resolve(&schemas, default, "responses")?)?;
                responses.push((StatusKey::Default, response));
            }
            let security = operation.security.as_ref().or(global_security.as_ref());
            let secured =
                security.is_some_and(|reqs| !reqs.is_empty() && reqs.iter().all(|r| !r.is_empty()));
            operations.push(Operation {
                method,
                path: path.clone(),
                operation_id: operation.operation_id.clone(),
                params,
                body,
                responses,
                secured,
            });
        }
    }
    link_operations(&openapi, &schemas, &mut operations)?;
    // Compile every schema now, so a broken one is a clear error before any request is sent.
    for operation in &operations {
        for param in &operation.params {
            schemas.validator(&param.schema, Direction::Request)?;
        }
        if let Some(body) = &operation.body {
            schemas.validator(&body.schema, Direction::Request)?;
        }
        for (_, response) in &operation.responses {
            for schema in response.content.iter().filter_map(|(_, s)| s.as_ref()) {
                schemas.validator(schema, Direction::Response)?;
            }
        }
    }
    Ok(Api {
        title: openapi.info.title.clone(),
        version: openapi.info.version.clone(),
        operations,
        schemas,
    })
}

/// Follows a `$ref` to `#/components/<kind>/<name>` (through chains of references).
fn resolve<'a, T: serde::de::DeserializeOwned + Clone>(
    schemas: &Schemas,
    item: &'a ReferenceOr<T>,
    kind: &str,
) -> Result<std::borrow::Cow<'a, T>, SpecError> {
    match item {
        ReferenceOr::Item(item) => Ok(std::borrow::Cow::Borrowed(item)),
        ReferenceOr::Reference { reference } => {
            let target = schemas.lookup(reference)?;
            let parsed: ReferenceOr<T> = serde_json::from_value(target.clone()).map_err(|e| {
                SpecError::Reference(reference.clone(), format!("not a valid {kind} entry: {e}"))
            })?;
            match parsed {
                ReferenceOr::Item(item) => Ok(std::borrow::Cow::Owned(item)),
                chained @ ReferenceOr::Reference { .. } => {
                    // Chains are short in practice; recursion depth is bounded by lookup's guard.
                    resolve(schemas, &chained, kind)
                        .map(|c| std::borrow::Cow::Owned(c.into_owned()))
                }
            }
        }
    }
}

fn to_param(param: std::borrow::Cow<'_, Parameter>) -> Result<Param, SpecError> {
    let location = match &*param {
        Parameter::Path { .. } => Location::Path,
        Parameter::Query { .. } => Location::Query,
        Parameter::Header { .. } => Location::Header,
        Parameter::Cookie { .. } => Location::Cookie,
    };
    let data = param.parameter_data_ref();
    let schema = match &data.format {
        ParameterSchemaOrContent::Schema(schema) => to_value(schema),
        ParameterSchemaOrContent::Content(content) => content
            .values()
            .find_map(|m| m.schema.as_ref())
            .map_or(Value::Object(Default::default()), to_value),
    };
    let mut examples: Vec<Value> = data.example.iter().cloned().collect();
    examples.extend(
        data.examples
            .values()
            .filter_map(|e| e.as_item()?.value.clone()),
    );
    Ok(Param {
        name: data.name.clone(),
        location,
        required: data.required || location == Location::Path,
        schema,
        examples,
    })
}

fn is_json(media_type: &str) -> bool {
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

fn to_body(body: std::borrow::Cow<'_, RequestBody>) -> Option<Body> {
    let (media_type, content) = body.content.iter().find(|(media, _)| is_json(media))?;
    Some(Body {
        required: body.required,
        media_type: media_type.clone(),
        schema: content
            .schema
            .as_ref()
            .map_or(Value::Object(Default::default()), to_value),
        examples: media_examples(content),
        accepts: body.content.keys().cloned().collect(),
    })
}

fn media_examples(media: &MediaType) -> Vec<Value> {
    let mut examples: Vec<Value> = media.example.iter().cloned().collect();
    examples.extend(
        media
            .examples
            .values()
            .filter_map(|e| e.as_item()?.value.clone()),
    );
    examples
}

fn to_response(
    schemas: &Schemas,
    response: std::borrow::Cow<'_, Response>,
) -> Result<ResponseSpec, SpecError> {
    let content = response
        .content
        .iter()
        .map(|(media, content)| (media.clone(), content.schema.as_ref().map(to_value)))
        .collect();
    let mut headers = Vec::new();
    for (name, header) in &response.headers {
        let header = resolve(schemas, header, "headers")?;
        let schema = match &header.format {
            ParameterSchemaOrContent::Schema(schema) => Some(to_value(schema)),
            ParameterSchemaOrContent::Content(_) => None,
        };
        headers.push((name.clone(), header.required, schema));
    }
    Ok(ResponseSpec {
        content,
        headers,
        links: Vec::new(),
    })
}

/// The links of each response, resolved to operation indexes once all operations are known.
fn link_operations(
    openapi: &OpenAPI,
    schemas: &Schemas,
    operations: &mut [Operation],
) -> Result<(), SpecError> {
    let mut by_id = std::collections::HashMap::new();
    for (index, operation) in operations.iter().enumerate() {
        if let Some(id) = &operation.operation_id {
            by_id.insert(id.clone(), index);
        }
    }
    let mut index = 0;
    for (path, item) in openapi.paths.iter() {
        let item = resolve(schemas, item, "paths")?;
        for (_, operation) in item.iter() {
            let mut all = Vec::new();
            for (status, response) in &operation.responses.responses {
                let response = resolve(schemas, response, "responses")?;
                let key = match status {
                    StatusCode::Code(code) => StatusKey::Code(*code),
                    StatusCode::Range(class) => StatusKey::Range(*class),
                };
                let mut links = Vec::new();
                for (name, link) in &response.links {
                    let link = resolve(schemas, link, "links")?;
                    let target = match &link.operation {
                        openapiv3::LinkOperation::OperationId(id) => by_id.get(id).copied(),
                        openapiv3::LinkOperation::OperationRef(reference) => {
                            operation_by_ref(reference, operations)
                        }
                    };
                    let Some(target) = target else {
                        return Err(SpecError::Structure(format!(
                            "link {name} of {} {path} names an operation that does not exist",
                            operations[index].method
                        )));
                    };
                    let parameters = link
                        .parameters
                        .iter()
                        .filter_map(|(param, expr)| {
                            Some((
                                param.rsplit('.').next()?.to_owned(),
                                expr.as_str()?.to_owned(),
                            ))
                        })
                        .collect();
                    links.push(LinkSpec { target, parameters });
                }
                all.push((key, links));
            }
            for (key, links) in all {
                if let Some((_, spec)) = operations[index]
                    .responses
                    .iter_mut()
                    .find(|(k, _)| *k == key)
                {
                    spec.links = links;
                }
            }
            index += 1;
        }
    }
    Ok(())
}

/// `#/paths/~1things~1{id}/get` to the index of that operation.
fn operation_by_ref(reference: &str, operations: &[Operation]) -> Option<usize> {
    let rest = reference.strip_prefix("#/paths/")?;
    let (path, method) = rest.rsplit_once('/')?;
    let path = path.replace("~1", "/").replace("~0", "~");
    operations
        .iter()
        .position(|o| o.path == path && o.method.as_str().eq_ignore_ascii_case(method))
}

fn to_value<T: serde::Serialize>(item: &T) -> Value {
    serde_json::to_value(item).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_other_versions_clearly() {
        let check = |text: &str, expect: &str| {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.contains(expect), "{error}");
        };
        check(
            r#"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}"#,
            "OpenAPI 3.1.0",
        );
        check(
            "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}",
            "OpenAPI 2.0",
        );
        check("{}", "no `openapi` field");
        check(
            "openapi: 3.0.0\ninfo: 5\npaths: {}",
            "not valid OpenAPI 3.0",
        );
        check("{ not yaml: [", "neither JSON nor YAML");
    }

    #[test]
    fn flattens_the_bundled_spec() {
        let api = parse(mock_api::spec::YAML).unwrap();
        let get = api
            .operations
            .iter()
            .find(|o| o.label() == "GET /api/users/{id}")
            .unwrap();
        assert_eq!(get.params.len(), 1, "the path-level parameter is inherited");
        assert_eq!(get.params[0].location, Location::Path);
        let login = api
            .operations
            .iter()
            .find(|o| o.label() == "POST /api/auth/login")
            .unwrap();
        assert!(login.response_for(401).is_some() && login.response_for(500).is_none());
        assert!(login.body.as_ref().unwrap().required);
        let me = api
            .operations
            .iter()
            .find(|o| o.label() == "GET /api/auth/me")
            .unwrap();
        assert!(me.secured && !login.secured);
    }
}
