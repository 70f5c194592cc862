//! What stubs and fault rules match a request by: its method, its path against an exact path
//! or a `{param}` template, and a view of the request parsed only as far as a matcher looks.

use std::cell::OnceCell;

use axum::http::{HeaderMap, Method};
use serde_json::Value;

/// An exact path, or a template whose `{name}` segments match any one non-empty segment.
#[derive(Debug, Clone)]
pub enum PathMatcher {
    Exact(String),
    Template(Vec<Segment>),
}

#[derive(Debug, Clone)]
pub enum Segment {
    Literal(String),
    Param(String),
}

impl PathMatcher {
    pub fn parse(path: &str) -> Result<PathMatcher, String> {
        let Some(rest) = path.strip_prefix('/') else {
            return Err(format!("path `{path}` must start with /"));
        };
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
        if !path.contains(['{', '}']) {
            return Ok(PathMatcher::Exact(path.to_owned()));
        }
        rest.split('/')
            .map(|segment| {
                let name = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}'));
                match name {
                    Some(name) if !name.is_empty() && !name.contains(['{', '}']) => {
                        Ok(Segment::Param(name.to_owned()))
                    }
                    _ if !segment.contains(['{', '}']) => Ok(Segment::Literal(segment.to_owned())),
                    _ => Err(format!(
                        "path segment `{segment}`: a parameter is a whole segment, as in /orders/{{id}}"
                    )),
                }
            })
            .collect::<Result<_, _>>()
            .map(PathMatcher::Template)
    }

    pub fn matches(&self, path: &str) -> bool {
        match self {
            PathMatcher::Exact(exact) => exact == path,
            PathMatcher::Template(segments) => {
                let Some(rest) = path.strip_prefix('/') else {
                    return false;
                };
                let mut parts = rest.split('/');
                segments
                    .iter()
                    .all(|segment| match (segment, parts.next()) {
                        (Segment::Literal(literal), Some(part)) => literal == part,
                        (Segment::Param(_), Some(part)) => !part.is_empty(),
                        _ => false,
                    })
                    && parts.next().is_none()
            }
        }
    }
}

impl PathMatcher {
    /// The names of a template's parameters.
    pub fn names(&self) -> Vec<&str> {
        match self {
            PathMatcher::Exact(_) => Vec::new(),
            PathMatcher::Template(segments) => segments
                .iter()
                .filter_map(|s| match s {
                    Segment::Param(name) => Some(name.as_str()),
                    Segment::Literal(_) => None,
                })
                .collect(),
        }
    }

    /// The values of a matching path's parameters, by name.
    pub fn captures<'p>(&self, path: &'p str) -> Vec<(String, &'p str)> {
        let PathMatcher::Template(segments) = self else {
            return Vec::new();
        };
        segments
            .iter()
            .zip(path.trim_start_matches('/').split('/'))
            .filter_map(|(segment, part)| match segment {
                Segment::Param(name) => Some((name.clone(), part)),
                Segment::Literal(_) => None,
            })
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
