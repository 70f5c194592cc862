//! A small stateful API whose spec has no links (so the checker must infer them), correct
//! unless told to carry defects that only show between calls.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

pub const SPEC: &str = r##"
openapi: 3.0.3
info: {title: things, version: "1"}
paths:
  /things:
    post:
      requestBody: {required: true, content: {application/json: {schema: {$ref: "#/components/schemas/NewThing"}}}}
      responses:
        "201": {description: made, content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}
        "400": {description: invalid, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
    get:
      responses:
        "200":
          description: all things
          content:
            application/json:
              schema: {type: object, required: [data], properties: {data: {type: array, items: {$ref: "#/components/schemas/Thing"}}}}
  /things/{thingId}:
    parameters: [{name: thingId, in: path, required: true, schema: {type: integer, minimum: 1}}]
    get:
      responses:
        "200": {description: the thing, content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}
        "404": {description: none, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
    put:
      requestBody: {required: true, content: {application/json: {schema: {$ref: "#/components/schemas/NewThing"}}}}
      responses:
        "200": {description: changed, content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}
        "400": {description: invalid, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
        "404": {description: none, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
    delete:
      responses:
        "204": {description: gone}
        "404": {description: none, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
  /login:
    post:
      requestBody: {required: true, content: {application/json: {schema: {type: object, required: [password], properties: {password: {type: string}}}}}}
      responses:
        "200": {description: a token, content: {application/json: {schema: {type: object, required: [token], properties: {token: {type: string}}}}}}
        "400": {description: invalid, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
        "401": {description: wrong, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
  /whoami:
    get:
      security: [{bearer: []}]
      responses:
        "200": {description: you, content: {application/json: {schema: {type: object, required: [name], properties: {name: {type: string}}}}}}
        "401": {description: who?, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
  /reset:
    post:
      responses:
        "204": {description: empty again}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
  schemas:
    NewThing:
      type: object
      additionalProperties: false
      required: [name]
      properties:
        name: {type: string, minLength: 1, maxLength: 20}
        tag: {type: string, minLength: 1, maxLength: 10}
    Thing:
      type: object
      additionalProperties: false
      required: [id, name]
      properties:
        id: {type: integer}
        name: {type: string}
        tag: {type: string}
    Error:
      type: object
      required: [error]
      properties:
        error: {type: string}
"##;

/// The password `POST /login` takes; the token it gives.
pub const PASSWORD: &str = "open-sesame";
const TOKEN: &str = "token-of-the-day";

#[derive(Debug, Clone, Copy, Default)]
pub struct Defects {
    /// DELETE answers 204 but the thing is still served.
    pub serves_deleted: bool,
    /// POST answers 201 with an id that GET does not find.
    pub loses_created: bool,
    /// `/whoami` answers 200 without a valid token.
    pub ignores_auth: bool,
    /// After a PUT, GET no longer shows the `tag` the PUT answered with.
    pub drops_field_on_update: bool,
}

#[derive(Default)]
struct Things {
    next: i64,
    items: BTreeMap<i64, Value>,
    deleted: BTreeMap<i64, Value>,
    updated: Vec<i64>,
}

struct AppState {
    defects: Defects,
    things: Mutex<Things>,
}

type Shared = State<Arc<AppState>>;

pub fn app(defects: Defects) -> Router {
    let state = Arc::new(AppState {
        defects,
        things: Mutex::default(),
    });
    Router::new()
        .route("/things", post(create).get(list))
        .route("/things/{id}", get(fetch).put(update).delete(remove))
        .route("/login", post(login))
        .route("/whoami", get(whoami))
        .route("/reset", post(reset))
        .with_state(state)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"error": message}))).into_response()
}

/// A valid NewThing (`None`: answer 400).
fn new_thing(body: Result<axum::Json<Value>, JsonRejection>) -> Option<(String, Option<String>)> {
    let axum::Json(body) = body.ok()?;
    let object = body.as_object()?;
    if object.keys().any(|k| k != "name" && k != "tag") {
        return None;
    }
    let name = object
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| (1..=20).contains(&n.chars().count()))?;
    let tag = match object.get("tag") {
        None => None,
        Some(tag) => Some(
            tag.as_str()
                .filter(|t| (1..=10).contains(&t.chars().count()))?
                .to_owned(),
        ),
    };
    Some((name.to_owned(), tag))
}

fn thing(id: i64, name: &str, tag: Option<&str>) -> Value {
    let mut thing = json!({"id": id, "name": name});
    if let Some(tag) = tag {
        thing["tag"] = json!(tag);
    }
    thing
}

async fn create(State(state): Shared, body: Result<axum::Json<Value>, JsonRejection>) -> Response {
    let Some((name, tag)) = new_thing(body) else {
        return error(StatusCode::BAD_REQUEST, "invalid thing");
    };
    let mut things = state.things.lock().unwrap();
    things.next += 1;
    let id = things.next;
    let made = thing(id, &name, tag.as_deref());
    // The planted defect stores it under another id.
    let key = if state.defects.loses_created {
        id + 1_000_000
    } else {
        id
    };
    things.items.insert(key, made.clone());
    (StatusCode::CREATED, axum::Json(made)).into_response()
}

async fn list(State(state): Shared) -> Response {
    let things = state.things.lock().unwrap();
    axum::Json(json!({"data": things.items.values().collect::<Vec<_>>()})).into_response()
}

async fn fetch(State(state): Shared, Path(id): Path<String>) -> Response {
    let things = state.things.lock().unwrap();
    let id: i64 = id.parse().unwrap_or(0);
    let found = things.items.get(&id).or_else(|| {
        state
            .defects
            .serves_deleted
            .then(|| things.deleted.get(&id))
            .flatten()
    });
    match found {
        Some(thing) if state.defects.drops_field_on_update && things.updated.contains(&id) => {
            let mut thing = thing.clone();
            thing.as_object_mut().unwrap().remove("tag");
            axum::Json(thing).into_response()
        }
        Some(thing) => axum::Json(thing.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "no such thing"),
    }
}

async fn update(
    State(state): Shared,
    Path(id): Path<String>,
    body: Result<axum::Json<Value>, JsonRejection>,
) -> Response {
    let id: i64 = id.parse().unwrap_or(0);
    let Some((name, tag)) = new_thing(body) else {
        return error(StatusCode::BAD_REQUEST, "invalid thing");
    };
    let mut things = state.things.lock().unwrap();
    if !things.items.contains_key(&id) {
        return error(StatusCode::NOT_FOUND, "no such thing");
    }
    // The answer always shows a tag; only the defect forgets it afterwards.
    let changed = thing(id, &name, Some(tag.as_deref().unwrap_or("none")));
    things.items.insert(id, changed.clone());
    things.updated.push(id);
    axum::Json(changed).into_response()
}

async fn remove(State(state): Shared, Path(id): Path<String>) -> Response {
    let id: i64 = id.parse().unwrap_or(0);
    let mut things = state.things.lock().unwrap();
    match things.items.remove(&id) {
        Some(thing) => {
            things.deleted.insert(id, thing);
            StatusCode::NO_CONTENT.into_response()
        }
        None => error(StatusCode::NOT_FOUND, "no such thing"),
    }
}

async fn login(body: Result<axum::Json<Value>, JsonRejection>) -> Response {
    let Ok(axum::Json(body)) = body else {
        return error(StatusCode::BAD_REQUEST, "invalid");
    };
    match body.get("password").and_then(Value::as_str) {
        Some(PASSWORD) => axum::Json(json!({"token": TOKEN})).into_response(),
        Some(_) => error(StatusCode::UNAUTHORIZED, "wrong password"),
        None => error(StatusCode::BAD_REQUEST, "invalid"),
    }
}

async fn whoami(State(state): Shared, headers: HeaderMap) -> Response {
    let token = headers.get("authorization").and_then(|v| v.to_str().ok());
    if state.defects.ignores_auth || token == Some(&format!("Bearer {TOKEN}")) {
        return axum::Json(json!({"name": "tester"})).into_response();
    }
    error(StatusCode::UNAUTHORIZED, "who are you?")
}

async fn reset(State(state): Shared) -> StatusCode {
    *state.things.lock().unwrap() = Things::default();
    StatusCode::NO_CONTENT
}
