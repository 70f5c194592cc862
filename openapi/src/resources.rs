//! The one resource model of a document, inferred from its structure: a collection path
//! (`/pets`) with an item path below it (`/pets/{petId}`), the id field of its items (inside
//! a one-property wrapper such as RealWorld's `{"article": {...}}`), whether any operation
//! creates them, and what each operation does to them. The mock stores by it; the checker's
//! inferred links and the load generator's ids follow it.

use std::collections::HashMap;

use http::Method;
use serde_json::Value;

use crate::model::{Api, Location, Operation, StatusKey};
use crate::schema::Schemas;
use crate::schema::query::{object_view, required_names, types};

/// What an operation does to the stored resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `POST` on a collection: stores what was sent.
    Create,
    /// `GET` on a collection answering a list.
    List,
    /// `GET`, `PUT`, `PATCH`, `DELETE` on an item.
    Read,
    Replace,
    Patch,
    Delete,
    /// `PUT` on a collection whose body carries the item's id (the Petstore's `PUT /pet`).
    ReplaceByBody,
    /// Not CRUD (login, search, an action): its documented success response.
    Other,
}

/// A collection and its items, by path template (without a trailing slash).
#[derive(Debug, Clone)]
pub struct Resource {
    /// `/pets`, or `/users/{userId}/posts` for a nested one.
    pub collection: String,
    /// The item path's parameter (`petId`).
    pub param: Option<String>,
    /// The field of an item that holds its id (`id`), when the items have one.
    pub id_field: Option<String>,
    /// The id's schema: the field's, else the path parameter's.
    pub id_schema: Option<Value>,
    /// The schema of a stored item as reads answer it, without its wrapper.
    pub item_schema: Option<Value>,
    /// The one property reads wrap an item in (`article`), when they do.
    pub wrapper: Option<String>,
    /// Whether an operation of the document creates items. A resource none creates is
    /// read-only: every id names an item (the Kafka REST proxy's clusters).
    pub creatable: bool,
}

impl Resource {
    /// Where a body of this resource keeps the id: `/id`, or `/article/slug` in a wrapper.
    pub fn id_pointer(&self) -> Option<String> {
        let field = self.id_field.as_deref()?;
        Some(match &self.wrapper {
            Some(wrapper) => format!("/{}/{}", escape(wrapper), escape(field)),
            None => format!("/{}", escape(field)),
        })
    }
}

/// A name as one JSON pointer token.
pub fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// Every operation's role and resource (an index into `resources`).
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub resources: Vec<Resource>,
    /// Per operation of the document, in order.
    pub roles: Vec<(Role, Option<usize>)>,
    /// Per operation, the items its path lies under (`/pets/{petId}/photos` lies under a
    /// pet): how many leading segments of a request's path name each, and its resource.
    /// They must exist.
    pub parents: Vec<Vec<(usize, usize)>>,
    /// Per operation, the one property its request body wraps the item in (`article`).
    pub body_wrappers: Vec<Option<String>>,
}

impl Model {
    /// The resource whose collection is `path` (with or without a trailing slash).
    pub fn collection(&self, path: &str) -> Option<usize> {
        let path = trimmed(path);
        self.resources.iter().position(|r| r.collection == path)
    }
}

/// A schema that wraps one object in one property (`{"article": {...}}`, RealWorld's
/// shape): the property's name and the object's schema. A list wrapper (an array inside)
/// or an object of two or more properties wraps nothing.
pub fn unwrap(schemas: &Schemas, schema: &Value) -> Option<(String, Value)> {
    // The names first, nothing copied: most schemas have more than one.
    let mut names: Vec<&str> = schemas
        .declared(schema)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.len() != 1 {
        return None;
    }
    let view = object_view(schemas, schema);
    let properties = view.get("properties")?.as_object()?;
    let [(name, inner)] = properties.iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    let inner_view = object_view(schemas, inner);
    let is_object = types(&inner_view) == ["object"] || inner_view.get("properties").is_some();
    (is_object && inner_view.get("properties").is_some()).then(|| (name.clone(), inner.clone()))
}

/// `/pets/` and `/pets` are one collection: frameworks such as Django REST framework end
/// every path with a slash.
pub fn trimmed(path: &str) -> &str {
    match path.len() > 1 {
        true => path.trim_end_matches('/'),
        false => path,
    }
}

/// The parent of a path and its last segment: `/pets/{petId}` is `/pets` and `{petId}`.
pub fn split_last(path: &str) -> Option<(&str, &str)> {
    let path = trimmed(path);
    let at = path.rfind('/')?;
    Some((&path[..at], &path[at + 1..]))
}

/// Whether a path names one item: its last segment is one parameter (`/pets/{petId}`, not
/// `/clusters/{cluster_id}/acls`).
pub fn names_item(path: &str) -> bool {
    split_last(path).is_some_and(|(_, last)| whole_param(last).is_some())
}

/// The parameter name of a segment that is exactly one template (`{petId}`).
pub(crate) fn whole_param(segment: &str) -> Option<&str> {
    segment
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .filter(|name| !name.contains(['{', '}']))
}

/// The JSON schema of an operation's first 2xx response, if it has one (`*/*` admits
/// JSON: springfox documents every response so).
pub fn success_schema(operation: &Operation) -> Option<(u16, Option<&Value>)> {
    operation
        .responses
        .iter()
        .find_map(|(key, response)| match key {
            StatusKey::Code(code) if (200..300).contains(code) => {
                Some((*code, response.json().and_then(|(_, schema)| schema)))
            }
            _ => None,
        })
}

/// The items of a list response: the array itself, or the first array property of an
/// object that wraps it (`{"items": [...], "total": 3}`).
pub fn list_items(schemas: &Schemas, schema: &Value) -> Option<(Option<String>, Value)> {
    let resolved = schemas.resolve(schema);
    if types(resolved) == ["array"] {
        return Some((None, resolved.get("items")?.clone()));
    }
    let view = object_view(schemas, schema);
    let properties = view.get("properties")?.as_object()?;
    properties.iter().find_map(|(name, property)| {
        let property = schemas.resolve(property);
        (types(property) == ["array"])
            .then(|| {
                property
                    .get("items")
                    .map(|items| (Some(name.clone()), items.clone()))
            })
            .flatten()
    })
}

/// Where an object schema keeps the value a path parameter takes: a property of the
/// parameter's own name (`/username` for `{username}`), else `/id` for a parameter that
/// names an id (`{id}`, `{petId}`, `{user_id}`, `{pk}`), also one level down
/// (`/<property>/id`). A parameter such as `{username}` never takes an `id`.
pub fn id_pointer(schemas: &Schemas, schema: &Value, param: &str) -> Option<String> {
    // `Pet: allOf [NewPet, {id}]` holds its properties in its parts.
    let view = object_view(schemas, schema);
    let properties = view.get("properties")?.as_object()?;
    if param != "id" && properties.contains_key(param) {
        return Some(format!("/{param}"));
    }
    let lower = param.to_ascii_lowercase();
    let is_id = lower.ends_with("id") || lower == "pk";
    if is_id {
        for name in ["id", "pk"] {
            if properties.contains_key(name) {
                return Some(format!("/{name}"));
            }
        }
    }
    // One level down, in a wrapper (RealWorld's `{"article": {"slug": ...}}`): the
    // parameter's own field, or an `id`.
    properties.iter().find_map(|(name, property)| {
        let inner = schemas.resolve(property).get("properties")?.as_object()?;
        match (
            param != "id" && inner.contains_key(param),
            is_id && inner.contains_key("id"),
        ) {
            (true, _) => Some(format!("/{name}/{param}")),
            (false, true) => Some(format!("/{name}/id")),
            _ => None,
        }
    })
}

/// Reads the document's structure into resources and roles.
pub fn infer(api: &Api) -> Model {
    let schemas = &api.schemas;
    // Item paths by the collection above them (the first in document order): an item path's
    // last segment is one parameter. Indexed once: Microsoft Graph has 10,000 paths.
    let mut items_by_collection: HashMap<&str, &str> = HashMap::new();
    for operation in &api.operations {
        if let Some((parent, last)) = split_last(&operation.path)
            && let Some(param) = whole_param(last)
        {
            items_by_collection.entry(parent).or_insert(param);
        }
    }
    let item_of = |collection: &str| items_by_collection.get(trimmed(collection)).copied();
    let mut model = Model::default();
    let mut by_collection: HashMap<String, usize> = HashMap::new();
    let mut resource_of = |model: &mut Model, collection: &str| -> usize {
        let collection = trimmed(collection).to_owned();
        if let Some(at) = by_collection.get(&collection) {
            return *at;
        }
        let param = item_of(&collection).map(str::to_owned);
        by_collection.insert(collection.clone(), model.resources.len());
        model.resources.push(Resource {
            collection,
            param,
            id_field: None,
            id_schema: None,
            item_schema: None,
            wrapper: None,
            creatable: false,
        });
        model.resources.len() - 1
    };
    for operation in &api.operations {
        let path = operation.path.as_str();
        let as_item = split_last(path).and_then(|(parent, last)| {
            whole_param(last)?;
            Some(parent)
        });
        let has_items = item_of(path).is_some();
        let lists = || {
            success_schema(operation)
                .and_then(|(_, schema)| schema)
                .and_then(|schema| list_items(schemas, schema))
                .is_some()
        };
        // `/api/sessions/{source}/{type}` is an item of `/api/sessions/{source}` by its
        // shape, and a collection when items lie below it and it is created into or listed.
        let role = match (&operation.method, as_item) {
            (&Method::POST, _) if has_items => Some((Role::Create, path)),
            (&Method::GET, Some(_)) if has_items && lists() => Some((Role::List, path)),
            (&Method::GET, Some(parent)) => Some((Role::Read, parent)),
            (&Method::PUT, Some(parent)) => Some((Role::Replace, parent)),
            (&Method::PATCH, Some(parent)) => Some((Role::Patch, parent)),
            (&Method::DELETE, Some(parent)) => Some((Role::Delete, parent)),
            (method, None) => match *method {
                Method::GET if lists() && (has_items || path_has_no_action(path)) => {
                    Some((Role::List, path))
                }
                Method::PUT if has_items && operation.body.is_some() => {
                    Some((Role::ReplaceByBody, path))
                }
                _ => None,
            },
            _ => None,
        };
        let entry = match role {
            Some((role, collection)) => (role, Some(resource_of(&mut model, collection))),
            None => (Role::Other, None),
        };
        model.roles.push(entry);
    }
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); model.resources.len()];
    for (index, (_, resource)) in model.roles.iter().enumerate() {
        if let Some(at) = resource {
            members[*at].push(index);
        }
    }
    for (at, members) in members.iter().enumerate() {
        describe(api, &mut model, at, members);
    }
    let items: HashMap<String, usize> = model
        .resources
        .iter()
        .enumerate()
        .filter_map(|(at, r)| Some((format!("{}/{{{}}}", r.collection, r.param.as_ref()?), at)))
        .collect();
    // A PUT whose body requires none of what an item requires (RealWorld's `UpdateArticle`)
    // changes the fields it sends: an update, as a PATCH is.
    for (operation, entry) in api.operations.iter().zip(model.roles.iter_mut()) {
        let (Role::Replace, Some(at)) = *entry else {
            continue;
        };
        let Some(body) = &operation.body else {
            continue;
        };
        let sent = unwrap(schemas, &body.schema).map_or_else(|| body.schema.clone(), |(_, s)| s);
        let item_required = model.resources[at]
            .item_schema
            .as_ref()
            .is_some_and(|item| !required_names(&object_view(schemas, item)).is_empty());
        if item_required && required_names(&object_view(schemas, &sent)).is_empty() {
            entry.0 = Role::Patch;
        }
    }
    model.body_wrappers = api
        .operations
        .iter()
        .zip(&model.roles)
        .map(|(operation, (role, _))| match role {
            Role::Create | Role::Replace | Role::Patch | Role::ReplaceByBody => {
                unwrap(schemas, &operation.body.as_ref()?.schema).map(|(name, _)| name)
            }
            _ => None,
        })
        .collect();
    model.parents = api
        .operations
        .iter()
        .zip(&model.roles)
        .map(|(operation, (role, _))| {
            let path = trimmed(&operation.path);
            // Each prefix of the path that ends a segment, looked up as an item path. An
            // item's own CRUD checks it itself; any other operation on it needs it.
            let ends = path.match_indices('/').map(|(at, _)| at).skip(1);
            let whole = (*role == Role::Other).then_some(path.len());
            ends.chain(whole)
                .filter_map(|end| {
                    let item = &path[..end];
                    Some((item.matches('/').count(), *items.get(item)?))
                })
                .collect()
        })
        .collect();
    model
}

/// A `GET` path that reads like a collection rather than an action (`/pets`, not
/// `/pets/findByStatus`): no camel-case or `search`/`find` verb in its last segment.
fn path_has_no_action(path: &str) -> bool {
    let last = split_last(path)
        .map_or(path, |(_, last)| last)
        .to_ascii_lowercase();
    !["find", "search", "query", "lookup"]
        .iter()
        .any(|verb| last.starts_with(verb))
}

/// Fills a resource's item schema and id field from the operations that use it.
fn describe(api: &Api, model: &mut Model, at: usize, members: &[usize]) {
    let schemas = &api.schemas;
    let ops = || {
        members
            .iter()
            .map(|index| (&api.operations[*index], model.roles[*index].0))
    };
    let by_role = |wanted: Role| ops().find(|(_, role)| *role == wanted).map(|(o, _)| o);
    let creatable = by_role(Role::Create).is_some();
    let item_schema = by_role(Role::Read)
        .and_then(|o| success_schema(o)?.1.cloned())
        .or_else(|| by_role(Role::Create).and_then(|o| success_schema(o)?.1.cloned()))
        .or_else(|| {
            by_role(Role::List).and_then(|o| {
                let schema = success_schema(o)?.1?;
                list_items(schemas, schema).map(|(_, items)| items)
            })
        })
        .filter(|schema| types(&object_view(schemas, schema)).contains(&"object"));
    let param = model.resources[at].param.clone();
    // `{"article": {...}}`: the item is inside, unless the wrapper's one property is the id.
    let (wrapper, item_schema) = match item_schema.as_ref().and_then(|s| unwrap(schemas, s)) {
        Some((name, inner)) if Some(&name) != param.as_ref() => (Some(name), Some(inner)),
        _ => (None, item_schema),
    };
    let view = item_schema.as_ref().map(|s| object_view(schemas, s));
    let properties = view
        .as_ref()
        .and_then(|v| v.get("properties"))
        .and_then(Value::as_object);
    // The id is a field of the item itself (`/slug`), not one level down.
    let id_field = item_schema
        .as_ref()
        .and_then(|schema| id_pointer(schemas, schema, param.as_deref().unwrap_or("id")))
        .and_then(|pointer| {
            let field = pointer.strip_prefix('/')?;
            (!field.contains('/')).then(|| field.replace("~1", "/").replace("~0", "~"))
        });
    let param_schema = || {
        let param = param.as_deref()?;
        ops()
            .flat_map(|(o, _)| &o.params)
            .find(|p| p.name == param && p.location == Location::Path)
            .map(|p| p.schema.clone())
    };
    let id_schema = id_field
        .as_deref()
        .and_then(|field| properties?.get(field).cloned())
        .or_else(param_schema);
    let resource = &mut model.resources[at];
    resource.wrapper = wrapper;
    resource.creatable = creatable;
    resource.item_schema = item_schema;
    resource.id_field = id_field;
    resource.id_schema = id_schema;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model_of(text: &str) -> (Api, Model) {
        let api = crate::parse(text).unwrap();
        let model = infer(&api);
        (api, model)
    }

    fn role(api: &Api, model: &Model, label: &str) -> (Role, Option<String>) {
        let index = api
            .operations
            .iter()
            .position(|o| o.label() == label)
            .unwrap();
        let (role, at) = model.roles[index];
        (role, at.map(|at| model.resources[at].collection.clone()))
    }

    #[test]
    fn items_in_a_one_property_wrapper_are_found_by_their_slug() {
        let (api, model) = model_of(
            r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /articles:
    post:
      requestBody: {content: {application/json: {schema: {type: object, required: [article], properties: {article: {$ref: "#/components/schemas/New"}}}}}}
      responses: {"201": {description: made, content: {application/json: {schema: {$ref: "#/components/schemas/One"}}}}}
  /articles/{slug}:
    parameters: [{name: slug, in: path, required: true, schema: {type: string}}]
    get: {responses: {"200": {description: one, content: {application/json: {schema: {$ref: "#/components/schemas/One"}}}}}}
    put:
      requestBody: {content: {application/json: {schema: {type: object, properties: {article: {type: object, properties: {body: {type: string}}}}}}}}
      responses: {"200": {description: one, content: {application/json: {schema: {$ref: "#/components/schemas/One"}}}}}
components:
  schemas:
    New: {type: object, required: [title], properties: {title: {type: string}}}
    One: {type: object, required: [article], properties: {article: {type: object, required: [slug, title], properties: {slug: {type: string}, title: {type: string}}}}}
"##,
        );
        let resource = &model.resources[0];
        assert_eq!(resource.wrapper.as_deref(), Some("article"));
        assert_eq!(resource.id_field.as_deref(), Some("slug"));
        assert_eq!(resource.id_pointer().as_deref(), Some("/article/slug"));
        assert!(resource.creatable);
        assert_eq!(model.body_wrappers[0].as_deref(), Some("article"));
        // A PUT that requires nothing of the item is an update.
        assert_eq!(role(&api, &model, "PUT /articles/{slug}").0, Role::Patch);
    }

    #[test]
    fn resources_nothing_creates_are_read_only_and_parents_are_indexed() {
        let (api, model) = model_of(
            r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /clusters/{cluster_id}:
    parameters: [{name: cluster_id, in: path, required: true, schema: {type: string}}]
    get: {responses: {"200": {description: one, content: {application/json: {schema: {type: object, properties: {cluster_id: {type: string}}}}}}}}
  /clusters/{cluster_id}/topics:
    parameters: [{name: cluster_id, in: path, required: true, schema: {type: string}}]
    post: {responses: {"201": {description: made, content: {application/json: {schema: {type: object, properties: {topic_name: {type: string}}}}}}}}
  /clusters/{cluster_id}/topics/{topic_name}:
    parameters:
      - {name: cluster_id, in: path, required: true, schema: {type: string}}
      - {name: topic_name, in: path, required: true, schema: {type: string}}
    get: {responses: {"200": {description: one}}}
"##,
        );
        let clusters = model.collection("/clusters").unwrap();
        assert!(!model.resources[clusters].creatable);
        assert_eq!(
            model.resources[clusters].id_field.as_deref(),
            Some("cluster_id")
        );
        let topics = model.collection("/clusters/{cluster_id}/topics").unwrap();
        assert!(model.resources[topics].creatable);
        let read = api
            .operations
            .iter()
            .position(|o| o.label() == "GET /clusters/{cluster_id}/topics/{topic_name}")
            .unwrap();
        // The topic lies under a cluster: two segments name it.
        assert_eq!(model.parents[read], [(2, clusters)]);
    }

    #[test]
    fn an_item_path_with_items_below_it_is_a_collection_too() {
        // springfox's cBioPortal session service: `{type}` names a collection of sessions.
        let (api, model) = model_of(
            r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /sessions/{source}/{type}:
    parameters:
      - {name: source, in: path, required: true, schema: {type: string}}
      - {name: type, in: path, required: true, schema: {type: string}}
    get: {responses: {"200": {description: list, content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Session"}}}}}}}
    post: {responses: {"200": {description: made, content: {application/json: {schema: {$ref: "#/components/schemas/Session"}}}}}}
  /sessions/{source}/{type}/{id}:
    parameters:
      - {name: source, in: path, required: true, schema: {type: string}}
      - {name: type, in: path, required: true, schema: {type: string}}
      - {name: id, in: path, required: true, schema: {type: string}}
    get: {responses: {"200": {description: one, content: {application/json: {schema: {$ref: "#/components/schemas/Session"}}}}}}
components:
  schemas:
    Session: {type: object, properties: {id: {type: string}, data: {type: object}}}
"##,
        );
        let collection = Some("/sessions/{source}/{type}".to_owned());
        assert_eq!(
            role(&api, &model, "POST /sessions/{source}/{type}"),
            (Role::Create, collection.clone())
        );
        assert_eq!(
            role(&api, &model, "GET /sessions/{source}/{type}"),
            (Role::List, collection.clone())
        );
        assert_eq!(
            role(&api, &model, "GET /sessions/{source}/{type}/{id}"),
            (Role::Read, collection)
        );
        assert!(names_item("/sessions/{source}/{type}/{id}"));
        assert!(!names_item("/clusters/{cluster_id}/acls"));
    }

    #[test]
    fn paths_split_with_and_without_a_trailing_slash() {
        assert_eq!(split_last("/pets/{id}"), Some(("/pets", "{id}")));
        assert_eq!(split_last("/pets/{id}/"), Some(("/pets", "{id}")));
        assert_eq!(trimmed("/"), "/");
        assert_eq!(whole_param("{id}"), Some("id"));
        assert_eq!(whole_param("{id}.json"), None);
    }
}
