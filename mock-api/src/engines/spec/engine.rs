//! The engine itself: the document, what was inferred from it, the stored items, and how
//! items are seeded, made and stamped.

use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use serde_json::{Value, json};

use openapi::generate::wire::param_text;
use openapi::model::Api;

use super::data::{Data, Stored};
use super::routing::Routes;
use super::validate::Judges;
use crate::core::clock::{Clock, format_timestamp};
use crate::core::engine::{Control, Namespaces};
use openapi::resources::{self, Model, Resource, Role};

/// Whether a value can be an id of the resource's items, by the id's schema.
pub(super) fn id_fits(
    schemas: &openapi::schema::Schemas,
    resource: &Resource,
    value: &Value,
) -> bool {
    resource
        .id_schema
        .as_ref()
        .is_none_or(|schema| super::values::valid(schemas, schema, value))
}

/// Items a list of a read-only collection shows (see `SpecEngine::listed_unstored`).
pub(super) const READ_ONLY_LISTED: u64 = 3;

/// How the document is served.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The path the document's paths are served under; `None` takes the first server's.
    pub base_path: Option<String>,
    /// Items generated into each top-level collection at start (`--seed-items`).
    pub seed_items: usize,
    /// Items per collection path at start (`--data`): `{"/pets": [{...}, ...]}`.
    pub data: Option<Value>,
    /// `--seed`: ids and seed items repeat.
    pub random_seed: Option<u64>,
    /// The only credentials accepted (`--credential`); empty: any of the right form.
    pub credentials: Vec<String>,
}

/// Why a document cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("the document has no operation the mock can serve")]
    NothingToServe,
    #[error("--base-path {0:?} must start with '/'")]
    BasePath(String),
    #[error("--data: {0}")]
    Data(String),
}

/// The engine's state: the document, what was inferred from it, and the stored items.
#[derive(Debug)]
pub struct SpecEngine {
    pub api: Arc<Api>,
    pub(super) model: Model,
    pub(super) routes: Routes,
    pub(super) judges: Vec<OnceLock<Judges>>,
    pub(super) namespaces: Arc<Namespaces<Data>>,
    pub(super) clock: Arc<Clock>,
    /// `""` or a path such as `/api/v3`, without a trailing slash.
    pub base: String,
    /// The document as given, served as JSON and as YAML text.
    pub(super) document: Document,
    pub(super) credentials: Vec<String>,
    /// Per resource, whether a delete makes an item gone: its reads can answer 404. A
    /// read-only item whose reads cannot (Kafka's configs) is reset by a delete instead,
    /// as the real server does.
    pub(super) vanishes: Vec<bool>,
    /// `--seed`, or 0: read-only items are generated from it.
    pub(super) random_seed: u64,
    /// Lines to print at start: operations left out, notes of the loader.
    pub warnings: Vec<String>,
}

/// Reads the document at a path or http URL, as the shared model and as it was written.
pub async fn load(location: &str) -> Result<(Api, String), openapi::LoadError> {
    let client = client().map_err(|e| openapi::LoadError::Read(location.to_owned(), e))?;
    openapi::load_with_root(&client, location).await
}

/// The client that fetches a document given as a URL: HTTPS as every tool speaks it
/// (`openapi::tls`: the system's roots; on Linux, `SSL_CERT_FILE` names others).
pub(super) fn client() -> Result<reqwest::Client, String> {
    openapi::tls::client_builder(&openapi::tls::TlsOptions::default())
        .map_err(|e| e.to_string())?
        .build()
        .map_err(|e| format!("TLS setup: {e}"))
}

/// The path of a server URL: `https://host/api/v3/` is `/api/v3`; variables make it `""`.
pub fn server_path(url: &str) -> String {
    let after_host = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |at| &rest[at..]),
        None => url,
    };
    let path = after_host.split(['?', '#']).next().unwrap_or("");
    match path.contains('{') || !path.starts_with('/') {
        true => String::new(),
        false => path.trim_end_matches('/').to_owned(),
    }
}

/// What the mock cannot model as the document says, one line each: schemas no value
/// satisfies, and items with no id field.
pub(super) fn unmodeled(api: &Api, model: &Model) -> Vec<String> {
    use openapi::schema::contradiction::contradiction;
    let schemas = &api.schemas;
    let mut lines = Vec::new();
    for operation in &api.operations {
        let label = operation.label();
        if let Some((status, Some(schema))) = resources::success_schema(operation)
            && let Some(why) = contradiction(schemas, schema)
        {
            lines.push(format!(
                "{label}: no value fits its {status} response ({why}): it is answered with the nearest value, which does not fit"
            ));
        }
        let required = operation
            .params
            .iter()
            .filter(|p| p.required)
            .map(|p| &p.schema)
            .chain(
                operation
                    .body
                    .iter()
                    .filter(|b| b.required)
                    .map(|b| &b.schema),
            );
        if let Some(why) = required.filter_map(|s| contradiction(schemas, s)).next() {
            lines.push(format!(
                "{label}: no request fits it ({why}): every request is refused"
            ));
        }
    }
    for resource in model.resources.iter().filter(|r| r.creatable) {
        if resource.id_field.is_none() && resource.item_schema.is_some() {
            let named = match resource.param.as_deref() {
                Some("id") | None => "id".to_owned(),
                Some(param) => format!("{param} or id"),
            };
            lines.push(format!(
                "{}: its items have no id field (none named {named}): each is kept under an id the mock gives it (1, 2, 3, or a UUID where the id is text), in a documented `Location` header where there is one",
                resource.collection,
            ));
        }
    }
    lines
}

/// The document as given, kept as its text and written as JSON and as YAML at its first
/// request (a large document's YAML takes longer to write than the rest of the start, and
/// a parsed copy held from the start would take many times its text's memory).
#[derive(Debug)]
pub(super) struct Document {
    pub(super) text: Arc<str>,
    pub(super) json: OnceLock<Bytes>,
    pub(super) yaml: OnceLock<Bytes>,
}

impl Document {
    /// The text read again: JSON (most big documents), else YAML.
    pub(super) fn parsed(&self) -> Value {
        serde_json::from_str(&self.text)
            .or_else(|_| yaml_serde::from_str(&self.text))
            .unwrap_or(Value::Null)
    }

    pub(super) fn json(&self) -> Bytes {
        let text = || Bytes::from(serde_json::to_vec(&self.parsed()).unwrap_or_default());
        self.json.get_or_init(text).clone()
    }

    pub(super) fn yaml(&self) -> Bytes {
        let text = || Bytes::from(yaml_serde::to_string(&self.parsed()).unwrap_or_default());
        self.yaml.get_or_init(text).clone()
    }
}

impl SpecEngine {
    pub fn new(
        api: Arc<Api>,
        text: Arc<str>,
        options: &Options,
        clock: Arc<Clock>,
    ) -> Result<Arc<SpecEngine>, SpecError> {
        if api.operations.is_empty() {
            return Err(SpecError::NothingToServe);
        }
        let base = match &options.base_path {
            Some(path) if !path.is_empty() && !path.starts_with('/') => {
                return Err(SpecError::BasePath(path.clone()));
            }
            Some(path) => path.trim_end_matches('/').to_owned(),
            None => api
                .servers
                .first()
                .map(|s| server_path(s))
                .unwrap_or_default(),
        };
        // The loader's other notes speak of what a checker can send; the mock says how it
        // read the document, as every tool does, and what it does not serve.
        let mut warnings: Vec<String> = api
            .repairs
            .iter()
            .map(|repair| format!("note: {repair}"))
            .chain(api.set_aside.iter().map(|aside| {
                format!(
                    "{} is answered from its documented examples only, unchecked and without state: {}",
                    aside.operation.label(),
                    aside.why
                )
            }))
            .collect();
        let model = resources::infer(&api);
        // Per resource: whether its reads can say gone, and whether it has a delete.
        let mut reads_404 = vec![false; model.resources.len()];
        let mut deletable = vec![false; model.resources.len()];
        for (operation, (role, resource)) in api.operations.iter().zip(&model.roles) {
            match (role, resource) {
                (Role::Read, Some(at)) => reads_404[*at] |= operation.response_for(404).is_some(),
                (Role::Delete, Some(at)) => deletable[*at] = true,
                _ => {}
            }
        }
        let vanishes: Vec<bool> = model
            .resources
            .iter()
            .zip(&reads_404)
            .map(|(resource, reads_404)| resource.creatable || *reads_404)
            .collect();
        // An item that can go missing: one of a resource whose items are created, or gone
        // once deleted.
        let can_miss = |at: usize| vanishes[at] && (model.resources[at].creatable || deletable[at]);
        for (index, operation) in api.operations.iter().enumerate() {
            let (role, resource) = model.roles[index];
            let item = !matches!(role, Role::Other | Role::List | Role::Create)
                && resource.is_some_and(can_miss);
            let can_refuse = operation.secured
                || operation.params.iter().any(|p| p.required)
                || operation.body.is_some();
            let misses = item || model.parents[index].iter().any(|(_, at)| can_miss(*at));
            if misses && operation.response_for(404).is_none() {
                warnings.push(format!(
                    "{} documents no 404: a missing item gets one all the same, as from a real server",
                    operation.label()
                ));
            } else if operation.secured
                && operation.response_for(401).is_none()
                && operation.response_for(403).is_none()
            {
                warnings.push(format!(
                    "{} documents no 401 or 403: a request without credentials gets 401 all the same, as from a real server",
                    operation.label()
                ));
            } else if can_refuse && !super::respond::documents_refusals(operation) {
                warnings.push(format!(
                    "{} documents no 4xx status: a request it refuses gets the status meant (400, 401 or 415), undocumented",
                    operation.label()
                ));
            }
        }
        warnings.extend(unmodeled(&api, &model));
        let routes = Routes::new(&api);
        let judges = api.operations.iter().map(|_| OnceLock::new()).collect();
        let document = Document {
            text,
            json: OnceLock::new(),
            yaml: OnceLock::new(),
        };
        let empty = Data::new(Stored::default(), options.random_seed);
        let mut engine = SpecEngine {
            api,
            model,
            routes,
            judges,
            namespaces: Arc::new(Namespaces::new(empty, clock.clone())),
            clock: clock.clone(),
            base,
            document,
            credentials: options.credentials.clone(),
            random_seed: options.random_seed.unwrap_or(0),
            vanishes,
            warnings,
        };
        let seeded = engine.seed(options)?;
        engine.namespaces = Arc::new(Namespaces::new(seeded, clock));
        Ok(Arc::new(engine))
    }

    /// What the toolkit resets and snapshots.
    pub fn control(self: &Arc<SpecEngine>) -> Arc<dyn Control> {
        self.namespaces.clone()
    }

    /// What an operation's requests are judged by, compiled on its first request.
    pub(super) fn judges(&self, operation: usize) -> &Judges {
        self.judges[operation]
            .get_or_init(|| Judges::new(&self.api, &self.api.operations[operation]))
    }

    /// The items at start: `--data`, then `--seed-items` generated into every top-level
    /// collection that has an item schema.
    pub(super) fn seed(&self, options: &Options) -> Result<Data, SpecError> {
        let data = Data::new(Stored::default(), options.random_seed);
        let mut stored = Stored::default();
        if let Some(given) = &options.data {
            let Value::Object(collections) = given else {
                return Err(SpecError::Data(
                    "expected an object of collection paths, each an array of items".to_owned(),
                ));
            };
            for (path, items) in collections {
                let at = self
                    .model
                    .resources
                    .iter()
                    .position(|r| r.collection == resources::trimmed(path))
                    .ok_or_else(|| {
                        SpecError::Data(format!("{path} is not a collection of the document"))
                    })?;
                let Value::Array(items) = items else {
                    return Err(SpecError::Data(format!("{path} must be an array of items")));
                };
                let key = resources::trimmed(path);
                for (index, item) in items.iter().enumerate() {
                    self.store_new(&data, &mut stored, at, key, item.clone(), true)
                        .map_err(|why| SpecError::Data(format!("{path}[{index}]: {why}")))?;
                }
            }
        }
        if options.seed_items > 0 {
            for (at, resource) in self.model.resources.iter().enumerate() {
                let (false, Some(schema)) =
                    (resource.collection.contains('{'), &resource.item_schema)
                else {
                    continue;
                };
                let seed = options.random_seed.unwrap_or(0) ^ at as u64;
                let key = resource.collection.clone();
                for item in
                    super::values::sample(&self.api.schemas, schema, options.seed_items, seed)
                {
                    self.store_new(&data, &mut stored, at, &key, item, false)
                        .map_err(|why| SpecError::Data(format!("{key}: {why}")))?;
                }
            }
        }
        Ok(data.seeded(stored))
    }

    /// Stores a new item: its id (the one it has, else a new one), server timestamps, made
    /// to fit the item schema. With `strict`, an item that does not fit is an error.
    pub(super) fn store_new(
        &self,
        data: &Data,
        stored: &mut Stored,
        resource: usize,
        collection: &str,
        mut item: Value,
        strict: bool,
    ) -> Result<(String, Value), String> {
        let resource = &self.model.resources[resource];
        let schemas = &self.api.schemas;
        // A body that is not an object (springfox's `Session` made from a string) still
        // makes an item of the item schema, with an id.
        if resource.id_field.is_some() && !item.is_object() {
            item = json!({});
        }
        let id = self.id_for(data, stored, resource, collection, &item);
        if let (Some(field), Value::Object(object)) = (&resource.id_field, &mut item) {
            object.insert(field.clone(), id.1.clone());
        }
        self.stamp(resource, &mut item, true);
        let item = match &resource.item_schema {
            Some(schema) if strict && !super::values::valid(schemas, schema, &item) => {
                let why = schemas
                    .errors(schema, openapi::Direction::Response, &item)
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                return Err(format!("does not fit the document: {why}"));
            }
            Some(schema) => super::values::conform(schemas, schema, &item),
            None => item,
        };
        stored
            .put(collection, id.0.clone(), item.clone())
            .map_err(|e| e.to_string())?;
        Ok((id.0, item))
    }

    /// The id of a new item: the one it carries if it is free, else the next number or a
    /// UUID, whichever the id's schema allows; as the key text and as the field's value.
    pub(super) fn id_for(
        &self,
        data: &Data,
        stored: &Stored,
        resource: &Resource,
        collection: &str,
        item: &Value,
    ) -> (String, Value) {
        let schemas = &self.api.schemas;
        let fits = |value: &Value| id_fits(schemas, resource, value);
        if let Some(given) = resource.id_field.as_ref().and_then(|f| item.get(f)) {
            let key = param_text(given);
            // An id that cannot be one path segment could never be read back by it.
            let one_segment = !key.trim().is_empty() && !key.contains('/');
            if one_segment && fits(given) && stored.get(collection, &key).is_none() {
                return (key, given.clone());
            }
        }
        let number = stored.next_number(collection);
        let candidates = [
            json!(number),
            json!(data.uuid().to_string()),
            json!(number.to_string()),
        ];
        let value = candidates
            .into_iter()
            .find(|v| fits(v))
            .or_else(|| {
                resource
                    .id_schema
                    .as_ref()
                    .map(|s| super::values::full(schemas, s))
            })
            .unwrap_or_else(|| json!(number));
        let mut key = param_text(&value);
        // A generated id already taken (a fixed example, say): a fresh UUID as the key.
        if stored.get(collection, &key).is_some() {
            key = data.uuid().to_string();
        }
        (key, value)
    }

    /// The items a list of a read-only collection shows: reads answer every id, and a list
    /// shows a few of them ([`READ_ONLY_LISTED`]: ids 1, 2, 3 as the id's schema takes them),
    /// so that a client that takes ids from the list (a load, a walk) finds some, as it
    /// would on a real deployment (the Kafka REST proxy lists its clusters).
    pub(super) fn listed_unstored(
        &self,
        stored: &Stored,
        resource: usize,
        collection: &str,
    ) -> Vec<Value> {
        let model = &self.model.resources[resource];
        if model.creatable || model.id_field.is_none() {
            return Vec::new();
        }
        let schemas = &self.api.schemas;
        let fits = |value: &Value| id_fits(schemas, model, value);
        (1..=READ_ONLY_LISTED)
            .filter_map(|n| {
                let id = [json!(n), json!(n.to_string())]
                    .into_iter()
                    .find(|v| fits(v))
                    .or_else(|| {
                        let schema = model.id_schema.as_ref()?;
                        super::values::sample(schemas, schema, 1, self.random_seed ^ n).pop()
                    })?;
                let key = param_text(&id);
                // One stored under the same id (a replace) is listed as stored.
                if key.contains('/') || stored.get(collection, &key).is_some() {
                    return None;
                }
                self.unstored(stored, resource, collection, &key)
            })
            .collect()
    }

    /// An item nobody stored, of a read-only collection (no operation creates its items):
    /// every id names one until it is deleted, generated from the item schema (the same for
    /// the same id and seed) with the path's id in its id field.
    pub(super) fn unstored(
        &self,
        stored: &Stored,
        resource: usize,
        collection: &str,
        id: &str,
    ) -> Option<Value> {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let resource = &self.model.resources[resource];
        if resource.creatable || stored.is_deleted(collection, id) {
            return None;
        }
        let schemas = &self.api.schemas;
        let mut hasher = DefaultHasher::new();
        (collection, id).hash(&mut hasher);
        let seed = self.random_seed ^ hasher.finish();
        let mut item = match &resource.item_schema {
            Some(schema) => super::values::sample(schemas, schema, 1, seed).pop()?,
            None => json!({}),
        };
        if let (Some(field), Value::Object(object)) = (&resource.id_field, &mut item) {
            // The id as its schema types it: `7` for an integer id, `"7"` for a string one.
            let typed = serde_json::from_str::<Value>(id)
                .ok()
                // Exact integers only: past 64 bits JSON readers see a float.
                .filter(|n| n.is_i64() || n.is_u64())
                .filter(|n| {
                    resource
                        .id_schema
                        .as_ref()
                        .is_some_and(|s| super::values::valid(schemas, s, n))
                })
                .unwrap_or_else(|| json!(id));
            if let Some(schema) = &resource.item_schema {
                super::values::set_if_valid(schemas, schema, object, field, typed);
            }
        }
        Some(item)
    }

    /// Server-set times: on a create every `date-time` property not sent; on an update
    /// those named as update times.
    pub(super) fn stamp(&self, resource: &Resource, item: &mut Value, create: bool) {
        let (Some(schema), Value::Object(object)) = (&resource.item_schema, item) else {
            return;
        };
        let schemas = &self.api.schemas;
        // An `allOf` item schema (Swagger 2.0's `Pet`) holds its properties in its parts.
        let view = openapi::schema::query::object_view(schemas, schema);
        let Some(properties) = view.get("properties").and_then(Value::as_object) else {
            return;
        };
        let now = format_timestamp(self.clock.now());
        for (name, property) in properties {
            let is_time = schemas.resolve(property).get("format") == Some(&json!("date-time"));
            let lower = name.to_ascii_lowercase();
            let updates = lower.starts_with("updated") || lower.starts_with("modified");
            if is_time && ((create && !object.contains_key(name)) || updates) {
                object.insert(name.clone(), json!(now));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn a_create_stamps_times_of_an_all_of_item_schema() {
        let api = openapi::parse(
            r##"{"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {
                "/pets": {"post": {"parameters": [{"name": "b", "in": "body", "required": true,
                    "schema": {"$ref": "#/definitions/NewPet"}}],
                    "responses": {"201": {"description": "made", "schema": {"$ref": "#/definitions/Pet"}}}}},
                "/pets/{id}": {"get": {"parameters": [{"name": "id", "in": "path", "required": true, "type": "integer"}],
                    "responses": {"200": {"description": "one", "schema": {"$ref": "#/definitions/Pet"}}}}}},
              "definitions": {
                "NewPet": {"required": ["name"], "properties": {"name": {"type": "string"}}},
                "Pet": {"allOf": [{"$ref": "#/definitions/NewPet"},
                    {"required": ["id"], "properties": {"id": {"type": "integer"},
                     "created_at": {"type": "string", "format": "date-time"}}}]}}}"##,
        )
        .unwrap();
        let at = crate::core::clock::parse("2026-01-01T00:00:00Z").unwrap();
        let clock = Arc::new(Clock::new(Some(at)));
        let engine =
            SpecEngine::new(Arc::new(api), Arc::from("{}"), &Options::default(), clock).unwrap();
        let data = Data::new(Stored::default(), None);
        let mut stored = Stored::default();
        let (_, item) = engine
            .store_new(
                &data,
                &mut stored,
                0,
                "/pets",
                json!({"name": "rex"}),
                false,
            )
            .unwrap();
        assert_eq!(item["id"], 1);
        assert_eq!(item["created_at"], "2026-01-01T00:00:00.000Z");
    }
}
