//! OpenAPI 3.0 schemas as JSON Schema: `$ref` lookup, translation of the 3.0 dialect
//! (`nullable`, boolean `exclusiveMinimum`/`exclusiveMaximum`, `readOnly`/`writeOnly`) into
//! JSON Schema 2020-12, and compiled validators from the jsonschema crate.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use jsonschema::{Draft, Validator};
use serde_json::{Map, Value, json};

use crate::spec::SpecError;

/// Which way data flows: a `readOnly` property is never sent, a `writeOnly` one never returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Request,
    Response,
}

/// The document's schemas, with validators compiled once and shared.
#[derive(Debug)]
pub struct Schemas {
    doc: Value,
    defs: [OnceLock<Value>; 2],
    validators: Mutex<HashMap<(String, Direction), Arc<Validator>>>,
}

/// How deep inlined (non-component) references may nest before the rest is left open.
const MAX_INLINE_DEPTH: usize = 32;
const COMPONENT_SCHEMAS: &str = "#/components/schemas/";

impl Schemas {
    pub fn new(doc: Value) -> Result<Schemas, SpecError> {
        let schemas = Schemas {
            doc,
            defs: Default::default(),
            validators: Mutex::default(),
        };
        // Fail early on references that lead nowhere.
        check_refs(&schemas, &schemas.doc)?;
        Ok(schemas)
    }

    /// The value a local `$ref` points at.
    pub fn lookup(&self, reference: &str) -> Result<&Value, SpecError> {
        let Some(fragment) = reference.strip_prefix('#') else {
            return Err(SpecError::Reference(
                reference.to_owned(),
                "only local references (#/...) are supported".to_owned(),
            ));
        };
        let pointer = percent_decode(fragment);
        self.doc
            .pointer(&pointer)
            .ok_or_else(|| SpecError::Reference(reference.to_owned(), "nothing there".to_owned()))
    }

    /// A schema with its `$ref` chain followed (the schema itself when the chain breaks).
    pub fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..MAX_INLINE_DEPTH {
            match schema.get("$ref").and_then(Value::as_str) {
                Some(reference) => match self.lookup(reference) {
                    Ok(target) => schema = target,
                    Err(_) => return schema,
                },
                None => return schema,
            }
        }
        schema
    }

    /// The compiled validator for an OpenAPI schema, in one direction.
    pub fn validator(
        &self,
        schema: &Value,
        direction: Direction,
    ) -> Result<Arc<Validator>, SpecError> {
        let key = (schema.to_string(), direction);
        let mut cache = self
            .validators
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(validator) = cache.get(&key) {
            return Ok(validator.clone());
        }
        let root = self.json_schema(schema, direction);
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .map_err(|e| SpecError::Schema(key.0.chars().take(120).collect(), e.to_string()))?;
        let validator = Arc::new(validator);
        cache.insert(key, validator.clone());
        Ok(validator)
    }

    /// Whether `instance` satisfies the schema; a schema that does not compile accepts all,
    /// since every schema of an operation was compiled when the document was loaded.
    pub fn is_valid(&self, schema: &Value, direction: Direction, instance: &Value) -> bool {
        self.validator(schema, direction)
            .is_ok_and(|v| v.is_valid(instance))
    }

    /// The violations of `instance`, each with where it is.
    pub fn errors(&self, schema: &Value, direction: Direction, instance: &Value) -> Vec<String> {
        match self.validator(schema, direction) {
            Ok(validator) => validator
                .iter_errors(instance)
                .map(|e| {
                    let at = e.instance_path().to_string();
                    let at = if at.is_empty() { "/".to_owned() } else { at };
                    format!("{e} (at {at})")
                })
                .collect(),
            Err(error) => vec![error.to_string()],
        }
    }

    /// The JSON Schema 2020-12 document for an OpenAPI schema: the schema translated, with
    /// every component schema under `$defs` so that references and recursion resolve.
    pub fn json_schema(&self, schema: &Value, direction: Direction) -> Value {
        let mut root = match self.convert(schema, direction, 0) {
            Value::Object(map) => map,
            other => {
                let mut map = Map::new();
                map.insert("allOf".to_owned(), json!([other]));
                map
            }
        };
        root.insert("$defs".to_owned(), self.defs(direction).clone());
        Value::Object(root)
    }

    fn defs(&self, direction: Direction) -> &Value {
        self.defs[direction as usize].get_or_init(|| {
            let components = self
                .doc
                .pointer("/components/schemas")
                .and_then(Value::as_object);
            let defs: Map<String, Value> = components
                .into_iter()
                .flatten()
                .map(|(name, schema)| (escape(name), self.convert(schema, direction, 0)))
                .collect();
            Value::Object(defs)
        })
    }

    fn convert(&self, schema: &Value, direction: Direction, depth: usize) -> Value {
        let Value::Object(map) = schema else {
            // `true`, `false` and anything odd pass through.
            return schema.clone();
        };
        if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
            if let Some(name) = reference.strip_prefix(COMPONENT_SCHEMAS) {
                return json!({"$ref": format!("#/$defs/{name}")});
            }
            return match (self.lookup(reference), depth < MAX_INLINE_DEPTH) {
                (Ok(target), true) => self.convert(target, direction, depth + 1),
                _ => json!({}),
            };
        }
        let mut out = Map::new();
        for (key, value) in map {
            let converted = match key.as_str() {
                "properties" | "patternProperties" => Value::Object(
                    value
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(name, s)| (name.clone(), self.convert(s, direction, depth)))
                        .collect(),
                ),
                "items" | "additionalProperties" | "not" if value.is_object() => {
                    self.convert(value, direction, depth)
                }
                "allOf" | "oneOf" | "anyOf" => Value::Array(
                    value
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|s| self.convert(s, direction, depth))
                        .collect(),
                ),
                "required" => {
                    let hidden = self.hidden_properties(map, direction);
                    Value::Array(
                        value
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter(|n| !hidden.contains(n))
                            .cloned()
                            .collect(),
                    )
                }
                "exclusiveMinimum" | "exclusiveMaximum" => match value {
                    // 3.0: a flag on minimum/maximum; 2020-12: the bound itself.
                    Value::Bool(true) => {
                        let bound = if key == "exclusiveMinimum" {
                            "minimum"
                        } else {
                            "maximum"
                        };
                        match map.get(bound) {
                            Some(limit) => limit.clone(),
                            None => continue,
                        }
                    }
                    Value::Bool(false) => continue,
                    other => other.clone(),
                },
                "minimum" | "maximum" => {
                    let flag = if key == "minimum" {
                        "exclusiveMinimum"
                    } else {
                        "exclusiveMaximum"
                    };
                    if map.get(flag) == Some(&Value::Bool(true)) {
                        continue;
                    }
                    value.clone()
                }
                "nullable" | "discriminator" | "xml" | "externalDocs" | "example" => continue,
                key if key.starts_with("x-") => continue,
                _ => value.clone(),
            };
            out.insert(key.clone(), converted);
        }
        if map.get("nullable") == Some(&Value::Bool(true)) {
            return nullable(out);
        }
        Value::Object(out)
    }

    /// Properties that do not travel in this direction (`readOnly` in requests, `writeOnly` in
    /// responses), so they are not required there.
    fn hidden_properties(&self, map: &Map<String, Value>, direction: Direction) -> Vec<Value> {
        let flag = match direction {
            Direction::Request => "readOnly",
            Direction::Response => "writeOnly",
        };
        map.get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(_, schema)| self.resolve(schema).get(flag) == Some(&Value::Bool(true)))
            .map(|(name, _)| Value::String(name.clone()))
            .collect()
    }
}

/// `nullable: true` in 2020-12 terms: `null` joins the type (and the enum, if any).
fn nullable(mut schema: Map<String, Value>) -> Value {
    if let Some(values) = schema.get_mut("enum").and_then(Value::as_array_mut)
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
    match schema.get_mut("type") {
        Some(Value::String(name)) => {
            let name = std::mem::take(name);
            schema.insert("type".to_owned(), json!([name, "null"]));
            Value::Object(schema)
        }
        _ => json!({"anyOf": [{"type": "null"}, Value::Object(schema)]}),
    }
}

/// Every `$ref` in the document must lead somewhere local.
fn check_refs(schemas: &Schemas, value: &Value) -> Result<(), SpecError> {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                schemas.lookup(reference)?;
            }
            map.values().try_for_each(|v| check_refs(schemas, v))
        }
        Value::Array(items) => items.iter().try_for_each(|v| check_refs(schemas, v)),
        _ => Ok(()),
    }
}

fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// Decodes `%XX` escapes of a URI fragment (bytes; invalid escapes are kept as they are).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schemas(components: Value) -> Schemas {
        Schemas::new(json!({"openapi": "3.0.3", "components": {"schemas": components}})).unwrap()
    }

    fn check(schemas: &Schemas, schema: Value, direction: Direction, instance: Value, valid: bool) {
        assert_eq!(
            schemas.is_valid(&schema, direction, &instance),
            valid,
            "{schema} with {instance}"
        );
    }

    #[test]
    fn translates_the_openapi_30_dialect() {
        let s = schemas(json!({
            "Node": {"type": "object", "required": ["value"], "properties": {
                "value": {"type": "integer", "minimum": 0, "exclusiveMinimum": true},
                "next": {"$ref": "#/components/schemas/Node", "nullable": true}}},
            "Maybe": {"type": "string", "nullable": true, "enum": ["a"]},
            "Secret": {"type": "object", "required": ["id", "password"], "properties": {
                "id": {"type": "string", "readOnly": true},
                "password": {"$ref": "#/components/schemas/Password"}}},
            "Password": {"type": "string", "writeOnly": true},
        }));
        let node = json!({"$ref": "#/components/schemas/Node"});
        let r = Direction::Response;
        check(
            &s,
            node.clone(),
            r,
            json!({"value": 1, "next": {"value": 2}}),
            true,
        );
        check(&s, node.clone(), r, json!({"value": 0}), false);
        check(
            &s,
            node.clone(),
            r,
            json!({"value": 1, "next": {"value": 0}}),
            false,
        );
        check(
            &s,
            json!({"$ref": "#/components/schemas/Maybe"}),
            r,
            json!(null),
            true,
        );
        check(
            &s,
            json!({"$ref": "#/components/schemas/Maybe"}),
            r,
            json!("b"),
            false,
        );
        check(
            &s,
            json!({"type": "integer", "nullable": true}),
            r,
            json!(null),
            true,
        );
        check(&s, json!({"type": "integer"}), r, json!(null), false);
        let secret = json!({"$ref": "#/components/schemas/Secret"});
        check(
            &s,
            secret.clone(),
            Direction::Response,
            json!({"id": "x"}),
            true,
        );
        check(
            &s,
            secret.clone(),
            Direction::Request,
            json!({"password": "x"}),
            true,
        );
        check(
            &s,
            secret.clone(),
            Direction::Request,
            json!({"id": "x"}),
            false,
        );
        check(
            &s,
            json!({"type": "string", "format": "uuid"}),
            r,
            json!("nope"),
            false,
        );
        check(
            &s,
            json!({"type": "string", "format": "email"}),
            r,
            json!("a@b.co"),
            true,
        );
    }

    #[test]
    fn reports_unresolvable_references() {
        let doc = json!({"openapi": "3.0.3", "paths": {"/": {"get": {"responses": {"200": {"$ref": "#/components/responses/Nope"}}}}}});
        assert!(
            Schemas::new(doc)
                .unwrap_err()
                .to_string()
                .contains("#/components/responses/Nope")
        );
        let doc = json!({"openapi": "3.0.3", "x": {"$ref": "other.yaml#/A"}});
        assert!(
            Schemas::new(doc)
                .unwrap_err()
                .to_string()
                .contains("only local references")
        );
    }
}
