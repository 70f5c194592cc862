//! Bodies that conform: a full value of a response schema (every property the schema allows
//! a response to have, `writeOnly` ones never), and a stored item made to fit a schema by
//! keeping what was sent wherever it stays valid. Every value this returns was checked by
//! the validator in the response direction, or is the schema's simplest valid value.

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Map, Value};

use openapi::generate::canonical;
use openapi::schema::query::types;
use openapi::schema::{Direction, Schemas};

/// How deep [`full`] fills objects before it takes the simplest value.
const FULL_DEPTH: usize = 4;

/// Whether a value is valid as a response of the schema.
pub fn valid(schemas: &Schemas, schema: &Value, value: &Value) -> bool {
    schemas.is_valid(schema, Direction::Response, value)
}

/// Sets a field of an object that must stay valid by `schema`: kept if the whole still is,
/// else the object is left as it was. Whether it was kept.
pub fn set_if_valid(
    schemas: &Schemas,
    schema: &Value,
    object: &mut Map<String, Value>,
    name: &str,
    value: Value,
) -> bool {
    let before = object.insert(name.to_owned(), value);
    let kept = valid(schemas, schema, &Value::Object(object.clone()));
    if !kept {
        match before {
            Some(before) => object.insert(name.to_owned(), before),
            None => object.remove(name),
        };
    }
    kept
}

/// Removes the properties a response never carries, at any depth the schema describes:
/// `writeOnly` ones, ones the schema does not declare, and secrets it does not require.
pub fn strip_write_only(schemas: &Schemas, schema: &Value, value: &mut Value) {
    strip_at(schemas, schema, value, 0);
}

/// Whether a field's name says it holds a secret (as the checker reads names: lower-cased,
/// without `_` and `-`).
pub fn is_secret(name: &str) -> bool {
    let normalized: String = name
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    ["password", "passwd", "secret"]
        .iter()
        .any(|secret| normalized.contains(secret))
}

fn strip_at(schemas: &Schemas, schema: &Value, value: &mut Value, depth: usize) {
    if depth > 32 {
        return;
    }
    let resolved = schemas.resolve(schema);
    let mut branches = vec![resolved];
    let mut at = 0;
    // `allOf` branches (and theirs) describe the same object; `anyOf`/`oneOf` ones may.
    while at < branches.len() && branches.len() < 64 {
        for key in ["allOf", "anyOf", "oneOf"] {
            let more: Vec<&Value> = branches[at]
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|b| schemas.resolve(b))
                .collect();
            branches.extend(more);
        }
        at += 1;
    }
    match value {
        Value::Object(map) => {
            let mut declared: Vec<(&String, &Value)> = Vec::new();
            let mut required: Vec<&str> = Vec::new();
            let mut open = false;
            for branch in &branches {
                if let Some(properties) = branch.get("properties").and_then(Value::as_object) {
                    declared.extend(properties);
                }
                required.extend(
                    branch
                        .get("required")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str),
                );
                open |= matches!(
                    branch.get("additionalProperties"),
                    Some(Value::Object(_) | Value::Bool(true))
                ) || branch.get("patternProperties").is_some();
            }
            // A server answers its model's fields: what the schema does not declare is not
            // echoed (unless it says more are allowed), nor a secret it does not require.
            if !declared.is_empty() && !open {
                map.retain(|name, _| declared.iter().any(|(n, _)| *n == name));
            }
            map.retain(|name, _| !is_secret(name) || required.contains(&name.as_str()));
            for (name, property) in declared {
                if schemas.has_flag(property, "writeOnly") {
                    map.remove(name);
                } else if let Some(inner) = map.get_mut(name) {
                    strip_at(schemas, property, inner, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            for branch in branches {
                if let Some(item_schema) = branch.get("items") {
                    for item in items.iter_mut() {
                        strip_at(schemas, item_schema, item, depth + 1);
                    }
                }
            }
        }
        _ => {}
    }
}

/// The simplest valid response value of a schema, in ASCII where the schema allows it (a
/// client reads `"A"` more easily than the first letter of another script).
pub fn simplest(schemas: &Schemas, schema: &Value) -> Value {
    let mut value = canonical(schemas, schema, true);
    strip_write_only(schemas, schema, &mut value);
    value
}

/// A value of the schema with every property a response may carry filled (`readOnly` ones
/// too, `writeOnly` ones never; examples where the document gives them), through `allOf`,
/// `anyOf` and `oneOf`, checked in the response direction; else the simplest valid value.
pub fn full(schemas: &Schemas, schema: &Value) -> Value {
    schemas.memo(schema, ("mock full", Direction::Response), || {
        full_at(schemas, schema, 0)
    })
}

fn full_at(schemas: &Schemas, schema: &Value, depth: usize) -> Value {
    let is_valid = |value: &Value| valid(schemas, schema, value);
    let resolved = schemas.resolve(schema);
    let given = resolved
        .get("examples")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(resolved.get("example"))
        .chain(resolved.get("default"))
        .chain(resolved.get("const"));
    for candidate in given {
        let mut candidate = candidate.clone();
        strip_write_only(schemas, schema, &mut candidate);
        if is_valid(&candidate) {
            return candidate;
        }
    }
    if depth < FULL_DEPTH {
        // `Owner: allOf [OwnerFields, {id, pets: readOnly}]`: one object of all its parts.
        let view = openapi::schema::query::object_view(schemas, schema);
        if let Some(properties) = view.get("properties").and_then(Value::as_object) {
            let required = openapi::schema::query::required_names(&view);
            let mut object = Map::new();
            for (name, property) in properties {
                let needed = required.contains(&name.as_str());
                if schemas.has_flag(property, "writeOnly") || (is_secret(name) && !needed) {
                    continue;
                }
                object.insert(name.clone(), full_at(schemas, property, depth + 1));
            }
            let mut value = Value::Object(object);
            if is_valid(&value) {
                return value;
            }
            // Leave out the optional properties the whole does not take, one at a time.
            if let Value::Object(object) = &mut value {
                let optional: Vec<String> = object
                    .keys()
                    .filter(|name| !required.contains(&name.as_str()))
                    .cloned()
                    .collect();
                for name in optional {
                    let removed = object.remove(&name);
                    if let Some(removed) = removed
                        && !valid(schemas, schema, &Value::Object(object.clone()))
                    {
                        object.insert(name, removed);
                    }
                }
            }
            if is_valid(&value) {
                return value;
            }
        }
        // One branch of a choice, the first that makes the whole valid.
        for key in ["oneOf", "anyOf"] {
            for branch in resolved
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let value = full_at(schemas, branch, depth + 1);
                if is_valid(&value) {
                    return value;
                }
            }
        }
        if types(resolved) == ["array"]
            && let Some(items) = resolved.get("items")
        {
            let min = resolved
                .get("minItems")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let value = Value::Array(vec![
                full_at(schemas, items, depth + 1);
                min.min(8) as usize
            ]);
            if is_valid(&value) {
                return value;
            }
        }
        // A word where any string will do, as Prism answers: an empty name or username
        // reads as missing, and as a path segment it names nothing.
        let plain = types(resolved) == ["string"]
            && ["format", "pattern", "enum", "const"]
                .iter()
                .all(|k| resolved.get(*k).is_none());
        let word = Value::String("string".to_owned());
        if plain && is_valid(&word) {
            return word;
        }
    }
    simplest(schemas, schema)
}

/// `count` different valid values of a schema (for seed items), drawn from the schema's
/// strategy with a fixed seed; a draw that is not valid is replaced by the full value.
pub fn sample(schemas: &Schemas, schema: &Value, count: usize, seed: u64) -> Vec<Value> {
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let strategy = openapi::generate::values::strategy(schemas, schema, true);
    (0..count)
        .map(|_| {
            let drawn = (0..8).find_map(|_| {
                let mut value = strategy.new_tree(&mut runner).ok()?.current();
                strip_write_only(schemas, schema, &mut value);
                valid(schemas, schema, &value).then_some(value)
            });
            drawn.unwrap_or_else(|| full(schemas, schema))
        })
        .collect()
}

/// `sent` made to fit the schema: a full value of it with each of the sent fields laid over,
/// each kept only if the whole stays valid. A value already valid is kept as it is.
pub fn conform(schemas: &Schemas, schema: &Value, sent: &Value) -> Value {
    let mut sent = sent.clone();
    strip_write_only(schemas, schema, &mut sent);
    if valid(schemas, schema, &sent) {
        return sent;
    }
    let base = full(schemas, schema);
    let (Value::Object(fields), Value::Object(mut object)) = (sent, base.clone()) else {
        return base;
    };
    for (name, value) in fields {
        set_if_valid(schemas, schema, &mut object, &name, value);
    }
    Value::Object(object)
}

/// RFC 7386 JSON merge patch: `null` removes a field, objects merge, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(object) = target {
        for (name, value) in patch {
            match value {
                Value::Null => {
                    object.remove(name);
                }
                _ => merge_patch(object.entry(name.clone()).or_insert(Value::Null), value),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut target = json!({"a": 1, "b": {"c": 2, "d": 3}});
        merge_patch(&mut target, &json!({"a": null, "b": {"c": 4}, "e": [1]}));
        assert_eq!(target, json!({"b": {"c": 4, "d": 3}, "e": [1]}));
    }
}
