//! What stubs and fault rules match a request by: its method, its path against an exact path
//! or a `{param}` template, and a view of the request parsed only as far as a matcher looks.

use std::cell::OnceCell;

use axum::http::{HeaderMap, Method};
use serde_json::Value;

use openapi::template::PathTemplate;

/// An exact path, or a template whose `{name}` segments match any one non-empty segment:
/// the shared `PathTemplate`, held to whole-segment parameters.
#[derive(Debug, Clone)]
pub struct PathMatcher(PathTemplate);

impl PathMatcher {
    pub fn parse(path: &str) -> Result<PathMatcher, String> {
        if !path.starts_with('/') {
            return Err(format!("path `{path}` must start with /"));
        }
        if path.contains(['?', '#']) {
            return Err(format!(
                "path `{path}` must not hold a query or fragment: match the query with `query`"
            ));
        }
        if path == "/__admin" || path.starts_with("/__admin/") {
            return Err(
                "paths under /__admin belong to the admin API and cannot be stubbed".into(),
            );
        }
        let template = PathTemplate::new(path);
        for (segment, text) in template.segments().iter().zip(path.split('/').skip(1)) {
            let whole = segment.is_whole_param()
                && !text[1..text.len() - 1].is_empty()
                && !text[1..text.len() - 1].contains(['{', '}']);
            if text.contains(['{', '}']) && !whole {
                return Err(format!(
                    "path segment `{text}`: a parameter is a whole segment, as in /orders/{{id}}"
                ));
            }
        }
        Ok(PathMatcher(template))
    }

    pub fn matches(&self, path: &str) -> bool {
        self.0.matches(path)
    }

    /// The names of a template's parameters.
    pub fn names(&self) -> Vec<&str> {
        self.0.names().collect()
    }

    /// The values of a matching path's parameters, by name (none when it does not match).
    pub fn captures<'p>(&self, path: &'p str) -> Vec<(String, &'p str)> {
        self.0
            .captures(path)
            .into_iter()
            .flatten()
            .map(|(name, value)| (name.to_owned(), value))
            .collect()
    }
}

/// The segments of a path: `/` has one, `/a/b` two.
pub fn segments(path: &str) -> usize {
    path.bytes().filter(|b| *b == b'/').count()
}

/// `ANY` (or `*`) for every method, otherwise a method name, in any case.
pub fn parse_method(method: &str) -> Result<Option<Method>, String> {
    match method.to_ascii_uppercase().as_str() {
        "ANY" | "*" => Ok(None),
        upper @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") => Ok(Some(
            Method::from_bytes(upper.as_bytes()).map_err(|e| e.to_string())?,
        )),
        _ => Err(format!(
            "method `{method}` must be one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY"
        )),
    }
}

/// What matching sees of a request: parsed lazily, since most stubs look only at the path.
pub struct RequestView<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub namespace: Option<&'a str>,
    /// How many segments the path has: most stubs are told apart by this alone.
    pub(crate) segments: usize,
    query_pairs: OnceCell<Vec<(String, String)>>,
    json: OnceCell<Option<Value>>,
}

impl<'a> RequestView<'a> {
    pub fn new(
        method: &'a Method,
        uri: &'a axum::http::Uri,
        headers: &'a HeaderMap,
        body: &'a [u8],
        namespace: Option<&'a str>,
    ) -> RequestView<'a> {
        RequestView {
            method,
            path: uri.path(),
            query: uri.query(),
            headers,
            body,
            namespace,
            segments: segments(uri.path()),
            query_pairs: OnceCell::new(),
            json: OnceCell::new(),
        }
    }

    pub(crate) fn query_values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        let pairs = self.query_pairs.get_or_init(|| {
            form_urlencoded::parse(self.query.unwrap_or_default().as_bytes())
                .into_owned()
                .collect()
        });
        pairs
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub(crate) fn json(&self) -> Option<&Value> {
        self.json
            .get_or_init(|| serde_json::from_slice(self.body).ok())
            .as_ref()
    }
}
