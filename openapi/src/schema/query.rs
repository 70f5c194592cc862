//! Questions about a schema every part of the kit asks (its types, its required names, the
//! one object an `allOf` makes): read-only views of a slot, whatever then generates from it,
//! validates against it or links through it.

use serde_json::{Map, Value, json};

use crate::schema::Schemas;

/// How deep nested `allOf`s are merged; deeper parts are taken as they are.
const MERGE_DEPTH: usize = 4;

/// The declared types, or the one the keywords imply (`any` when nothing says).
pub fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(name)) => vec![name.as_str()],
        Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
        _ if schema.get("properties").is_some() => vec!["object"],
        _ if schema.get("items").is_some() || schema.get("prefixItems").is_some() => vec!["array"],
        _ => vec!["any"],
    }
}

/// The main type of a schema: the first declared one that is not `null`.
pub fn schema_type(schema: &Value) -> &str {
    let types = types(schema);
    types
        .iter()
        .find(|t| **t != "null")
        .or(types.first())
        .copied()
        .unwrap_or("any")
}

/// Whether `null` is among the schema's types.
pub fn allows_null(schema: &Value) -> bool {
    types(schema).contains(&"null")
}

/// A schema as one object: an `allOf` merged into its parts' properties and requirements
/// (`Pet: allOf [NewPet, {id}]`), else the schema itself.
pub fn object_view(schemas: &Schemas, schema: &Value) -> Value {
    let resolved = schemas.resolve(schema);
    match resolved.get("allOf").and_then(Value::as_array) {
        Some(parts) => merge_all_of(schemas, resolved, parts, 0),
        None => resolved.clone(),
    }
}

/// One schema from `allOf` parts: properties and `required` united, other keywords overlaid.
/// The result may be wider than the parts (the validator has the last word).
pub fn merge_all_of(schemas: &Schemas, schema: &Value, parts: &[Value], depth: usize) -> Value {
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
            Some(nested) if depth < MERGE_DEPTH => merge_all_of(schemas, part, nested, depth + 1),
            _ => part.clone(),
        };
        for (key, value) in part.as_object().into_iter().flatten() {
            match key.as_str() {
                "properties" => properties.extend(value.as_object().cloned().unwrap_or_default()),
                "required" => required.extend(value.as_array().cloned().unwrap_or_default()),
                "allOf" => {}
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

/// The names an object schema lists as `required`.
pub fn required_names(schema: &Value) -> Vec<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}
