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
use crate::schema::repair::{self, Patterns};
use crate::schema::{ANNOTATIONS, slot_ref};

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
/// Builds the arena: slots of normalized schemas, each with where it came from.
pub struct Builder<'d> {
    docs: &'d Documents,
    dialect: Dialect,
    ids: SlotIds,
    pub slots: Vec<Value>,
    pub origins: Vec<String>,
    queue: Vec<(usize, At)>,
    /// What was repaired, each a line naming its JSON pointer.
    pub notes: Vec<String>,
    patterns: Patterns,
}

/// The slot of each location, by document, then by pointer: a document's URL is compared,
/// not hashed, at every lookup (a big document makes hundreds of thousands).
#[derive(Debug, Default)]
struct SlotIds {
    by_doc: Vec<(url::Url, HashMap<String, usize>)>,
}

impl SlotIds {
    fn get(&self, at: &At) -> Option<&usize> {
        let (_, ids) = self.by_doc.iter().find(|(doc, _)| *doc == at.doc)?;
        ids.get(&at.pointer)
    }

    fn insert(&mut self, at: &At, id: usize) {
        let at_doc = match self.by_doc.iter().position(|(doc, _)| *doc == at.doc) {
            Some(found) => found,
            None => {
                self.by_doc.push((at.doc.clone(), HashMap::new()));
                self.by_doc.len() - 1
            }
        };
        self.by_doc[at_doc].1.insert(at.pointer.clone(), id);
    }
}

impl<'d> Builder<'d> {
    pub fn new(docs: &'d Documents, dialect: Dialect) -> Builder<'d> {
        Builder {
            docs,
            dialect,
            ids: SlotIds::default(),
            slots: Vec::new(),
            origins: Vec::new(),
            queue: Vec::new(),
            notes: Vec::new(),
            patterns: Patterns::default(),
        }
    }

    /// A slot for a schema written at `at` (an operation's parameter, body or response).
    pub fn add(&mut self, at: &At, schema: &Value) -> Result<usize, LoadError> {
        if let Some(&id) = self.ids.get(at) {
            return Ok(id);
        }
        let id = self.slots.len();
        self.ids.insert(at, id);
        self.slots.push(Value::Bool(true));
        self.origins.push(at.describe(self.docs));
        let normalized = self.normalize(at, schema)?;
        self.slots[id] = normalized;
        self.drain()?;
        Ok(id)
    }

    /// The slot of a reference's target, queued for normalization when it is new.
    fn slot_for(&mut self, at: &At, reference: &str) -> Result<usize, LoadError> {
        let target_at = match target(self.docs, at, reference) {
            Ok((target_at, _)) => target_at,
            // A reference to nothing: that schema accepts any value, and the rest stands.
            Err(error) => {
                self.note(
                    at,
                    &format!("{error}: read as a schema that accepts any value"),
                );
                let id = self.slots.len();
                self.slots.push(Value::Bool(true));
                self.origins.push(at.describe(self.docs));
                return Ok(id);
            }
        };
        if let Some(&id) = self.ids.get(&target_at) {
            return Ok(id);
        }
        let id = self.slots.len();
        self.ids.insert(&target_at, id);
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

    /// Chains of bare references that never reach a schema: each slot of such a cycle is
    /// read as a schema that accepts any value, with a note.
    pub fn break_cycles(&mut self) {
        for start in 0..self.slots.len() {
            let mut id = start;
            for _ in 0..=self.slots.len().min(crate::load::refs::MAX_CHAIN) {
                match slot_ref(&self.slots[id]) {
                    Some(next) if next == start => {
                        self.notes.push(format!(
                            "{}: a $ref cycle with no schema in it: read as a schema that accepts any value",
                            self.origins[start]
                        ));
                        self.slots[start] = Value::Bool(true);
                        break;
                    }
                    Some(next) => id = next,
                    None => break,
                }
            }
        }
    }

    /// Every slot checked against the JSON Schema 2020-12 meta-schema, once per document:
    /// what the repairs did not foresee is dropped at the keyword the meta-schema names,
    /// with a note, so that every validator compiles.
    pub fn check_against_meta(&mut self) {
        let meta = jsonschema::draft202012::meta::validator();
        for id in 0..self.slots.len() {
            // Bounded: each round drops one keyword; a slot still wrong after that is read
            // as accepting any value.
            for round in 0..=16 {
                // The yes-or-no check first: it is the common answer, and much faster.
                if meta.is_valid(&self.slots[id]) {
                    break;
                }
                let Some(error) = meta.iter_errors(&self.slots[id]).next() else {
                    break;
                };
                let path = error.instance_path().to_string();
                let message = error.to_string();
                drop(error);
                let tokens: Vec<String> = path
                    .split('/')
                    .skip(1)
                    .map(|t| t.replace("~1", "/").replace("~0", "~"))
                    .collect();
                let dropped = round < 16 && drop_keyword(&mut self.slots[id], &tokens);
                if !dropped {
                    self.slots[id] = Value::Bool(true);
                }
                let what = match dropped {
                    true => "dropped",
                    false => "the schema is read as one that accepts any value",
                };
                self.notes.push(format!(
                    "{}{path}: not valid JSON Schema ({message}): {what}",
                    self.origins[id]
                ));
            }
        }
    }

    fn note(&mut self, at: &At, what: &str) {
        self.notes
            .push(format!("{}: {what}", at.describe(self.docs)));
    }

    fn normalize(&mut self, at: &At, schema: &Value) -> Result<Value, LoadError> {
        let Value::Object(map) = schema else {
            // `true`, `false` (3.1) pass through; anything else is not a schema.
            if let Value::Bool(_) = schema {
                return Ok(schema.clone());
            }
            let (read, why) = repair::not_a_schema(schema);
            self.note(at, &why);
            return Ok(read);
        };
        let mut repairs = Vec::new();
        let repaired = repair::keywords(map, &mut self.patterns, &mut repairs);
        for (key, what) in repairs {
            let at = key.split('/').fold(at.clone(), |at, token| {
                at.child(&token.replace("~1", "/").replace("~0", "~"))
            });
            self.note(&at, &what);
        }
        let map = repaired.as_ref().unwrap_or(map);
        let v30 = self.dialect == Dialect::OpenApi30;
        // `nullable` is 3.0's; written in a 3.1 document it is still meant.
        let nullable = map.get("nullable") == Some(&Value::Bool(true))
            || map.get("x-nullable") == Some(&Value::Bool(true));
        if !v30 && map.get("nullable") == Some(&Value::Bool(true)) {
            self.note(
                &at.child("nullable"),
                "`nullable` is not a keyword of OpenAPI 3.1: read as null being allowed",
            );
        }
        if let Some(reference) = map.get("$ref") {
            let Some(reference) = reference.as_str() else {
                self.note(&at.child("$ref"), "not a string: dropped");
                let mut rest = map.clone();
                rest.remove("$ref");
                return self.normalize(at, &Value::Object(rest));
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
                        continue;
                    };
                    let mut converted = Map::new();
                    for (name, schema) in entries {
                        converted.insert(name.clone(), self.normalize(&child.child(name), schema)?);
                    }
                    Value::Object(converted)
                }
                k if LISTS.contains(&k) => {
                    let Value::Array(items) = value else {
                        continue;
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
                    Value::Object(_) => self.normalize(&child, value)?,
                    // Repaired already; what is left is not a schema.
                    _ => continue,
                },
                "exclusiveMinimum" | "exclusiveMaximum" => match value {
                    // 3.0: a flag on minimum/maximum; 2020-12: the bound itself (a flag in a
                    // 3.1 document is still read as 3.0 meant it).
                    Value::Bool(flag) if !v30 => {
                        self.note(
                            &child,
                            "a flag, as in OpenAPI 3.0, where 3.1 wants the bound: read as 3.0 meant it",
                        );
                        match (
                            flag,
                            map.get(if key == "exclusiveMinimum" {
                                "minimum"
                            } else {
                                "maximum"
                            }),
                        ) {
                            (true, Some(limit)) => limit.clone(),
                            _ => continue,
                        }
                    }
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
                // `xml` stays: it says how an XML body names what it holds.
                "nullable" | "discriminator" | "externalDocs" | "$schema" | "$id" | "$anchor"
                | "$dynamicAnchor" | "$comment" | "$defs" | "definitions" | "$dynamicRef" => {
                    continue;
                }
                k if k.starts_with("x-") => continue,
                _ => value.clone(),
            };
            out.insert(key.clone(), converted);
        }
        if let Some(lifted) = map.get(repair::LIFTED_REQUIRED) {
            out.insert(repair::LIFTED_REQUIRED.to_owned(), lifted.clone());
        }
        Ok(match nullable {
            true => add_null(out),
            false => Value::Object(out),
        })
    }
}

/// Drops the keyword whose value (or a part of it) is at `path` in a schema: the last
/// keyword the path takes from a schema object. False when the path names no keyword.
fn drop_keyword(schema: &mut Value, path: &[String]) -> bool {
    // Walk the path, remembering where the last keyword step was taken from a schema.
    let mut last: Option<usize> = None;
    let mut is_schema = true;
    let mut node: &Value = schema;
    let mut i = 0;
    while i < path.len() {
        let token = path[i].as_str();
        if is_schema {
            last = Some(i);
            let Some(value) = node.get(token) else { break };
            node = value;
            i += 1;
            // What the keyword holds: a schema, a map or a list of them, or plain data.
            if SINGLE.contains(&token) || (token == "items" && node.is_object()) {
                is_schema = true;
            } else if MAPS.contains(&token) || LISTS.contains(&token) || token == "items" {
                let Some(next) = path.get(i) else { break };
                let child = match node {
                    Value::Object(map) => map.get(next.as_str()),
                    Value::Array(items) => next.parse::<usize>().ok().and_then(|n| items.get(n)),
                    _ => None,
                };
                let Some(child) = child else { break };
                node = child;
                i += 1;
                is_schema = true;
            } else {
                break;
            }
        } else {
            break;
        }
    }
    let Some(at) = last else { return false };
    let parent = &path[..at];
    let pointer: String = parent
        .iter()
        .map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1")))
        .collect();
    match schema.pointer_mut(&pointer).and_then(Value::as_object_mut) {
        Some(map) => map.remove(&path[at]).is_some(),
        None => false,
    }
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
