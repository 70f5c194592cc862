//! The normalized model of a document: operations with their parameters, bodies, responses,
//! headers, links and security, whatever version the document was written in. Every schema
//! is a reference to a slot of the [`Schemas`] arena.

use std::fmt;

use http::Method;
use serde_json::Value;

use crate::schema::Schemas;

/// A document, ready for any tool.
#[derive(Debug)]
pub struct Api {
    pub title: String,
    pub version: String,
    /// The version of OpenAPI the document was written in (`2.0`, `3.0.3`, `3.1.0`).
    pub openapi: String,
    /// Server URLs (2.0: from `host`, `basePath` and `schemes`), variables at their defaults.
    pub servers: Vec<String>,
    pub operations: Vec<Operation>,
    pub security_schemes: Vec<SecurityScheme>,
    pub schemas: Schemas,
    /// What of the document is not used, said once (webhooks, say), [`Api::repairs`]
    /// included.
    pub notes: Vec<String>,
    /// How the loader read the document where it is not what the text says (a keyword of
    /// the wrong type read as meant, a part it could not use dropped), each with its JSON
    /// pointer: every tool says these alike.
    pub repairs: Vec<String>,
    /// The method and path of every operation of the document left out of `operations` (set
    /// aside by the loader, or by [`Api::retain_operations`]): still documented, so never
    /// probed as undocumented.
    pub left_out: Vec<(Method, String)>,
    /// The operations the loader could not make checkable (a schema the validator cannot
    /// compile, a body only in media types no request can be made in), kept whole: a mock
    /// still answers them from their documented responses.
    pub set_aside: Vec<SetAside>,
}

/// An operation left out of [`Api::operations`], and why (its links dropped).
#[derive(Debug, Clone)]
pub struct SetAside {
    pub operation: Operation,
    pub why: String,
}

impl Api {
    /// Every operation the document has: the checkable ones (numbered as in `operations`),
    /// then those set aside.
    pub fn documented_operations(&self) -> impl Iterator<Item = &Operation> {
        self.operations
            .iter()
            .chain(self.set_aside.iter().map(|s| &s.operation))
    }

    /// Keeps the operations for which `keep` is true (`--include-path` and the like), links
    /// renumbered.
    pub fn retain_operations(&mut self, keep: impl Fn(&Operation) -> bool) {
        let kept: Vec<bool> = self.operations.iter().map(keep).collect();
        self.left_out.extend(
            self.operations
                .iter()
                .zip(&kept)
                .filter(|(_, kept)| !**kept)
                .map(|(o, _)| (o.method.clone(), o.path.clone())),
        );
        self.operations = keep_operations(std::mem::take(&mut self.operations), &kept);
    }
}

/// The operations `keep` marks, links renumbered (links to one left out dropped).
pub fn keep_operations(operations: Vec<Operation>, keep: &[bool]) -> Vec<Operation> {
    if keep.iter().all(|k| *k) {
        return operations;
    }
    let mut renumbered = Vec::new();
    let mut next = 0;
    for kept in keep {
        renumbered.push(kept.then_some(next));
        next += usize::from(*kept);
    }
    operations
        .into_iter()
        .zip(keep)
        .filter(|(_, kept)| **kept)
        .map(|(mut operation, _)| {
            for (_, response) in &mut operation.responses {
                response
                    .links
                    .retain_mut(|link| match renumbered[link.target] {
                        Some(target) => {
                            link.target = target;
                            true
                        }
                        None => false,
                    });
            }
            operation
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Location {
    Path,
    Query,
    Header,
    Cookie,
}

impl Location {
    pub fn name(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
            Location::Cookie => "cookie",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub location: Location,
    pub required: bool,
    /// A reference to the parameter's schema slot.
    pub schema: Value,
    pub examples: Vec<Value>,
    /// Arrays repeat the name (`form` with `explode`, the default for queries) rather than
    /// joining values with commas.
    pub explode: bool,
}

/// How a request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `multipart/form-data`.
    Multipart,
    /// Text or bytes as they are, in the media type the document names (`text/plain`,
    /// `application/octet-stream`, `image/png`): the body's schema is a string's.
    Text,
}

#[derive(Debug, Clone)]
pub struct Body {
    pub required: bool,
    /// The media type a tool sends (JSON first, else a form).
    pub media_type: String,
    pub encoding: Encoding,
    /// A reference to the body's schema slot.
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
    /// Links from this response, explicit in the document.
    pub links: Vec<LinkSpec>,
    /// Media types with their schemas (`None`: any body).
    pub content: Vec<(String, Option<Value>)>,
    /// Named examples of the body, by media type: `(media type, name, value)`.
    pub examples: Vec<(String, String, Value)>,
    /// Header name, whether it is required, and its schema.
    pub headers: Vec<(String, bool, Option<Value>)>,
}

impl ResponseSpec {
    /// The response's JSON body: the media type to answer with and its schema. A JSON media
    /// type, else one that admits JSON (springfox's `*/*`, `application/*`, a misspelt JSON
    /// type), answered as `application/json`: what a server of that document sends.
    pub fn json(&self) -> Option<(&str, Option<&Value>)> {
        if let Some((media, schema)) = self.content.iter().find(|(media, _)| is_json(media)) {
            return Some((media.as_str(), schema.as_ref()));
        }
        self.content
            .iter()
            .find(|(media, _)| admits_json(media))
            .map(|(_, schema)| ("application/json", schema.as_ref()))
    }
}

/// Whether a media type that is not JSON's own admits a JSON body: `*/*`, `application/*`,
/// or a JSON type misspelt (`applicationjson`, `json`).
pub fn admits_json(media_type: &str) -> bool {
    let essence = essence(media_type);
    matches!(essence.as_str(), "*/*" | "application/*") || essence.contains("json")
}

/// A security scheme of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityScheme {
    pub name: String,
    pub kind: SecurityKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecurityKind {
    /// `Authorization: <scheme> ...` (`bearer`, `basic`, ...), lower-cased.
    Http(String),
    /// A key in a header, query parameter or cookie of this name.
    ApiKey(Location, String),
    OAuth2,
    OpenIdConnect,
    Other(String),
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub method: Method,
    pub path: String,
    pub operation_id: Option<String>,
    pub tags: Vec<String>,
    pub params: Vec<Param>,
    pub body: Option<Body>,
    /// Exact codes first, then `4XX`-style ranges, then `default`.
    pub responses: Vec<(StatusKey, ResponseSpec)>,
    /// The alternatives of security requirements: any one of them, each naming schemes that
    /// all apply. Empty: no security.
    pub security: Vec<Vec<String>>,
    /// The operation needs credentials: it has requirements and none of them is empty.
    pub secured: bool,
    /// Where the operation is in the document (`#/paths/~1pets/get`).
    pub pointer: String,
    /// The path key as the document writes it, where that is not the path: AWS's
    /// `/#X-Amz-Target=...` or `/?Action=...`, read as the path before `#` or `?`.
    pub key: Option<String>,
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
        format!(
            "{} {}",
            self.method,
            self.key.as_deref().unwrap_or(&self.path)
        )
    }

    /// Whether a concrete path is one this operation's template describes.
    pub fn serves(&self, path: &str) -> bool {
        crate::template::template_matches(&self.path, path)
    }

    /// The response documented for a status: exact code, then range, then `default`.
    pub fn response_for(&self, status: u16) -> Option<&ResponseSpec> {
        let find = |wanted: StatusKey| self.responses.iter().find(|(key, _)| *key == wanted);
        find(StatusKey::Code(status))
            .or_else(|| find(StatusKey::Range(status / 100)))
            .or_else(|| find(StatusKey::Default))
            .map(|(_, spec)| spec)
    }

    /// Whether the operation documents this exact status (not through a range or `default`).
    pub fn documents(&self, status: u16) -> bool {
        self.responses
            .iter()
            .any(|(key, _)| *key == StatusKey::Code(status))
    }

    /// The documented statuses, as the document writes them.
    pub fn documented_statuses(&self) -> Vec<String> {
        self.responses
            .iter()
            .map(|(key, _)| key.to_string())
            .collect()
    }
}

/// A media type without its parameters, lower-cased: `application/json; charset=utf-8` is
/// `application/json`.
pub fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// `application/json` or any `+json` type.
pub fn is_json(media_type: &str) -> bool {
    // Compared in place, not through `essence`: the mock asks this on every request.
    let essence = media_type.split(';').next().unwrap_or("").trim().as_bytes();
    essence.eq_ignore_ascii_case(b"application/json")
        || (essence.len() >= 5 && essence[essence.len() - 5..].eq_ignore_ascii_case(b"+json"))
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

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn json_media_types() {
        for json in [
            "application/json",
            "Application/JSON; charset=utf-8",
            " application/problem+json ",
            "application/vnd.api+JSON",
        ] {
            assert!(is_json(json), "{json}");
        }
        for other in [
            "text/plain",
            "application/jsonp",
            "application/x-www-form-urlencoded",
            "",
        ] {
            assert!(!is_json(other), "{other}");
        }
    }
}
