//! How operations feed each other: the document's OpenAPI links, or, where an operation has
//! none, links inferred from the structure (a `POST /things` answering an `id` feeds the
//! `{param}` of `/things/{param}`; a list of objects with ids feeds it too, and so does a
//! read of one object with a field of the parameter's name); and the runtime expressions
//! that carry values along them.

use std::collections::HashSet;

use http::Method;
use serde_json::Value;

use crate::generate::Case;
use crate::model::{Api, LinkSpec, Location, Operation, ResponseSpec, StatusKey};
use crate::resources::{escape, id_pointer, split_last, unwrap, whole_param};
use crate::schema::query::object_view;

/// How operations feed each other.
pub struct Graph {
    /// Links out of each operation's 2xx responses.
    pub links: Vec<Vec<LinkSpec>>,
    /// Lists in each operation's 2xx responses whose items carry ids of another path.
    pub feeds: Vec<Vec<Feed>>,
}

/// Ids in a response: `array` points at a list and `field` at the id within an item, or,
/// without `array`, the answer is one object and `field` points at the id in it.
#[derive(Debug, Clone)]
pub struct Feed {
    pub target_path: String,
    pub param: String,
    pub array: Option<String>,
    pub field: String,
}

impl Feed {
    /// The ids an answer gives.
    pub fn ids<'a>(&'a self, body: &'a Value) -> impl Iterator<Item = &'a Value> + 'a {
        let items: &[Value] = match &self.array {
            Some(array) => body
                .pointer(array)
                .and_then(Value::as_array)
                .map_or(&[], Vec::as_slice),
            None => std::slice::from_ref(body),
        };
        // Which of them can name an item is the pool's to say (`IdPool::keep`).
        items.iter().filter_map(|item| item.pointer(&self.field))
    }
}

impl Graph {
    pub fn new(api: &Api) -> Graph {
        let mut links = Vec::new();
        let mut feeds = Vec::new();
        for operation in &api.operations {
            let explicit: Vec<LinkSpec> = success_responses(operation)
                .flat_map(|r| r.links.iter().cloned())
                .collect();
            links.push(match explicit.is_empty() {
                true => inferred_links(api, operation),
                false => explicit,
            });
            feeds.push(inferred_feeds(api, operation));
        }
        named_feeds(api, &links, &mut feeds);
        Graph { links, feeds }
    }

    pub fn is_empty(&self) -> bool {
        self.links.iter().all(Vec::is_empty)
    }
}

fn success_responses(operation: &Operation) -> impl Iterator<Item = &ResponseSpec> {
    operation
        .responses
        .iter()
        .filter(|(key, _)| match key {
            StatusKey::Code(code) => (200..300).contains(code),
            StatusKey::Range(class) => *class == 2,
            StatusKey::Default => false,
        })
        .map(|(_, spec)| spec)
}

fn json_schema(response: &ResponseSpec) -> Option<&Value> {
    response.json()?.1
}

/// Operations on `path/{param}`: the items of the collection at `path` (with or without the
/// trailing slash FastAPI and Django REST framework put on collections: `/items/`).
fn item_operations<'a>(api: &'a Api, path: &'a str) -> impl Iterator<Item = (usize, String)> + 'a {
    let collection = path.trim_end_matches('/');
    api.operations
        .iter()
        .enumerate()
        .filter_map(move |(index, operation)| {
            let rest = operation.path.strip_prefix(collection)?.strip_prefix('/')?;
            let rest = rest.strip_suffix('/').unwrap_or(rest);
            let param = rest.strip_prefix('{')?.strip_suffix('}')?;
            (!param.contains('/')).then(|| (index, param.to_owned()))
        })
}

/// A POST on a collection whose answer has an id links to the operations on its items.
fn inferred_links(api: &Api, operation: &Operation) -> Vec<LinkSpec> {
    if operation.method != Method::POST {
        return Vec::new();
    }
    item_operations(api, &operation.path)
        .filter_map(|(target, param)| {
            let pointer = success_responses(operation)
                .filter_map(json_schema)
                .find_map(|s| id_pointer(&api.schemas, s, &param))?;
            // The item lives under the same parents (`/clusters/{cluster_id}/topics`): the
            // create's own path parameters go along.
            let mut parameters = vec![(param, format!("$response.body#{pointer}"))];
            parameters.extend(
                operation
                    .params
                    .iter()
                    .filter(|p| p.location == Location::Path)
                    .map(|p| (p.name.clone(), format!("$request.path.{}", p.name))),
            );
            Some(LinkSpec { target, parameters })
        })
        .collect()
}

/// A GET on a collection whose answer lists objects with ids feeds the operations on items.
fn inferred_feeds(api: &Api, operation: &Operation) -> Vec<Feed> {
    if operation.method != Method::GET {
        return Vec::new();
    }
    let schemas = &api.schemas;
    let Some(schema) = success_responses(operation).find_map(json_schema) else {
        return Vec::new();
    };
    let resolved = schemas.resolve(schema);
    // An envelope's properties may sit in `allOf` parts.
    let view = object_view(schemas, schema);
    // The lists' arrays, as pointers (`""` for a bare array), with their items' schemas: a
    // bare array, or the array properties of an envelope (`{"data": [...]}`, the Kafka
    // REST proxy's `{"kind", "metadata", "data"}`).
    let arrays: Vec<(String, &Value)> = match resolved.get("type").and_then(Value::as_str) {
        Some("array") => resolved
            .get("items")
            .map(|items| (String::new(), items))
            .into_iter()
            .collect(),
        _ => view
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(name, property)| {
                let items = schemas.resolve(property).get("items")?;
                Some((format!("/{name}"), items))
            })
            .collect(),
    };
    item_operations(api, &operation.path)
        .filter_map(|(index, param)| {
            // The first array whose items hold the parameter, as a field of the item
            // itself (not one level down).
            let (array, field) = arrays.iter().find_map(|(array, items)| {
                let field =
                    id_pointer(schemas, items, &param).filter(|p| p.matches('/').count() == 1)?;
                Some((array.clone(), field))
            })?;
            Some(Feed {
                target_path: api.operations[index].path.clone(),
                param,
                array: Some(array),
                field,
            })
        })
        .collect()
}

/// Items no list or create gives ids to, named like a field of a read of one object
/// (RealWorld's `GET /user` answers `{"user": {"username": ...}}`: the current user's
/// `{username}` for `/profiles/{username}`). Only the exact name counts, never a bare `id`
/// (the current user's id is not an article's).
fn named_feeds(api: &Api, links: &[Vec<LinkSpec>], feeds: &mut [Vec<Feed>]) {
    // Each item path (one ending in a parameter) whose parameter nothing gives yet, once:
    // sets, not scans, as Microsoft Graph has 20,000 operations.
    let wanted: Vec<(String, String)> = {
        let mut given: HashSet<(&str, &str)> = feeds
            .iter()
            .flatten()
            .map(|f| (f.target_path.as_str(), f.param.as_str()))
            .collect();
        given.extend(links.iter().flatten().flat_map(|link| {
            let target = api.operations[link.target].path.as_str();
            link.parameters
                .iter()
                .map(move |(name, _)| (target, name.as_str()))
        }));
        let mut wanted = Vec::new();
        for operation in &api.operations {
            let path = operation.path.as_str();
            let Some(param) = split_last(path).and_then(|(_, last)| whole_param(last)) else {
                continue;
            };
            // Inserted into `given` too: a path with several methods is wanted once.
            if param != "id" && given.insert((path, param)) {
                wanted.push((path.to_owned(), param.to_owned()));
            }
        }
        wanted
    };
    if wanted.is_empty() {
        return;
    }
    for (index, operation) in api.operations.iter().enumerate() {
        let one_object = operation.method == Method::GET
            && !operation
                .params
                .iter()
                .any(|p| p.location == Location::Path);
        let Some(schema) = one_object
            .then(|| success_responses(operation).find_map(json_schema))
            .flatten()
        else {
            continue;
        };
        let (prefix, object) = match unwrap(&api.schemas, schema) {
            Some((wrapper, inner)) => (format!("/{}", escape(&wrapper)), inner),
            None => (String::new(), schema.clone()),
        };
        let view = object_view(&api.schemas, &object);
        let Some(properties) = view.get("properties").and_then(Value::as_object) else {
            continue;
        };
        for (path, param) in &wanted {
            if let Some(field) = properties.get(param.as_str()) {
                let scalar = matches!(
                    api.schemas
                        .resolve(field)
                        .get("type")
                        .and_then(Value::as_str),
                    Some("string" | "integer")
                );
                if scalar {
                    feeds[index].push(Feed {
                        target_path: path.clone(),
                        param: param.clone(),
                        array: None,
                        field: format!("{prefix}/{}", escape(param)),
                    });
                }
            }
        }
    }
}

/// A link's runtime expression: `$response.body#/pointer`, `$response.header.Name`,
/// `$request.path.name`, `$request.query.name`, or a constant.
pub fn evaluate(
    expression: &str,
    case: &Case,
    header: &dyn Fn(&str) -> Option<String>,
    body: Option<&Value>,
) -> Option<Value> {
    if let Some(pointer) = expression.strip_prefix("$response.body") {
        let pointer = pointer.strip_prefix('#').unwrap_or(pointer);
        return body?.pointer(pointer).filter(|v| !v.is_null()).cloned();
    }
    if let Some(name) = expression.strip_prefix("$response.header.") {
        return header(name).map(Value::String);
    }
    for (prefix, location) in [
        ("$request.path.", Location::Path),
        ("$request.query.", Location::Query),
    ] {
        if let Some(name) = expression.strip_prefix(prefix) {
            return case
                .params
                .iter()
                .find(|(l, n, _)| *l == location && n == name)
                .map(|(_, _, v)| v.clone());
        }
    }
    (!expression.starts_with('$')).then(|| Value::String(expression.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_links_and_feeds_from_structure() {
        let api = crate::parse(
            r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /things:
    post:
      responses:
        "201": {description: made, content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}
    get:
      responses:
        "200": {description: list, content: {application/json: {schema: {type: object, properties: {data: {type: array, items: {$ref: "#/components/schemas/Thing"}}}}}}}
  /things/{thingId}:
    parameters: [{name: thingId, in: path, required: true, schema: {type: integer}}]
    get: {responses: {"200": {description: one}}}
    delete: {responses: {"204": {description: gone}}}
components:
  schemas:
    Thing: {type: object, properties: {id: {type: integer}, name: {type: string}}}
"##,
        )
        .unwrap();
        let graph = Graph::new(&api);
        let post = api
            .operations
            .iter()
            .position(|o| o.label() == "POST /things")
            .unwrap();
        let list = api
            .operations
            .iter()
            .position(|o| o.label() == "GET /things")
            .unwrap();
        let targets: Vec<String> = graph.links[post]
            .iter()
            .map(|l| api.operations[l.target].label())
            .collect();
        assert_eq!(
            targets,
            ["GET /things/{thingId}", "DELETE /things/{thingId}"]
        );
        assert_eq!(
            graph.links[post][0].parameters,
            [("thingId".to_owned(), "$response.body#/id".to_owned())]
        );
        assert_eq!(graph.feeds[list].len(), 2);
        assert_eq!(
            (
                graph.feeds[list][0].array.as_deref(),
                graph.feeds[list][0].field.as_str()
            ),
            (Some("/data"), "/id")
        );
    }

    #[test]
    fn reads_ids_in_envelopes_and_wrappers() {
        // The Kafka REST proxy lists clusters in `data` beside `kind` and `metadata`, each
        // with a `cluster_id`; RealWorld answers a create as `{"article": {"slug": ...}}`.
        let api = crate::parse(
            r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /clusters:
    get:
      responses:
        "200": {description: list, content: {application/json: {schema: {$ref: "#/components/schemas/ClusterList"}}}}
  /clusters/{cluster_id}:
    parameters: [{name: cluster_id, in: path, required: true, schema: {type: string}}]
    get: {responses: {"200": {description: one}}}
  /articles:
    post:
      responses:
        "201": {description: made, content: {application/json: {schema: {type: object, properties: {article: {$ref: "#/components/schemas/Article"}}}}}}
  /articles/{slug}:
    parameters: [{name: slug, in: path, required: true, schema: {type: string}}]
    get: {responses: {"200": {description: one}}}
components:
  schemas:
    Collection: {type: object, properties: {kind: {type: string}, metadata: {type: object}}}
    ClusterList:
      allOf:
        - $ref: "#/components/schemas/Collection"
        - {type: object, properties: {data: {type: array, items: {type: object, properties: {cluster_id: {type: string}}}}}}
    Article: {type: object, properties: {slug: {type: string}, title: {type: string}}}
"##,
        )
        .unwrap();
        let graph = Graph::new(&api);
        let index = |label: &str| {
            api.operations
                .iter()
                .position(|o| o.label() == label)
                .unwrap()
        };
        let feed = &graph.feeds[index("GET /clusters")][0];
        assert_eq!(
            (
                feed.array.as_deref(),
                feed.field.as_str(),
                feed.param.as_str()
            ),
            (Some("/data"), "/cluster_id", "cluster_id")
        );
        let link = &graph.links[index("POST /articles")][0];
        assert_eq!(
            link.parameters,
            [("slug".to_owned(), "$response.body#/article/slug".to_owned())]
        );
    }

    #[test]
    fn a_read_of_one_object_feeds_the_items_named_like_its_fields() {
        // RealWorld: nothing lists profiles, but the current user's answer names one.
        let api = crate::parse(
            r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /user:
    get:
      responses:
        "200": {description: me, content: {application/json: {schema: {type: object, properties: {user: {$ref: "#/components/schemas/User"}}}}}}
  /profiles/{username}:
    parameters: [{name: username, in: path, required: true, schema: {type: string}}]
    get: {responses: {"200": {description: one}}}
  /things/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
    get: {responses: {"200": {description: one}}}
components:
  schemas:
    User: {type: object, properties: {id: {type: integer}, username: {type: string}, email: {type: string}}}
"##,
        )
        .unwrap();
        let graph = Graph::new(&api);
        let me = api
            .operations
            .iter()
            .position(|o| o.label() == "GET /user")
            .unwrap();
        let feeds: Vec<(&str, &str, Option<&str>, &str)> = graph.feeds[me]
            .iter()
            .map(|f| {
                (
                    f.target_path.as_str(),
                    f.param.as_str(),
                    f.array.as_deref(),
                    f.field.as_str(),
                )
            })
            .collect();
        // The user's own `id` is no thing's id: only the exact name feeds.
        assert_eq!(
            feeds,
            [("/profiles/{username}", "username", None, "/user/username")]
        );
        let answer = serde_json::json!({"user": {"id": 7, "username": "jake"}});
        let ids: Vec<&Value> = graph.feeds[me][0].ids(&answer).collect();
        assert_eq!(ids, [&Value::from("jake")]);
    }

    #[test]
    fn links_collections_with_trailing_slashes() {
        let api = crate::parse(
            r##"
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /items/:
    post:
      responses:
        "201": {description: made, content: {application/json: {schema: {type: object, properties: {id: {type: integer}}}}}}
  /items/{item_id}/:
    parameters: [{name: item_id, in: path, required: true, schema: {type: integer}}]
    get: {responses: {"200": {description: one}}}
  /items/{item_id}/tags/{tag}:
    parameters:
      - {name: item_id, in: path, required: true, schema: {type: integer}}
      - {name: tag, in: path, required: true, schema: {type: string}}
    get: {responses: {"200": {description: one}}}
"##,
        )
        .unwrap();
        let links = &Graph::new(&api).links[0];
        let targets: Vec<String> = links
            .iter()
            .map(|l| api.operations[l.target].label())
            .collect();
        assert_eq!(targets, ["GET /items/{item_id}/"]);
        assert_eq!(links[0].parameters[0].0, "item_id");
    }

    #[test]
    fn a_nested_create_carries_its_parents_along_its_links() {
        let api = crate::parse(
            r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /clusters/{cluster_id}/topics:
    parameters: [{name: cluster_id, in: path, required: true, schema: {type: string}}]
    post:
      responses:
        "201": {description: made, content: {application/json: {schema: {type: object, properties: {topic_name: {type: string}}}}}}
  /clusters/{cluster_id}/topics/{topic_name}:
    parameters:
      - {name: cluster_id, in: path, required: true, schema: {type: string}}
      - {name: topic_name, in: path, required: true, schema: {type: string}}
    get: {responses: {"200": {description: one}}}
"##,
        )
        .unwrap();
        let links = &Graph::new(&api).links[0];
        assert_eq!(
            links[0].parameters,
            [
                (
                    "topic_name".to_owned(),
                    "$response.body#/topic_name".to_owned()
                ),
                (
                    "cluster_id".to_owned(),
                    "$request.path.cluster_id".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn evaluates_runtime_expressions() {
        let case = Case {
            kind: crate::generate::Kind::Positive,
            params: vec![(Location::Path, "id".into(), serde_json::json!(7))],
            body: crate::generate::Payload::None,
            auth: crate::generate::AuthMode::Normal,
        };
        let header = |name: &str| {
            name.eq_ignore_ascii_case("location")
                .then(|| "/things/9".to_owned())
        };
        let body = serde_json::json!({"user": {"id": "u1"}});
        let check = |expression: &str| evaluate(expression, &case, &header, Some(&body));
        assert_eq!(
            check("$response.body#/user/id"),
            Some(serde_json::json!("u1"))
        );
        assert_eq!(check("$response.body#/nope"), None);
        assert_eq!(
            check("$response.header.location"),
            Some(serde_json::json!("/things/9"))
        );
        assert_eq!(check("$request.path.id"), Some(serde_json::json!(7)));
        assert_eq!(check("fixed"), Some(serde_json::json!("fixed")));
    }
}
