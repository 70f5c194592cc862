//! What a fault does to a response: its kind, a delay, and everything asked of one request
//! gathered into an [`Injection`].

use std::time::Duration;

use axum::http::StatusCode;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::core::ids::Ids;
use crate::toolkit::documented::Choice;

/// The longest delay or dribble anything may ask for: long enough to trip any client
/// timeout, short enough that a typo cannot hang a test run.
pub const MAX_DELAY_MS: u64 = 60_000;
/// How long a `slow` body takes to come out unless told otherwise.
pub const DEFAULT_DRIBBLE_MS: u64 = 1_000;
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
    pub(super) fn parse(name: &str) -> Result<FaultKind, String> {
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
    pub(super) fn parse(text: &str) -> Result<Delay, String> {
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

    pub(super) fn pick(self, ids: &Ids) -> Duration {
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
