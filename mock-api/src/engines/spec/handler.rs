//! One request to the spec-driven engine: the served document, or the route, the checks,
//! and what the operation's role does to the stored items.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use openapi::generate::wire::{param_text, percent_decode, percent_encode};
use openapi::model::{Location, Operation};
use openapi::schema::query::object_view;

use crate::core::engine::{Unrouted, route_not_found};
use crate::core::error::{AppError, error_response};
use crate::core::limits::BODY_LIMIT;
use crate::core::namespace::namespace_of;
use crate::engines::spec::data::Data;
use crate::engines::spec::engine::SpecEngine;
use crate::engines::spec::respond::{
    Refusal, documented, error, refusal_status, stored as stored_response,
};
use crate::engines::spec::routing::{Found, Matched};
use crate::engines::spec::validate::{Accepted, Incoming, Invalid, check};
use crate::engines::spec::values::{conform, full, merge_patch, set_if_valid, valid};
use openapi::resources::{Role, list_items, split_last, success_schema, trimmed};

/// Query parameters read as paging, by meaning.
const LIMITS: [&str; 6] = [
    "limit",
    "per_page",
    "perPage",
    "page_size",
    "pageSize",
    "size",
];
const OFFSETS: [&str; 3] = ["offset", "skip", "start"];
const PAGES: [&str; 3] = ["page", "page_number", "pageNumber"];
const CURSORS: [&str; 4] = ["cursor", "after", "page_token", "pageToken"];
/// Fields of a list's wrapper that count every match.
const TOTALS: [&str; 7] = [
    "total",
    "count",
    "total_count",
    "totalCount",
    "total_items",
    "totalItems",
    "totalElements",
];
const NEXT_CURSORS: [&str; 3] = ["next_cursor", "nextCursor", "cursor"];

pub async fn handle(State(engine): State<Arc<SpecEngine>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if let Some(response) = serve_document(&engine, &parts.method, parts.uri.path()) {
        return response;
    }
    let relative = match parts.uri.path().strip_prefix(engine.base.as_str()) {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => return unrouted(parts.method, parts.uri).await,
    };
    let matched = match engine.routes.find(&parts.method, relative) {
        Found::Operation(matched) => matched,
        Found::NotFound => return unrouted(parts.method, parts.uri).await,
        Found::WrongMethod(allowed) => {
            let mut names: Vec<&str> = allowed.iter().map(Method::as_str).collect();
            names.sort_unstable();
            names.dedup();
            let mut response = AppError::MethodNotAllowed {
                method: parts.method.to_string(),
                path: parts.uri.path().to_owned(),
            }
            .into_response();
            if let Ok(allow) = HeaderValue::from_str(&names.join(", ")) {
                response.headers_mut().insert(header::ALLOW, allow);
            }
            response.extensions_mut().insert(Unrouted);
            return response;
        }
    };
    let api = &engine.api;
    let Some(operation) = api.operations.get(matched.operation) else {
        // An operation the loader set aside (the routes number them after the rest, as
        // `documented_operations` lists them): answered from its documented success
        // response, unchecked and stateless, with no body or namespace to read.
        return match api.documented_operations().nth(matched.operation) {
            Some(operation) => {
                let success = success_schema(operation).map_or(200, |(code, _)| code);
                documented(api, operation, success, None)
            }
            None => unrouted(parts.method, parts.uri).await,
        };
    };
    // The toolkit's layer read the body already; one known to be empty needs no collecting.
    let bytes = match axum::body::HttpBody::size_hint(&body).exact() {
        Some(0) => axum::body::Bytes::new(),
        _ => match to_bytes(body, BODY_LIMIT).await {
            Ok(bytes) => bytes,
            Err(_) => return AppError::PayloadTooLarge.into_response(),
        },
    };
    let space = match namespace_of(&parts.headers).and_then(|ns| engine.namespaces.get(ns)) {
        Ok(space) => space,
        Err(error) => return error.into_response(),
    };
    let request = Incoming {
        path_params: &matched.params,
        query: parts.uri.query(),
        headers: &parts.headers,
        body: &bytes,
    };
    let judges = engine.judges(matched.operation);
    let accepted = match check(api, &engine.credentials, operation, judges, request) {
        Ok(accepted) => accepted,
        Err(invalid) => {
            let (refusal, code) = match &invalid {
                Invalid::Unauthorized(_) => (Refusal::Unauthorized, "unauthorized"),
                Invalid::BadRequest(_) => {
                    (Refusal::BadInput { in_path: false }, "validation_error")
                }
                Invalid::BadPath(_) => (Refusal::BadInput { in_path: true }, "validation_error"),
                // FastAPI and most frameworks answer a wrong media type as a bad body.
                Invalid::UnsupportedMediaType(_) => (Refusal::MediaType, "unsupported_media_type"),
            };
            let status = refusal_status(operation, refusal);
            return error(api, operation, status, code, &invalid.to_string());
        }
    };
    // The items the path lies under must exist (`/pets/7/photos` needs pet 7).
    for &(segments, resource) in &engine.model.parents[matched.operation] {
        let end = relative
            .match_indices('/')
            .nth(segments)
            .map_or(relative.len(), |(at, _)| at);
        let read_only = !engine.model.resources[resource].creatable;
        let exists = split_last(&relative[..end]).is_some_and(|(collection, id)| {
            let id = percent_decode(id);
            let stored = space.read();
            match read_only {
                true => !stored.is_deleted(collection, &id),
                false => stored.get(collection, &id).is_some(),
            }
        });
        if !exists {
            let status = refusal_status(operation, Refusal::Missing);
            return error(api, operation, status, "not_found", "no item with that id");
        }
    }
    act(&engine, &space, operation, &matched, relative, accepted)
}

async fn unrouted(method: Method, uri: axum::http::Uri) -> Response {
    route_not_found(method, uri).await.into_response()
}

/// The document at `/openapi.json` and `/openapi.yaml` (at the root and under the base
/// path), unless the document has paths of those names.
fn serve_document(engine: &SpecEngine, method: &Method, path: &str) -> Option<Response> {
    if *method != Method::GET && *method != Method::HEAD {
        return None;
    }
    let name = path.strip_prefix(engine.base.as_str()).unwrap_or(path);
    let name = [path, name]
        .into_iter()
        .find(|p| *p == "/openapi.json" || *p == "/openapi.yaml")?;
    if engine.api.operations.iter().any(|o| o.path == name) {
        return None;
    }
    let (text, media) = match name {
        "/openapi.json" => (engine.document.json(), "application/json"),
        _ => (engine.document.yaml(), "application/yaml"),
    };
    let mut response = Response::new(Body::from(text));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    Some(response)
}

/// What the operation does, by its role.
fn act(
    engine: &SpecEngine,
    data: &Data,
    operation: &Operation,
    matched: &Matched,
    relative: &str,
    accepted: Accepted,
) -> Response {
    let api = &engine.api;
    let (role, resource) = engine.model.roles[matched.operation];
    let documented_success = success_schema(operation);
    let success = documented_success.map_or(200, |(code, _)| code);
    let success_body = documented_success.and_then(|(_, schema)| schema);
    let Some(at) = resource else {
        return documented(api, operation, success, None);
    };
    let resource = &engine.model.resources[at];
    let not_found = || {
        let status = refusal_status(operation, Refusal::Missing);
        error(api, operation, status, "not_found", "no item with that id")
    };
    let full_error =
        |why: String| error_response(StatusCode::CONFLICT, "storage_limit", &why, None);
    // The item as the answer carries it: in its wrapper (`{"article": {...}}`), if any.
    let answer = |item: &Value| match &resource.wrapper {
        Some(wrapper) => documented(api, operation, success, Some(&json!({wrapper: item}))),
        None => documented(api, operation, success, Some(item)),
    };
    // The body's item: out of the wrapper the operation's body puts it in.
    let sent = |body: Option<Value>| {
        let body = body.unwrap_or_else(|| json!({}));
        match &engine.model.body_wrappers[matched.operation] {
            Some(wrapper) => match body {
                Value::Object(mut object) if object.len() == 1 => {
                    object.remove(wrapper).unwrap_or(Value::Object(object))
                }
                other => other,
            },
            None => body,
        }
    };
    // An item's collection and id: the path above it, and its parameter's value.
    let item = || {
        let (collection, _) = split_last(relative)?;
        let name = resource.param.as_deref()?;
        let id = matched.params.iter().find(|(n, _)| n == name)?.1.clone();
        Some((collection.to_owned(), id))
    };
    match role {
        Role::Create => {
            let body = sent(accepted.body);
            let mut stored = match data.write() {
                Ok(stored) => stored,
                Err(why) => return full_error(why.to_string()),
            };
            let collection = trimmed(relative);
            match engine.store_new(data, &mut stored, at, collection, body, false) {
                Ok((id, item)) => {
                    let mut response = answer(&item);
                    // Where the document has the new item's address in `Location`, it
                    // is the item's path (under the base path), read back by it.
                    let documents_location = operation.response_for(success).is_some_and(|spec| {
                        spec.headers
                            .iter()
                            .any(|(name, _, _)| name.eq_ignore_ascii_case("location"))
                    });
                    let location = format!("{}{collection}/{}", engine.base, percent_encode(&id));
                    if documents_location && let Ok(value) = HeaderValue::from_str(&location) {
                        response.headers_mut().insert(header::LOCATION, value);
                    }
                    response
                }
                Err(why) => full_error(why),
            }
        }
        Role::Read => {
            let Some((collection, id)) = item() else {
                return not_found();
            };
            // Stored items were made to fit the item schema: when the read answers that
            // schema, the item goes out as it is.
            let same_schema = resource.wrapper.is_none()
                && resource.item_schema.is_some()
                && success_body == resource.item_schema.as_ref();
            let stored = data.read();
            match stored.get(&collection, &id) {
                Some(item) if same_schema => stored_response(api, operation, success, item),
                Some(item) => answer(item),
                None => match engine.unstored(&stored, at, &collection, &id) {
                    Some(item) => answer(&item),
                    None => not_found(),
                },
            }
        }
        Role::Delete => {
            let Some((collection, id)) = item() else {
                return not_found();
            };
            let mut stored = match data.write() {
                Ok(stored) => stored,
                Err(why) => return full_error(why.to_string()),
            };
            // A read-only item stays gone once deleted, stored or not; one whose reads
            // cannot say it is gone is reset to what it was at start.
            let bury = !resource.creatable && engine.vanishes[at];
            if let Some(item) = stored.remove(&collection, &id) {
                if bury {
                    let _ = stored.bury(&collection, &id);
                }
                return answer(&item);
            }
            let Some(item) = engine.unstored(&stored, at, &collection, &id) else {
                return not_found();
            };
            if !bury {
                return answer(&item);
            }
            match stored.bury(&collection, &id) {
                Ok(_) => answer(&item),
                Err(why) => full_error(why.to_string()),
            }
        }
        Role::Replace | Role::Patch | Role::ReplaceByBody => {
            let body = sent(accepted.body);
            let (collection, id) = match role {
                Role::ReplaceByBody => {
                    let given = resource.id_field.as_ref().and_then(|f| body.get(f));
                    match given {
                        Some(id) => (trimmed(relative).to_owned(), param_text(id)),
                        None => return not_found(),
                    }
                }
                _ => match item() {
                    Some(found) => found,
                    None => return not_found(),
                },
            };
            let mut stored = match data.write() {
                Ok(stored) => stored,
                Err(why) => return full_error(why.to_string()),
            };
            let before = match stored.get(&collection, &id) {
                Some(before) => before.clone(),
                None => match engine.unstored(&stored, at, &collection, &id) {
                    Some(item) => item,
                    None => return not_found(),
                },
            };
            let mut after = match role {
                Role::Patch => {
                    let mut merged = before.clone();
                    merge_patch(&mut merged, &body);
                    merged
                }
                _ => body,
            };
            // The id stays what it was, whatever the body says.
            if let (Some(field), Value::Object(object)) = (&resource.id_field, &mut after)
                && let Some(id_value) = before.get(field)
            {
                object.insert(field.clone(), id_value.clone());
            }
            engine.stamp(resource, &mut after, false);
            let after = match &resource.item_schema {
                Some(schema) => conform(&api.schemas, schema, &after),
                None => after,
            };
            match stored.put(&collection, id, after.clone()) {
                Ok(()) => answer(&after),
                Err(why) => full_error(why.to_string()),
            }
        }
        Role::List => list(
            engine,
            data,
            operation,
            at,
            (success, success_body),
            trimmed(relative),
            &accepted,
        ),
        Role::Other => documented(api, operation, success, None),
    }
}

/// A page of a collection in the documented shape: filtered by query parameters named
/// as item properties, paged by the paging parameters the operation declares.
fn list(
    engine: &SpecEngine,
    data: &Data,
    operation: &Operation,
    resource: usize,
    (success, schema): (u16, Option<&Value>),
    collection: &str,
    accepted: &Accepted,
) -> Response {
    let api = &engine.api;
    let schemas = &api.schemas;
    let Some(schema) = schema else {
        return documented(api, operation, success, None);
    };
    let Some((field, items_schema)) = list_items(schemas, schema) else {
        return documented(api, operation, success, None);
    };
    let declared = |names: &[&str]| {
        operation
            .params
            .iter()
            .filter(|p| p.location == Location::Query)
            .find(|p| names.contains(&p.name.as_str()))
            .and_then(|p| {
                let given = accepted
                    .query
                    .get(&p.name)
                    .and_then(|v| v.parse::<u64>().ok());
                let default = schemas
                    .resolve(&p.schema)
                    .get("default")
                    .and_then(Value::as_u64);
                given.or(default)
            })
    };
    let items_view = object_view(schemas, &items_schema);
    let properties = items_view.get("properties").and_then(Value::as_object);
    let filters: Vec<(&str, &str)> = operation
        .params
        .iter()
        .filter(|p| p.location == Location::Query)
        .filter(|p| properties.is_some_and(|props| props.contains_key(&p.name)))
        .filter_map(|p| Some((p.name.as_str(), accepted.query.get(&p.name)?.as_str())))
        .collect();
    let stored = data.read();
    let unstored = engine.listed_unstored(&stored, resource, collection);
    let matching: Vec<&Value> = unstored
        .iter()
        .chain(stored.list(collection))
        .filter(|item| {
            filters.iter().all(|(name, wanted)| {
                item.get(*name).is_some_and(|v| match v {
                    Value::Array(values) => values.iter().any(|v| param_text(v) == *wanted),
                    other => param_text(other) == *wanted,
                })
            })
        })
        .collect();
    let total = matching.len();
    let limit = declared(&LIMITS).map(|l| usize::try_from(l).unwrap_or(usize::MAX));
    let page = declared(&PAGES);
    let offset = match (
        declared(&OFFSETS).or_else(|| declared(&CURSORS)),
        page,
        limit,
    ) {
        (Some(offset), _, _) => usize::try_from(offset).unwrap_or(usize::MAX),
        (None, Some(page), Some(limit)) => usize::try_from(page.saturating_sub(1))
            .unwrap_or(usize::MAX)
            .saturating_mul(limit),
        _ => 0,
    };
    let mut items: Vec<Value> = matching
        .into_iter()
        .skip(offset)
        .take(limit.unwrap_or(usize::MAX))
        .map(|item| conform(schemas, &items_schema, item))
        .collect();
    drop(stored);
    let wrapper = object_view(schemas, schema);
    let array_schema = match &field {
        Some(name) => wrapper
            .get("properties")
            .and_then(|p| p.get(name))
            .map(|s| schemas.resolve(s)),
        None => Some(schemas.resolve(schema)),
    };
    if let Some(max) = array_schema
        .and_then(|s| s.get("maxItems"))
        .and_then(Value::as_u64)
    {
        items.truncate(usize::try_from(max).unwrap_or(usize::MAX));
    }
    let shown = items.len();
    let body = match field {
        None => Value::Array(items),
        Some(field) => {
            let mut object = match full(schemas, schema) {
                Value::Object(object) => object,
                _ => Map::new(),
            };
            object.insert(field, Value::Array(items));
            let next = offset.saturating_add(shown);
            let mut extras: Vec<(&str, Value)> = Vec::new();
            extras.extend(TOTALS.iter().map(|n| (*n, json!(total))));
            if let Some(page) = page {
                extras.extend(PAGES.iter().map(|n| (*n, json!(page))));
            }
            if let Some(limit) = limit {
                extras.extend(LIMITS.iter().map(|n| (*n, json!(limit))));
            }
            extras.extend(OFFSETS.iter().map(|n| (*n, json!(offset))));
            let cursor = match next < total {
                true => json!(next.to_string()),
                false => Value::Null,
            };
            extras.extend(NEXT_CURSORS.iter().map(|n| (*n, cursor.clone())));
            for (name, value) in extras {
                let present = object.contains_key(name);
                let declared_here = wrapper
                    .get("properties")
                    .is_some_and(|p| p.get(name).is_some());
                if !present && !declared_here {
                    continue;
                }
                set_if_valid(schemas, schema, &mut object, name, value);
            }
            Value::Object(object)
        }
    };
    match valid(schemas, schema, &body) {
        true => documented(api, operation, success, Some(&body)),
        false => documented(api, operation, success, None),
    }
}
