//! Values of one schema: proptest strategies for valid data (which also shrink), the simplest
//! valid value, boundary values, and values that break one constraint. Schemas are the
//! arena's 2020-12 slots; every bound is clamped, and recursion is cut by depth and by a
//! budget of strategy nodes, so no schema costs more than a few MB to generate from.
//! A value is only ever called valid or invalid by the validator, never by these strategies.

use std::cell::Cell;

use proptest::prelude::*;
use proptest::strategy::{BoxedStrategy, Strategy, Union, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Map, Number, Value, json};

use crate::schema::ANNOTATIONS;
use crate::schema::query::{merge_all_of, required_names, schema_type, types};
use crate::schema::{Direction, Schemas};

/// Beyond this nesting, objects get only their required properties and arrays their minimum.
const SOFT_DEPTH: usize = 4;
/// Beyond this nesting, nothing more is generated (a value no schema accepts stands in).
const HARD_DEPTH: usize = 12;
/// The most strategy nodes one value's strategy may have.
const NODE_BUDGET: u32 = 4_000;
/// Unbounded strings and arrays stay short, so cases stay fast to send and read.
const LONG: usize = 24;
/// The longest string or array generated: a schema that needs more is treated as one no
/// value satisfies rather than allocated.
pub const MAX_LENGTH: usize = 4_096;

/// How values are generated for one place.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub schemas: &'a Schemas,
    /// Header values: visible ASCII and tabs.
    pub ascii: bool,
    depth: usize,
    budget: &'a Cell<u32>,
}

impl<'a> Ctx<'a> {
    fn deeper(self) -> Ctx<'a> {
        Ctx {
            depth: self.depth + 1,
            ..self
        }
    }

    /// Takes one node from the budget; false when it is spent or the depth is too great.
    fn spend(self) -> bool {
        let left = self.budget.get();
        if left == 0 || self.depth > HARD_DEPTH {
            return false;
        }
        self.budget.set(left - 1);
        true
    }
}

/// A stand-in where no value can be made: the validator rejects it wherever it matters.
fn nothing() -> BoxedStrategy<Value> {
    Just(Value::Null).boxed()
}

/// Random values of a schema, meant valid (the caller confirms them with the validator).
pub fn strategy(schemas: &Schemas, schema: &Value, ascii: bool) -> BoxedStrategy<Value> {
    let budget = Cell::new(NODE_BUDGET);
    let ctx = Ctx {
        schemas,
        ascii,
        depth: 0,
        budget: &budget,
    };
    valid(ctx, schema)
}

fn valid(ctx: Ctx<'_>, schema: &Value) -> BoxedStrategy<Value> {
    if !ctx.spend() {
        return nothing();
    }
    let schema = ctx.schemas.resolve(schema);
    let Value::Object(_) = schema else {
        // `true` (anything) or `false` (nothing).
        return Just(json!("value")).boxed();
    };
    if let Some(value) = schema.get("const") {
        return Just(value.clone()).boxed();
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.is_empty()
    {
        return proptest::sample::select(values.clone()).boxed();
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        return valid(ctx.deeper(), &merge_all_of(ctx.schemas, schema, parts, 0));
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(parts) = schema
            .get(key)
            .and_then(Value::as_array)
            .filter(|p| !p.is_empty())
        {
            // `null` beside real choices is one choice in ten.
            let options: Vec<(u32, BoxedStrategy<Value>)> = parts
                .iter()
                .map(|p| {
                    let weight = if is_null_type(ctx.schemas.resolve(p)) {
                        1
                    } else {
                        9
                    };
                    (weight, valid(ctx.deeper(), &merged_with(schema, key, p)))
                })
                .collect();
            return Union::new_weighted(options).boxed();
        }
    }
    let types = types(schema);
    let options: Vec<(u32, BoxedStrategy<Value>)> = types
        .iter()
        .map(|name| {
            let weight = if *name == "null" { 1 } else { 9 };
            (weight, of_type(ctx, schema, name))
        })
        .collect();
    match options.len() {
        0 => nothing(),
        1 => options
            .into_iter()
            .next()
            .map(|(_, s)| s)
            .unwrap_or_else(nothing),
        _ => Union::new_weighted(options).boxed(),
    }
}

/// A `oneOf`/`anyOf` choice with the keywords of the schema around it.
fn merged_with(schema: &Value, key: &str, part: &Value) -> Value {
    let mut own = schema.as_object().cloned().unwrap_or_default();
    own.remove(key);
    if own.keys().all(|k| ANNOTATIONS.contains(&k.as_str())) {
        return part.clone();
    }
    json!({"allOf": [Value::Object(own), part]})
}

fn is_null_type(schema: &Value) -> bool {
    schema.get("type") == Some(&json!("null"))
}

fn of_type(ctx: Ctx<'_>, schema: &Value, name: &str) -> BoxedStrategy<Value> {
    match name {
        "string" => string(ctx, schema),
        "integer" => integer(schema),
        "number" => number(schema),
        "boolean" => any::<bool>().prop_map(Value::Bool).boxed(),
        "array" => array(ctx, schema),
        "object" => object(ctx, schema),
        "null" => Just(Value::Null).boxed(),
        _ => prop_oneof![
            Just(json!("value")),
            any::<i32>().prop_map(|n| json!(n)),
            any::<bool>().prop_map(Value::Bool),
        ]
        .boxed(),
    }
}

pub fn usize_of(schema: &Value, key: &str) -> Option<usize> {
    schema
        .get(key)
        .and_then(Value::as_u64)
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// Whether a pattern can be generated from: it parses and matches at least one string.
fn generable_pattern(body: &str) -> bool {
    regex_syntax::Parser::new()
        .parse(body)
        .is_ok_and(|hir| hir.properties().minimum_len().is_some())
}

/// How many repeats past its minimum a generated string takes of a pattern's repetition.
const EXTRA_REPEATS: u32 = 8;

/// A pattern with each repetition held to a few repeats past its minimum: every string it
/// matches still matches the pattern, and `(...){0,256}` no longer makes strings of
/// thousands of characters that are slow to make and to check.
fn few_repeats(hir: &regex_syntax::hir::Hir) -> regex_syntax::hir::Hir {
    use regex_syntax::hir::{Capture, Hir, HirKind, Repetition};
    match hir.kind() {
        HirKind::Repetition(rep) => {
            let cap = rep.min.saturating_add(EXTRA_REPEATS);
            Hir::repetition(Repetition {
                min: rep.min,
                max: Some(rep.max.map_or(cap, |max| max.min(cap))),
                greedy: rep.greedy,
                sub: Box::new(few_repeats(&rep.sub)),
            })
        }
        HirKind::Capture(capture) => Hir::capture(Capture {
            index: capture.index,
            name: capture.name.clone(),
            sub: Box::new(few_repeats(&capture.sub)),
        }),
        HirKind::Concat(parts) => Hir::concat(parts.iter().map(few_repeats).collect()),
        HirKind::Alternation(parts) => Hir::alternation(parts.iter().map(few_repeats).collect()),
        _ => hir.clone(),
    }
}

/// A pattern's Unicode classes held to their ASCII part where they have one (`\pL` to
/// `[A-Za-z]`): every string it matches still matches the pattern, and reads the same to
/// every engine (Schemathesis reads `\pL` as Latin letters only).
fn ascii_classes(hir: &regex_syntax::hir::Hir) -> regex_syntax::hir::Hir {
    use regex_syntax::hir::Repetition;
    use regex_syntax::hir::{Capture, Class, ClassUnicode, ClassUnicodeRange, Hir, HirKind};
    match hir.kind() {
        HirKind::Class(Class::Unicode(class)) => {
            let mut ascii = ClassUnicode::new([ClassUnicodeRange::new('\0', '\x7f')]);
            ascii.intersect(class);
            match ascii.ranges().is_empty() {
                true => hir.clone(),
                false => Hir::class(Class::Unicode(ascii)),
            }
        }
        HirKind::Repetition(rep) => Hir::repetition(Repetition {
            sub: Box::new(ascii_classes(&rep.sub)),
            ..rep.clone()
        }),
        HirKind::Capture(capture) => Hir::capture(Capture {
            index: capture.index,
            name: capture.name.clone(),
            sub: Box::new(ascii_classes(&capture.sub)),
        }),
        HirKind::Concat(parts) => Hir::concat(parts.iter().map(ascii_classes).collect()),
        HirKind::Alternation(parts) => Hir::alternation(parts.iter().map(ascii_classes).collect()),
        _ => hir.clone(),
    }
}

fn string(ctx: Ctx<'_>, schema: &Value) -> BoxedStrategy<Value> {
    let min = usize_of(schema, "minLength").unwrap_or(0);
    if min > MAX_LENGTH {
        return nothing();
    }
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
        if !generable_pattern(body) {
            return nothing();
        }
        // `\d`, `\w` and `\s` as ECMA-262 reads them (ASCII), which every engine accepts;
        // Unicode classes only where the pattern needs them to parse.
        let parsed = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .build()
            .parse(body)
            .ok()
            .or_else(|| {
                let hir = regex_syntax::Parser::new().parse(body).ok()?;
                Some(match ctx.ascii {
                    true => ascii_classes(&hir),
                    false => hir,
                })
            })
            .map(|hir| few_repeats(&hir));
        if let Some(strategy) =
            parsed.and_then(|hir| proptest::string::string_regex_parsed(&hir).ok())
        {
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
        // A header carries a tab inside its value (not at its ends, which HTTP trims).
        prop_oneof![30 => proptest::char::range(' ', '~'), 1 => Just('\t')].boxed()
    } else {
        // Text servers choke on, a fair share: control characters (reflected into a header
        // they are a 500 on many frameworks) and characters outside the BMP (UTF-16 pairs).
        prop_oneof![
            16 => proptest::char::range(' ', '~'),
            2 => any::<char>(),
            1 => prop_oneof![proptest::char::range('\0', '\x1f'), Just('\x7f')],
            1 => proptest::char::range('\u{10000}', '\u{10ffff}'),
        ]
        .boxed()
    };
    lengths
        .prop_flat_map(move |n| proptest::collection::vec(chars.clone(), n))
        .prop_map(|chars| Value::String(chars.into_iter().collect()))
        .boxed()
}

/// Strings of a `format`, for the formats servers and validators commonly check.
fn format_strategy(format: &str) -> Option<BoxedStrategy<String>> {
    let regex = |pattern: &str| {
        proptest::string::string_regex(pattern)
            .ok()
            .map(|s| s.boxed())
    };
    let two = |range: std::ops::Range<u32>| range.prop_map(|n| format!("{n:02}"));
    match format {
        "email" | "idn-email" => {
            regex("[a-z][a-z0-9]{0,11}(\\.[a-z0-9]{1,6})?@[a-z]{2,10}\\.(com|org|net|io)")
        }
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
                two(0..24),
                two(0..60),
                two(0..60),
            )
                .prop_map(|(y, mo, d, h, mi, s)| format!("{y:04}-{mo:02}-{d:02}T{h}:{mi}:{s}Z"))
                .boxed(),
        ),
        "date" => Some(
            (1970u32..2100, 1u32..=12, 1u32..=28)
                .prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"))
                .boxed(),
        ),
        "time" => Some(
            (two(0..24), two(0..60), two(0..60))
                .prop_map(|(h, m, s)| format!("{h}:{m}:{s}Z"))
                .boxed(),
        ),
        "duration" => Some(
            (0u32..400, 0u32..24, 0u32..60)
                .prop_map(|(d, h, m)| format!("P{d}DT{h}H{m}M"))
                .boxed(),
        ),
        "uri" | "url" | "iri" => regex("https://[a-z]{3,10}\\.(com|org)/[a-z0-9]{0,10}"),
        "uri-reference" | "iri-reference" => regex("/[a-z0-9]{0,10}"),
        "hostname" | "idn-hostname" => regex("[a-z]{1,10}(\\.[a-z]{1,10}){0,2}"),
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
        "json-pointer" => regex("(/[a-z0-9]{1,6}){0,3}"),
        _ => None,
    }
}

/// Whether the schema's `format` limits its strings (`password`, say, does not).
pub fn constrains_format(schema: &Value) -> bool {
    schema
        .get("format")
        .and_then(Value::as_str)
        .and_then(format_strategy)
        .is_some()
}

/// Integer bounds: 2020-12's numeric exclusive bounds, and the range of `int32`/`int64`.
pub fn integer_bounds(schema: &Value) -> (i64, i64) {
    let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
    let (mut low, mut high) = match schema.get("format").and_then(Value::as_str) {
        Some("int32") => (i64::from(i32::MIN), i64::from(i32::MAX)),
        _ => (i64::MIN, i64::MAX),
    };
    // `as` saturates at the ends of i64, which is what a bound beyond them means.
    if let Some(m) = bound("minimum") {
        low = low.max(m.ceil() as i64);
    }
    if let Some(m) = bound("maximum") {
        high = high.min(m.floor() as i64);
    }
    if let Some(m) = bound("exclusiveMinimum") {
        low = low.max((m.floor() as i64).saturating_add(1));
    }
    if let Some(m) = bound("exclusiveMaximum") {
        high = high.min((m.ceil() as i64).saturating_sub(1));
    }
    (low, high)
}

fn integer(schema: &Value) -> BoxedStrategy<Value> {
    let (low, high) = integer_bounds(schema);
    if low > high {
        return nothing();
    }
    let step = schema
        .get("multipleOf")
        .and_then(Value::as_i64)
        .filter(|m| *m > 0);
    if let Some(step) = step {
        let first = low.div_euclid(step) + i64::from(low.rem_euclid(step) != 0);
        let last = high.div_euclid(step);
        if first > last {
            return nothing();
        }
        return (first..=last)
            .prop_filter_map("a multiple within i64", move |k| {
                k.checked_mul(step).map(|n| json!(n))
            })
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
    let bound = |key: &str| {
        schema
            .get(key)
            .and_then(Value::as_f64)
            .filter(|x| x.is_finite())
    };
    let low = bound("minimum")
        .or(bound("exclusiveMinimum"))
        .unwrap_or(-1e6);
    let high = bound("maximum")
        .or(bound("exclusiveMaximum"))
        .unwrap_or(1e6);
    // A `float` holds what an `f32` can.
    let (low, high) = match schema.get("format").and_then(Value::as_str) {
        Some("float") => (low.max(-f64::from(f32::MAX)), high.min(f64::from(f32::MAX))),
        _ => (low, high),
    };
    if low > high {
        return nothing();
    }
    let (ex_low, ex_high) = (bound("exclusiveMinimum"), bound("exclusiveMaximum"));
    let inside = move |x: &f64| ex_low.is_none_or(|b| *x > b) && ex_high.is_none_or(|b| *x < b);
    let to_value = |x: f64| Number::from_f64(x).map_or(Value::Null, Value::Number);
    if let Some(step) = bound("multipleOf").filter(|m| *m > 0.0) {
        let (first, last) = ((low / step).ceil(), (high / step).floor());
        if !(first <= last && first.abs() < 9e15 && last.abs() < 9e15) {
            return nothing();
        }
        let (first, last) = (first as i64, last as i64);
        return (first..=last)
            .prop_map(move |k| k as f64 * step)
            .prop_filter("exclusive bounds", inside)
            .prop_map(to_value)
            .boxed();
    }
    (low..=high)
        .prop_filter("exclusive bounds", inside)
        .prop_map(to_value)
        .boxed()
}

fn array(ctx: Ctx<'_>, schema: &Value) -> BoxedStrategy<Value> {
    let min = usize_of(schema, "minItems").unwrap_or(0);
    if min > MAX_LENGTH {
        return nothing();
    }
    let max = usize_of(schema, "maxItems").unwrap_or(usize::MAX).max(min);
    // Items that are objects or arrays themselves multiply a value's size: below the top,
    // few of them.
    let nested = schema.get("items").is_some_and(|items| {
        let names = types(ctx.schemas.resolve(items));
        names.contains(&"object") || names.contains(&"array")
    });
    let max = if ctx.depth >= SOFT_DEPTH {
        min
    } else if nested && ctx.depth >= 1 {
        max.min(min + 2)
    } else {
        max.min(min + 5)
    };
    let prefix: Vec<BoxedStrategy<Value>> = schema
        .get("prefixItems")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|item| valid(ctx.deeper(), item))
        .collect();
    let items = match schema.get("items") {
        Some(Value::Bool(false)) => None,
        Some(items) => Some(valid(ctx.deeper(), items)),
        None => Some(valid(ctx.deeper(), &json!({}))),
    };
    let rest_min = min.saturating_sub(prefix.len());
    let rest_max = match items {
        Some(_) => max.saturating_sub(prefix.len()).max(rest_min),
        None => 0,
    };
    let rest = proptest::collection::vec(items.unwrap_or_else(nothing), rest_min..=rest_max);
    let unique = schema.get("uniqueItems") == Some(&Value::Bool(true));
    (prefix, rest)
        .prop_map(move |(mut values, rest)| {
            values.extend(rest);
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

/// About how many optional properties one generated object carries: a schema with hundreds
/// of them (DocuSign's envelope) still gives values of a size a server reads in a moment,
/// and each property still comes up across cases.
const OPTIONAL_PER_OBJECT: f64 = 6.0;

fn object(ctx: Ctx<'_>, schema: &Value) -> BoxedStrategy<Value> {
    let required = required_names(schema);
    let mut fields: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
    let properties = schema.get("properties").and_then(Value::as_object);
    let optional = properties
        .into_iter()
        .flatten()
        .filter(|(name, _)| !required.contains(&name.as_str()))
        .count()
        .max(1);
    let share = (OPTIONAL_PER_OBJECT / optional as f64).clamp(0.02, 0.5);
    for (name, property) in properties.into_iter().flatten() {
        // Requests never carry read-only properties.
        if ctx.schemas.has_flag(property, "readOnly") {
            continue;
        }
        let name = name.clone();
        let is_required = required.contains(&name.as_str());
        if !is_required && ctx.depth >= SOFT_DEPTH {
            continue;
        }
        let value = valid(ctx.deeper(), property);
        let field = value.prop_map(move |v| (name.clone(), v));
        fields.push(match is_required {
            true => field.prop_map(Some).boxed(),
            false => proptest::option::weighted(share, field).boxed(),
        });
    }
    // Required names with no property schema still need a value.
    for name in required {
        if properties.is_none_or(|p| !p.contains_key(name)) {
            let name = name.to_owned();
            fields.push(Just(Some((name, json!("value")))).boxed());
        }
    }
    fields
        .prop_map(|fields| Value::Object(fields.into_iter().flatten().collect()))
        .boxed()
}

/// The simplest valid value: the schema's example, default or first enum value, else the
/// fully shrunk value of its strategy. It may still be invalid (the caller checks).
pub fn canonical(schemas: &Schemas, schema: &Value, ascii: bool) -> Value {
    let what = if ascii {
        "canonical ascii"
    } else {
        "canonical"
    };
    schemas.memo(schema, (what, Direction::Request), || {
        canonical_at(schemas, schema, ascii, 0)
    })
}

fn canonical_at(schemas: &Schemas, schema: &Value, ascii: bool, depth: usize) -> Value {
    let resolved = schemas.resolve(schema);
    let is_valid = |v: &Value| schemas.is_valid(schema, Direction::Request, v);
    let mut candidates = resolved
        .get("examples")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(resolved.get("default"))
        .chain(resolved.get("const"));
    if let Some(value) = candidates.find(|v| is_valid(v)) {
        return value.clone();
    }
    if depth < SOFT_DEPTH && schema_type(resolved) == "object" {
        // Build objects from canonical properties, so property-level examples are used.
        let required = required_names(resolved);
        let object: Map<String, Value> = resolved
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(name, _)| required.contains(&name.as_str()))
            .map(|(name, property)| {
                (
                    name.clone(),
                    canonical_at(schemas, property, ascii, depth + 1),
                )
            })
            .collect();
        let object = Value::Object(object);
        if is_valid(&object) {
            return object;
        }
    }
    let mut runner = TestRunner::new_with_rng(
        Config {
            max_local_rejects: 1_024,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let strategy = strategy(schemas, schema, ascii);
    // A few draws, the first valid one simplified as far as it stays valid.
    for _ in 0..16 {
        let Ok(mut tree) = strategy.new_tree(&mut runner) else {
            break;
        };
        if !is_valid(&tree.current()) {
            continue;
        }
        for _ in 0..1000 {
            if !tree.simplify() {
                break;
            }
            if !is_valid(&tree.current()) && !tree.complicate() {
                break;
            }
        }
        let value = tree.current();
        if is_valid(&value) {
            return value;
        }
    }
    Value::Null
}
