//! The schemas of a document as an arena of JSON Schema 2020-12 slots that refer to each
//! other by id (`{"$ref": "#/$defs/<id>"}`), with validators compiled once per schema and
//! direction by the jsonschema crate.
//!
//! - [`normalize`]: the dialects of 2.0, 3.0 and 3.1 into slots.

pub mod normalize;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use jsonschema::{Draft, Validator};
use serde_json::{Map, Value, json};

use crate::error::LoadError;
pub use normalize::slot_ref;

/// Which way data flows: a `readOnly` property is never sent, a `writeOnly` one never returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Request,
    Response,
}

/// How many bare references in a row [`Schemas::resolve`] follows.
const MAX_CHAIN: usize = 64;

/// The arena: every schema of the document, normalized, each in one slot.
#[derive(Debug)]
pub struct Schemas {
    slots: Vec<Value>,
    origins: Vec<String>,
    /// Per direction, every slot as a `$defs` map, built on first use.
    defs: [OnceLock<Value>; 2],
    validators: Mutex<HashMap<(String, Direction), Arc<Validator>>>,
    /// The validators of bare slot references (`{"$ref": "#/$defs/N"}`), per slot and
    /// direction: the common case, found without a lock or a key to build.
    by_slot: Vec<[OnceLock<Arc<Validator>>; 2]>,
    /// Values worked out once per schema (the simplest valid value, say), by key.
    memo: Mutex<Memo>,
}

/// Remembered values, within a byte budget (past it, values are worked out every time).
#[derive(Debug, Default)]
struct Memo {
    values: HashMap<String, Value>,
    bytes: usize,
}

const MEMO_BYTES: usize = 16 << 20;

impl Schemas {
    pub fn new(slots: Vec<Value>, origins: Vec<String>) -> Schemas {
        Schemas {
            by_slot: slots.iter().map(|_| Default::default()).collect(),
            slots,
            origins,
            defs: Default::default(),
            validators: Mutex::default(),
            memo: Mutex::default(),
        }
    }

    /// A value worked out once for a key and remembered (the lock is not held while working).
    pub fn memo(&self, key: String, work: impl FnOnce() -> Value) -> Value {
        if let Some(value) = self
            .memo
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values
            .get(&key)
        {
            return value.clone();
        }
        let value = work();
        let size = key.len() + value.to_string().len();
        let mut memo = self.memo.lock().unwrap_or_else(PoisonError::into_inner);
        if memo.bytes + size <= MEMO_BYTES {
            memo.bytes += size;
            memo.values.insert(key, value.clone());
        }
        value
    }

    /// An arena of loose schemas (tests, and documents given schema by schema).
    pub fn from_slots(slots: Vec<Value>) -> Schemas {
        let origins = (0..slots.len()).map(|i| format!("#/$defs/{i}")).collect();
        Schemas::new(slots, origins)
    }

    /// The reference to a slot: how the model holds every schema.
    pub fn reference(id: usize) -> Value {
        json!({"$ref": format!("#/$defs/{id}")})
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The slot's schema.
    pub fn get(&self, id: usize) -> Option<&Value> {
        self.slots.get(id)
    }

    /// Where a schema came from in the document (`#/components/schemas/Pet`), for a schema
    /// that is a reference to a slot.
    pub fn origin(&self, schema: &Value) -> Option<&str> {
        slot_ref(schema)
            .and_then(|id| self.origins.get(id))
            .map(String::as_str)
    }

    /// A schema with its chain of bare references followed.
    pub fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..MAX_CHAIN {
            match slot_ref(schema).and_then(|id| self.slots.get(id)) {
                Some(target) => schema = target,
                None => return schema,
            }
        }
        schema
    }

    /// Whether a property's schema carries a flag (`readOnly`, `writeOnly`), beside its
    /// reference or in its target.
    pub fn has_flag(&self, schema: &Value, flag: &str) -> bool {
        schema.get(flag) == Some(&Value::Bool(true))
            || self.resolve(schema).get(flag) == Some(&Value::Bool(true))
    }

    /// The compiled validator for a schema, in one direction.
    pub fn validator(
        &self,
        schema: &Value,
        direction: Direction,
    ) -> Result<Arc<Validator>, LoadError> {
        let slot = slot_ref(schema)
            .filter(|_| schema.as_object().is_some_and(|m| m.len() == 1))
            .and_then(|id| self.by_slot.get(id))
            .map(|cells| &cells[direction as usize]);
        if let Some(validator) = slot.and_then(OnceLock::get) {
            return Ok(validator.clone());
        }
        let key = (schema.to_string(), direction);
        if let Some(validator) = self.lock().get(&key) {
            return Ok(validator.clone());
        }
        let mut root = match self.view(schema, direction) {
            Value::Object(map) => map,
            other => {
                let mut map = Map::new();
                map.insert("allOf".to_owned(), json!([other]));
                map
            }
        };
        // Only the slots the schema reaches: a validator of a small schema in a large
        // document compiles what it uses, not the whole arena.
        root.insert("$defs".to_owned(), self.reachable_defs(schema, direction));
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .should_validate_formats(true)
            .build(&Value::Object(root))
            .map_err(|e| LoadError::Schema {
                pointer: self
                    .origin(schema)
                    .map_or_else(|| key.0.chars().take(120).collect(), str::to_owned),
                message: e.to_string(),
            })?;
        let validator = Arc::new(validator);
        match slot {
            Some(cell) => Ok(cell.get_or_init(|| validator).clone()),
            None => {
                self.lock().insert(key, validator.clone());
                Ok(validator)
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, Direction), Arc<Validator>>> {
        self.validators
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `instance` satisfies the schema; a schema that does not compile accepts all,
    /// since every schema of an operation was compiled when the document was loaded.
    pub fn is_valid(&self, schema: &Value, direction: Direction, instance: &Value) -> bool {
        // As documented: accepting is what lets a mock answer a set-aside operation's examples.
        self.validator(schema, direction)
            .map_or(true, |v| v.is_valid(instance))
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

    /// The JSON Schema document for a schema in one direction, with every slot under `$defs`.
    pub fn json_schema(&self, schema: &Value, direction: Direction) -> Value {
        let mut root = match self.view(schema, direction) {
            Value::Object(map) => map,
            other => Map::from_iter([("allOf".to_owned(), json!([other]))]),
        };
        root.insert("$defs".to_owned(), self.defs(direction).clone());
        Value::Object(root)
    }

    /// The slots a schema refers to, directly or through other slots, as a `$defs` map.
    fn reachable_defs(&self, schema: &Value, direction: Direction) -> Value {
        let all = self.defs(direction);
        let mut seen: std::collections::BTreeSet<usize> = std::collections::BTreeSet::new();
        let mut queue: Vec<usize> = Vec::new();
        collect_refs(schema, &mut queue);
        while let Some(id) = queue.pop() {
            if id < self.slots.len() && seen.insert(id) {
                collect_refs(&self.slots[id], &mut queue);
            }
        }
        let defs: Map<String, Value> = seen
            .into_iter()
            .filter_map(|id| {
                let key = id.to_string();
                all.get(&key).map(|slot| (key, slot.clone()))
            })
            .collect();
        Value::Object(defs)
    }

    fn defs(&self, direction: Direction) -> &Value {
        self.defs[direction as usize].get_or_init(|| {
            let defs: Map<String, Value> = self
                .slots
                .iter()
                .enumerate()
                .map(|(id, slot)| (id.to_string(), self.view(slot, direction)))
                .collect();
            Value::Object(defs)
        })
    }

    /// A schema as one direction sees it: properties that do not travel that way (`readOnly`
    /// in requests, `writeOnly` in responses) are not required there.
    fn view(&self, schema: &Value, direction: Direction) -> Value {
        let Value::Object(map) = schema else {
            return schema.clone();
        };
        let flag = match direction {
            Direction::Request => "readOnly",
            Direction::Response => "writeOnly",
        };
        let mut out = Map::new();
        for (key, value) in map {
            let converted = match (key.as_str(), value) {
                ("required", Value::Array(names)) => {
                    let properties = map.get("properties").and_then(Value::as_object);
                    let hidden = |name: &Value| {
                        let property = name.as_str().and_then(|n| properties?.get(n));
                        property.is_some_and(|p| self.has_flag(p, flag))
                    };
                    Value::Array(names.iter().filter(|n| !hidden(n)).cloned().collect())
                }
                (
                    "properties" | "patternProperties" | "dependentSchemas",
                    Value::Object(entries),
                ) => Value::Object(
                    entries
                        .iter()
                        .map(|(name, s)| (name.clone(), self.view(s, direction)))
                        .collect(),
                ),
                ("allOf" | "anyOf" | "oneOf" | "prefixItems", Value::Array(items)) => {
                    Value::Array(items.iter().map(|s| self.view(s, direction)).collect())
                }
                (
                    "items"
                    | "additionalProperties"
                    | "not"
                    | "contains"
                    | "if"
                    | "then"
                    | "else"
                    | "unevaluatedProperties"
                    | "unevaluatedItems",
                    Value::Object(_),
                ) => self.view(value, direction),
                _ => value.clone(),
            };
            out.insert(key.clone(), converted);
        }
        Value::Object(out)
    }
}

/// Every slot a value refers to (`{"$ref": "#/$defs/N"}` at any depth), pushed to `out`.
fn collect_refs(value: &Value, out: &mut Vec<usize>) {
    match value {
        Value::Object(map) => {
            if let Some(id) = slot_ref(value) {
                out.push(id);
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
