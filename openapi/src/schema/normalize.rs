//! Every schema of a document into the arena, in JSON Schema 2020-12: OpenAPI 3.0's dialect
//! (`nullable`, boolean exclusive bounds, `example`) and 2.0's (`x-nullable`, `type: file`)
//! translated, 3.1's taken as it is, and every `$ref` rewritten to `#/$defs/<id>` of the slot
//! that holds its target. Each target is normalized once, from a work list: recursion and
//! cycles become references between slots, never copies.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::error::LoadError;
use crate::load::refs::{At, target};
use crate::load::source::Documents;

/// Which schema language the document speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// OpenAPI 3.0 (and 2.0 converted): the extended subset of draft 4/5.
    OpenApi30,
    /// OpenAPI 3.1: JSON Schema 2020-12.
    JsonSchema2020,
}

/// Keywords whose value is one subschema.
const SINGLE: [&str; 11] = [
    "items",
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedProperties",
    "unevaluatedItems",
    "additionalItems",
];
/// Keywords whose value is an array of subschemas.
const LISTS: [&str; 4] = ["allOf", "anyOf", "oneOf", "prefixItems"];
/// Keywords whose value is a map of subschemas.
const MAPS: [&str; 3] = ["properties", "patternProperties", "dependentSchemas"];
/// Keywords that only annotate: they may stay beside a `$ref`.
pub const ANNOTATIONS: [&str; 7] = [
    "title",
    "description",
    "readOnly",
    "writeOnly",
    "deprecated",
    "default",
    "examples",
];

/// Builds the arena: slots of normalized schemas, each with where it came from.
pub struct Builder<'d> {
    docs: &'d Documents,
    dialect: Dialect,
    ids: HashMap<At, usize>,
    pub slots: Vec<Value>,
    pub origins: Vec<String>,
    queue: Vec<(usize, At)>,
}

impl<'d> Builder<'d> {
    pub fn new(docs: &'d Documents, dialect: Dialect) -> Builder<'d> {
        Builder {
            docs,
            dialect,
            ids: HashMap::new(),
            slots: Vec::new(),
            origins: Vec::new(),
            queue: Vec::new(),
        }
    }

    /// A slot for a schema written at `at` (an operation's parameter, body or response).
    pub fn add(&mut self, at: &At, schema: &Value) -> Result<usize, LoadError> {
        if let Some(&id) = self.ids.get(at) {
            return Ok(id);
        }
        let id = self.slots.len();
        self.ids.insert(at.clone(), id);
        self.slots.push(Value::Bool(true));
        self.origins.push(at.describe(self.docs));
        let normalized = self.normalize(at, schema)?;
        self.slots[id] = normalized;
        self.drain()?;
        Ok(id)
    }

    /// The slot of a reference's target, queued for normalization when it is new.
    fn slot_for(&mut self, at: &At, reference: &str) -> Result<usize, LoadError> {
        let (target_at, _) = target(self.docs, at, reference)?;
        if let Some(&id) = self.ids.get(&target_at) {
            return Ok(id);
        }
        let id = self.slots.len();
        self.ids.insert(target_at.clone(), id);
        self.slots.push(Value::Bool(true));
        self.origins.push(target_at.describe(self.docs));
        self.queue.push((id, target_at));
        Ok(id)
    }

    fn drain(&mut self) -> Result<(), LoadError> {
        while let Some((id, at)) = self.queue.pop() {
            let value = self
                .docs
                .get(&at.doc)
                .and_then(|doc| doc.pointer(&at.pointer))
                .ok_or_else(|| at.structure(self.docs, "nothing there"))?;
            self.slots[id] = self.normalize(&at, value)?;
        }
        Ok(())
    }

    /// Whether slot `id` is a chain of bare references that never reaches a schema.
    pub fn check_cycles(&self) -> Result<(), LoadError> {
        for start in 0..self.slots.len() {
            let mut id = start;
            for _ in 0..=self.slots.len().min(crate::load::refs::MAX_CHAIN) {
                match slot_ref(&self.slots[id]) {
                    Some(next) if next == start => {
                        return Err(LoadError::Structure {
                            doc: crate::load::source::display(&self.docs.root),
                            pointer: self.origins[start].clone(),
                            message: "a $ref cycle with no schema in it".to_owned(),
                        });
                    }
                    Some(next) => id = next,
                    None => break,
                }
            }
        }
        Ok(())
    }

    fn normalize(&mut self, at: &At, schema: &Value) -> Result<Value, LoadError> {
        let Value::Object(map) = schema else {
            // `true`, `false` (3.1) pass through; anything else is not a schema.
            return match schema {
                Value::Bool(_) => Ok(schema.clone()),
                _ => Err(at.structure(self.docs, "a schema must be an object")),
            };
        };
        let v30 = self.dialect == Dialect::OpenApi30;
        let nullable = (v30 && map.get("nullable") == Some(&Value::Bool(true)))
            || map.get("x-nullable") == Some(&Value::Bool(true));
        if let Some(reference) = map.get("$ref") {
            let Some(reference) = reference.as_str() else {
                return Err(at
                    .child("$ref")
                    .structure(self.docs, "$ref must be a string"));
            };
            let id = self.slot_for(at, reference)?;
            let reference = json!({"$ref": format!("#/$defs/{id}")});
            // 3.0 ignores a reference's siblings (but `nullable` beside one is common and
            // meant); 3.1 applies them together with the target.
            let mut siblings = Map::new();
            for (key, value) in map {
                let keep = !v30 || ANNOTATIONS.contains(&key.as_str());
                if key != "$ref" && keep {
                    siblings.insert(key.clone(), value.clone());
                }
            }
            let siblings = match self.normalize(at, &Value::Object(siblings))? {
                Value::Object(map) => map,
                _ => Map::new(),
            };
            let asserts = siblings.keys().any(|k| !ANNOTATIONS.contains(&k.as_str()));
            let mut out = siblings;
            match asserts {
                true => {
                    out.insert("allOf".to_owned(), json!([reference]));
                }
                false => {
                    out.insert("$ref".to_owned(), reference["$ref"].clone());
                }
            }
            return Ok(match nullable {
                true => add_null(out),
                false => Value::Object(out),
            });
        }
        let mut out = Map::new();
        for (key, value) in map {
            let child = at.child(key);
            let converted = match key.as_str() {
                k if MAPS.contains(&k) => {
                    let Value::Object(entries) = value else {
                        return Err(child.structure(self.docs, format!("{k} must be an object")));
                    };
                    let mut converted = Map::new();
                    for (name, schema) in entries {
                        converted.insert(name.clone(), self.normalize(&child.child(name), schema)?);
                    }
                    Value::Object(converted)
                }
                k if LISTS.contains(&k) => {
                    let Value::Array(items) = value else {
                        return Err(child.structure(self.docs, format!("{k} must be an array")));
                    };
                    let mut converted = Vec::with_capacity(items.len());
                    for (index, schema) in items.iter().enumerate() {
                        converted.push(self.normalize(&child.child(&index.to_string()), schema)?);
                    }
                    Value::Array(converted)
                }
                // 2020-12 spells a tuple `prefixItems`; an `items` array is the older form.
                "items" if value.is_array() => {
                    let mut converted = Vec::new();
                    for (index, schema) in value.as_array().into_iter().flatten().enumerate() {
                        converted.push(self.normalize(&child.child(&index.to_string()), schema)?);
                    }
                    out.insert("prefixItems".to_owned(), Value::Array(converted));
                    continue;
                }
                k if SINGLE.contains(&k) => match value {
                    Value::Bool(_) => value.clone(),
                    _ => self.normalize(&child, value)?,
                },
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
                "type" if value == "file" => {
                    out.insert("format".to_owned(), json!("binary"));
                    json!("string")
                }
                "example" => {
                    if !map.contains_key("examples") {
                        out.insert("examples".to_owned(), json!([value]));
                    }
                    continue;
                }
                // 3.0's `examples` is not a keyword of its schemas; 3.1's is an array.
                "examples" if !value.is_array() => continue,
                "nullable" | "discriminator" | "xml" | "externalDocs" | "$schema" | "$id"
                | "$anchor" | "$dynamicAnchor" | "$comment" | "$defs" | "definitions"
                | "$dynamicRef" => continue,
                k if k.starts_with("x-") => continue,
                _ => value.clone(),
            };
            out.insert(key.clone(), converted);
        }
        Ok(match nullable {
            true => add_null(out),
            false => Value::Object(out),
        })
    }
}

/// The slot a bare `{"$ref": "#/$defs/N"}` names.
pub fn slot_ref(schema: &Value) -> Option<usize> {
    let map = schema.as_object()?;
    let reference = map.get("$ref")?.as_str()?;
    reference.strip_prefix("#/$defs/")?.parse().ok()
}

/// `nullable: true` in 2020-12 terms: `null` joins the type (and the enum, if any).
fn add_null(mut schema: Map<String, Value>) -> Value {
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
        Some(Value::Array(names)) => {
            if !names.contains(&json!("null")) {
                names.push(json!("null"));
            }
            Value::Object(schema)
        }
        _ => json!({"anyOf": [{"type": "null"}, Value::Object(schema)]}),
    }
}
