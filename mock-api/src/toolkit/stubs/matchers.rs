//! How a query parameter, a header or a JSON body must look for a stub to match.

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

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
pub(super) const MAX_PATTERN_BYTES: usize = 4096;
/// The most memory one compiled pattern may take: with [`MAX_MATCHERS`] of them a stub's
/// matchers stay within 8 MiB.
pub(super) const PATTERN_SIZE_LIMIT: usize = 256 << 10;

/// A regular expression as given, compiled only once the stub's caps (count, size) held:
/// a definition over a cap costs no compilation.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub(super) source: String,
    pub(super) compiled: Option<Regex>,
}

impl Pattern {
    pub(super) fn compile(&mut self) -> Result<(), String> {
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
        pub(super) const SHAPE: &str = r#"a matcher is a string, or an object with one of "equals", "contains", "matches" (strings) or "absent": true"#;
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
    pub(super) fn test<'a>(&self, mut values: impl Iterator<Item = &'a str>) -> bool {
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
    pub(super) fn compile(&mut self) -> Result<(), String> {
        match self {
            ValueMatcher::Matches(pattern) => pattern.compile(),
            _ => Ok(()),
        }
    }

    pub(super) fn describe(&self) -> String {
        match Value::from(self.clone()) {
            Value::Object(object) => match object.into_iter().next() {
                Some((key, Value::String(text))) => format!("{key} {text:?}"),
                _ => "absent".to_owned(),
            },
            _ => String::new(),
        }
    }
}

/// Where `actual` lacks what `expected` holds: objects need every expected key (and may have
/// more), arrays and scalars must be equal, element by element.
pub(super) fn json_mismatch(actual: &Value, expected: &Value, pointer: String) -> Option<String> {
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
