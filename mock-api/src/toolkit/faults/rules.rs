//! Fault rules as clients write them, checked and compiled, and global chaos.

use axum::http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::kinds::{Delay, FaultKind, Injection, MAX_DELAY_MS};
use crate::toolkit::request::{PathMatcher, RequestView, parse_method};

/// Route fault rules kept at once.
pub const MAX_RULES: usize = 1_000;
/// Bytes one fault rule may take, as JSON.
pub const MAX_RULE_BYTES: usize = 16 * 1024;

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

pub(super) fn any_method() -> String {
    "ANY".to_owned()
}

pub(super) fn always() -> f64 {
    1.0
}

#[derive(Debug)]
pub struct Rule {
    pub id: Uuid,
    pub def: RuleDef,
    pub(super) method: Option<Method>,
    pub(super) path: PathMatcher,
    pub(super) injection: Injection,
    /// Bytes of its definition as JSON, for the rules' byte cap.
    pub(super) size: usize,
}

impl Rule {
    pub fn compile(mut def: RuleDef, new_id: impl FnOnce() -> Uuid) -> Result<Rule, String> {
        let id = *def.id.get_or_insert_with(new_id);
        let method = parse_method(&def.method)?;
        def.method = method.as_ref().map_or("ANY".to_owned(), Method::to_string);
        let path = PathMatcher::parse(&def.path)?;
        if let Some(namespace) = &def.namespace {
            crate::core::namespace::check_namespace(namespace).map_err(|e| e.to_string())?;
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
        let size = serde_json::to_vec(&def).map_or(usize::MAX, |json| json.len());
        Ok(Rule {
            id,
            method,
            path,
            injection,
            def,
            size,
        })
    }

    pub(super) fn applies(&self, request: &RequestView<'_>) -> bool {
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

pub(super) fn service_unavailable() -> u16 {
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

pub(super) fn check_rate(name: &str, rate: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&rate) {
        Ok(())
    } else {
        Err(format!("{name} must be from 0 to 1, not {rate}"))
    }
}

pub(super) fn error_status(status: u16) -> Result<StatusCode, String> {
    (400..=599)
        .contains(&status)
        .then(|| StatusCode::from_u16(status).ok())
        .flatten()
        .ok_or_else(|| format!("status {status} must be an error status from 400 to 599"))
}
