//! Runtime stubs: a request matcher (method, exact path or path template, query, headers, a
//! partial JSON body) and the canned response it answers with, ahead of the built-in routes.
//!
//! Definitions are kept as given ([`StubDef`], echoed back by the admin API) and compiled
//! once into a [`Stub`], so that matching a request allocates nothing.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::body::{Body, Bytes};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::core::ids::Ids;
use crate::core::namespace::check_namespace;
use crate::core::sync::{read, write};
use crate::toolkit::documented::{ResponsePart, StubParts};
use crate::toolkit::faults::{Delay, FaultKind, Injection};
use crate::toolkit::request::{PathMatcher, RequestView, parse_method, segments};
use crate::toolkit::template::{self, Compiled, Facts, Needs};

/// Stubs kept at once; each is small, but a runaway script should get an error, not OOM.
pub const MAX_STUBS: usize = 10_000;
/// Bytes one stub may take, as JSON, and all stubs together.
pub const MAX_STUB_BYTES: usize = 1 << 20;
pub const MAX_ALL_STUB_BYTES: usize = 64 << 20;
/// Query and header matchers one stub may have: each costs time on every request.
pub const MAX_MATCHERS: usize = 32;

/// A stub as clients write it, and as the admin API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StubDef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// 1 is tried first; among equal priorities, the newest stub wins.
    #[serde(default = "default_priority")]
    pub priority: u32,
    /// Only requests carrying `X-Mock-Namespace: NAME` see the stub; without it, all do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub request: RequestDef,
    /// The one response; without it (and without `responses`), 200 with no body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseDef>,
    /// Responses answered in turn, one per call; after the last, `then` says what comes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responses: Option<Vec<ResponseDef>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then: Option<Then>,
    /// Checked against the served document at creation, as `--strict-stubs` checks all.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub strict: bool,
}

/// What a sequence of responses answers after its last one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Then {
    /// The last response, for ever.
    #[default]
    RepeatLast,
    /// The first one again, and so on.
    Cycle,
}

/// The most responses one stub may answer in turn.
pub const MAX_RESPONSES: usize = 100;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestDef {
    #[serde(default = "any_method")]
    pub method: String,
    /// `/exact/path` or a template such as `/api/orders/{id}`.
    pub path: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query: BTreeMap<String, ValueMatcher>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, ValueMatcher>,
    /// Matches a JSON body holding at least these fields with these values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseDef {
    #[serde(default = "default_status")]
    pub status: u16,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// A string is sent as text; anything else as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<Delay>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<FaultKind>,
    /// How long a `slow` fault takes to dribble the body out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dribble_ms: Option<u64>,
    /// The body's JSON text as the client wrote it, so that it is sent in its own key order
    /// (a `Value` keeps keys sorted); see [`with_written_bodies`].
    #[serde(skip)]
    pub written: Option<String>,
}

impl Default for ResponseDef {
    fn default() -> Self {
        ResponseDef {
            status: default_status(),
            headers: BTreeMap::new(),
            body: None,
            delay_ms: None,
            fault: None,
            dribble_ms: None,
            written: None,
        }
    }
}

fn default_priority() -> u32 {
    5
}

fn any_method() -> String {
    "ANY".to_owned()
}

fn default_status() -> u16 {
    200
}

/// How a query parameter or header must look: `"text"` is short for `{"equals": "text"}`;
/// `matches` is a regular expression the whole value must match.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "Value")]
pub enum ValueMatcher {
    Equals(String),
    Contains(String),
    Matches(Pattern),
    Absent,
}

/// The longest `matches` pattern, in bytes.
const MAX_PATTERN_BYTES: usize = 4096;
/// The most memory one compiled pattern may take: with [`MAX_MATCHERS`] of them a stub's
/// matchers stay within 8 MiB.
const PATTERN_SIZE_LIMIT: usize = 256 << 10;

/// A regular expression as given, compiled only once the stub's caps (count, size) held:
/// a definition over a cap costs no compilation.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    compiled: Option<Regex>,
}

impl Pattern {
    fn compile(&mut self) -> Result<(), String> {
        let source = &self.source;
        let regex = regex::RegexBuilder::new(&format!("^(?:{source})$"))
            .size_limit(PATTERN_SIZE_LIMIT)
            .dfa_size_limit(PATTERN_SIZE_LIMIT)
            .build()
            .map_err(|e| format!("`{source}` is not a valid regular expression: {e}"))?;
        self.compiled = Some(regex);
        Ok(())
    }
}

impl TryFrom<Value> for ValueMatcher {
    type Error = String;

    fn try_from(value: Value) -> Result<Self, String> {
        const SHAPE: &str = r#"a matcher is a string, or an object with one of "equals", "contains", "matches" (strings) or "absent": true"#;
        let object = match value {
            Value::String(text) => return Ok(ValueMatcher::Equals(text)),
            Value::Object(object) if object.len() == 1 => object,
            _ => return Err(SHAPE.to_owned()),
        };
        let (key, value) = object.into_iter().next().ok_or(SHAPE)?;
        match (key.as_str(), value) {
            ("equals", Value::String(text)) => Ok(ValueMatcher::Equals(text)),
            ("contains", Value::String(text)) => Ok(ValueMatcher::Contains(text)),
            ("matches", Value::String(pattern)) if pattern.len() > MAX_PATTERN_BYTES => Err(
                format!("a `matches` pattern may be at most {MAX_PATTERN_BYTES} bytes"),
            ),
            ("matches", Value::String(source)) => Ok(ValueMatcher::Matches(Pattern {
                source,
                compiled: None,
            })),
            ("absent", Value::Bool(true)) => Ok(ValueMatcher::Absent),
            _ => Err(SHAPE.to_owned()),
        }
    }
}

impl From<ValueMatcher> for Value {
    fn from(matcher: ValueMatcher) -> Value {
        match matcher {
            ValueMatcher::Equals(text) => json!({ "equals": text }),
            ValueMatcher::Contains(text) => json!({ "contains": text }),
            ValueMatcher::Matches(pattern) => json!({ "matches": pattern.source }),
            ValueMatcher::Absent => json!({ "absent": true }),
        }
    }
}

impl ValueMatcher {
    /// Whether any of the values passes (or, for `absent`, whether there is none).
    fn test<'a>(&self, mut values: impl Iterator<Item = &'a str>) -> bool {
        match self {
            ValueMatcher::Equals(text) => values.any(|v| v == text),
            ValueMatcher::Contains(text) => values.any(|v| v.contains(text.as_str())),
            // Compiled when the stub was (see `Stub::compile`).
            ValueMatcher::Matches(pattern) => pattern
                .compiled
                .as_ref()
                .is_some_and(|regex| values.any(|v| regex.is_match(v))),
            ValueMatcher::Absent => values.next().is_none(),
        }
    }

    /// Compiles a `matches` pattern; the other matchers need nothing.
    fn compile(&mut self) -> Result<(), String> {
        match self {
            ValueMatcher::Matches(pattern) => pattern.compile(),
            _ => Ok(()),
        }
    }

    fn describe(&self) -> String {
        match Value::from(self.clone()) {
            Value::Object(object) => match object.into_iter().next() {
                Some((key, Value::String(text))) => format!("{key} {text:?}"),
                _ => "absent".to_owned(),
            },
            _ => String::new(),
        }
    }
}

/// One response of a stub, ready to send.
#[derive(Debug)]
struct Canned {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    injection: Injection,
    /// The body's and header values' templates, compiled (`None`: sent as they are).
    templates: Option<(Compiled, Option<Value>, Vec<HeaderName>)>,
}

/// A compiled stub with its call count.
#[derive(Debug)]
pub struct Stub {
    pub id: Uuid,
    pub def: StubDef,
    /// Insertion order, for "newest first" among equal priorities.
    seq: u64,
    /// Bytes of its definition as JSON, for the stubs' byte budget.
    size: usize,
    method: Option<Method>,
    path: PathMatcher,
    /// A path only matches paths of as many segments, so this is compared first.
    segments: usize,
    query: Vec<(String, ValueMatcher)>,
    headers: Vec<(HeaderName, ValueMatcher)>,
    /// One, or those of a sequence in turn.
    responses: Vec<Canned>,
    then: Then,
    calls: AtomicU64,
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
            check_namespace(namespace)?;
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
    fn turn(&self, call: u64) -> usize {
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
    fn check(&self, request: &RequestView<'_>, mut reasons: Option<&mut Vec<String>>) -> bool {
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
fn canned(response: &ResponseDef, params: &[&str]) -> Result<Canned, String> {
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

/// Where `actual` lacks what `expected` holds: objects need every expected key (and may have
/// more), arrays and scalars must be equal, element by element.
fn json_mismatch(actual: &Value, expected: &Value, pointer: String) -> Option<String> {
    match (expected, actual) {
        (Value::Object(want), Value::Object(have)) => want.iter().find_map(|(key, want)| {
            let pointer = format!("{pointer}/{key}");
            match have.get(key) {
                Some(have) => json_mismatch(have, want, pointer),
                None => Some(format!("body{pointer}: expected {want}, got nothing")),
            }
        }),
        (Value::Array(want), Value::Array(have)) if want.len() == have.len() => want
            .iter()
            .zip(have)
            .enumerate()
            .find_map(|(i, (want, have))| json_mismatch(have, want, format!("{pointer}/{i}"))),
        _ if expected == actual => None,
        _ => Some(format!("body{pointer}: expected {expected}, got {actual}")),
    }
}

/// A stub with what rules most requests out, inline: a scan reads one contiguous array and
/// follows a stub's pointer only for the few that could match (100 scattered stubs cost
/// about a microsecond in cache misses alone).
#[derive(Debug)]
struct Slot {
    segments: usize,
    method: Option<Method>,
    stub: Arc<Stub>,
}

/// Every stub, in the order they are tried.
#[derive(Debug)]
pub struct Stubs {
    list: RwLock<Vec<Slot>>,
    next_seq: AtomicU64,
    /// Those loaded at start (`--stubs`), which a reset of everything brings back.
    initial: Vec<StubDef>,
    /// Draws stub ids; with `--seed`, the same on every run.
    ids: Ids,
}

#[derive(Debug, thiserror::Error)]
pub enum StubError {
    #[error("{0}")]
    Invalid(String),
    #[error("a stub with id {0} exists already")]
    Exists(Uuid),
    #[error(
        "too many stubs (at most {MAX_STUBS}, {MAX_ALL_STUB_BYTES} bytes in all); delete some first"
    )]
    TooMany,
}

impl Stubs {
    /// The stubs loaded at start; an error names the first bad one.
    pub fn new(initial: Vec<StubDef>, seed: Option<u64>) -> Result<Stubs, StubError> {
        let stubs = Stubs {
            list: RwLock::new(Vec::new()),
            next_seq: AtomicU64::new(0),
            initial,
            ids: Ids::for_purpose(seed, "\0stubs"),
        };
        stubs.reset()?;
        Ok(stubs)
    }

    pub fn add(&self, def: StubDef) -> Result<Arc<Stub>, StubError> {
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        let new_id = || self.ids.uuid();
        let stub = Arc::new(Stub::compile(def, seq, new_id).map_err(StubError::Invalid)?);
        let mut list = write(&self.list);
        if list.iter().any(|s| s.stub.id == stub.id) {
            return Err(StubError::Exists(stub.id));
        }
        let bytes: usize = list.iter().map(|slot| slot.stub.size).sum();
        if list.len() >= MAX_STUBS || bytes + stub.size > MAX_ALL_STUB_BYTES {
            return Err(StubError::TooMany);
        }
        let at = list.partition_point(|Slot { stub: s, .. }| {
            (s.def.priority, u64::MAX - s.seq) < (stub.def.priority, u64::MAX - stub.seq)
        });
        let slot = Slot {
            segments: stub.segments,
            method: stub.method.clone(),
            stub: stub.clone(),
        };
        list.insert(at, slot);
        Ok(stub)
    }

    /// The first stub that matches, counted as called, with the turn of its response.
    pub fn find(&self, request: &RequestView<'_>) -> Option<(Arc<Stub>, usize)> {
        let list = read(&self.list);
        let stub = list
            .iter()
            .find(|slot| {
                slot.segments == request.segments
                    && slot.method.as_ref().is_none_or(|m| m == request.method)
                    && slot.stub.matches(request)
            })?
            .stub
            .clone();
        let turn = stub.count_call();
        Some((stub, turn))
    }

    /// The stub that comes closest to matching, with why it does not.
    pub fn nearest(&self, request: &RequestView<'_>) -> Option<(Arc<Stub>, Vec<String>)> {
        let list = read(&self.list);
        list.iter()
            .map(|slot| (slot.stub.clone(), slot.stub.mismatches(request)))
            .filter(|(_, reasons)| !reasons.is_empty())
            .min_by_key(|(stub, reasons)| {
                // Fewer failed parts first; on a tie, one whose path matched.
                (reasons.len(), !stub.path.matches(request.path))
            })
    }

    pub fn get(&self, id: Uuid) -> Option<Arc<Stub>> {
        let list = read(&self.list);
        list.iter()
            .find(|s| s.stub.id == id)
            .map(|s| s.stub.clone())
    }

    pub fn remove(&self, id: Uuid) -> Option<Arc<Stub>> {
        let mut list = write(&self.list);
        let at = list.iter().position(|s| s.stub.id == id)?;
        Some(list.remove(at).stub)
    }

    /// Every stub, or with a namespace those that belong to it.
    pub fn list(&self, namespace: Option<&str>) -> Vec<Arc<Stub>> {
        let list = read(&self.list);
        list.iter()
            .filter(|s| namespace.is_none() || s.stub.def.namespace.as_deref() == namespace)
            .map(|s| s.stub.clone())
            .collect()
    }

    /// Removes every stub, or those of one namespace.
    pub fn clear(&self, namespace: Option<&str>) {
        let mut list = write(&self.list);
        match namespace {
            None => list.clear(),
            Some(namespace) => list.retain(|s| s.stub.def.namespace.as_deref() != Some(namespace)),
        }
    }

    /// Removes every stub added at run time and brings back those loaded at start, uncalled.
    pub fn reset(&self) -> Result<(), StubError> {
        self.clear(None);
        self.ids.reset();
        for (index, def) in self.initial.iter().enumerate() {
            self.add(def.clone()).map_err(|e| {
                let name = def
                    .name
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default();
                StubError::Invalid(format!("stub {}{name}: {e}", index + 1))
            })?;
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        read(&self.list).is_empty()
    }

    /// A fresh id for a template's `uuid` (from the seed, with `--seed`).
    pub fn fresh_id(&self) -> Uuid {
        self.ids.uuid()
    }
}

impl StubDef {
    /// What the served document judges of the stub (`--strict-stubs`): its method, path and
    /// responses, a body left unjudged where a template builds it or a fault mangles it.
    pub fn parts(&self) -> StubParts<'_> {
        let responses = self
            .responses
            .iter()
            .flatten()
            .chain(self.response.as_ref())
            .map(|response| ResponsePart {
                status: response.status,
                judged_body: response
                    .body
                    .as_ref()
                    .filter(|body| response.fault.is_none() && !template::has_template(body)),
            })
            .collect();
        StubParts {
            method: &self.request.method,
            path: &self.request.path,
            responses,
        }
    }
}

/// What [`with_written_bodies`] reads of a stub: only its responses' bodies, as text.
#[derive(Deserialize)]
struct Written<'a> {
    #[serde(borrow, default)]
    response: Option<WrittenResponse<'a>>,
    #[serde(borrow, default)]
    responses: Option<Vec<WrittenResponse<'a>>>,
}

#[derive(Deserialize)]
struct WrittenResponse<'a> {
    #[serde(borrow, default)]
    body: Option<&'a serde_json::value::RawValue>,
}

/// A stub parsed from its JSON text, each response's body kept as written, so that it is
/// sent in the client's key order.
pub fn from_text(text: &str) -> Result<StubDef, serde_json::Error> {
    let mut def: StubDef = serde_json::from_str(text)?;
    with_written_bodies(&mut def, text);
    Ok(def)
}

/// Keeps, beside each response's body, its JSON text as `text` writes it.
pub fn with_written_bodies(def: &mut StubDef, text: &str) {
    let Ok(written) = serde_json::from_str::<Written<'_>>(text) else {
        return;
    };
    let pairs = def.response.iter_mut().zip(written.response).chain(
        def.responses
            .iter_mut()
            .flatten()
            .zip(written.responses.into_iter().flatten()),
    );
    for (response, written) in pairs {
        response.written = written.body.map(|raw| raw.get().to_owned());
    }
}

/// Reads stubs from a JSON or YAML file: an array of stubs, or an object with a `stubs` array.
pub fn load(path: &std::path::Path) -> Result<Vec<StubDef>, crate::core::files::FileError> {
    crate::core::files::read_file(path, parse_file)
}

pub fn parse_file(text: &str) -> Result<Vec<StubDef>, String> {
    crate::core::files::ordered_records(text, "stubs")?
        .into_iter()
        .enumerate()
        .map(|(index, stub)| {
            let def = from_text(&stub).map_err(|e| format!("stub {}: {e}", index + 1))?;
            // Compiled once here for the error message; the server compiles its own copy.
            Stub::compile(def.clone(), 0, Uuid::nil)
                .map_err(|e| format!("stub {}: {e}", index + 1))?;
            Ok(def)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stub(definition: Value) -> Stub {
        Stub::compile(serde_json::from_value(definition).unwrap(), 0, Uuid::nil).unwrap()
    }

    fn request(
        method: &str,
        uri: &str,
        body: &str,
    ) -> (Method, axum::http::Uri, HeaderMap, Vec<u8>) {
        let mut headers = HeaderMap::new();
        headers.insert("x-tenant", HeaderValue::from_static("acme"));
        (
            method.parse().unwrap(),
            uri.parse().unwrap(),
            headers,
            body.as_bytes().to_vec(),
        )
    }

    #[test]
    fn matchers_and_their_reasons() {
        let stub = stub(json!({
            "request": {
                "method": "post", "path": "/orders/{id}/items",
                "query": {"page": "2", "debug": {"absent": true}},
                "headers": {"x-tenant": {"matches": "ac.e"}},
                "body": {"sku": "A1", "tags": ["x"]}
            },
            "response": {"status": 201, "body": {"ok": true}}
        }));
        let (method, uri, headers, body) = request(
            "POST",
            "/orders/7/items?page=2",
            r#"{"sku": "A1", "qty": 3, "tags": ["x"]}"#,
        );
        let view = RequestView::new(&method, &uri, &headers, &body, None);
        assert!(stub.matches(&view));
        assert_eq!(
            stub.respond(0, |_, _| unreachable!("no template")).status(),
            StatusCode::CREATED
        );

        let (method, uri, headers, body) = request(
            "GET",
            "/orders/7/items/8?page=1&debug=1",
            r#"{"sku": "B2"}"#,
        );
        let view = RequestView::new(&method, &uri, &headers, &body, None);
        assert!(!stub.matches(&view));
        assert_eq!(
            stub.mismatches(&view),
            [
                "method: expected POST, got GET",
                "path: expected /orders/{id}/items, got /orders/7/items/8",
                r#"query `debug`: expected absent, got ["1"]"#,
                r#"query `page`: expected equals "2", got ["1"]"#,
                r#"body/sku: expected "A1", got "B2""#,
            ]
        );
    }

    #[test]
    fn bad_definitions_get_clear_errors() {
        let error = |definition: Value| {
            let def: StubDef = match serde_json::from_value(definition) {
                Ok(def) => def,
                Err(e) => return e.to_string(),
            };
            Stub::compile(def, 0, Uuid::nil).unwrap_err()
        };
        assert!(error(json!({"request": {"path": "x"}})).contains("must start with /"));
        assert!(error(json!({"request": {"path": "/__admin/stubs"}})).contains("admin API"));
        assert!(error(json!({"request": {"path": "/a{b}"}})).contains("whole segment"));
        assert!(error(json!({"request": {"path": "/", "method": "BREW"}})).contains("BREW"));
        assert!(
            error(json!({"request": {"path": "/", "query": {"q": {"matches": "("}}}}))
                .contains("not a valid regular expression")
        );
        assert!(
            error(json!({"request": {"path": "/"}, "response": {"status": 99}}))
                .contains("200 to 599")
        );
        assert!(
            error(json!({"request": {"path": "/"}, "reponse": {}}))
                .contains("unknown field `reponse`")
        );
    }

    #[test]
    fn priority_then_newest_first() {
        let stubs = Stubs::new(Vec::new(), None).unwrap();
        let def = |status: u16, priority: u32| -> StubDef {
            serde_json::from_value(json!({
                "priority": priority,
                "request": {"path": "/x"},
                "response": {"status": status}
            }))
            .unwrap()
        };
        stubs.add(def(201, 5)).unwrap();
        stubs.add(def(202, 5)).unwrap();
        stubs.add(def(203, 9)).unwrap();
        let (method, uri, headers, body) = request("GET", "/x", "");
        let view = RequestView::new(&method, &uri, &headers, &body, None);
        assert_eq!(
            stubs
                .find(&view)
                .unwrap()
                .0
                .respond(0, |_, _| unreachable!("no template"))
                .status(),
            202
        );
        stubs.add(def(204, 1)).unwrap();
        assert_eq!(
            stubs
                .find(&view)
                .unwrap()
                .0
                .respond(0, |_, _| unreachable!("no template"))
                .status(),
            204
        );
    }
}
