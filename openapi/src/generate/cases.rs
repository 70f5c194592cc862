//! Requests of one operation: random valid cases, the deterministic coverage cases (examples,
//! boundaries), and negative cases that break exactly one constraint. A case is called valid
//! or invalid only after the validator has judged what the server will see (parameters as
//! text, form bodies as fields), so a server is never blamed for the generator's mistake.

use std::fmt;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};

use crate::generate::values::{
    MAX_LENGTH, canonical, constrains_format, integer_bounds, strategy, usize_of,
};
use crate::generate::wire::{BodyJudge, ParamJudge};
use crate::generate::xml;
use crate::model::{Body, Encoding, Location, Operation, Param};
use crate::schema::query::{allows_null, schema_type, types};
use crate::schema::{Direction, Schemas};

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
    /// What the document neither allows nor forbids plainly (a `readOnly` property sent, an
    /// integer past 64 bits): the server may take or refuse it, but not fail on it, so only
    /// the checks of the answer itself apply.
    Edge(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    None,
    Json(Value),
    /// An XML body (the same schema in an XML media type the operation accepts): the bytes
    /// sent, and the value a server bound by the schema reads from them, which is judged.
    Xml {
        media_type: String,
        bytes: Vec<u8>,
        read: Value,
    },
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
            Kind::Edge(what) => write!(f, "edge: {what}"),
        }
    }
}

/// The parameters and body a case for `operation` can carry, with their strategies.
pub struct Plan<'a> {
    schemas: &'a Schemas,
    operation: &'a Operation,
    /// Real values for path parameters, captured from the target's responses.
    pool: Vec<(String, Vec<Value>)>,
    /// How the server reads each part: made once per operation and shared.
    judges: Arc<Judges>,
}

/// How a server reads an operation's parts: one judge per parameter, in order, and one for
/// the body. Built once per operation ([`Judges::new`]) and shared by every plan of it.
#[derive(Default)]
pub struct Judges {
    params: Vec<Option<ParamJudge>>,
    body: Option<BodyJudge>,
}

impl Judges {
    pub fn new(schemas: &Schemas, operation: &Operation) -> Judges {
        Judges {
            params: operation
                .params
                .iter()
                .map(|p| ParamJudge::new(schemas, p))
                .collect(),
            body: operation
                .body
                .as_ref()
                .and_then(|b| BodyJudge::new(schemas, b)),
        }
    }
}

impl<'a> Plan<'a> {
    pub fn new(schemas: &'a Schemas, operation: &'a Operation) -> Plan<'a> {
        Plan::with_judges(
            schemas,
            operation,
            Arc::new(Judges::new(schemas, operation)),
        )
    }

    /// A plan with the operation's judges already made (see [`Judges`]).
    pub fn with_judges(
        schemas: &'a Schemas,
        operation: &'a Operation,
        judges: Arc<Judges>,
    ) -> Plan<'a> {
        Plan {
            schemas,
            operation,
            pool: Vec::new(),
            judges,
        }
    }

    fn judge(&self, param: &Param) -> Option<&ParamJudge> {
        let index = self
            .operation
            .params
            .iter()
            .position(|p| std::ptr::eq(p, param))?;
        self.judges.params.get(index)?.as_ref()
    }

    fn body_is_valid(&self, _body: &Body, value: &Value) -> bool {
        self.judges.body.as_ref().is_none_or(|j| j.accepts(value))
    }

    /// Whether every part of a case is valid as the server will see it: the check made on
    /// every case before it is called valid.
    pub fn is_valid(&self, case: &Case) -> bool {
        let params_ok = self
            .operation
            .params
            .iter()
            .filter(|p| p.location != Location::Cookie)
            .all(|param| {
                let value = case
                    .params
                    .iter()
                    .find(|(l, n, _)| *l == param.location && *n == param.name);
                match (value, self.judge(param)) {
                    (None, _) => !param.required,
                    (Some((_, _, value)), Some(judge)) => judge.accepts(value),
                    (Some(_), None) => true,
                }
            });
        let body_ok = match (&self.operation.body, &case.body) {
            (Some(body), Payload::Json(value) | Payload::Xml { read: value, .. }) => {
                self.body_is_valid(body, value)
            }
            (Some(body), Payload::None) => !body.required,
            (None, Payload::None) => true,
            _ => false,
        };
        params_ok && body_ok
    }

    /// The schemas of this operation that no generated value satisfies, each named by where
    /// it is in the document: problems of the document, never sent, never blamed on a server.
    pub fn problems(&self) -> Vec<String> {
        let mut runner = TestRunner::new_with_rng(
            Config {
                max_local_rejects: 256,
                ..Config::default()
            },
            TestRng::from_seed(RngAlgorithm::ChaCha, &[3; 32]),
        );
        let mut problems = Vec::new();
        let mut probe = |schema: &Value, accepts: &dyn Fn(&Value) -> bool, ascii: bool| {
            let strategy = strategy(self.schemas, schema, ascii);
            let satisfied = (0..64).any(|_| {
                strategy
                    .new_tree(&mut runner)
                    .is_ok_and(|t| accepts(&t.current()))
            }) || accepts(&canonical(self.schemas, schema, ascii));
            if !satisfied {
                let at = self.schemas.origin(schema).unwrap_or("a schema");
                problems.push(format!(
                    "no value the checker can make satisfies the schema at {at}"
                ));
            }
        };
        for (param, judge) in self.operation.params.iter().zip(&self.judges.params) {
            if let (true, Some(judge)) =
                (param.required && param.location != Location::Cookie, judge)
            {
                probe(
                    &param.schema,
                    &|v| judge.accepts(v),
                    param.location == Location::Header,
                );
            }
        }
        if let (Some(body), Some(judge)) = (&self.operation.body, &self.judges.body)
            && body.required
        {
            probe(&body.schema, &|v| judge.accepts(v), false);
        }
        problems
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
            let (location, name) = (param.location, param.name.clone());
            let generated = strategy(self.schemas, &param.schema, location == Location::Header);
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
            let judge = self.judge(param).cloned();
            let value = values
                .prop_filter("valid by the validator", move |v| {
                    judge.as_ref().is_none_or(|j| j.accepts(v))
                })
                .prop_map(move |v| (location, name.clone(), v));
            // An optional parameter that is null is left out rather than sent empty.
            params.push(match param.required {
                true => value.prop_map(Some).boxed(),
                false => proptest::option::of(value)
                    .prop_map(|p| p.filter(|(_, _, v)| !v.is_null()))
                    .boxed(),
            });
        }
        let body = match &self.operation.body {
            Some(body) => {
                let judge = self.judges.body.clone();
                strategy(self.schemas, &body.schema, false)
                    .prop_filter("valid by the validator", move |v| {
                        judge.as_ref().is_none_or(|j| j.accepts(v))
                    })
                    .prop_map(Payload::Json)
                    .boxed()
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
                // A delete takes the oldest id and everything else the newest, so that a
                // delete's cases, sent beside the others, leave the others an item to meet.
                let value = pooled
                    .and_then(
                        |(_, values)| match self.operation.method == http::Method::DELETE {
                            true => values.first().cloned(),
                            false => values.last().cloned(),
                        },
                    )
                    .or_else(|| p.examples.first().cloned());
                let value = value.unwrap_or_else(|| {
                    canonical(self.schemas, &p.schema, p.location == Location::Header)
                });
                // The simplest string is "", which no path segment can carry: then the first
                // drawn value the server can be sent and will accept.
                let value = match self.judge(p) {
                    Some(judge) if !judge.accepts(&value) => self.sample(p, judge).unwrap_or(value),
                    _ => value,
                };
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

    /// A value of a parameter the judge accepts, drawn with a fixed seed.
    fn sample(&self, param: &Param, judge: &ParamJudge) -> Option<Value> {
        let mut runner = TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
        );
        let strategy = strategy(
            self.schemas,
            &param.schema,
            param.location == Location::Header,
        );
        (0..64)
            .filter_map(|_| strategy.new_tree(&mut runner).ok())
            .map(|tree| tree.current())
            .find(|value| judge.accepts(value))
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
            let schema_examples = resolved
                .get("examples")
                .and_then(Value::as_array)
                .into_iter()
                .flatten();
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
            for (pointer, schema, _) in self.body_fields(&body.schema) {
                for (value, _) in self.boundaries(&schema, false) {
                    let mut changed = base_body.clone();
                    if set_pointer(&mut changed, &pointer, value) {
                        let kind = match self.body_is_valid(body, &changed) {
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
        // An optional body left out; a form with no fields is an empty form, sent as one.
        if let Some(body) = &self.operation.body
            && !body.required
        {
            let nothing = match body.encoding {
                Encoding::Json | Encoding::Text => Payload::None,
                Encoding::Form | Encoding::Multipart => Payload::Json(json!({})),
            };
            let case = Case {
                body: nothing,
                ..base.clone()
            };
            if self.is_valid(&case) {
                push(case);
            }
        }
        for case in self.xml(&base) {
            push(case);
        }
        for case in self.edges(&base) {
            push(case);
        }
        for case in self.negatives(&base) {
            push(case);
        }
        cases
    }

    /// Where the operation also takes its body in XML: the base body and the examples as
    /// XML (each valid as a server reads it back), and XML that is not well-formed.
    fn xml(&self, base: &Case) -> Vec<Case> {
        let (Some(body), Payload::Json(base_body)) = (&self.operation.body, &base.body) else {
            return Vec::new();
        };
        let Some(media) = body.accepts.iter().find(|m| {
            let m = crate::model::essence(m);
            m.ends_with("/xml") || m.ends_with("+xml")
        }) else {
            return Vec::new();
        };
        if body.encoding != Encoding::Json {
            return Vec::new();
        }
        let as_xml = |value: &Value| {
            let bytes = xml::write(self.schemas, &body.schema, value)?;
            let element = xml::parse(&bytes).ok()?;
            let read = xml::read(self.schemas, &body.schema, &element);
            self.body_is_valid(body, &read).then(|| Case {
                kind: Kind::Positive,
                body: Payload::Xml {
                    media_type: media.clone(),
                    bytes,
                    read,
                },
                ..base.clone()
            })
        };
        let mut cases: Vec<Case> = std::iter::once(base_body)
            .chain(&body.examples)
            .filter_map(as_xml)
            .collect();
        // The simplest body may not survive XML (a name of one space reads back as none):
        // then the first drawn one that does, with a fixed seed.
        if cases.is_empty() {
            let mut runner = TestRunner::new_with_rng(
                Config::default(),
                TestRng::from_seed(RngAlgorithm::ChaCha, &[11; 32]),
            );
            let strategy = strategy(self.schemas, &body.schema, false);
            cases.extend(
                (0..32)
                    .filter_map(|_| strategy.new_tree(&mut runner).ok())
                    .find_map(|tree| as_xml(&tree.current())),
            );
        }
        cases.push(Case {
            kind: Kind::Negative("malformed XML body".to_owned()),
            body: Payload::Raw {
                content_type: Some(media.clone()),
                bytes: b"<unterminated><".to_vec(),
            },
            ..base.clone()
        });
        cases
    }

    /// The edge cases of [`Plan::coverage`] alone, on the base case: what a stateful walk
    /// sends to an item it created, where a state-dependent failure shows (a nullable field
    /// `null` on a `NOT NULL` column) rather than a 404.
    pub fn item_edges(&self) -> Vec<Case> {
        self.edges(&self.base())
    }

    /// Cases at the edges of what the document says: every nullable body field `null`
    /// (valid), every `readOnly` property sent anyway, and integers past 64 bits where no
    /// bound or format stops them (edges: only a failure to answer is blamed).
    fn edges(&self, base: &Case) -> Vec<Case> {
        let mut cases = Vec::new();
        for param in self.params() {
            let resolved = self.schemas.resolve(&param.schema);
            for value in past_int32(resolved) {
                cases.push(with_param(
                    base,
                    param,
                    value,
                    Kind::Edge(format!(
                        "{} parameter `{}` past int32",
                        param.location.name(),
                        param.name
                    )),
                ));
            }
            if schema_type(resolved) == "integer" && unbounded_integer(resolved) {
                cases.push(with_param(
                    base,
                    param,
                    Value::String(BEYOND_64_BITS.to_owned()),
                    Kind::Edge(format!(
                        "{} parameter `{}` past 64 bits",
                        param.location.name(),
                        param.name
                    )),
                ));
            }
        }
        let (Some(body), Payload::Json(base_body)) = (&self.operation.body, &base.body) else {
            return cases;
        };
        if body.encoding != Encoding::Json {
            return cases;
        }
        for (pointer, schema, _) in self.body_fields(&body.schema) {
            let mut nulled = base_body.clone();
            if set_pointer(&mut nulled, &pointer, Value::Null) && self.body_is_valid(body, &nulled)
            {
                cases.push(Case {
                    body: Payload::Json(nulled),
                    ..base.clone()
                });
            }
            let resolved = self.schemas.resolve(&schema);
            for value in past_int32(resolved) {
                let mut past = base_body.clone();
                if set_pointer(&mut past, &pointer, value) {
                    cases.push(Case {
                        kind: Kind::Edge(format!("body{pointer} past int32")),
                        body: Payload::Json(past),
                        ..base.clone()
                    });
                }
            }
            if schema_type(resolved) == "integer" && unbounded_integer(resolved) {
                let mut big = base_body.clone();
                if set_pointer(&mut big, &pointer, Value::String(BIG_MARK.to_owned())) {
                    let text = serde_json::to_string(&big)
                        .unwrap_or_default()
                        .replace(&format!("\"{BIG_MARK}\""), BEYOND_64_BITS);
                    cases.push(Case {
                        kind: Kind::Edge(format!("body{pointer} past 64 bits")),
                        body: Payload::Raw {
                            content_type: Some(body.media_type.clone()),
                            bytes: text.into_bytes(),
                        },
                        ..base.clone()
                    });
                }
            }
        }
        // readOnly properties of the top level, sent with their simplest value and with one
        // of the wrong kind (a server that parses what it should ignore fails on `""` for a
        // date-time).
        let resolved = self.schemas.resolve(&body.schema);
        for (name, property) in resolved
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if self.schemas.has_flag(property, "readOnly") && base_body.is_object() {
                let plain_string = {
                    let resolved = self.schemas.resolve(property);
                    schema_type(resolved) == "string" && !constrains_format(resolved)
                };
                let wrong = match plain_string {
                    true => json!(0),
                    false => json!(""),
                };
                for (value, what) in [
                    (canonical(self.schemas, property, false), "is readOnly"),
                    (wrong, "is readOnly, sent as a value of the wrong kind"),
                ] {
                    let mut sent = base_body.clone();
                    sent[name] = value;
                    cases.push(Case {
                        kind: Kind::Edge(format!("body/{name} {what}")),
                        body: Payload::Json(sent),
                        ..base.clone()
                    });
                }
            }
        }
        cases
    }

    /// Valid values at each bound of a schema and invalid ones just past it.
    fn boundaries(&self, schema: &Value, ascii: bool) -> Vec<(Value, bool)> {
        let resolved = self.schemas.resolve(schema);
        let mut values = Vec::new();
        match schema_type(resolved) {
            "integer" => {
                // Only the schema's own bounds: past an `int32` bound the validator still
                // says valid, and the server may take it or not (an edge, see `edges`).
                let (low, high) = integer_bounds(&without_format(resolved));
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
                // An exclusive bound is itself the first invalid value.
                for (key, step) in [("exclusiveMinimum", 1.0), ("exclusiveMaximum", -1.0)] {
                    if let Some(bound) = resolved.get(key).and_then(Value::as_f64) {
                        values.push((json!(bound), false));
                        values.push((json!(bound + step), true));
                    }
                }
            }
            "string" if !constrains_format(resolved) && resolved.get("pattern").is_none() => {
                let fill = |n: usize| Value::String(if ascii { "a" } else { "é" }.repeat(n));
                // Bounds past what is ever sent are left to the schema (no huge allocations).
                if let Some(min) = usize_of(resolved, "minLength").filter(|m| *m <= MAX_LENGTH) {
                    values.push((fill(min), true));
                    if min > 0 {
                        values.push((fill(min - 1), false));
                    }
                }
                if let Some(max) = usize_of(resolved, "maxLength").filter(|m| *m < MAX_LENGTH) {
                    values.extend([(fill(max), true), (fill(max + 1), false)]);
                }
            }
            "string" => {
                // Formatted strings: too long is invalid whatever the format.
                if let Some(max) = usize_of(resolved, "maxLength").filter(|m| *m < MAX_LENGTH) {
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
        let judge = self.judge(param)?;
        if !judge.sendable(value) {
            return None;
        }
        // What the server sees is text: judge the value as it will be parsed.
        let valid = valid && judge.accepts(value);
        Some(match valid {
            true => Kind::Positive,
            false => Kind::Negative(format!(
                "{} parameter `{}` {what}",
                param.location.name(),
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
                        location.name(),
                        param.name
                    )),
                };
                cases.push(Case { kind, ..case });
            }
            for (value, what) in self.mutations(&param.schema) {
                // A parameter carries text: null goes out as an empty value, and is named so.
                let what = match value.is_null() {
                    true => "empty".to_owned(),
                    false => what,
                };
                if let Some(kind @ Kind::Negative(_)) = self.param_kind(param, &value, true, &what)
                {
                    cases.push(with_param(base, param, value, kind));
                }
            }
        }
        let (Some(body), Payload::Json(base_body)) = (&self.operation.body, &base.body) else {
            return cases;
        };
        // A body the validator refuses, with what makes it so.
        let mut refused = |value: Value, kind: Kind| {
            if !self.body_is_valid(body, &value) {
                cases.push(Case {
                    kind,
                    body: Payload::Json(value),
                    ..base.clone()
                });
            }
        };
        for (value, what) in self.mutations(&body.schema) {
            refused(value, Kind::Negative(format!("body {what}")));
        }
        for (pointer, schema, lifted) in self.body_fields(&body.schema) {
            let mut without = base_body.clone();
            if remove_pointer(&mut without, &pointer) {
                let kind = match lifted {
                    // Required only by a repair of the document (`required: true` on the
                    // property): a server may read the document either way.
                    true => Kind::Edge(format!(
                        "body{pointer} missing (its `required: true` was repaired)"
                    )),
                    false => Kind::Negative(format!("body{pointer} missing")),
                };
                refused(without, kind);
            }
            for (value, what) in self.mutations(&schema) {
                let mut changed = base_body.clone();
                if set_pointer(&mut changed, &pointer, value) {
                    refused(changed, Kind::Negative(format!("body{pointer} {what}")));
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
            refused(
                extra,
                Kind::Negative("body has a property the schema forbids".to_owned()),
            );
        }
        let raw = |content_type: Option<&str>, bytes: &[u8], what: &str| Case {
            kind: Kind::Negative(what.to_owned()),
            body: Payload::Raw {
                content_type: content_type.map(str::to_owned),
                bytes: bytes.to_vec(),
            },
            ..base.clone()
        };
        if body.encoding == Encoding::Json {
            cases.push(raw(
                Some(&body.media_type),
                b"{\"unterminated",
                "malformed JSON body",
            ));
        }
        let accepted = |kind: &str| {
            body.accepts
                .iter()
                .any(|m| m.starts_with(kind) || m.starts_with("*/"))
        };
        // Bodies a framework cannot parse as what their content type says (FastAPI answers
        // some of them with an undocumented 400).
        if body.encoding == Encoding::Json {
            let json = serde_json::to_vec(base_body).unwrap_or_default();
            // Half an object or array is never JSON; half a number may be.
            if base_body.is_object() || base_body.is_array() {
                cases.push(raw(
                    Some(&body.media_type),
                    &json[..json.len() / 2],
                    "truncated JSON body",
                ));
            }
            cases.push(raw(
                Some(&body.media_type),
                b"{\"\xff\xfe\": \"\xc3\x28\"}",
                "JSON body that is not UTF-8",
            ));
            if !accepted("application/x-www-form-urlencoded") {
                cases.push(raw(
                    Some("application/x-www-form-urlencoded"),
                    &json,
                    "JSON body sent as a form",
                ));
            }
        }
        if body.encoding == Encoding::Form && !accepted("application/json") {
            let (_, form) = crate::generate::wire::encode_body(body, base_body);
            cases.push(raw(
                Some("application/json"),
                &form,
                "form body sent as JSON",
            ));
        }
        if !accepted("text/") {
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
        // `Optional[int]` as FastAPI writes it (`anyOf: [{type: integer}, {type: null}]`)
        // is typed as its one branch that is not null.
        let kind = match schema_type(resolved) {
            "any" => nullable_branch(self.schemas, resolved).map_or("any", schema_type),
            kind => kind,
        };
        // Each other JSON type in turn, and text holding a value of the right one: lax
        // validators take some of them (pydantic a boolean for an integer, DRF a number for
        // a string), each is a defect of its own.
        let wrong_types: &[(Value, &str)] = match kind {
            "string" => &[
                (json!(12345), "a number"),
                (json!(true), "a boolean"),
                (json!(["a"]), "an array"),
                (json!({"a": "b"}), "an object"),
            ],
            "integer" => &[
                (json!("not-a-number"), "a string"),
                (json!("12"), "a string holding a number"),
                (json!(false), "a boolean"),
                (json!([1]), "an array"),
            ],
            "number" => &[
                (json!("not-a-number"), "a string"),
                (json!("1.5"), "a string holding a number"),
                (json!(true), "a boolean"),
            ],
            "boolean" => &[
                (json!("not-a-boolean"), "a string"),
                (json!("true"), "a string holding a boolean"),
                (json!(1), "a number"),
            ],
            "array" => &[
                (json!({"not": "an array"}), "an object"),
                (json!("a"), "a string"),
            ],
            "object" => &[
                (json!(["not", "an", "object"]), "an array"),
                (json!("a"), "a string"),
            ],
            _ => &[],
        };
        for (value, what) in wrong_types {
            out.push((value.clone(), format!("not of type {kind} ({what})")));
        }
        if kind == "integer" {
            out.push((json!(1.5), "not an integer".to_owned()));
        }
        if !allows_null(resolved) && kind != "any" {
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
            if let Some(min) =
                usize_of(resolved, "minItems").filter(|m| (1..=MAX_LENGTH).contains(m))
            {
                out.push((
                    Value::Array(vec![item.clone(); min - 1]),
                    "with too few items".to_owned(),
                ));
            }
            if let Some(max) = usize_of(resolved, "maxItems").filter(|m| *m < MAX_LENGTH) {
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
    /// and one more inside nested objects), and whether the loader lifted their
    /// `required: true` into their parent.
    fn body_fields(&self, schema: &Value) -> Vec<(String, Value, bool)> {
        let mut fields = Vec::new();
        collect_fields(self.schemas, schema, "", 0, &mut fields);
        fields
    }
}

/// The one branch of an `anyOf`/`oneOf` of two whose other branch is `null`.
fn nullable_branch<'s>(schemas: &'s Schemas, schema: &'s Value) -> Option<&'s Value> {
    let branches = schema
        .get("anyOf")
        .or_else(|| schema.get("oneOf"))?
        .as_array()?;
    let [first, second] = branches.as_slice() else {
        return None;
    };
    let is_null = |branch: &Value| types(schemas.resolve(branch)) == ["null"];
    match (is_null(first), is_null(second)) {
        (true, false) => Some(schemas.resolve(second)),
        (false, true) => Some(schemas.resolve(first)),
        _ => None,
    }
}

/// 2^65: past every 64-bit integer, signed or not.
const BEYOND_64_BITS: &str = "36893488147419103232";
/// Stands for [`BEYOND_64_BITS`] in a body until it is written out.
const BIG_MARK: &str = "beyond-64-bits-7c1e0f9a";

/// The schema without its `format`: its own bounds only.
fn without_format(schema: &Value) -> Value {
    let mut schema = schema.clone();
    if let Some(map) = schema.as_object_mut() {
        map.remove("format");
    }
    schema
}

/// Integers just past `int32` on each side no bound of the schema's own closes.
fn past_int32(schema: &Value) -> Vec<Value> {
    if schema_type(schema) != "integer"
        || schema.get("format").and_then(Value::as_str) != Some("int32")
    {
        return Vec::new();
    }
    let (low, high) = integer_bounds(&without_format(schema));
    let (below, above) = (i64::from(i32::MIN) - 1, i64::from(i32::MAX) + 1);
    [
        (low <= below).then_some(below),
        (high >= above).then_some(above),
    ]
    .into_iter()
    .flatten()
    .map(|n| json!(n))
    .collect()
}

/// An integer schema with no bound and no format that bounds it (`int32`, `int64`).
fn unbounded_integer(schema: &Value) -> bool {
    [
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "format",
        "enum",
        "const",
    ]
    .iter()
    .all(|key| schema.get(key).is_none())
}

fn collect_fields(
    schemas: &Schemas,
    schema: &Value,
    prefix: &str,
    depth: usize,
    out: &mut Vec<(String, Value, bool)>,
) {
    let resolved = schemas.resolve(schema);
    let lifted = resolved
        .get(crate::schema::repair::LIFTED_REQUIRED)
        .and_then(Value::as_array);
    for (name, property) in resolved
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if schemas.has_flag(property, "readOnly") {
            continue;
        }
        let pointer = format!("{prefix}/{}", name.replace('~', "~0").replace('/', "~1"));
        let repaired = lifted.is_some_and(|names| names.iter().any(|n| n == name));
        out.push((pointer.clone(), property.clone(), repaired));
        if depth < 1 && schema_type(schemas.resolve(property)) == "object" {
            collect_fields(schemas, property, &pointer, depth + 1, out);
        }
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
