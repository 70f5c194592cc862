//! A stub compiled once from its definition: matching a request allocates nothing, and a
//! miss says which of its matchers failed.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::{Body, Bytes};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use uuid::Uuid;

use super::def::{MAX_MATCHERS, MAX_RESPONSES, MAX_STUB_BYTES, ResponseDef, StubDef, Then};
use super::matchers::{ValueMatcher, json_mismatch};
use crate::core::namespace::check_namespace;
use crate::toolkit::faults::Injection;
use crate::toolkit::request::{PathMatcher, RequestView, parse_method, segments};
use crate::toolkit::template::{self, Compiled, Facts, Needs};

/// One response of a stub, ready to send.
#[derive(Debug)]
pub(super) struct Canned {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
    pub(super) injection: Injection,
    /// The body's and header values' templates, compiled (`None`: sent as they are).
    pub(super) templates: Option<(Compiled, Option<Value>, Vec<HeaderName>)>,
}

/// A compiled stub with its call count.
#[derive(Debug)]
pub struct Stub {
    pub id: Uuid,
    pub def: StubDef,
    /// Insertion order, for "newest first" among equal priorities.
    pub(super) seq: u64,
    /// Bytes of its definition as JSON, for the stubs' byte budget.
    pub(super) size: usize,
    pub(super) method: Option<Method>,
    pub(super) path: PathMatcher,
    /// A path only matches paths of as many segments, so this is compared first.
    pub(super) segments: usize,
    pub(super) query: Vec<(String, ValueMatcher)>,
    pub(super) headers: Vec<(HeaderName, ValueMatcher)>,
    /// One, or those of a sequence in turn.
    pub(super) responses: Vec<Canned>,
    pub(super) then: Then,
    pub(super) calls: AtomicU64,
}

impl Stub {
    pub fn compile(
        mut def: StubDef,
        seq: u64,
        new_id: impl FnOnce() -> Uuid,
    ) -> Result<Stub, String> {
        let id = *def.id.get_or_insert_with(new_id);
        if def.request.query.len() + def.request.headers.len() > MAX_MATCHERS {
            return Err(format!(
                "a stub may have at most {MAX_MATCHERS} query and header matchers"
            ));
        }
        let size = serde_json::to_vec(&def).map_or(usize::MAX, |json| json.len());
        if size > MAX_STUB_BYTES {
            return Err(format!(
                "a stub may be at most {MAX_STUB_BYTES} bytes as JSON"
            ));
        }
        if def.name.as_ref().is_some_and(|n| n.chars().count() > 200) {
            return Err("name must be at most 200 characters".into());
        }
        if !(1..=100).contains(&def.priority) {
            return Err("priority must be from 1 (first) to 100".into());
        }
        if let Some(namespace) = &def.namespace {
            check_namespace(namespace).map_err(|e| e.to_string())?;
        }
        let method = parse_method(&def.request.method)?;
        def.request.method = method.as_ref().map_or("ANY".to_owned(), Method::to_string);
        let path = PathMatcher::parse(&def.request.path)?;
        // Every cap above held: only now are the patterns compiled.
        let headers = def
            .request
            .headers
            .iter()
            .map(|(name, matcher)| {
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| format!("`{name}` is not a valid header name"))?;
                let mut matcher = matcher.clone();
                matcher.compile()?;
                Ok((name, matcher))
            })
            .collect::<Result<_, String>>()?;
        let responses: Vec<&ResponseDef> = match (&def.response, &def.responses) {
            (Some(_), Some(_)) => {
                return Err("give `response` or `responses`, not both".to_owned());
            }
            (Some(one), None) => vec![one],
            (None, Some(many)) if many.is_empty() => {
                return Err("`responses` must hold at least one response".to_owned());
            }
            (None, Some(many)) if many.len() > MAX_RESPONSES => {
                return Err(format!(
                    "`responses` may hold at most {MAX_RESPONSES} responses"
                ));
            }
            (None, Some(many)) => many.iter().collect(),
            (None, None) => Vec::new(),
        };
        let responses = match responses.is_empty() {
            true => vec![canned(&ResponseDef::default(), &[])?],
            false => responses
                .into_iter()
                .enumerate()
                .map(|(at, response)| {
                    canned(response, &path.names()).map_err(|e| match def.responses {
                        Some(_) => format!("responses/{at}: {e}"),
                        None => e,
                    })
                })
                .collect::<Result<_, String>>()?,
        };
        // A stub without a response answers 200 with no body, and says so when listed.
        if def.responses.is_none() {
            def.response.get_or_insert_with(ResponseDef::default);
        }
        let query = def
            .request
            .query
            .iter()
            .map(|(name, matcher)| {
                let mut matcher = matcher.clone();
                matcher.compile()?;
                Ok((name.clone(), matcher))
            })
            .collect::<Result<_, String>>()?;
        Ok(Stub {
            id,
            seq,
            size,
            method,
            segments: segments(&def.request.path),
            path,
            query,
            headers,
            responses,
            then: def.then.unwrap_or_default(),
            def,
            calls: AtomicU64::new(0),
        })
    }

    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Counts a call; which of the stub's responses answers it.
    pub fn count_call(&self) -> usize {
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        self.turn(call)
    }

    /// The response that answers call number `call` (from 0).
    pub(super) fn turn(&self, call: u64) -> usize {
        let count = self.responses.len() as u64;
        let at = match self.then {
            Then::RepeatLast => call.min(count - 1),
            Then::Cycle => call % count,
        };
        at as usize
    }

    /// The definition with the server's additions, as the admin API shows it.
    pub fn to_json(&self) -> Value {
        let mut value = serde_json::to_value(&self.def).unwrap_or_default();
        if let Value::Object(object) = &mut value {
            object.insert("calls".to_owned(), json!(self.calls()));
            if self.def.responses.is_some() {
                // Which response the next call gets, from 0.
                object.insert("position".to_owned(), json!(self.turn(self.calls())));
            }
        }
        value
    }

    pub fn matches(&self, request: &RequestView<'_>) -> bool {
        self.check(request, None)
    }

    /// Why the request does not match, one reason per failed part; empty if it matches.
    pub fn mismatches(&self, request: &RequestView<'_>) -> Vec<String> {
        let mut reasons = Vec::new();
        self.check(request, Some(&mut reasons));
        reasons
    }

    /// One pass for both questions: with `reasons`, it goes on past the first failure.
    pub(super) fn check(
        &self,
        request: &RequestView<'_>,
        mut reasons: Option<&mut Vec<String>>,
    ) -> bool {
        let mut fail = |reason: &dyn Fn() -> String| match reasons.as_deref_mut() {
            Some(reasons) => {
                reasons.push(reason());
                true
            }
            None => false,
        };
        if let Some(namespace) = &self.def.namespace
            && request.namespace != Some(namespace.as_str())
            && !fail(&|| {
                format!(
                    "namespace: the stub is for {namespace:?}, the request was in {}",
                    request
                        .namespace
                        .map_or("none".to_owned(), |n| format!("{n:?}"))
                )
            })
        {
            return false;
        }
        if let Some(method) = &self.method
            && method != request.method
            && !fail(&|| format!("method: expected {method}, got {}", request.method))
        {
            return false;
        }
        if (self.segments != request.segments || !self.path.matches(request.path))
            && !fail(&|| {
                format!(
                    "path: expected {}, got {}",
                    self.def.request.path, request.path
                )
            })
        {
            return false;
        }
        for (name, matcher) in &self.query {
            if !matcher.test(request.query_values(name))
                && !fail(&|| {
                    let got: Vec<&str> = request.query_values(name).collect();
                    format!(
                        "query `{name}`: expected {}, got {got:?}",
                        matcher.describe()
                    )
                })
            {
                return false;
            }
        }
        for (name, matcher) in &self.headers {
            let values = || {
                request
                    .headers
                    .get_all(name)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
            };
            if !matcher.test(values())
                && !fail(&|| {
                    let got: Vec<&str> = values().collect();
                    format!(
                        "header `{name}`: expected {}, got {got:?}",
                        matcher.describe()
                    )
                })
            {
                return false;
            }
        }
        if let Some(expected) = &self.def.request.body {
            let mismatch = match request.json() {
                Some(actual) => json_mismatch(actual, expected, String::new()),
                None => Some("body: expected JSON, got none or invalid JSON".to_owned()),
            };
            if let Some(mismatch) = mismatch
                && !fail(&|| mismatch.clone())
            {
                return false;
            }
        }
        reasons.is_none_or(|reasons| reasons.is_empty())
    }

    /// The canned response of a turn (see [`Stub::count_call`]); `facts` of the request are
    /// asked for only by a response with templates.
    pub fn respond(
        &self,
        turn: usize,
        facts: impl FnOnce(&PathMatcher, &Needs) -> Facts,
    ) -> Response {
        let canned = &self.responses[turn.min(self.responses.len() - 1)];
        let Some((compiled, body, header_names)) = &canned.templates else {
            let mut response = Response::new(Body::from(canned.body.clone()));
            *response.status_mut() = canned.status;
            *response.headers_mut() = canned.headers.clone();
            return response;
        };
        let facts = facts(&self.path, &compiled.needs);
        let (rendered, header_values) = compiled.render_text(&facts);
        let bytes = match (rendered, body) {
            (Some(text), Some(_)) => Bytes::from(text),
            _ => canned.body.clone(),
        };
        let mut response = Response::new(Body::from(bytes));
        *response.status_mut() = canned.status;
        *response.headers_mut() = canned.headers.clone();
        for (name, text) in header_names.iter().zip(header_values) {
            if let Ok(value) = HeaderValue::from_str(&text) {
                response.headers_mut().insert(name.clone(), value);
            }
        }
        response
    }

    /// What the response of a turn asks to inject.
    pub fn injection(&self, turn: usize) -> Injection {
        self.responses[turn.min(self.responses.len() - 1)]
            .injection
            .clone()
    }
}

/// A response as a stub defines it, checked and ready to send; `params` are the names the
/// stub's path gives its templates.
pub(super) fn canned(response: &ResponseDef, params: &[&str]) -> Result<Canned, String> {
    let status = match response.status {
        200..=599 => StatusCode::from_u16(response.status).map_err(|e| e.to_string())?,
        other => return Err(format!("response status {other} must be from 200 to 599")),
    };
    if let Some(delay) = response.delay_ms {
        delay.check()?;
    }
    if response
        .dribble_ms
        .is_some_and(|ms| ms > crate::toolkit::faults::MAX_DELAY_MS)
    {
        return Err(format!(
            "dribble_ms must be at most {}",
            crate::toolkit::faults::MAX_DELAY_MS
        ));
    }
    let mut headers = HeaderMap::new();
    let mut header_templates = Vec::new();
    for (name, value) in &response.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("`{name}` is not a valid header name"))?;
        if name == CONTENT_LENGTH || name == TRANSFER_ENCODING {
            return Err(format!("header `{name}` is set by the server"));
        }
        if template::is_template(value) {
            template::check(value, params).map_err(|e| format!("header `{name}`: {e}"))?;
            header_templates.push((name, value.as_str()));
            continue;
        }
        let value = HeaderValue::from_str(value)
            .map_err(|_| format!("the value of header `{name}` is not valid in HTTP"))?;
        headers.append(name, value);
    }
    // 204 and 304 have no body, whatever the stub says.
    let bodiless = matches!(status, StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED);
    let (body, content_type) = match &response.body {
        None => (Bytes::new(), None),
        Some(_) if bodiless => (Bytes::new(), None),
        Some(Value::String(text)) => (Bytes::from(text.clone()), Some("text/plain; charset=utf-8")),
        Some(value) => {
            let text = match &response.written {
                Some(written) => written.clone(),
                None => value.to_string(),
            };
            (Bytes::from(text), Some("application/json"))
        }
    };
    if let Some(content_type) = content_type
        && !headers.contains_key(CONTENT_TYPE)
    {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    let body_template = match &response.body {
        Some(body) if !bodiless && template::has_template(body) => {
            template::check_all(body, params, "body")?;
            Some(body)
        }
        _ => None,
    };
    let sources: Vec<&str> = header_templates.iter().map(|(_, v)| *v).collect();
    let templates = Compiled::new(body_template, &sources, params)?.map(|compiled| {
        (
            compiled,
            body_template.cloned(),
            header_templates.iter().map(|(n, _)| n.clone()).collect(),
        )
    });
    Ok(Canned {
        status,
        headers,
        body,
        templates,
        injection: Injection {
            delay: response.delay_ms,
            status: None,
            fault: response.fault,
            dribble_ms: response.dribble_ms,
            documented: None,
        },
    })
}
