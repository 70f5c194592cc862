//! A stub as clients write it (kept as given, echoed back by the admin API), and stubs read
//! from their JSON text or a file.

use std::collections::BTreeMap;

use super::matchers::ValueMatcher;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::toolkit::documented::{ResponsePart, StubParts};
use crate::toolkit::faults::{Delay, FaultKind};
use crate::toolkit::template;

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

pub(super) fn default_priority() -> u32 {
    5
}

pub(super) fn any_method() -> String {
    "ANY".to_owned()
}

pub(super) fn default_status() -> u16 {
    200
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
