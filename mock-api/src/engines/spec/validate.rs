//! A request judged against its operation: credentials its security asks for, path, query,
//! header and cookie parameters, and the body (media type, then schema), each read the way
//! a server typed by the document reads it.

use std::collections::HashMap;

use axum::http::{HeaderMap, header};
use serde_json::{Map, Value, json};

use openapi::generate::wire::{BodyJudge, ParamJudge, Shape};
use openapi::generate::xml;
use openapi::model::{Api, Encoding, Location, Operation, SecurityKind, essence, is_json};
use openapi::schema::Direction;

/// Why a request is refused.
#[derive(Debug, thiserror::Error)]
pub enum Invalid {
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    BadRequest(String),
    /// A path parameter no item's id can be (`0` where ids start at 1).
    #[error("{0}")]
    BadPath(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
}

/// An operation's parameter judges, compiled on the operation's first request.
#[derive(Clone)]
pub struct Judges {
    params: Vec<Option<ParamJudge>>,
    shapes: Vec<Shape>,
    body: Option<BodyJudge>,
}

impl std::fmt::Debug for Judges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Judges")
    }
}

impl Judges {
    pub fn new(api: &Api, operation: &Operation) -> Judges {
        Judges {
            params: operation
                .params
                .iter()
                .map(|p| ParamJudge::new(&api.schemas, p))
                .collect(),
            shapes: operation
                .params
                .iter()
                .map(|p| Shape::of(&api.schemas, &p.schema))
                .collect(),
            body: operation
                .body
                .as_ref()
                .and_then(|b| BodyJudge::new(&api.schemas, b)),
        }
    }
}

/// What a valid request carries for the handler.
#[derive(Debug, Default)]
pub struct Accepted {
    /// The query's values by name, first value of a repeated name.
    pub query: HashMap<String, String>,
    /// The body as the server reads it, when there was one.
    pub body: Option<Value>,
}

/// Headers OpenAPI says parameters cannot describe.
const RESERVED_HEADERS: [&str; 3] = ["accept", "content-type", "authorization"];

/// The whole check, in the order servers usually check: credentials, then parameters,
/// then the body.
/// A request as the checks see it.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// The path's parameters, percent-decoded.
    pub path_params: &'a [(String, String)],
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

pub fn check(
    api: &Api,
    credentials: &[String],
    operation: &Operation,
    judges: &Judges,
    request: Incoming<'_>,
) -> Result<Accepted, Invalid> {
    let Incoming {
        path_params,
        query,
        headers,
        body,
    } = request;
    // Only read when a parameter or a scheme wants a cookie.
    let cookies = match headers.contains_key(header::COOKIE) {
        true => cookies(headers),
        false => HashMap::new(),
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Some(query) = query {
        pairs = form_urlencoded::parse(query.as_bytes())
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
    }
    if operation.secured && !authorized(api, credentials, operation, headers, &pairs, &cookies) {
        return Err(Invalid::Unauthorized(
            "missing or malformed credentials".to_owned(),
        ));
    }
    for ((param, judge), shape) in operation
        .params
        .iter()
        .zip(&judges.params)
        .zip(&judges.shapes)
    {
        let value = match param.location {
            Location::Path => path_params
                .iter()
                .find(|(n, _)| *n == param.name)
                .map(|(_, v)| json!(v)),
            Location::Query => {
                let values: Vec<&str> = pairs
                    .iter()
                    .filter(|(n, _)| *n == param.name)
                    .map(|(_, v)| v.as_str())
                    .collect();
                match (values.len(), shape) {
                    (0, _) => None,
                    (_, Shape::Array(_)) if param.explode => Some(json!(values)),
                    _ => Some(json!(values[0])),
                }
            }
            Location::Header => {
                let name = param.name.to_ascii_lowercase();
                if RESERVED_HEADERS.contains(&name.as_str()) {
                    continue;
                }
                headers
                    .get(name.as_str())
                    .map(|v| json!(String::from_utf8_lossy(v.as_bytes())))
            }
            Location::Cookie => cookies.get(&param.name).map(|v| json!(v)),
        };
        let where_ = || format!("{} parameter {}", param.location.name(), param.name);
        match (value, judge) {
            (None, _) if param.required => {
                return Err(Invalid::BadRequest(format!("the {} is required", where_())));
            }
            (Some(value), Some(judge)) if !judge.received(&value) => {
                let seen = judge.as_seen(&value);
                let why = api
                    .schemas
                    .errors(&param.schema, Direction::Request, &seen)
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| "not a value it allows".to_owned());
                let message = format!("the {} is invalid: {why}", where_());
                return Err(match param.location {
                    Location::Path => Invalid::BadPath(message),
                    _ => Invalid::BadRequest(message),
                });
            }
            _ => {}
        }
    }
    let body = match &operation.body {
        Some(spec) => read_body(api, spec, judges.body.as_ref(), headers, body)?,
        None => None,
    };
    Ok(Accepted {
        query: pairs.into_iter().rev().collect(),
        body,
    })
}

fn read_body(
    api: &Api,
    spec: &openapi::Body,
    judge: Option<&BodyJudge>,
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<Option<Value>, Invalid> {
    if bytes.is_empty() {
        return match spec.required {
            true => Err(Invalid::BadRequest("a request body is required".to_owned())),
            false => Ok(None),
        };
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let sent = essence(content_type);
    let accepted = spec.accepts.iter().any(|media| {
        let media = essence(media);
        media == sent
            || media == "*/*"
            || media
                .strip_suffix("/*")
                .is_some_and(|kind| sent.starts_with(kind) && sent[kind.len()..].starts_with('/'))
    });
    if !accepted {
        return Err(Invalid::UnsupportedMediaType(format!(
            "the body must be one of: {}",
            spec.accepts.join(", ")
        )));
    }
    let value = if is_json(&sent) {
        serde_json::from_slice::<Value>(bytes)
            .map_err(|e| Invalid::BadRequest(format!("malformed JSON: {e}")))?
    } else if sent == "application/x-www-form-urlencoded" {
        fields(form_urlencoded::parse(bytes).map(|(n, v)| (n.into_owned(), v.into_owned())))
    } else if sent == "multipart/form-data" {
        fields(multipart(content_type, bytes)?.into_iter())
    } else if sent.ends_with("xml") && spec.encoding != Encoding::Text {
        // XML as a server bound by the schema reads it: names from the `xml` objects.
        let root = xml::parse(bytes).map_err(|e| Invalid::BadRequest(e.to_string()))?;
        let value = xml::read(&api.schemas, &spec.schema, &root);
        return match api
            .schemas
            .errors(&spec.schema, Direction::Request, &value)
            .first()
        {
            Some(why) => Err(Invalid::BadRequest(format!("the body is invalid: {why}"))),
            None => Ok(Some(value)),
        };
    } else if spec.encoding == Encoding::Text && !sent.contains("xml") {
        // Text or bytes whose schema is a string's: judged as the text it is.
        json!(String::from_utf8_lossy(bytes))
    } else {
        // Text beside a structured body: kept as text, not judged by a JSON schema.
        return Ok(Some(json!(String::from_utf8_lossy(bytes))));
    };
    // What the validator sees is what a server typed by the document reads.
    let form = !is_json(&sent) && spec.encoding != Encoding::Text;
    // A form is typed by the schema even where the document also accepts JSON (the
    // Petstore's `POST /store/order` takes JSON, XML and a form).
    let seen = match (judge, form) {
        (Some(judge), true) => judge.form_seen(&value),
        _ => value,
    };
    let errors = api.schemas.errors(&spec.schema, Direction::Request, &seen);
    match errors.into_iter().next() {
        Some(why) => Err(Invalid::BadRequest(format!("the body is invalid: {why}"))),
        None => Ok(Some(seen)),
    }
}

/// Form fields as an object: a repeated name becomes an array.
fn fields(pairs: impl Iterator<Item = (String, String)>) -> Value {
    let mut object = Map::new();
    for (name, value) in pairs {
        match object.get_mut(&name) {
            Some(Value::Array(values)) => values.push(json!(value)),
            Some(first) => *first = json!([first.take(), value]),
            None => {
                object.insert(name, json!(value));
            }
        }
    }
    Value::Object(object)
}

/// The fields of a `multipart/form-data` body (file parts as text), by its boundary.
fn multipart(content_type: &str, bytes: &[u8]) -> Result<Vec<(String, String)>, Invalid> {
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
        .map(|b| b.trim_matches('"'))
        .filter(|b| !b.is_empty())
        .ok_or_else(|| Invalid::BadRequest("a multipart body needs a boundary".to_owned()))?;
    let text = String::from_utf8_lossy(bytes);
    let delimiter = format!("--{boundary}");
    let mut out = Vec::new();
    for part in text.split(delimiter.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n").unwrap_or(part);
        let Some((head, body)) = part.split_once("\r\n\r\n") else {
            return Err(Invalid::BadRequest(
                "a multipart part has no head".to_owned(),
            ));
        };
        let name = head
            .lines()
            .filter(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
            .flat_map(|l| l.split(';'))
            .filter_map(|p| p.trim().strip_prefix("name="))
            .next()
            .map(|n| n.trim_matches('"').to_owned())
            .ok_or_else(|| Invalid::BadRequest("a multipart part has no name".to_owned()))?;
        out.push((name, body.strip_suffix("\r\n").unwrap_or(body).to_owned()));
    }
    Ok(out)
}

fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

/// Whether any of the operation's security alternatives is met. A mock cannot know which
/// credentials are real: with no `credentials` given, one of the right form is enough;
/// with some, only those are (a bearer token, an API key, `user:password` for basic).
fn authorized(
    api: &Api,
    credentials: &[String],
    operation: &Operation,
    headers: &HeaderMap,
    query: &[(String, String)],
    cookies: &HashMap<String, String>,
) -> bool {
    let known = |value: &str| credentials.is_empty() || credentials.iter().any(|c| c == value);
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .map(|(scheme, credential)| (scheme.to_ascii_lowercase(), credential.trim()))
        .filter(|(_, credential)| !credential.is_empty());
    let http = |wanted: &str| match &authorization {
        Some((scheme, credential)) if scheme == wanted => match wanted {
            "basic" => {
                use base64::Engine as _;
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(credential)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok());
                decoded.is_some_and(|pair| pair.contains(':') && known(&pair))
            }
            _ => known(credential),
        },
        _ => false,
    };
    let met = |name: &String| {
        let Some(scheme) = api.security_schemes.iter().find(|s| s.name == *name) else {
            return true;
        };
        match &scheme.kind {
            SecurityKind::Http(kind) => http(kind),
            SecurityKind::OAuth2 | SecurityKind::OpenIdConnect => http("bearer"),
            SecurityKind::ApiKey(Location::Header, key) => headers
                .get(key.as_str())
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| !v.is_empty() && known(v)),
            SecurityKind::ApiKey(Location::Query, key) => query
                .iter()
                .any(|(n, v)| n == key && !v.is_empty() && known(v)),
            SecurityKind::ApiKey(_, key) => {
                cookies.get(key).is_some_and(|v| !v.is_empty() && known(v))
            }
            SecurityKind::Other(_) => true,
        }
    };
    operation
        .security
        .iter()
        .any(|alternative| alternative.iter().all(met))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_fields_are_read_by_boundary() {
        let body = "--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--xyz\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.txt\"\r\n\r\nhello\r\n--xyz--\r\n";
        let parts = multipart("multipart/form-data; boundary=xyz", body.as_bytes()).unwrap();
        assert_eq!(
            parts,
            [
                ("a".to_owned(), "1".to_owned()),
                ("f".to_owned(), "hello".to_owned())
            ]
        );
        assert!(multipart("multipart/form-data", body.as_bytes()).is_err());
    }
}
