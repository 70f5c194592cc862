//! Test cases from schemas: proptest strategies for valid data (which also shrink), the
//! boundary values of every constraint, and negative cases that break exactly one constraint.
//! Every negative value is confirmed invalid by the validator before it is used, so a server
//! that accepts it really did accept bad input.

use std::fmt;

use proptest::prelude::*;
use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Map, Number, Value, json};

use crate::schema::{Direction, Schemas};
use crate::spec::{Location, Operation, Param};

/// One request to send, before it is bound to a target URL.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub kind: Kind,
    /// Parameter values by location and name; strings are sent as they are.
    pub params: Vec<(Location, String, Value)>,
    pub body: Payload,
    pub auth: AuthMode,
}

/// Which credentials a case carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// The configured ones (`-H`, or the token of `--auth-login` on protected operations).
    #[default]
    Normal,
    /// None at all.
    Missing,
    /// A bearer token the target never issued.
    Forged,
}

impl Case {
    /// Sets a path parameter (replacing a generated value).
    pub fn bind(&mut self, name: &str, value: Value) {
        self.params
            .retain(|(l, n, _)| !(*l == Location::Path && n == name));
        self.params.push((Location::Path, name.to_owned(), value));
    }

    pub fn path_param(&self, name: &str) -> Option<&Value> {
        self.params
            .iter()
            .find(|(l, n, _)| *l == Location::Path && n == name)
            .map(|(_, _, v)| v)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Valid by the spec: from an example, a boundary, or random.
    Positive,
    /// Breaks one constraint, described here.
    Negative(String),
    /// Leaves out this required header (judged by `missing_required_header`).
    MissingHeader(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    None,
    Json(Value),
    /// Bytes sent as they are, with this content type (none: no header).
    Raw {
        content_type: Option<String>,
        bytes: Vec<u8>,
    },
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Positive => f.write_str("valid"),
            Kind::Negative(what) => write!(f, "invalid: {what}"),
            Kind::MissingHeader(name) => write!(f, "invalid: required header `{name}` missing"),
        }
    }
}

/// How values are generated for one place.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    schemas: &'a Schemas,
    /// Header values must be visible ASCII.
    ascii: bool,
    depth: usize,
}

/// Beyond this nesting, objects get only their required properties and arrays their minimum.
const MAX_DEPTH: usize = 4;
/// Unbounded strings and arrays stay short, so cases stay fast to send and read.
const LONG: usize = 24;

impl<'a> Ctx<'a> {
    fn deeper(self) -> Ctx<'a> {
        Ctx {
            depth: self.depth + 1,
            ..self
        }
    }
}

/// Valid values of a schema.
fn valid(ctx: Ctx<'_>, schema: &Value) -> BoxedStrategy<Value> {
    let schema = ctx.schemas.resolve(schema);
    let nullable = schema.get("nullable") == Some(&Value::Bool(true));
    let inner = valid_non_null(ctx, schema);
    if nullable {
        prop_oneof![9 => inner, 1 => Just(Value::Null)].boxed()
    } else {
        inner
    }
}

fn valid_non_null(ctx: Ctx<'_>, schema: &Value) -> BoxedStrategy<Value> {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Vec<Value> = values.iter().filter(|v| !v.is_null()).cloned().collect();
        if !values.is_empty() {
            return proptest::sample::select(values).boxed();
        }
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        return valid(ctx, &merge_all_of(ctx.schemas, schema, parts));
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(parts) = schema
            .get(key)
            .and_then(Value::as_array)
            .filter(|p| !p.is_empty())
        {
            let options: Vec<BoxedStrategy<Value>> = parts.iter().map(|p| valid(ctx, p)).collect();
            return proptest::strategy::Union::new(options).boxed();
        }
    }
    match schema_type(schema) {
        "string" => string(ctx, schema),
        "integer" => integer(schema),
        "number" => number(schema),
        "boolean" => any::<bool>().prop_map(Value::Bool).boxed(),
        "array" => array(ctx, schema),
        "object" => object(ctx, schema),
        _ => prop_oneof![
            Just(json!("value")),
            any::<i32>().prop_map(|n| json!(n)),
            any::<bool>().prop_map(Value::Bool),
        ]
        .boxed(),
    }
}

/// The declared type, or the one the keywords imply.
fn schema_type(schema: &Value) -> &str {
    match schema.get("type").and_then(Value::as_str) {
        Some(name) => name,
        None if schema.get("properties").is_some() => "object",
        None if schema.get("items").is_some() => "array",
        None => "any",
    }
}

/// One schema from `allOf` parts: properties and `required` united, other keywords overlaid.
fn merge_all_of(schemas: &Schemas, schema: &Value, parts: &[Value]) -> Value {
    let mut merged = Map::new();
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    let own = {
        let mut own = schema.as_object().cloned().unwrap_or_default();
        own.remove("allOf");
        Value::Object(own)
    };
    for part in parts.iter().chain(std::iter::once(&own)) {
        let part = schemas.resolve(part);
        let part = match part.get("allOf").and_then(Value::as_array) {
            Some(nested) => merge_all_of(schemas, part, nested),
            None => part.clone(),
        };
        for (key, value) in part.as_object().into_iter().flatten() {
            match key.as_str() {
                "properties" => properties.extend(value.as_object().cloned().unwrap_or_default()),
                "required" => required.extend(value.as_array().cloned().unwrap_or_default()),
                _ => {
                    merged.insert(key.clone(), value.clone());
                }
            }
        }
    }
    if !properties.is_empty() {
        merged.insert("properties".to_owned(), Value::Object(properties));
        merged.entry("type").or_insert(json!("object"));
    }
    if !required.is_empty() {
        merged.insert("required".to_owned(), Value::Array(required));
    }
    Value::Object(merged)
}

fn usize_of(schema: &Value, key: &str) -> Option<usize> {
    schema
        .get(key)
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
}

fn string(ctx: Ctx<'_>, schema: &Value) -> BoxedStrategy<Value> {
    let min = usize_of(schema, "minLength").unwrap_or(0);
    let max = usize_of(schema, "maxLength").unwrap_or(usize::MAX).max(min);
    let within = move |s: &String| (min..=max).contains(&s.chars().count());
    if let Some(format) = schema
        .get("format")
        .and_then(Value::as_str)
        .and_then(format_strategy)
    {
        return format
            .prop_filter("length bounds", within)
            .prop_map(Value::String)
            .boxed();
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        // Generators need the whole string to match; the anchors are implied by that.
        let body = pattern.trim_start_matches('^').trim_end_matches('$');
        if let Ok(strategy) = proptest::string::string_regex(body) {
            let regex = regex::Regex::new(pattern).ok();
            return strategy
                .prop_filter("pattern and length", move |s| {
                    within(s) && regex.as_ref().is_none_or(|r| r.is_match(s))
                })
                .prop_map(Value::String)
                .boxed();
        }
    }
    // Mostly short, sometimes up to the bound: boundaries test the extremes separately.
    let typical = min..=max.min(min + LONG);
    let lengths = prop_oneof![4 => typical, 1 => min..=max.min(min + 4 * LONG)];
    let chars = if ctx.ascii {
        proptest::char::range(' ', '~').boxed()
    } else {
        prop_oneof![6 => proptest::char::range(' ', '~'), 1 => any::<char>()].boxed()
    };
    lengths
        .prop_flat_map(move |n| proptest::collection::vec(chars.clone(), n))
        .prop_map(|chars| Value::String(chars.into_iter().collect()))
        .boxed()
}

/// Strings of a `format`, for the formats servers commonly check.
fn format_strategy(format: &str) -> Option<BoxedStrategy<String>> {
    let regex = |pattern: &str| {
        proptest::string::string_regex(pattern)
            .ok()
            .map(|s| s.boxed())
    };
    match format {
        "email" => regex("[a-z][a-z0-9]{0,11}(\\.[a-z0-9]{1,6})?@[a-z]{2,10}\\.(com|org|net|io)"),
        "uuid" => Some(
            any::<[u8; 16]>()
                .prop_map(|b| {
                    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
                    format!(
                        "{}-{}-{}-{}-{}",
                        &hex[..8],
                        &hex[8..12],
                        &hex[12..16],
                        &hex[16..20],
                        &hex[20..]
                    )
                })
                .boxed(),
        ),
        "date-time" => Some(
            (
                1970u32..2100,
                1u32..=12,
                1u32..=28,
                0u32..24,
                0u32..60,
                0u32..60,
            )
                .prop_map(|(y, mo, d, h, mi, s)| {
                    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
                })
                .boxed(),
        ),
        "date" => Some(
            (1970u32..2100, 1u32..=12, 1u32..=28)
                .prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"))
                .boxed(),
        ),
        "uri" | "url" => regex("https://[a-z]{3,10}\\.(com|org)/[a-z0-9]{0,10}"),
        "hostname" => regex("[a-z]{1,10}(\\.[a-z]{1,10}){0,2}"),
        "ipv4" => Some(
            any::<[u8; 4]>()
                .prop_map(|o| format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3]))
                .boxed(),
        ),
        "ipv6" => Some(
            any::<[u16; 8]>()
                .prop_map(|g| {
                    g.iter()
                        .map(|x| format!("{x:x}"))
                        .collect::<Vec<_>>()
                        .join(":")
                })
                .boxed(),
        ),
        "byte" => regex("([A-Za-z0-9+/]{4}){0,6}"),
        _ => None,
    }
}

/// Whether the schema's `format` limits its strings (`password`, say, does not).
fn constrains_format(schema: &Value) -> bool {
    schema
        .get("format")
        .and_then(Value::as_str)
        .and_then(format_strategy)
        .is_some()
}

/// Integer bounds, with 3.0's boolean exclusive flags (and 3.1-style numeric ones) applied.
fn integer_bounds(schema: &Value) -> (i64, i64) {
    let flag = |key: &str| schema.get(key) == Some(&Value::Bool(true));
    let mut low = schema
        .get("minimum")
        .and_then(Value::as_f64)
        .map_or(i64::MIN, |m| m.ceil() as i64);
    let mut high = schema
        .get("maximum")
        .and_then(Value::as_f64)
        .map_or(i64::MAX, |m| m.floor() as i64);
    if flag("exclusiveMinimum") {
        low = low.saturating_add(1);
    }
    if flag("exclusiveMaximum") {
        high = high.saturating_sub(1);
    }
    if let Some(m) = schema.get("exclusiveMinimum").and_then(Value::as_f64) {
        low = low.max(m.floor() as i64 + 1);
    }
    if let Some(m) = schema.get("exclusiveMaximum").and_then(Value::as_f64) {
        high = high.min(m.ceil() as i64 - 1);
    }
    (low, high)
}

fn integer(schema: &Value) -> BoxedStrategy<Value> {
    let (low, high) = integer_bounds(schema);
    if low > high {
        return Just(json!(low)).boxed();
    }
    let step = schema
        .get("multipleOf")
        .and_then(Value::as_i64)
        .filter(|m| *m > 0);
    if let Some(step) = step {
        let (first, last) = (
            low.div_euclid(step) + i64::from(low.rem_euclid(step) != 0),
            high.div_euclid(step),
        );
        return (first..=last)
            .prop_map(move |k| json!(k.saturating_mul(step)))
            .boxed();
    }
    // Small numbers most of the time, the whole range sometimes.
    let small = low.max(-1000)..=high.min(1000);
    match small.start() <= small.end() {
        true => prop_oneof![4 => small, 1 => low..=high]
            .prop_map(|n| json!(n))
            .boxed(),
        false => (low..=high).prop_map(|n| json!(n)).boxed(),
    }
}

fn number(schema: &Value) -> BoxedStrategy<Value> {
    let low = schema
        .get("minimum")
        .and_then(Value::as_f64)
        .unwrap_or(-1e6);
    let high = schema
        .get("maximum")
        .and_then(Value::as_f64)
        .unwrap_or(1e6)
        .max(low);
    let exclusive = |key: &str| schema.get(key) == Some(&Value::Bool(true));
    let (ex_low, ex_high) = (exclusive("exclusiveMinimum"), exclusive("exclusiveMaximum"));
    let inside = move |x: &f64| !((ex_low && *x <= low) || (ex_high && *x >= high));
    if let Some(step) = schema
        .get("multipleOf")
        .and_then(Value::as_f64)
        .filter(|m| *m > 0.0)
    {
        let (first, last) = ((low / step).ceil() as i64, (high / step).floor() as i64);
        return (first..=last.max(first))
            .prop_map(move |k| k as f64 * step)
            .prop_filter("exclusive bounds", inside)
            .prop_map(|x| Number::from_f64(x).map_or(Value::Null, Value::Number))
            .boxed();
    }
    (low..=high)
        .prop_filter("exclusive bounds", inside)
        .prop_map(|x| Number::from_f64(x).map_or(Value::Null, Value::Number))
        .boxed()
}

fn array(ctx: Ctx<'_>, schema: &Value) -> BoxedStrategy<Value> {
    let min = usize_of(schema, "minItems").unwrap_or(0);
    let max = usize_of(schema, "maxItems").unwrap_or(usize::MAX).max(min);
    let max = if ctx.depth >= MAX_DEPTH {
        min
    } else {
        max.min(min + 5)
    };
    let items = valid(ctx.deeper(), schema.get("items").unwrap_or(&json!({})));
    let unique = schema.get("uniqueItems") == Some(&Value::Bool(true));
    proptest::collection::vec(items, min..=max)
        .prop_map(move |mut values| {
            if unique {
                let mut seen = Vec::new();
                values.retain(|v| (!seen.contains(v)).then(|| seen.push(v.clone())).is_some());
            }
            values
        })
        .prop_filter("minItems after removing duplicates", move |v| {
            v.len() >= min
        })
        .prop_map(Value::Array)
        .boxed()
}

/// The names an object schema lists as `required`.
fn required_names(schema: &Value) -> Vec<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

fn object(ctx: Ctx<'_>, schema: &Value) -> BoxedStrategy<Value> {
    let required = required_names(schema);
    let mut fields: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
    for (name, property) in schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        // Requests never carry read-only properties.
        if ctx.schemas.resolve(property).get("readOnly") == Some(&Value::Bool(true)) {
            continue;
        }
        let name = name.clone();
        let is_required = required.contains(&name.as_str());
        if !is_required && ctx.depth >= MAX_DEPTH {
            continue;
        }
        let value = valid(ctx.deeper(), property);
        let field = value.prop_map(move |v| (name.clone(), v));
        fields.push(match is_required {
            true => field.prop_map(Some).boxed(),
            false => proptest::option::of(field).boxed(),
        });
    }
    fields
        .prop_map(|fields| Value::Object(fields.into_iter().flatten().collect()))
        .boxed()
}

/// The simplest valid value: the schema's example, default or first enum value, else the
/// fully shrunk value of its strategy.
pub fn canonical(schemas: &Schemas, schema: &Value, ascii: bool) -> Value {
    let resolved = schemas.resolve(schema);
    for key in ["example", "default"] {
        if let Some(value) = resolved
            .get(key)
            .filter(|v| schemas.is_valid(schema, Direction::Request, v))
        {
            return value.clone();
        }
    }
    if resolved.get("type").and_then(Value::as_str) == Some("object")
        || resolved.get("properties").is_some()
    {
        // Build objects from canonical properties, so property-level examples are used.
        let required = required_names(resolved);
        let object: Map<String, Value> = resolved
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(name, _)| required.contains(&name.as_str()))
            .map(|(name, property)| (name.clone(), canonical(schemas, property, ascii)))
            .collect();
        let object = Value::Object(object);
        if schemas.is_valid(schema, Direction::Request, &object) {
            return object;
        }
    }
    let ctx = Ctx {
        schemas,
        ascii,
        depth: 0,
    };
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    match valid(ctx, schema).new_tree(&mut runner) {
        Ok(mut tree) => {
            // Simplify as far as the strategy allows: the simplest value it can produce.
            for _ in 0..1000 {
                if !tree.simplify() {
                    break;
                }
            }
            tree.current()
        }
        Err(_) => Value::Null,
    }
}

/// The parameters and body a case for `operation` can carry, with their strategies.
pub struct Plan<'a> {
    schemas: &'a Schemas,
    operation: &'a Operation,
    /// Real values for path parameters, captured from the target's responses.
    pool: Vec<(String, Vec<Value>)>,
}

impl<'a> Plan<'a> {
    pub fn new(schemas: &'a Schemas, operation: &'a Operation) -> Plan<'a> {
        Plan {
            schemas,
            operation,
            pool: Vec::new(),
        }
    }

    /// Path parameters draw from these values most of the time (ids the target really has).
    pub fn with_pool(mut self, pool: Vec<(String, Vec<Value>)>) -> Plan<'a> {
        self.pool = pool
            .into_iter()
            .filter(|(_, values)| !values.is_empty())
            .collect();
        self
    }

    fn params(&self) -> impl Iterator<Item = &'a Param> + use<'a> {
        // Cookies are not sent: few APIs take them and they need a cookie jar per case.
        self.operation
            .params
            .iter()
            .filter(|p| p.location != Location::Cookie)
    }

    /// Random valid cases.
    pub fn positive(&self) -> BoxedStrategy<Case> {
        let mut params: Vec<BoxedStrategy<Option<(Location, String, Value)>>> = Vec::new();
        for param in self.params() {
            let ctx = Ctx {
                schemas: self.schemas,
                ascii: param.location == Location::Header,
                depth: 0,
            };
            let (location, name) = (param.location, param.name.clone());
            let generated = valid(ctx, &param.schema);
            let pooled = self
                .pool
                .iter()
                .find(|(n, _)| *n == param.name && location == Location::Path);
            let values = match pooled {
                Some((_, values)) => {
                    prop_oneof![3 => proptest::sample::select(values.clone()), 1 => generated]
                        .boxed()
                }
                None => generated,
            };
            let value = values.prop_map(move |v| (location, name.clone(), v));
            params.push(match param.required {
                true => value.prop_map(Some).boxed(),
                false => proptest::option::of(value).boxed(),
            });
        }
        let body = match &self.operation.body {
            Some(body) => {
                let ctx = Ctx {
                    schemas: self.schemas,
                    ascii: false,
                    depth: 0,
                };
                valid(ctx, &body.schema).prop_map(Payload::Json).boxed()
            }
            None => Just(Payload::None).boxed(),
        };
        (params, body)
            .prop_map(|(params, body)| Case {
                kind: Kind::Positive,
                params: params.into_iter().flatten().collect(),
                body,
                auth: AuthMode::Normal,
            })
            .boxed()
    }

    /// A valid case built from canonical values, the base that coverage cases vary.
    pub fn base(&self) -> Case {
        let params = self
            .params()
            .filter(|p| p.required)
            .map(|p| {
                let pooled = self
                    .pool
                    .iter()
                    .find(|(n, _)| *n == p.name && p.location == Location::Path);
                let value = pooled
                    .and_then(|(_, values)| values.last().cloned())
                    .or_else(|| p.examples.first().cloned());
                let value = value.unwrap_or_else(|| {
                    canonical(self.schemas, &p.schema, p.location == Location::Header)
                });
                (p.location, p.name.clone(), value)
            })
            .collect();
        let body = match &self.operation.body {
            Some(body) => Payload::Json(
                body.examples
                    .first()
                    .cloned()
                    .unwrap_or_else(|| canonical(self.schemas, &body.schema, false)),
            ),
            None => Payload::None,
        };
        Case {
            kind: Kind::Positive,
            params,
            body,
            auth: AuthMode::Normal,
        }
    }

    /// The deterministic cases: the spec's examples, each constraint at its boundaries (valid
    /// at the bound, invalid just past it), and every single-constraint violation once.
    pub fn coverage(&self) -> Vec<Case> {
        let base = self.base();
        let mut cases = vec![base.clone()];
        let mut push = |case: Case| {
            if !cases.contains(&case) {
                cases.push(case);
            }
        };
        if let Some(body) = &self.operation.body {
            let resolved = self.schemas.resolve(&body.schema);
            let schema_examples = resolved.get("example").into_iter();
            for example in body.examples.iter().chain(schema_examples) {
                push(Case {
                    body: Payload::Json(example.clone()),
                    ..base.clone()
                });
            }
        }
        for param in self.params() {
            for example in &param.examples {
                push(with_param(&base, param, example.clone(), Kind::Positive));
            }
            for (value, valid) in self.boundaries(&param.schema, param.location == Location::Header)
            {
                let kind = self.param_kind(param, &value, valid, "past a bound");
                if let Some(kind) = kind {
                    push(with_param(&base, param, value, kind));
                }
            }
        }
        if let (Some(body), Payload::Json(base_body)) = (&self.operation.body, &base.body) {
            for (pointer, schema) in self.body_fields(&body.schema) {
                for (value, _) in self.boundaries(&schema, false) {
                    let mut changed = base_body.clone();
                    if set_pointer(&mut changed, &pointer, value) {
                        let kind =
                            match self
                                .schemas
                                .is_valid(&body.schema, Direction::Request, &changed)
                            {
                                true => Kind::Positive,
                                false => Kind::Negative(format!("body{pointer} past a bound")),
                            };
                        push(Case {
                            kind,
                            body: Payload::Json(changed),
                            ..base.clone()
                        });
                    }
                }
            }
        }
        for case in self.negatives(&base) {
            push(case);
        }
        cases
    }

    /// Valid values at each bound of a schema and invalid ones just past it.
    fn boundaries(&self, schema: &Value, ascii: bool) -> Vec<(Value, bool)> {
        let resolved = self.schemas.resolve(schema);
        let mut values = Vec::new();
        match schema_type(resolved) {
            "integer" => {
                let (low, high) = integer_bounds(resolved);
                if low > i64::MIN {
                    values.extend([(json!(low), true), (json!(low.saturating_sub(1)), false)]);
                }
                if high < i64::MAX {
                    values.extend([(json!(high), true), (json!(high.saturating_add(1)), false)]);
                }
            }
            "number" => {
                for (key, step) in [("minimum", -1.0), ("maximum", 1.0)] {
                    if let Some(bound) = resolved.get(key).and_then(Value::as_f64) {
                        values.push((json!(bound), true));
                        values.push((json!(bound + step), false));
                    }
                }
            }
            "string" if !constrains_format(resolved) && resolved.get("pattern").is_none() => {
                let fill = |n: usize| Value::String(if ascii { "a" } else { "é" }.repeat(n));
                if let Some(min) = usize_of(resolved, "minLength") {
                    values.push((fill(min), true));
                    if min > 0 {
                        values.push((fill(min - 1), false));
                    }
                }
                if let Some(max) = usize_of(resolved, "maxLength") {
                    values.extend([(fill(max), true), (fill(max + 1), false)]);
                }
            }
            "string" => {
                // Formatted strings: too long is invalid whatever the format.
                if let Some(max) = usize_of(resolved, "maxLength") {
                    values.push((Value::String("a".repeat(max + 1)), false));
                }
            }
            _ => {}
        }
        // A value is what the validator says it is, not what we meant it to be.
        values
            .into_iter()
            .map(|(v, _)| {
                let valid = self.schemas.is_valid(schema, Direction::Request, &v);
                (v, valid)
            })
            .collect()
    }

    /// Whether a parameter value is valid, invalid (with why), or unusable (`None`).
    fn param_kind(&self, param: &Param, value: &Value, valid: bool, what: &str) -> Option<Kind> {
        let text = param_text(value);
        if param.location == Location::Path && text.is_empty() {
            return None;
        }
        if param.location == Location::Header && !text.bytes().all(|b| (b' '..=b'~').contains(&b)) {
            return None;
        }
        // What the server sees is text: judge the value as it will be parsed.
        let parsed = coerce(self.schemas, &param.schema, &text);
        let valid = valid
            && self
                .schemas
                .is_valid(&param.schema, Direction::Request, &parsed);
        Some(match valid {
            true => Kind::Positive,
            false => Kind::Negative(format!(
                "{} parameter `{}` {what}",
                location_name(param.location),
                param.name
            )),
        })
    }

    /// Single-constraint violations applied to `base`, each confirmed invalid.
    pub fn negatives(&self, base: &Case) -> Vec<Case> {
        let mut cases = Vec::new();
        for param in self.params() {
            if param.required && param.location != Location::Path {
                let mut case = base.clone();
                case.params
                    .retain(|(l, n, _)| !(*l == param.location && n == &param.name));
                let kind = match param.location {
                    Location::Header => Kind::MissingHeader(param.name.clone()),
                    location => Kind::Negative(format!(
                        "required {} parameter `{}` missing",
                        location_name(location),
                        param.name
                    )),
                };
                cases.push(Case { kind, ..case });
            }
            for (value, what) in self.mutations(&param.schema) {
                if let Some(kind @ Kind::Negative(_)) = self.param_kind(param, &value, true, &what)
                {
                    cases.push(with_param(base, param, value, kind));
                }
            }
        }
        let (Some(body), Payload::Json(base_body)) = (&self.operation.body, &base.body) else {
            return cases;
        };
        let mut body_case = |value: Value, what: String| {
            if !self
                .schemas
                .is_valid(&body.schema, Direction::Request, &value)
            {
                cases.push(Case {
                    kind: Kind::Negative(what),
                    body: Payload::Json(value),
                    ..base.clone()
                });
            }
        };
        for (value, what) in self.mutations(&body.schema) {
            body_case(value, format!("body {what}"));
        }
        for (pointer, schema) in self.body_fields(&body.schema) {
            let mut without = base_body.clone();
            if remove_pointer(&mut without, &pointer) {
                body_case(without, format!("body{pointer} missing"));
            }
            for (value, what) in self.mutations(&schema) {
                let mut changed = base_body.clone();
                if set_pointer(&mut changed, &pointer, value) {
                    body_case(changed, format!("body{pointer} {what}"));
                }
            }
        }
        let closed = self
            .schemas
            .resolve(&body.schema)
            .get("additionalProperties")
            == Some(&Value::Bool(false));
        if closed && base_body.is_object() {
            let mut extra = base_body.clone();
            extra["unexpected_property"] = json!(1);
            body_case(extra, "body has a property the schema forbids".to_owned());
        }
        let raw = |content_type: Option<&str>, bytes: &[u8], what: &str| Case {
            kind: Kind::Negative(what.to_owned()),
            body: Payload::Raw {
                content_type: content_type.map(str::to_owned),
                bytes: bytes.to_vec(),
            },
            ..base.clone()
        };
        cases.push(raw(
            Some(&body.media_type),
            b"{\"unterminated",
            "malformed JSON body",
        ));
        let text_accepted = body
            .accepts
            .iter()
            .any(|m| m.starts_with("text/") || m.starts_with("*/"));
        if !text_accepted {
            let bytes = serde_json::to_vec(base_body).unwrap_or_default();
            cases.push(raw(Some("text/plain"), &bytes, "body sent as text/plain"));
        }
        if body.required {
            cases.push(raw(None, b"", "required body missing"));
        }
        cases
    }

    /// Values that break one constraint of a schema, described.
    fn mutations(&self, schema: &Value) -> Vec<(Value, String)> {
        let resolved = self.schemas.resolve(schema);
        let mut out: Vec<(Value, String)> = Vec::new();
        let kind = schema_type(resolved);
        let wrong_type = match kind {
            "string" => json!(12345),
            "integer" | "number" => json!("not-a-number"),
            "boolean" => json!("not-a-boolean"),
            "array" => json!({"not": "an array"}),
            "object" => json!(["not", "an", "object"]),
            _ => Value::Null,
        };
        if !wrong_type.is_null() {
            out.push((wrong_type, format!("not of type {kind}")));
        }
        if kind == "integer" {
            out.push((json!(1.5), "not an integer".to_owned()));
        }
        if resolved.get("nullable") != Some(&Value::Bool(true)) && kind != "any" {
            out.push((Value::Null, "null where null is not allowed".to_owned()));
        }
        if resolved.get("enum").is_some() {
            out.push((json!("not-in-the-enum"), "outside its enum".to_owned()));
        }
        if let Some(format) = resolved.get("format").and_then(Value::as_str) {
            let bad = match format {
                "email" => Some("not-an-email"),
                "uuid" => Some("not-a-uuid"),
                "date-time" => Some("yesterday"),
                "date" => Some("2021-13-45"),
                "uri" | "url" => Some("not a uri"),
                "ipv4" => Some("999.1.1.1"),
                "ipv6" => Some("not:an:ipv6"),
                "hostname" => Some("-bad-.host-"),
                _ => None,
            };
            if let Some(bad) = bad {
                out.push((json!(bad), format!("not a valid {format}")));
            }
        }
        if resolved.get("pattern").is_some() {
            for candidate in ["", "!!!", " ", "\u{7f}~~", "0"] {
                out.push((json!(candidate), "not matching its pattern".to_owned()));
            }
        }
        if let Some(step) = resolved.get("multipleOf").and_then(Value::as_f64) {
            let base = resolved
                .get("minimum")
                .and_then(Value::as_f64)
                .unwrap_or(0.0)
                .max(0.0);
            out.push((
                json!(base + step / 2.0 + step),
                "not a multiple of its multipleOf".to_owned(),
            ));
        }
        for (value, valid) in self.boundaries(schema, false) {
            if !valid {
                out.push((value, "past a bound".to_owned()));
            }
        }
        if kind == "array" {
            let item = resolved
                .get("items")
                .map(|i| canonical(self.schemas, i, false))
                .unwrap_or(json!(1));
            if let Some(min) = usize_of(resolved, "minItems").filter(|m| *m > 0) {
                out.push((
                    Value::Array(vec![item.clone(); min - 1]),
                    "with too few items".to_owned(),
                ));
            }
            if let Some(max) = usize_of(resolved, "maxItems") {
                out.push((
                    Value::Array(vec![item.clone(); max + 1]),
                    "with too many items".to_owned(),
                ));
            }
            if resolved.get("uniqueItems") == Some(&Value::Bool(true)) {
                out.push((
                    Value::Array(vec![item.clone(), item]),
                    "with duplicate items".to_owned(),
                ));
            }
        }
        // Keep only what the validator agrees is invalid.
        out.retain(|(value, _)| !self.schemas.is_valid(schema, Direction::Request, value));
        out
    }

    /// The fields of an object body, by JSON pointer, with their schemas (one level down,
    /// and one more inside nested objects).
    fn body_fields(&self, schema: &Value) -> Vec<(String, Value)> {
        let mut fields = Vec::new();
        collect_fields(self.schemas, schema, "", 0, &mut fields);
        fields
    }
}

fn collect_fields(
    schemas: &Schemas,
    schema: &Value,
    prefix: &str,
    depth: usize,
    out: &mut Vec<(String, Value)>,
) {
    let resolved = schemas.resolve(schema);
    for (name, property) in resolved
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if schemas.resolve(property).get("readOnly") == Some(&Value::Bool(true)) {
            continue;
        }
        let pointer = format!("{prefix}/{}", name.replace('~', "~0").replace('/', "~1"));
        out.push((pointer.clone(), property.clone()));
        if depth < 1 && schema_type(schemas.resolve(property)) == "object" {
            collect_fields(schemas, property, &pointer, depth + 1, out);
        }
    }
}

fn location_name(location: Location) -> &'static str {
    match location {
        Location::Path => "path",
        Location::Query => "query",
        Location::Header => "header",
        Location::Cookie => "cookie",
    }
}

fn with_param(base: &Case, param: &Param, value: Value, kind: Kind) -> Case {
    let mut case = base.clone();
    case.kind = kind;
    case.params
        .retain(|(l, n, _)| !(*l == param.location && n == &param.name));
    case.params
        .push((param.location, param.name.clone(), value));
    case
}

/// Sets the value at a JSON pointer whose parent exists; false when it does not.
fn set_pointer(value: &mut Value, pointer: &str, new: Value) -> bool {
    let Some((parent, key)) = pointer.rsplit_once('/') else {
        return false;
    };
    let key = key.replace("~1", "/").replace("~0", "~");
    match value.pointer_mut(parent).and_then(Value::as_object_mut) {
        Some(object) => {
            object.insert(key, new);
            true
        }
        None => false,
    }
}

/// Removes the value at a JSON pointer; false when there was none.
fn remove_pointer(value: &mut Value, pointer: &str) -> bool {
    let Some((parent, key)) = pointer.rsplit_once('/') else {
        return false;
    };
    let key = key.replace("~1", "/").replace("~0", "~");
    value
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .is_some_and(|o| o.remove(&key).is_some())
}

/// A parameter value as it goes on the wire (style `simple`/`form`: arrays comma-joined).
pub fn param_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        Value::Array(items) => items.iter().map(param_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// A parameter's text as a server typed by the schema would read it.
fn coerce(schemas: &Schemas, schema: &Value, text: &str) -> Value {
    let resolved = schemas.resolve(schema);
    match schema_type(resolved) {
        "integer" => text
            .parse::<i64>()
            .map(|n| json!(n))
            .unwrap_or_else(|_| json!(text)),
        "number" => text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map_or_else(|| json!(text), Value::Number),
        "boolean" => match text {
            "true" => json!(true),
            "false" => json!(false),
            _ => json!(text),
        },
        "array" => {
            let items = resolved.get("items").cloned().unwrap_or(json!({}));
            let parts = if text.is_empty() {
                Vec::new()
            } else {
                text.split(',').collect()
            };
            Value::Array(
                parts
                    .into_iter()
                    .map(|p| coerce(schemas, &items, p))
                    .collect(),
            )
        }
        _ => json!(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec;

    fn mock_spec() -> spec::Api {
        spec::parse(mock_api::spec::YAML).unwrap()
    }

    #[test]
    fn random_positive_cases_are_valid() {
        let api = mock_spec();
        let mut runner = TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &[1; 32]),
        );
        for operation in &api.operations {
            let strategy = Plan::new(&api.schemas, operation).positive();
            for _ in 0..50 {
                let case = strategy.new_tree(&mut runner).unwrap().current();
                if let (Payload::Json(body), Some(spec)) = (&case.body, &operation.body) {
                    let errors = api.schemas.errors(&spec.schema, Direction::Request, body);
                    assert!(
                        errors.is_empty(),
                        "{}: {body} {errors:?}",
                        operation.label()
                    );
                }
                for (location, name, value) in &case.params {
                    let param = operation
                        .params
                        .iter()
                        .find(|p| &p.name == name && p.location == *location)
                        .unwrap();
                    let parsed = coerce(&api.schemas, &param.schema, &param_text(value));
                    assert!(
                        api.schemas
                            .is_valid(&param.schema, Direction::Request, &parsed),
                        "{name}={value}"
                    );
                }
            }
        }
    }

    #[test]
    fn coverage_breaks_one_constraint_at_a_time() {
        let api = mock_spec();
        let create = api
            .operations
            .iter()
            .find(|o| o.label() == "POST /api/users")
            .unwrap();
        let cases = Plan::new(&api.schemas, create).coverage();
        let negatives: Vec<String> = cases
            .iter()
            .filter_map(|c| match &c.kind {
                Kind::Negative(what) => Some(what.clone()),
                _ => None,
            })
            .collect();
        for expected in [
            "body/email missing",
            "body/email not a valid email",
            "body/name past a bound",
            "body/role outside its enum",
            "body/password not of type string",
            "malformed JSON body",
            "body sent as text/plain",
            "body not of type object",
        ] {
            assert!(
                negatives.iter().any(|n| n == expected),
                "{expected} in {negatives:#?}"
            );
        }
        let valid_bounds = cases.iter().filter(|c| c.kind == Kind::Positive).count();
        assert!(valid_bounds >= 5, "examples and boundaries: {valid_bounds}");
        let list = api
            .operations
            .iter()
            .find(|o| o.label() == "GET /api/users")
            .unwrap();
        let kinds: Vec<Kind> = Plan::new(&api.schemas, list)
            .coverage()
            .into_iter()
            .map(|c| c.kind)
            .collect();
        assert!(
            kinds.contains(&Kind::Negative(
                "query parameter `limit` past a bound".into()
            )),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&Kind::Negative(
                "query parameter `page` not of type integer".into()
            )),
            "{kinds:?}"
        );
    }

    #[test]
    fn canonical_values_are_the_simplest_valid_ones() {
        let api = mock_spec();
        let s = &api.schemas;
        assert_eq!(
            canonical(s, &json!({"type": "integer", "minimum": 3}), false),
            json!(3)
        );
        assert_eq!(
            canonical(s, &json!({"type": "string", "enum": ["b", "a"]}), false),
            json!("b")
        );
        let email = canonical(s, &json!({"$ref": "#/components/schemas/Email"}), false);
        assert!(
            s.is_valid(
                &json!({"$ref": "#/components/schemas/Email"}),
                Direction::Request,
                &email
            ),
            "{email}"
        );
    }
}
