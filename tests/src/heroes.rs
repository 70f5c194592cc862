//! A heroes API as FastAPI with SQLModel serves it (OpenAPI 3.1: `Optional[...]` as `anyOf`
//! with null, 422 validation errors, `200` for a create), with a `PUT` documented as
//! connexion documents one (the item's schema, `id` and `created` `readOnly`). Correct unless
//! told to carry the defects such servers really have:
//! - `name` is nullable in `HeroUpdate` but `NOT NULL` in the table: `PATCH` with
//!   `name: null` is a 500 (SQLModel's `IntegrityError`), on a hero that exists;
//! - the `readOnly` `created` sent in a `PUT` is parsed anyway: `""` is a 500;
//! - lax validation (pydantic's lax mode, DRF's fields): a boolean or a string of digits for
//!   an integer, a number for a string;
//! - a body that is not UTF-8 is FastAPI's undocumented `400 There was an error parsing the
//!   body`, not a 422.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

pub const SPEC: &str = r##"
openapi: 3.1.0
info: {title: heroes, version: "0.1.0"}
paths:
  /heroes/:
    post:
      operationId: create_hero_heroes__post
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: "#/components/schemas/HeroCreate"}}}
      responses:
        "200": {description: Successful Response, content: {application/json: {schema: {$ref: "#/components/schemas/HeroPublic"}}}}
        "422": {$ref: "#/components/responses/Invalid"}
  /heroes/{hero_id}:
    parameters: [{name: hero_id, in: path, required: true, schema: {type: integer, title: Hero Id}}]
    get:
      operationId: read_hero_heroes__hero_id__get
      responses:
        "200": {description: Successful Response, content: {application/json: {schema: {$ref: "#/components/schemas/HeroPublic"}}}}
        "404": {$ref: "#/components/responses/NotFound"}
        "422": {$ref: "#/components/responses/Invalid"}
    patch:
      operationId: update_hero_heroes__hero_id__patch
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: "#/components/schemas/HeroUpdate"}}}
      responses:
        "200": {description: Successful Response, content: {application/json: {schema: {$ref: "#/components/schemas/HeroPublic"}}}}
        "404": {$ref: "#/components/responses/NotFound"}
        "422": {$ref: "#/components/responses/Invalid"}
    put:
      operationId: replace_hero
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: "#/components/schemas/HeroPublic"}}}
      responses:
        "200": {description: Successful Response, content: {application/json: {schema: {$ref: "#/components/schemas/HeroPublic"}}}}
        "404": {$ref: "#/components/responses/NotFound"}
        "422": {$ref: "#/components/responses/Invalid"}
    delete:
      operationId: delete_hero_heroes__hero_id__delete
      responses:
        "200": {description: Successful Response, content: {application/json: {schema: {type: object}}}}
        "404": {$ref: "#/components/responses/NotFound"}
        "422": {$ref: "#/components/responses/Invalid"}
components:
  responses:
    NotFound:
      description: Not Found
      content: {application/json: {schema: {type: object, required: [detail], properties: {detail: {type: string}}}}}
    Invalid:
      description: Validation Error
      content: {application/json: {schema: {type: object, properties: {detail: {type: array, items: {type: object}}}}}}
  schemas:
    HeroCreate:
      type: object
      required: [name, secret_name]
      properties:
        name: {type: string, title: Name}
        secret_name: {type: string, title: Secret Name}
        age: {anyOf: [{type: integer}, {type: "null"}], title: Age}
    HeroUpdate:
      type: object
      properties:
        name: {anyOf: [{type: string}, {type: "null"}], title: Name}
        secret_name: {anyOf: [{type: string}, {type: "null"}], title: Secret Name}
        age: {anyOf: [{type: integer}, {type: "null"}], title: Age}
    HeroPublic:
      type: object
      required: [id, name, secret_name, created]
      properties:
        id: {type: integer, readOnly: true}
        name: {type: string}
        secret_name: {type: string}
        age: {anyOf: [{type: integer}, {type: "null"}]}
        created: {type: string, format: date-time, readOnly: true}
"##;

/// Defects to plant; all off is a correct server.
#[derive(Debug, Clone, Copy, Default)]
pub struct Defects {
    /// `PATCH` with `name: null` is a 500 (the column is `NOT NULL`).
    pub not_null_name: bool,
    /// A `created` sent in a `PUT` is parsed as a date-time; `""` is a 500.
    pub parses_read_only: bool,
    /// Booleans and strings of digits are taken for integers, numbers for strings.
    pub lax_types: bool,
    /// A body that is not UTF-8 is an undocumented 400.
    pub parse_error_400: bool,
}

impl Defects {
    pub fn all() -> Defects {
        Defects {
            not_null_name: true,
            parses_read_only: true,
            lax_types: true,
            parse_error_400: true,
        }
    }
}

struct App {
    defects: Defects,
    heroes: Mutex<BTreeMap<i64, Value>>,
    next_id: Mutex<i64>,
}

pub fn app(defects: Defects) -> Router {
    let state = Arc::new(App {
        defects,
        heroes: Mutex::default(),
        next_id: Mutex::new(1),
    });
    Router::new()
        .route("/heroes/", post(create))
        .route(
            "/heroes/{hero_id}",
            get(read).patch(update).put(replace).delete(remove),
        )
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                axum::Json(json!({"detail": "Not Found"})),
            )
        })
        .with_state(state)
}

/// Pydantic's error list, as FastAPI sends it.
fn invalid(loc: &[&str], msg: &str, kind: &str) -> Response {
    let detail = json!([{"loc": loc, "msg": msg, "type": kind}]);
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        axum::Json(json!({"detail": detail})),
    )
        .into_response()
}

/// The same, boxed for a `Result` (a response is large).
fn refuse(loc: &[&str], msg: &str, kind: &str) -> Box<Response> {
    Box::new(invalid(loc, msg, kind))
}

fn server_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Internal Server Error",
    )
        .into_response()
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"detail": "Hero not found"})),
    )
        .into_response()
}

/// The body as FastAPI reads it: JSON only under a JSON content type, an object only.
fn object(
    state: &App,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Map<String, Value>, Box<Response>> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if body.is_empty() {
        return Err(refuse(&["body"], "Field required", "missing"));
    }
    if is_json && std::str::from_utf8(body).is_err() {
        return Err(match state.defects.parse_error_400 {
            true => Box::new(
                (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({"detail": "There was an error parsing the body"})),
                )
                    .into_response(),
            ),
            false => refuse(&["body", "0"], "JSON decode error", "json_invalid"),
        });
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) if is_json => Ok(map),
        Ok(_) => Err(refuse(
            &["body"],
            "Input should be a valid dictionary",
            "model_attributes_type",
        )),
        Err(_) if !is_json => Err(refuse(
            &["body"],
            "Input should be a valid dictionary",
            "model_attributes_type",
        )),
        Err(_) => Err(refuse(&["body", "0"], "JSON decode error", "json_invalid")),
    }
}

/// A string field: strict, or (lax) a number taken as its text.
fn string(state: &App, value: &Value, field: &str) -> Result<Value, Box<Response>> {
    match value {
        Value::String(_) => Ok(value.clone()),
        Value::Number(n) if state.defects.lax_types => Ok(json!(n.to_string())),
        _ => Err(refuse(
            &["body", field],
            "Input should be a valid string",
            "string_type",
        )),
    }
}

/// An optional integer field: strict, or (lax) a boolean or a string of digits too.
fn age(state: &App, value: &Value) -> Result<Value, Box<Response>> {
    let lax = state.defects.lax_types;
    match value {
        Value::Null => Ok(Value::Null),
        // Python's int has no bound: any whole number is one.
        Value::Number(n)
            if n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0) =>
        {
            Ok(value.clone())
        }
        Value::Bool(b) if lax => Ok(json!(i64::from(*b))),
        Value::String(s) if lax && s.parse::<i64>().is_ok() => Ok(json!(s.parse::<i64>().ok())),
        _ => Err(refuse(
            &["body", "age"],
            "Input should be a valid integer",
            "int_type",
        )),
    }
}

fn hero_id(raw: &str) -> Result<i64, Box<Response>> {
    raw.parse::<i64>().map_err(|_| {
        refuse(
            &["path", "hero_id"],
            "Input should be a valid integer",
            "int_parsing",
        )
    })
}

/// Sets the fields a body gives on `hero`; `required` names those that must be there.
fn apply(
    state: &App,
    hero: &mut Map<String, Value>,
    body: &Map<String, Value>,
    required: bool,
) -> Result<(), Box<Response>> {
    for field in ["name", "secret_name"] {
        match body.get(field) {
            None if required => return Err(refuse(&["body", field], "Field required", "missing")),
            None => {}
            // Nullable in `HeroUpdate`, `NOT NULL` in the table: a correct server keeps the
            // old value.
            Some(Value::Null) if !required && state.defects.not_null_name => {
                return Err(Box::new(server_error()));
            }
            Some(Value::Null) if !required => {}
            Some(value) => {
                hero.insert(field.to_owned(), string(state, value, field)?);
            }
        }
    }
    if let Some(value) = body.get("age") {
        hero.insert("age".to_owned(), age(state, value)?);
    }
    Ok(())
}

async fn create(State(state): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let body = match object(&state, &headers, &body) {
        Ok(body) => body,
        Err(response) => return *response,
    };
    let mut hero = Map::new();
    hero.insert("age".to_owned(), Value::Null);
    if let Err(response) = apply(&state, &mut hero, &body, true) {
        return *response;
    }
    let id = {
        let mut next = state.next_id.lock().unwrap();
        *next += 1;
        *next - 1
    };
    hero.insert("id".to_owned(), json!(id));
    hero.insert("created".to_owned(), json!("2026-01-01T00:00:00Z"));
    let hero = Value::Object(hero);
    state.heroes.lock().unwrap().insert(id, hero.clone());
    axum::Json(hero).into_response()
}

async fn read(State(state): State<Arc<App>>, Path(raw): Path<String>) -> Response {
    let id = match hero_id(&raw) {
        Ok(id) => id,
        Err(response) => return *response,
    };
    match state.heroes.lock().unwrap().get(&id) {
        Some(hero) => axum::Json(hero.clone()).into_response(),
        None => not_found(),
    }
}

/// `PATCH` (partial) or `PUT` (whole) of a hero that must exist first.
fn change(state: &App, raw: &str, headers: &HeaderMap, body: &Bytes, whole: bool) -> Response {
    let id = match hero_id(raw) {
        Ok(id) => id,
        Err(response) => return *response,
    };
    let Some(Value::Object(mut hero)) = state.heroes.lock().unwrap().get(&id).cloned() else {
        return not_found();
    };
    let body = match object(state, headers, body) {
        Ok(body) => body,
        Err(response) => return *response,
    };
    if whole
        && state.defects.parses_read_only
        && let Some(created) = body.get("created")
        && !created
            .as_str()
            .is_some_and(|c| c.len() >= 20 && c.as_bytes()[4] == b'-')
    {
        return server_error();
    }
    if let Err(response) = apply(state, &mut hero, &body, whole) {
        return *response;
    }
    let hero = Value::Object(hero);
    state.heroes.lock().unwrap().insert(id, hero.clone());
    axum::Json(hero).into_response()
}

async fn update(
    State(state): State<Arc<App>>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    change(&state, &raw, &headers, &body, false)
}

async fn replace(
    State(state): State<Arc<App>>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    change(&state, &raw, &headers, &body, true)
}

async fn remove(State(state): State<Arc<App>>, Path(raw): Path<String>) -> Response {
    let id = match hero_id(&raw) {
        Ok(id) => id,
        Err(response) => return *response,
    };
    match state.heroes.lock().unwrap().remove(&id) {
        Some(_) => axum::Json(json!({"ok": true})).into_response(),
        None => not_found(),
    }
}
