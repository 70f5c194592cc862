//! The schemas of a document as an arena of JSON Schema 2020-12 slots that refer to each
//! other by id (`{"$ref": "#/$defs/<id>"}`), with validators compiled once per schema and
//! direction by the jsonschema crate. `load` fills it (the dialects of 2.0, 3.0 and 3.1 into
//! slots); it never reads a document itself.
//!
//! - [`query`]: what every part asks of a schema (types, required names, `allOf` merged);
//! - [`repair`]: keywords of the wrong type read as their authors meant, or dropped;
//! - [`ranges`]: the ranges of `int32` and `int64`, enforced in requests;
//! - [`contradiction`]: schemas no value satisfies, found by their keywords alone.
//!
//! Validators are compiled lazily, once per distinct schema content and direction: every
//! slot is in one registry document per direction, checked against the meta-schema once when
//! the document is loaded, so a validator compiles only its own small root and what it
//! reaches, and a big document costs in proportion to what is used.

pub mod contradiction;
mod direction;
pub mod query;
pub mod ranges;
pub mod repair;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use jsonschema::{Draft, PatternOptions, Registry, Validator};
use serde_json::{Map, Value, json};

use crate::error::LoadError;
pub use direction::Direction;

/// How many bare references in a row [`Schemas::resolve`] follows.
const MAX_CHAIN: usize = 64;

/// The base URI of the registry document that holds every slot, per direction.
const ARENA_URIS: [&str; 2] = ["urn:openapi-arena:request", "urn:openapi-arena:response"];

/// The most bytes a compiled `pattern` may take: past it the loader drops the pattern (with a
/// note) rather than making every validation of the schema slow.
pub const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// How every validator of the kit is compiled: JSON Schema 2020-12, formats checked, and
/// patterns within a size bound (a pattern past it was dropped by the loader, with a note).
pub(crate) fn compile_options() -> jsonschema::ValidationOptions<'static> {
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .with_pattern_options(PatternOptions::fancy_regex().size_limit(PATTERN_SIZE_LIMIT))
        .with_keyword(ranges::KEYWORD, ranges::factory)
}

/// The arena: every schema of the document, normalized, each in one slot.
#[derive(Debug)]
pub struct Schemas {
    slots: Vec<Value>,
    origins: Vec<String>,
    /// Per direction, the registry that holds every slot as that direction sees it, under
    /// `$defs` at its arena URI (the only copy: built at the first validator).
    registries: [OnceLock<Registry<'static>>; 2],
    /// Validators of schemas that are not a bare slot reference, by content.
    validators: Mutex<ByContent>,
    /// For each slot, the first slot with the same content: slots that are alike share one
    /// validator (a document that repeats an inline schema compiles it once).
    /// Worked out at the first validator, not at load: it hashes every slot, which a big
    /// document's start-up would pay for before any request needs it.
    alike: OnceLock<Vec<usize>>,
    /// The validators of bare slot references (`{"$ref": "#/$defs/N"}`), per slot and
    /// direction: the common case, found without a lock or a key to build.
    by_slot: Vec<[OnceLock<Compiled>; 2]>,
    /// Values worked out once per schema (the simplest valid value, say), by key.
    memo: Mutex<Memo>,
}

/// A schema's content hash with what it is for: a lookup key that needs no serializing.
type Key = (u64, Direction, &'static str);

/// Validators by content: schemas whose hashes collide sit side by side.
type ByContent = HashMap<Key, Vec<(Value, Arc<Validator>)>>;

/// A slot's validator, or why it does not compile.
type Compiled = Result<Arc<Validator>, String>;

/// Remembered values, within a byte budget (past it, values are worked out every time).
#[derive(Debug, Default)]
struct Memo {
    values: HashMap<Key, Vec<(Value, Value)>>,
    bytes: usize,
}

/// A hash of a JSON value's content (object keys in their order).
pub fn content_hash(value: &Value) -> u64 {
    fn feed(value: &Value, hasher: &mut std::collections::hash_map::DefaultHasher) {
        match value {
            Value::Null => 0u8.hash(hasher),
            Value::Bool(b) => (1u8, b).hash(hasher),
            Value::Number(n) => (2u8, n.to_string()).hash(hasher),
            Value::String(s) => (3u8, s).hash(hasher),
            Value::Array(items) => {
                (4u8, items.len()).hash(hasher);
                items.iter().for_each(|v| feed(v, hasher));
            }
            Value::Object(map) => {
                (5u8, map.len()).hash(hasher);
                for (key, v) in map {
                    key.hash(hasher);
                    feed(v, hasher);
                }
            }
        }
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    feed(value, &mut hasher);
    hasher.finish()
}

/// Enough for the simplest values of every schema of Microsoft Graph's 22,361 operations: past
/// it, values are worked out again at every use.
const MEMO_BYTES: usize = 128 << 20;

impl Schemas {
    pub fn new(slots: Vec<Value>, origins: Vec<String>) -> Schemas {
        Schemas {
            by_slot: slots.iter().map(|_| Default::default()).collect(),
            alike: OnceLock::new(),
            slots,
            origins,
            registries: Default::default(),
            validators: Mutex::default(),
            memo: Mutex::default(),
        }
    }

    /// For each slot, the first slot with the same content.
    fn alike(&self) -> &[usize] {
        self.alike.get_or_init(|| {
            let slots = &self.slots;
            let mut first: HashMap<u64, Vec<usize>> = HashMap::new();
            slots
                .iter()
                .enumerate()
                .map(|(id, slot)| {
                    let same = first.entry(content_hash(slot)).or_default();
                    match same.iter().find(|&&other| slots[other] == *slot) {
                        Some(&other) => other,
                        None => {
                            same.push(id);
                            id
                        }
                    }
                })
                .collect()
        })
    }

    /// A value worked out once for a schema and what it is for (`what`, with the
    /// direction), and remembered (the lock is not held while working).
    pub fn memo(
        &self,
        schema: &Value,
        what: (&'static str, Direction),
        work: impl FnOnce() -> Value,
    ) -> Value {
        let key = (content_hash(schema), what.1, what.0);
        if let Some(entries) = self
            .memo
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values
            .get(&key)
            && let Some((_, value)) = entries.iter().find(|(s, _)| s == schema)
        {
            return value.clone();
        }
        let value = work();
        // A rough size: what the schema and the value hold, without writing them out.
        let size = json_size(schema) + json_size(&value);
        let mut memo = self.memo.lock().unwrap_or_else(PoisonError::into_inner);
        if memo.bytes + size <= MEMO_BYTES {
            memo.bytes += size;
            memo.values
                .entry(key)
                .or_default()
                .push((schema.clone(), value.clone()));
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

    /// The compiled validator for a schema, in one direction: compiled at its first use,
    /// once per distinct content.
    pub fn validator(
        &self,
        schema: &Value,
        direction: Direction,
    ) -> Result<Arc<Validator>, LoadError> {
        let slot = slot_ref(schema)
            .filter(|_| schema.as_object().is_some_and(|m| m.len() == 1))
            .and_then(|id| self.alike().get(id).copied());
        if let Some(id) = slot
            && let Some(cells) = self.by_slot.get(id)
        {
            let reference = Schemas::reference(id);
            return cells[direction as usize]
                .get_or_init(|| {
                    self.compile(&reference, direction)
                        .map(Arc::new)
                        .map_err(|e| e.to_string())
                })
                .clone()
                .map_err(|message| LoadError::Schema {
                    pointer: self.origins[id].clone(),
                    message,
                });
        }
        let key = (content_hash(schema), direction, "validator");
        if let Some(entries) = self.lock().get(&key)
            && let Some((_, validator)) = entries.iter().find(|(s, _)| s == schema)
        {
            return Ok(validator.clone());
        }
        let validator = Arc::new(self.compile(schema, direction)?);
        self.lock()
            .entry(key)
            .or_default()
            .push((schema.clone(), validator.clone()));
        Ok(validator)
    }

    /// Compiles a schema against the direction's registry: only its own root is checked
    /// against the meta-schema (the slots were, once, at loading).
    fn compile(&self, schema: &Value, direction: Direction) -> Result<Validator, LoadError> {
        let registry = self.registries[direction as usize].get_or_init(|| {
            let arena = json!({"$defs": self.defs(direction)});
            Registry::new()
                .draft(Draft::Draft202012)
                .add(ARENA_URIS[direction as usize], arena)
                .and_then(|builder| builder.prepare())
                .unwrap_or_else(|_| Registry::new().prepare().expect("an empty registry"))
        });
        let mut root = match self.view(schema, direction) {
            Value::Object(map) => Value::Object(map),
            other => json!({"allOf": [other]}),
        };
        absolute_refs(&mut root, ARENA_URIS[direction as usize]);
        compile_options()
            .with_registry(registry)
            .build(&root)
            .map_err(|e| LoadError::Schema {
                pointer: self.origin(schema).map_or_else(
                    || root.to_string().chars().take(120).collect(),
                    str::to_owned,
                ),
                message: e.to_string(),
            })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ByContent> {
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

    /// Every slot as one direction sees it, as a `$defs` map: the registry's document.
    fn defs(&self, direction: Direction) -> Value {
        let defs: Map<String, Value> = self
            .slots
            .iter()
            .enumerate()
            .map(|(id, slot)| (id.to_string(), self.view(slot, direction)))
            .collect();
        Value::Object(defs)
    }

    /// The properties a schema declares itself and through its `allOf` parts (each reference
    /// followed), by name, nothing copied; a name may come more than once.
    pub fn declared<'a>(&'a self, schema: &'a Value) -> Vec<(&'a str, &'a Value)> {
        let mut out = Vec::new();
        if let Value::Object(map) = self.resolve(schema) {
            self.declared_properties(map, &mut out, 0);
        }
        out
    }

    /// The properties an object schema declares itself and through its `allOf` parts (each
    /// reference followed), by name: what `required` beside them can name.
    fn declared_properties<'a>(
        &'a self,
        map: &'a Map<String, Value>,
        out: &mut Vec<(&'a str, &'a Value)>,
        depth: usize,
    ) {
        if depth > 16 {
            return;
        }
        if let Some(properties) = map.get("properties").and_then(Value::as_object) {
            out.extend(properties.iter().map(|(n, p)| (n.as_str(), p)));
        }
        for part in map
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Value::Object(part) = self.resolve(part) {
                self.declared_properties(part, out, depth + 1);
            }
        }
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
        if let Some(format) = ranges::ranged_format(map, direction) {
            out.insert(ranges::KEYWORD.to_owned(), json!(format));
        }
        for (key, value) in map {
            let converted = match (key.as_str(), value) {
                ("required", Value::Array(names)) => {
                    // The property may be declared beside `required` or in an `allOf` part
                    // (PetClinic's `Vet: {allOf: [VetFields, {id: readOnly}], required: [id]}`).
                    let mut declared = Vec::new();
                    self.declared_properties(map, &mut declared, 0);
                    let hidden = |name: &Value| {
                        name.as_str().is_some_and(|n| {
                            declared
                                .iter()
                                .any(|(d, p)| *d == n && self.has_flag(p, flag))
                        })
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

/// The root's references to slots, made absolute: into the registry's arena document.
fn absolute_refs(value: &mut Value, base: &str) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("$ref")
                && reference.starts_with("#/$defs/")
            {
                reference.insert_str(0, base);
            }
            map.values_mut().for_each(|v| absolute_refs(v, base));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| absolute_refs(v, base)),
        _ => {}
    }
}

/// About how many bytes a JSON value takes, counted without writing it out.
pub fn json_size(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) => 5,
        Value::Number(_) => 12,
        Value::String(s) => s.len() + 2,
        Value::Array(items) => 2 + items.iter().map(|v| json_size(v) + 1).sum::<usize>(),
        Value::Object(map) => {
            2 + map
                .iter()
                .map(|(k, v)| k.len() + 4 + json_size(v))
                .sum::<usize>()
        }
    }
}

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

/// The slot a bare `{"$ref": "#/$defs/N"}` names.
pub fn slot_ref(schema: &Value) -> Option<usize> {
    let map = schema.as_object()?;
    let reference = map.get("$ref")?.as_str()?;
    reference.strip_prefix("#/$defs/")?.parse().ok()
}
