//! How operations feed each other: the document's OpenAPI links, or, where an operation has
//! none, links inferred from the structure (a `POST /things` answering an `id` feeds the
//! `{param}` of `/things/{param}`; a list of objects with ids feeds it too); and the runtime
//! expressions that carry values along them.

use http::Method;
use serde_json::Value;

use crate::generate::Case;
use crate::generate::values::object_view;
use crate::model::{Api, LinkSpec, Location, Operation, ResponseSpec, StatusKey};
use crate::resources::id_pointer;

/// How operations feed each other.
pub struct Graph {
    /// Links out of each operation's 2xx responses.
    pub links: Vec<Vec<LinkSpec>>,
    /// Lists in each operation's 2xx responses whose items carry ids of another path.
    pub feeds: Vec<Vec<Feed>>,
}

/// Ids in a list response: `array` points at the list, `field` at the id within an item.
#[derive(Debug, Clone)]
pub struct Feed {
    pub target_path: String,
    pub param: String,
    pub array: String,
    pub field: String,
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
                array,
                field,
            })
        })
        .collect()
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
                graph.feeds[list][0].array.as_str(),
                graph.feeds[list][0].field.as_str()
            ),
            ("/data", "/id")
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
                feed.array.as_str(),
                feed.field.as_str(),
                feed.param.as_str()
            ),
            ("/data", "/cluster_id", "cluster_id")
        );
        let link = &graph.links[index("POST /articles")][0];
        assert_eq!(
            link.parameters,
            [("slug".to_owned(), "$response.body#/article/slug".to_owned())]
        );
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
