//! Schemas no value satisfies, found by their keywords alone (bounds that cross, an empty
//! `enum`, `false`), through required properties, `allOf` parts and required items: cheap
//! enough to ask of every operation of a big document at start, where generating values is
//! not.

use serde_json::Value;

use crate::schema::Schemas;
use crate::schema::query::required_names;

/// How deep the search follows required properties and parts.
const MAX_DEPTH: usize = 8;

/// Why no value satisfies the schema, named by where (`#/components/schemas/X`), if the
/// keywords say so.
pub fn contradiction(schemas: &Schemas, schema: &Value) -> Option<String> {
    at(
        schemas,
        schema,
        schemas.origin(schema).unwrap_or("the schema"),
        0,
    )
}

fn at(schemas: &Schemas, schema: &Value, origin: &str, depth: usize) -> Option<String> {
    if depth > MAX_DEPTH {
        return None;
    }
    let resolved = schemas.resolve(schema);
    let origin = schemas
        .origin(resolved)
        .or(schemas.origin(schema))
        .unwrap_or(origin);
    if *resolved == Value::Bool(false) {
        return Some(format!("{origin} is `false`"));
    }
    let number = |key: &str| resolved.get(key).and_then(Value::as_f64);
    for (low, high) in [
        ("minLength", "maxLength"),
        ("minimum", "maximum"),
        ("minItems", "maxItems"),
        ("minProperties", "maxProperties"),
        ("exclusiveMinimum", "maximum"),
        ("minimum", "exclusiveMaximum"),
        ("exclusiveMinimum", "exclusiveMaximum"),
    ] {
        if let (Some(l), Some(h)) = (number(low), number(high)) {
            let exclusive = low.starts_with("exclusive") || high.starts_with("exclusive");
            if l > h || (exclusive && l >= h) {
                return Some(format!("{origin}: {low} {l} is past {high} {h}"));
            }
        }
    }
    if resolved
        .get("enum")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        return Some(format!("{origin}: its `enum` is empty"));
    }
    for part in resolved
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(found) = at(schemas, part, origin, depth + 1) {
            return Some(found);
        }
    }
    let properties = resolved.get("properties").and_then(Value::as_object);
    for name in required_names(resolved) {
        if let Some(property) = properties.and_then(|p| p.get(name))
            && let Some(found) = at(
                schemas,
                property,
                &format!("{origin}/properties/{name}"),
                depth + 1,
            )
        {
            return Some(found);
        }
    }
    let needs_items = number("minItems").is_some_and(|n| n > 0.0);
    if needs_items && let Some(items) = resolved.get("items") {
        return at(schemas, items, &format!("{origin}/items"), depth + 1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_bounds_that_cross_through_required_properties() {
        let api = crate::parse(
            r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /x:
    post:
      requestBody: {content: {application/json: {schema: {$ref: "#/components/schemas/A"}}}}
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: string, minLength: 5, maxLength: 2}}}}
components:
  schemas:
    A: {type: object, required: [n], properties: {n: {type: integer, minimum: 10, maximum: 1}, m: {enum: []}}}
    B: {type: object, properties: {n: {type: integer}}}
"##,
        )
        .unwrap();
        let operation = &api.operations[0];
        let body = &operation.body.as_ref().unwrap().schema;
        let found = contradiction(&api.schemas, body).unwrap();
        assert!(found.contains("minimum 10 is past maximum 1"), "{found}");
        let response = operation
            .response_for(200)
            .unwrap()
            .json()
            .unwrap()
            .1
            .unwrap();
        let found = contradiction(&api.schemas, response).unwrap();
        assert!(found.contains("minLength 5 is past maxLength 2"), "{found}");
    }
}
