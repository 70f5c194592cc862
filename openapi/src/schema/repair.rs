//! Keywords as their authors meant them. Real documents carry mistakes their own tools let
//! pass (`required: true` on a property, `type: date-time`, a `pattern` no regex engine
//! compiles); each is read as meant where that is plain, else dropped, at the smallest scope
//! (one keyword), with one note naming its JSON pointer. The validator and the generator
//! read the same repaired schema, so no repair can make the checker blame a server.

use std::collections::HashMap;

use serde_json::{Map, Number, Value, json};

/// Where a schema that the document required of a property with `required: true` (not a list
/// in its parent) keeps the names so lifted: those are required when values are made and
/// checked, but a server that takes a value without one is not blamed for it.
pub const LIFTED_REQUIRED: &str = "x-lifted-required";

const TYPES: [&str; 7] = [
    "string", "number", "integer", "boolean", "object", "array", "null",
];

/// Keywords whose value is a non-negative integer.
const COUNTS: [&str; 8] = [
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "minContains",
    "maxContains",
];
/// Keywords whose value is a number.
const NUMBERS: [&str; 3] = ["minimum", "maximum", "multipleOf"];
/// Keywords whose value is a boolean.
const FLAGS: [&str; 4] = ["uniqueItems", "readOnly", "writeOnly", "deprecated"];

/// A note: the JSON pointer of what was repaired, and what was done.
pub type Note = (String, String);

/// Whether `pattern` compiles within [`PATTERN_SIZE_LIMIT`] by the validator's own engine,
/// remembered per pattern.
#[derive(Default)]
pub struct Patterns {
    seen: HashMap<String, Result<(), String>>,
}

impl Patterns {
    pub fn check(&mut self, pattern: &str) -> Result<(), String> {
        if let Some(known) = self.seen.get(pattern) {
            return known.clone();
        }
        let verdict = crate::schema::compile_options()
            .build(&json!({"pattern": pattern}))
            .map(drop)
            .map_err(|e| e.to_string());
        self.seen.insert(pattern.to_owned(), verdict.clone());
        verdict
    }
}

/// A value where a schema should be that is not one: a type's name read as that type
/// (`"string"`), anything else as a schema that accepts everything.
pub fn not_a_schema(value: &Value) -> (Value, String) {
    if let Some(name) = value.as_str()
        && let Some((kind, format)) = type_name(name)
    {
        let mut schema = Map::from_iter([("type".to_owned(), json!(kind))]);
        if let Some(format) = format {
            schema.insert("format".to_owned(), json!(format));
        }
        let schema = Value::Object(schema);
        return (
            schema.clone(),
            format!("a type's name where a schema should be: read as {schema}"),
        );
    }
    (
        Value::Bool(true),
        format!(
            "{} is not a schema: read as one that accepts any value",
            kind_of(value)
        ),
    )
}

/// The keywords of one schema object repaired, with a note for each repair (`key`, what was
/// done). `None` when nothing needed repair, which is the common case and costs no copy.
pub fn keywords(
    map: &Map<String, Value>,
    patterns: &mut Patterns,
    notes: &mut Vec<(String, String)>,
) -> Option<Map<String, Value>> {
    let mut out: Option<Map<String, Value>> = None;
    let set = |out: &mut Option<Map<String, Value>>, key: &str, value: Option<Value>| {
        let map = out.get_or_insert_with(|| map.clone());
        match value {
            Some(value) => map.insert(key.to_owned(), value),
            None => map.remove(key),
        };
    };
    for (key, value) in map {
        let key = key.as_str();
        match key {
            "type" => {
                if let Some((fixed, format, note)) = type_keyword(value) {
                    set(&mut out, "type", fixed);
                    if let Some(format) = format
                        && !map.contains_key("format")
                    {
                        set(&mut out, "format", Some(json!(format)));
                    }
                    notes.push((key.to_owned(), note));
                }
            }
            "required" => match value {
                Value::Array(names) => {
                    let mut kept: Vec<Value> = Vec::with_capacity(names.len());
                    for name in names {
                        if name.is_string() && !kept.contains(name) {
                            kept.push(name.clone());
                        }
                    }
                    if kept.len() != names.len() {
                        notes.push((
                            key.to_owned(),
                            "names that are not strings, or repeated, are left out".to_owned(),
                        ));
                        set(&mut out, key, Some(Value::Array(kept)));
                    }
                }
                Value::String(name) => {
                    notes.push((key.to_owned(), format!("one name: read as [{name:?}]")));
                    set(&mut out, key, Some(json!([name])));
                }
                // `required: true` on a property: the parent lifts it (see `lift_required`).
                other => {
                    if as_flag(other).is_none() {
                        notes.push((
                            key.to_owned(),
                            format!("{} is not a list of names: dropped", kind_of(other)),
                        ));
                    }
                    set(&mut out, key, None);
                }
            },
            "pattern" => match value.as_str().map(|p| patterns.check(p)) {
                Some(Ok(())) => {}
                Some(Err(why)) => {
                    notes.push((
                        key.to_owned(),
                        format!("the pattern does not compile, so it is not checked: {why}"),
                    ));
                    set(&mut out, key, None);
                }
                None => {
                    notes.push((key.to_owned(), "not a string: dropped".to_owned()));
                    set(&mut out, key, None);
                }
            },
            "patternProperties" if value.is_object() => {
                if let Value::Object(entries) = value {
                    let bad: Vec<&String> = entries
                        .keys()
                        .filter(|p| patterns.check(p).is_err())
                        .collect();
                    if !bad.is_empty() {
                        let mut kept = entries.clone();
                        for pattern in &bad {
                            kept.remove(pattern.as_str());
                            notes.push((
                                format!("{key}/{pattern}"),
                                "the pattern does not compile: this entry is dropped".to_owned(),
                            ));
                        }
                        set(&mut out, key, Some(Value::Object(kept)));
                    }
                }
            }
            "format" if !value.is_string() => {
                notes.push((key.to_owned(), "not a string: dropped".to_owned()));
                set(&mut out, key, None);
            }
            "enum" if !value.is_array() => {
                notes.push((
                    key.to_owned(),
                    format!("{} is not a list: read as [{value}]", kind_of(value)),
                ));
                set(&mut out, key, Some(json!([value])));
            }
            "allOf" | "anyOf" | "oneOf" => match value {
                Value::Array(items) if items.is_empty() => {
                    notes.push((key.to_owned(), "an empty list: dropped".to_owned()));
                    set(&mut out, key, None);
                }
                Value::Array(_) => {}
                Value::Object(_) => {
                    notes.push((
                        key.to_owned(),
                        "one schema: read as a list of it".to_owned(),
                    ));
                    set(&mut out, key, Some(json!([value])));
                }
                other => {
                    notes.push((key.to_owned(), format!("{}: dropped", kind_of(other))));
                    set(&mut out, key, None);
                }
            },
            "properties" | "patternProperties" | "dependentSchemas" | "$defs" | "definitions"
                if !value.is_object() =>
            {
                notes.push((key.to_owned(), format!("{}: dropped", kind_of(value))));
                set(&mut out, key, None);
            }
            "items"
            | "additionalProperties"
            | "not"
            | "contains"
            | "propertyNames"
            | "additionalItems"
            | "unevaluatedProperties"
            | "unevaluatedItems"
            | "if"
            | "then"
            | "else" => {
                let fits = match value {
                    Value::Object(_) | Value::Bool(_) => true,
                    Value::Array(_) => key == "items",
                    _ => false,
                };
                if !fits {
                    let flag = as_flag(value).filter(|_| key != "items" && key != "contains");
                    notes.push((
                        key.to_owned(),
                        match flag {
                            Some(flag) => format!("{value} read as {flag}"),
                            None => format!("{} is not a schema: dropped", kind_of(value)),
                        },
                    ));
                    set(&mut out, key, flag.map(Value::Bool));
                }
            }
            k if COUNTS.contains(&k) => {
                if let Some(fixed) = count(value) {
                    if fixed != *value {
                        notes.push((key.to_owned(), format!("{value} read as {fixed}")));
                        set(&mut out, key, Some(fixed));
                    }
                } else {
                    notes.push((key.to_owned(), format!("{value} is not a count: dropped")));
                    set(&mut out, key, None);
                }
            }
            k if NUMBERS.contains(&k) || (k.starts_with("exclusiveM") && !value.is_boolean()) => {
                // 3.0's exclusive bounds are flags, written as text sometimes.
                let flag = k
                    .starts_with("exclusiveM")
                    .then(|| as_flag(value))
                    .flatten();
                let fixed = match (number(value), flag) {
                    (Some(n), _) if key == "multipleOf" && n.as_f64().is_none_or(|f| f <= 0.0) => {
                        Err(format!("{value} is not positive: dropped"))
                    }
                    (Some(n), _) => Ok(Value::Number(n)),
                    (None, Some(flag)) => Ok(Value::Bool(flag)),
                    (None, None) => Err(format!("{value} is not a number: dropped")),
                };
                match fixed {
                    Ok(fixed) if fixed == *value => {}
                    Ok(fixed) => {
                        notes.push((key.to_owned(), format!("{value} read as {fixed}")));
                        set(&mut out, key, Some(fixed));
                    }
                    Err(why) => {
                        notes.push((key.to_owned(), why));
                        set(&mut out, key, None);
                    }
                }
            }
            k if FLAGS.contains(&k) && !value.is_boolean() => {
                let flag = as_flag(value);
                notes.push((
                    key.to_owned(),
                    match flag {
                        Some(flag) => format!("{value} read as {flag}"),
                        None => format!("{value} is not a boolean: dropped"),
                    },
                ));
                set(&mut out, key, flag.map(Value::Bool));
            }
            _ => {}
        }
    }
    lift_required(map, &mut out, notes);
    out
}

/// `required: true` written on properties: their names, lifted into the parent's
/// `required` and remembered under [`LIFTED_REQUIRED`].
fn lift_required(
    map: &Map<String, Value>,
    out: &mut Option<Map<String, Value>>,
    notes: &mut Vec<Note>,
) {
    let Some(properties) = map.get("properties").and_then(Value::as_object) else {
        return;
    };
    let lifted: Vec<&String> = properties
        .iter()
        .filter(|(_, p)| p.get("required").and_then(as_flag) == Some(true))
        .map(|(name, _)| name)
        .collect();
    if lifted.is_empty() {
        return;
    }
    let target = out.get_or_insert_with(|| map.clone());
    let mut required: Vec<Value> = match target.get("required") {
        Some(Value::Array(names)) => names.clone(),
        _ => Vec::new(),
    };
    for name in &lifted {
        let value = json!(name);
        if !required.contains(&value) {
            required.push(value);
        }
        notes.push((
            format!("properties/{}/required", crate::error::escape_token(name)),
            "`required: true` on a property: read as the property being required".to_owned(),
        ));
    }
    target.insert("required".to_owned(), Value::Array(required));
    target.insert(LIFTED_REQUIRED.to_owned(), json!(lifted));
}

/// A `type` keyword that needs repair: the type to keep (none: dropped), a format its name
/// implied, and the note.
fn type_keyword(value: &Value) -> Option<(Option<Value>, Option<&'static str>, String)> {
    match value {
        // `file` is Swagger 2.0's own, read by the normalizer without a note.
        Value::String(name) if TYPES.contains(&name.as_str()) || name == "file" => None,
        Value::String(name) => Some(match type_name(name) {
            Some((kind, format)) => (
                Some(json!(kind)),
                format,
                match format {
                    Some(format) => {
                        format!("type {name:?} read as type \"{kind}\", format \"{format}\"")
                    }
                    None => format!("type {name:?} read as \"{kind}\""),
                },
            ),
            None => (None, None, format!("type {name:?} is not a type: dropped")),
        }),
        Value::Array(names) => {
            let mut kept: Vec<Value> = Vec::new();
            for name in names {
                let kind = name
                    .as_str()
                    .and_then(type_name)
                    .map(|(kind, _)| json!(kind));
                if let Some(kind) = kind
                    && !kept.contains(&kind)
                {
                    kept.push(kind);
                }
            }
            if kept == *names {
                return None;
            }
            let note = format!("types {value} read as {}", Value::Array(kept.clone()));
            Some(match kept.is_empty() {
                true => (None, None, format!("types {value} name no type: dropped")),
                false => (Some(Value::Array(kept)), None, note),
            })
        }
        other => Some((
            None,
            None,
            format!("{} is not a type: dropped", kind_of(other)),
        )),
    }
}

/// What a type's name means, with the format it implies: the names of JSON Schema, their
/// common misspellings and the formats people write as types.
fn type_name(name: &str) -> Option<(&'static str, Option<&'static str>)> {
    let lower = name.trim().to_ascii_lowercase();
    Some(match lower.as_str() {
        "string" | "str" | "text" | "char" => ("string", None),
        "number" | "float" | "double" | "decimal" | "numeric" | "real" => ("number", None),
        "integer" | "int" | "long" | "short" | "bigint" => ("integer", None),
        "int32" => ("integer", Some("int32")),
        "int64" => ("integer", Some("int64")),
        "boolean" | "bool" => ("boolean", None),
        "object" | "dict" | "map" | "hash" => ("object", None),
        "array" | "list" => ("array", None),
        "null" => ("null", None),
        "date-time" | "datetime" | "timestamp" => ("string", Some("date-time")),
        "date" => ("string", Some("date")),
        "time" => ("string", Some("time")),
        "uuid" | "guid" => ("string", Some("uuid")),
        "email" => ("string", Some("email")),
        "uri" | "url" => ("string", Some("uri")),
        "byte" => ("string", Some("byte")),
        "binary" | "file" => ("string", Some("binary")),
        "password" => ("string", Some("password")),
        _ => return None,
    })
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn as_flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A number, or a string holding one.
fn number(value: &Value) -> Option<Number> {
    match value {
        Value::Number(n) => Some(n.clone()),
        Value::String(text) => {
            let text = text.trim();
            text.parse::<i64>()
                .map(Number::from)
                .ok()
                .or_else(|| Number::from_f64(text.parse().ok()?))
        }
        _ => None,
    }
}

/// A non-negative integer, or what reads as one (`"10"`, `10.0`).
fn count(value: &Value) -> Option<Value> {
    let n = number(value)?;
    if let Some(u) = n.as_u64() {
        return Some(json!(u));
    }
    let f = n.as_f64()?;
    (f >= 0.0 && f.fract() == 0.0 && f < 9.0e15).then(|| json!(f as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repaired(schema: Value) -> (Value, Vec<String>) {
        let mut notes = Vec::new();
        let map = schema.as_object().expect("an object").clone();
        let out =
            keywords(&map, &mut Patterns::default(), &mut notes).map_or(schema, Value::Object);
        (
            out,
            notes
                .into_iter()
                .map(|(k, n)| format!("{k}: {n}"))
                .collect(),
        )
    }

    #[test]
    fn formats_written_as_types_are_read_as_meant() {
        let (schema, notes) = repaired(json!({"type": "date-time"}));
        assert_eq!(schema, json!({"type": "string", "format": "date-time"}));
        assert_eq!(notes.len(), 1, "{notes:?}");
        let (schema, _) = repaired(json!({"type": "Integer", "format": "int64"}));
        assert_eq!(schema, json!({"type": "integer", "format": "int64"}));
        let (schema, notes) = repaired(json!({"type": "whatever"}));
        assert_eq!(schema, json!({}));
        assert!(notes[0].contains("dropped"), "{notes:?}");
    }

    #[test]
    fn required_true_on_a_property_is_lifted_into_its_parent() {
        let (schema, notes) = repaired(json!({
            "type": "object",
            "required": ["a"],
            "properties": {"a": {"type": "string"}, "b": {"type": "string", "required": true}}
        }));
        assert_eq!(schema["required"], json!(["a", "b"]));
        assert_eq!(schema[LIFTED_REQUIRED], json!(["b"]));
        assert!(notes[0].starts_with("properties/b/required"), "{notes:?}");
        // The property itself loses the flag, silently: its parent said it once.
        let (schema, notes) = repaired(json!({"type": "string", "required": true}));
        assert_eq!(schema, json!({"type": "string"}));
        assert!(notes.is_empty());
    }

    #[test]
    fn a_pattern_the_engine_cannot_compile_is_dropped() {
        let (schema, notes) = repaired(json!({"type": "string", "pattern": "^.{1,2097152}"}));
        assert_eq!(schema, json!({"type": "string"}));
        assert!(
            notes[0].starts_with("pattern: the pattern does not compile"),
            "{notes:?}"
        );
        let (schema, notes) = repaired(json!({"type": "string", "pattern": "^[a-z]+$"}));
        assert_eq!(schema, json!({"type": "string", "pattern": "^[a-z]+$"}));
        assert!(notes.is_empty());
    }

    #[test]
    fn bounds_written_as_text_are_read_as_numbers() {
        let (schema, notes) =
            repaired(json!({"maxLength": "10", "minimum": "1.5", "multipleOf": 0}));
        assert_eq!(schema, json!({"maxLength": 10, "minimum": 1.5}));
        assert_eq!(notes.len(), 3, "{notes:?}");
    }
}
