//! Faults and latency: on a stub, on built-in routes by path pattern, per request through a
//! `Prefer` header, or as global chaos; and the responses that carry them out.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::core::ids::Ids;
use crate::core::peer::Peer;
use crate::core::sync::{read, write};
use crate::toolkit::documented::Choice;
use crate::toolkit::request::{PathMatcher, RequestView, parse_method};

/// The longest delay or dribble anything may ask for: long enough to trip any client
/// timeout, short enough that a typo cannot hang a test run.
pub const MAX_DELAY_MS: u64 = 60_000;
/// How long a `slow` body takes to come out unless told otherwise.
pub const DEFAULT_DRIBBLE_MS: u64 = 1_000;
/// RFC 7240's header; `http` has no constant for it.
const PREFER: HeaderName = HeaderName::from_static("prefer");
/// Route fault rules kept at once.
pub const MAX_RULES: usize = 1_000;
/// Bytes one fault rule may take, as JSON.
pub const MAX_RULE_BYTES: usize = 16 * 1024;

/// Why a fault rule was not added.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{0}")]
    Invalid(String),
    #[error("a fault rule with id {0} exists already")]
    Exists(Uuid),
    #[error("too many fault rules (at most {MAX_RULES}); delete some first")]
    TooMany,
}

/// What can go wrong with a response besides its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The connection is reset (RST) with no response.
    Reset,
    /// The connection is closed with no response at all.
    Empty,
    /// The whole response, with a body that is not valid JSON.
    Malformed,
    /// Half the body, then the connection closes short of its `Content-Length`.
    Truncated,
    /// The body dribbles out in small chunks over `dribble_ms`.
    Slow,
}

impl FaultKind {
    fn parse(name: &str) -> Result<FaultKind, String> {
        serde_json::from_value(Value::String(name.to_owned())).map_err(|_| {
            format!("fault `{name}` must be one of reset, empty, malformed, truncated, slow")
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Reset => "reset",
            FaultKind::Empty => "empty",
            FaultKind::Malformed => "malformed",
            FaultKind::Truncated => "truncated",
            FaultKind::Slow => "slow",
        }
    }
}

/// A fixed delay (`200`) or one drawn uniformly from a range (`{"min": 100, "max": 500}`,
/// or `100-500` in a `Prefer` header), in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "Value")]
pub enum Delay {
    Fixed(u64),
    Between(u64, u64),
}

impl TryFrom<Value> for Delay {
    type Error = String;

    fn try_from(value: Value) -> Result<Delay, String> {
        let delay = match &value {
            Value::Number(n) => n.as_u64().map(Delay::Fixed),
            Value::Object(o) if o.len() == 2 => o
                .get("min")
                .and_then(Value::as_u64)
                .zip(o.get("max").and_then(Value::as_u64))
                .map(|(min, max)| Delay::Between(min.min(max), min.max(max))),
            _ => None,
        }
        .ok_or_else(|| {
            format!("a delay is a whole number of milliseconds or {{\"min\": MS, \"max\": MS}}, not {value}")
        })?;
        delay.check()?;
        Ok(delay)
    }
}

impl From<Delay> for Value {
    fn from(delay: Delay) -> Value {
        match delay {
            Delay::Fixed(ms) => json!(ms),
            Delay::Between(min, max) => json!({ "min": min, "max": max }),
        }
    }
}

impl Delay {
    fn parse(text: &str) -> Result<Delay, String> {
        let number = |t: &str| {
            t.trim().parse::<u64>().map_err(|_| {
                format!("delay `{text}` must be milliseconds, as in delay=200 or delay=100-500")
            })
        };
        let delay = match text.split_once('-') {
            Some((min, max)) => {
                let (min, max) = (number(min)?, number(max)?);
                // A range given backwards is the same range.
                Delay::Between(min.min(max), min.max(max))
            }
            None => Delay::Fixed(number(text)?),
        };
        delay.check()?;
        Ok(delay)
    }

    pub fn check(self) -> Result<(), String> {
        let max = match self {
            Delay::Fixed(ms) | Delay::Between(_, ms) => ms,
        };
        if max > MAX_DELAY_MS {
            return Err(format!(
                "delay {max} ms is over the limit of {MAX_DELAY_MS} ms"
            ));
        }
        Ok(())
    }

    fn pick(self, ids: &Ids) -> Duration {
        Duration::from_millis(match self {
            Delay::Fixed(ms) => ms,
            Delay::Between(min, max) => ids.with(|rng| rng.random_range(min..=max)),
        })
    }
}

/// What to do to one request, gathered from its stub, the route rules, chaos and `Prefer`,
/// each overriding the one before.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Injection {
    pub delay: Option<Delay>,
    pub status: Option<StatusCode>,
    pub fault: Option<FaultKind>,
    pub dribble_ms: Option<u64>,
    /// A documented response to answer with (`Prefer: code=404`, `example=NAME`).
    pub documented: Option<Choice>,
}

impl Injection {
    pub fn overlay(&mut self, other: Injection) {
        self.delay = other.delay.or(self.delay);
        self.status = other.status.or(self.status);
        self.documented = other.documented.or(self.documented.take());
        self.fault = other.fault.or(self.fault);
        self.dribble_ms = other.dribble_ms.or(self.dribble_ms);
    }

    /// A short label for the journal: `delay=200 status=503 fault=reset`.
    pub fn label(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(delay) = self.delay {
            parts.push(match delay {
                Delay::Fixed(ms) => format!("delay={ms}"),
                Delay::Between(min, max) => format!("delay={min}-{max}"),
            });
        }
        if let Some(status) = self.status {
            parts.push(format!("status={}", status.as_u16()));
        }
        if let Some(fault) = self.fault {
            parts.push(format!("fault={}", fault.name()));
        }
        if let Some(choice) = &self.documented {
            parts.extend(choice.code.map(|code| format!("code={code}")));
            parts.extend(
                choice
                    .example
                    .as_ref()
                    .map(|name| format!("example={name}")),
            );
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// The preferences of `Prefer: delay=200, status=503, fault=reset` (RFC 7240). Preferences
/// this server does not know are ignored, as the RFC asks; known ones with bad values are
/// an error. Returns what was asked and the text of `Preference-Applied`.
pub fn prefer(headers: &HeaderMap) -> Result<Option<(Injection, String)>, String> {
    let mut injection = Injection::default();
    let mut applied = Vec::new();
    for value in headers.get_all(&PREFER) {
        let value = value
            .to_str()
            .map_err(|_| "the Prefer header is not valid text".to_owned())?;
        for preference in value.split(',') {
            // Parameters after `;` qualify a preference; none of ours has any.
            let preference = preference.split(';').next().unwrap_or_default().trim();
            let (name, value) = preference.split_once('=').unwrap_or((preference, ""));
            let value = value.trim().trim_matches('"');
            match name.trim().to_ascii_lowercase().as_str() {
                "delay" => injection.delay = Some(Delay::parse(value)?),
                "status" => {
                    let status = value
                        .parse::<u16>()
                        .ok()
                        .filter(|s| (400..=599).contains(s))
                        .and_then(|s| StatusCode::from_u16(s).ok())
                        .ok_or_else(|| {
                            format!("status `{value}` must be an error status from 400 to 599")
                        })?;
                    injection.status = Some(status);
                }
                "fault" => injection.fault = Some(FaultKind::parse(value)?),
                // Prism's: a documented response, by status and by example name.
                "code" => {
                    let code = value
                        .parse::<u16>()
                        .ok()
                        .filter(|s| (100..=599).contains(s))
                        .ok_or_else(|| {
                            format!("code `{value}` must be a status from 100 to 599")
                        })?;
                    injection
                        .documented
                        .get_or_insert_with(Choice::default)
                        .code = Some(code);
                }
                "example" => {
                    if value.is_empty() || value.len() > 200 {
                        return Err("example must name an example of the document".to_owned());
                    }
                    injection
                        .documented
                        .get_or_insert_with(Choice::default)
                        .example = Some(value.to_owned());
                }
                "dribble" => {
                    let ms = value
                        .parse::<u64>()
                        .ok()
                        .filter(|ms| *ms <= MAX_DELAY_MS)
                        .ok_or_else(|| {
                            format!("dribble `{value}` must be milliseconds up to {MAX_DELAY_MS}")
                        })?;
                    injection.dribble_ms = Some(ms);
                }
                _ => continue,
            }
            applied.push(format!("{}={value}", name.trim().to_ascii_lowercase()));
        }
    }
    Ok((!applied.is_empty()).then(|| (injection, applied.join(", "))))
}

/// A fault on the built-in routes (or stubs) whose method and path match.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    #[serde(default = "any_method")]
    pub method: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<Delay>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<FaultKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dribble_ms: Option<u64>,
    /// The share of matching requests it hits, from 0 to 1.
    #[serde(default = "always")]
    pub rate: f64,
}

fn any_method() -> String {
    "ANY".to_owned()
}

fn always() -> f64 {
    1.0
}

#[derive(Debug)]
pub struct Rule {
    pub id: Uuid,
    pub def: RuleDef,
    method: Option<Method>,
    path: PathMatcher,
    injection: Injection,
}

impl Rule {
    pub fn compile(mut def: RuleDef, new_id: impl FnOnce() -> Uuid) -> Result<Rule, String> {
        let id = *def.id.get_or_insert_with(new_id);
        let method = parse_method(&def.method)?;
        def.method = method.as_ref().map_or("ANY".to_owned(), Method::to_string);
        let path = PathMatcher::parse(&def.path)?;
        if let Some(namespace) = &def.namespace {
            crate::core::namespace::check_namespace(namespace)?;
        }
        check_rate("rate", def.rate)?;
        let status = def.status.map(error_status).transpose()?;
        if def.dribble_ms.is_some_and(|ms| ms > MAX_DELAY_MS) {
            return Err(format!("dribble_ms must be at most {MAX_DELAY_MS}"));
        }
        let injection = Injection {
            delay: def.delay_ms,
            status,
            fault: def.fault,
            dribble_ms: def.dribble_ms,
            documented: None,
        };
        Ok(Rule {
            id,
            method,
            path,
            injection,
            def,
        })
    }

    fn applies(&self, request: &RequestView<'_>) -> bool {
        self.method.as_ref().is_none_or(|m| m == request.method)
            && self.path.matches(request.path)
            && self
                .def
                .namespace
                .as_deref()
                .is_none_or(|n| request.namespace == Some(n))
    }
}

/// Errors for a share of requests, and latency for a share, on every request outside the
/// admin API: for soak tests of a client's retries and timeouts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chaos {
    #[serde(default)]
    pub error_rate: f64,
    #[serde(default = "service_unavailable")]
    pub error_status: u16,
    #[serde(default)]
    pub latency_rate: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<Delay>,
}

fn service_unavailable() -> u16 {
    503
}

impl Chaos {
    pub fn check(&self) -> Result<(), String> {
        check_rate("error_rate", self.error_rate)?;
        check_rate("latency_rate", self.latency_rate)?;
        // Without latency_ms, latency_rate has nothing to add.
        error_status(self.error_status).map(drop)
    }
}

fn check_rate(name: &str, rate: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&rate) {
        Ok(())
    } else {
        Err(format!("{name} must be from 0 to 1, not {rate}"))
    }
}

fn error_status(status: u16) -> Result<StatusCode, String> {
    (400..=599)
        .contains(&status)
        .then(|| StatusCode::from_u16(status).ok())
        .flatten()
        .ok_or_else(|| format!("status {status} must be an error status from 400 to 599"))
}

/// The route rules and the chaos setting.
#[derive(Debug)]
pub struct Faults {
    rules: RwLock<Vec<Arc<Rule>>>,
    chaos: RwLock<Option<Chaos>>,
    /// Whether any rule or chaos is set: the common case, none, costs one load.
    active: AtomicBool,
    /// Draws delays, rates and rule ids; with `--seed`, the same on every run.
    rng: Ids,
}

impl Faults {
    pub fn new(seed: Option<u64>) -> Faults {
        Faults {
            rules: RwLock::new(Vec::new()),
            chaos: RwLock::new(None),
            active: AtomicBool::new(false),
            rng: Ids::for_purpose(seed, "\0faults"),
        }
    }

    pub fn add_rule(&self, def: RuleDef) -> Result<Arc<Rule>, RuleError> {
        let size = serde_json::to_vec(&def).map_or(usize::MAX, |json| json.len());
        if size > MAX_RULE_BYTES {
            return Err(RuleError::Invalid(format!(
                "a fault rule may be at most {MAX_RULE_BYTES} bytes as JSON"
            )));
        }
        let rule = Arc::new(Rule::compile(def, || self.rng.uuid()).map_err(RuleError::Invalid)?);
        let mut rules = write(&self.rules);
        if rules.iter().any(|r| r.id == rule.id) {
            return Err(RuleError::Exists(rule.id));
        }
        if rules.len() >= MAX_RULES {
            return Err(RuleError::TooMany);
        }
        rules.push(rule.clone());
        drop(rules);
        self.refresh();
        Ok(rule)
    }

    pub fn rules(&self) -> Vec<Arc<Rule>> {
        read(&self.rules).clone()
    }

    pub fn rule(&self, id: Uuid) -> Option<Arc<Rule>> {
        read(&self.rules).iter().find(|r| r.id == id).cloned()
    }

    pub fn remove_rule(&self, id: Uuid) -> Option<Arc<Rule>> {
        let mut rules = write(&self.rules);
        let at = rules.iter().position(|r| r.id == id)?;
        let rule = rules.remove(at);
        drop(rules);
        self.refresh();
        Some(rule)
    }

    pub fn chaos(&self) -> Option<Chaos> {
        read(&self.chaos).clone()
    }

    pub fn set_chaos(&self, chaos: Option<Chaos>) -> Result<(), String> {
        if let Some(chaos) = &chaos {
            chaos.check()?;
        }
        *write(&self.chaos) = chaos;
        self.refresh();
        Ok(())
    }

    /// Removes every rule, or those of one namespace.
    pub fn remove_rules(&self, namespace: Option<&str>) {
        match namespace {
            None => write(&self.rules).clear(),
            Some(namespace) => {
                write(&self.rules).retain(|r| r.def.namespace.as_deref() != Some(namespace));
            }
        }
        self.refresh();
    }

    /// No rules, no chaos, and the generator back at the start of its sequence.
    pub fn reset(&self) {
        *write(&self.chaos) = None;
        self.rng.reset();
        self.remove_rules(None);
    }

    fn refresh(&self) {
        let active = !read(&self.rules).is_empty() || read(&self.chaos).is_some();
        self.active.store(active, Ordering::Relaxed);
    }

    /// Adds what the rules and chaos ask for this request to `injection`.
    pub fn apply(&self, request: &RequestView<'_>, injection: &mut Injection) {
        if !self.active.load(Ordering::Relaxed) {
            return;
        }
        for rule in read(&self.rules).iter() {
            if rule.applies(request) && self.roll(rule.def.rate) {
                injection.overlay(rule.injection.clone());
            }
        }
        if let Some(chaos) = read(&self.chaos).as_ref() {
            if chaos.latency_ms.is_some() && self.roll(chaos.latency_rate) {
                injection.delay = chaos.latency_ms;
            }
            if self.roll(chaos.error_rate) {
                injection.status = StatusCode::from_u16(chaos.error_status).ok();
            }
        }
    }

    fn roll(&self, rate: f64) -> bool {
        rate >= 1.0 || (rate > 0.0 && self.rng.with(|rng| rng.random_bool(rate)))
    }

    pub fn delay(&self, delay: Delay) -> Duration {
        delay.pick(&self.rng)
    }
}

/// The JSON error an injected status answers with: the one error body of every answer.
pub fn error_response(status: StatusCode) -> Response {
    let message = format!("injected fault: status {}", status.as_u16());
    crate::core::error::error_response(status, "injected_fault", &message, None)
}

/// A reset or an empty reply: the response is never sent. The connection's socket is told
/// to reset (linger 0) or is shut down, then a body that fails makes hyper drop it.
pub fn abort(peer: Option<&Peer>, fault: FaultKind) -> Response {
    if let Some(peer) = peer {
        match fault {
            FaultKind::Reset => peer.reset_on_close(),
            _ => peer.shut_down(),
        }
    }
    Response::new(failing_body(Vec::new()))
}

/// Carries out a fault that changes how the body comes out.
pub async fn mangle(response: Response, fault: FaultKind, dribble_ms: Option<u64>) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, failing_body(Vec::new()));
    };
    let half = bytes.len() / 2;
    let body = match fault {
        FaultKind::Malformed => {
            // A raw NUL is invalid anywhere in JSON, so no parser can accept this.
            let mut broken = bytes[..half].to_vec();
            broken.extend_from_slice(b"\0<<malformed>>");
            parts.headers.remove(header::CONTENT_LENGTH);
            Body::from(broken)
        }
        FaultKind::Truncated => {
            // Promise the whole body, send half, then fail: the client sees a short read.
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            let half = bytes.slice(..half);
            let stream = futures_util::stream::unfold(Some(half), |half| async move {
                match half {
                    Some(half) => Some((Ok(half), None)),
                    None => {
                        // Pending once, so hyper sends what it has before the failure.
                        tokio::task::yield_now().await;
                        Some((Err(io::Error::other("injected fault: truncated")), None))
                    }
                }
            });
            Body::from_stream(stream)
        }
        FaultKind::Slow => {
            let total = Duration::from_millis(dribble_ms.unwrap_or(DEFAULT_DRIBBLE_MS));
            dribble(bytes, total)
        }
        FaultKind::Reset | FaultKind::Empty => Body::from(bytes),
    };
    Response::from_parts(parts, body)
}

/// Ten chunks (or one per byte, for shorter bodies), spread evenly over `total`.
fn dribble(bytes: Bytes, total: Duration) -> Body {
    let chunks = bytes.len().clamp(1, 10);
    let size = bytes.len().div_ceil(chunks).max(1);
    let pause = total / chunks as u32;
    let pieces: Vec<Bytes> = (0..bytes.len())
        .step_by(size)
        .map(|at| bytes.slice(at..(at + size).min(bytes.len())))
        .collect();
    let stream = futures_util::stream::unfold(pieces.into_iter(), move |mut pieces| async move {
        let piece = pieces.next()?;
        tokio::time::sleep(pause).await;
        Some((Ok::<Bytes, io::Error>(piece), pieces))
    });
    Body::from_stream(stream)
}

/// A body that yields `chunks`, then fails, so hyper closes the connection.
fn failing_body(chunks: Vec<Bytes>) -> Body {
    let chunks = chunks
        .into_iter()
        .map(Ok)
        .chain(std::iter::once(Err(io::Error::other("injected fault"))));
    Body::from_stream(futures_util::stream::iter(chunks))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(prefer: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(PREFER, HeaderValue::from_str(prefer).unwrap());
        headers
    }

    #[test]
    fn prefer_header() {
        let (injection, applied) = prefer(&headers(
            "delay=200, status=503, fault=reset, return=minimal",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(
            injection,
            Injection {
                delay: Some(Delay::Fixed(200)),
                status: Some(StatusCode::SERVICE_UNAVAILABLE),
                fault: Some(FaultKind::Reset),
                dribble_ms: None,
                documented: None,
            }
        );
        assert_eq!(applied, "delay=200, status=503, fault=reset");
        let (injection, _) = prefer(&headers("delay=\"100-300\"")).unwrap().unwrap();
        assert_eq!(injection.delay, Some(Delay::Between(100, 300)));
        assert_eq!(prefer(&headers("return=minimal")).unwrap(), None);
        assert!(
            prefer(&headers("status=200"))
                .unwrap_err()
                .contains("400 to 599")
        );
        assert!(
            prefer(&headers("fault=explode"))
                .unwrap_err()
                .contains("explode")
        );
        assert!(
            prefer(&headers("delay=900000"))
                .unwrap_err()
                .contains("over the limit")
        );
        let (injection, _) = prefer(&headers("delay=5-1")).unwrap().unwrap();
        assert_eq!(injection.delay, Some(Delay::Between(1, 5)));
    }

    #[test]
    fn chaos_is_checked() {
        let faults = Faults::new(Some(1));
        let chaos = |value: Value| serde_json::from_value::<Chaos>(value).unwrap();
        assert!(
            faults
                .set_chaos(Some(chaos(json!({"error_rate": 1.5}))))
                .is_err()
        );
        assert!(
            faults
                .set_chaos(Some(chaos(json!({"error_status": 302}))))
                .is_err()
        );
        faults
            .set_chaos(Some(chaos(json!({"error_rate": 0.5, "error_status": 500}))))
            .unwrap();
        let method = Method::GET;
        let uri: axum::http::Uri = "/x".parse().unwrap();
        let empty = HeaderMap::new();
        let view = RequestView::new(&method, &uri, &empty, &[], None);
        let hits = (0..1000)
            .filter(|_| {
                let mut injection = Injection::default();
                faults.apply(&view, &mut injection);
                injection.status == Some(StatusCode::INTERNAL_SERVER_ERROR)
            })
            .count();
        assert!(
            (350..650).contains(&hits),
            "{hits} of 1000 at a rate of 0.5"
        );
        faults.reset();
        let mut injection = Injection::default();
        faults.apply(&view, &mut injection);
        assert_eq!(injection, Injection::default());
    }
}
