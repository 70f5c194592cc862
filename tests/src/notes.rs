//! A small API of private notes: two users log in, each note belongs to who made it, and
//! another user is told it does not exist (404), unless told to carry the defect of broken
//! object level authorization.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

pub const SPEC: &str = r##"
openapi: 3.0.3
info: {title: notes, version: "1"}
security: [{bearer: []}]
paths:
  /login:
    post:
      security: []
      requestBody: {required: true, content: {application/json: {schema: {type: object, required: [user], properties: {user: {type: string}}}}}}
      responses:
        "200": {description: a token, content: {application/json: {schema: {type: object, required: [token], properties: {token: {type: string}}}}}}
        "401": {description: no such user, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
  /notes:
    post:
      requestBody: {required: true, content: {application/json: {schema: {$ref: "#/components/schemas/NewNote"}}}}
      responses:
        "201": {description: made, content: {application/json: {schema: {$ref: "#/components/schemas/Note"}}}}
        "400": {description: invalid, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
        "401": {description: who?, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
  /notes/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: integer, minimum: 1}}]
    get:
      responses:
        "200": {description: the note, content: {application/json: {schema: {$ref: "#/components/schemas/Note"}}}}
        "401": {description: who?, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
        "404": {description: none of yours, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
    put:
      requestBody: {required: true, content: {application/json: {schema: {$ref: "#/components/schemas/NewNote"}}}}
      responses:
        "200": {description: changed, content: {application/json: {schema: {$ref: "#/components/schemas/Note"}}}}
        "400": {description: invalid, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
        "401": {description: who?, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
        "404": {description: none of yours, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
    delete:
      responses:
        "204": {description: gone}
        "401": {description: who?, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
        "404": {description: none of yours, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
  schemas:
    NewNote:
      type: object
      additionalProperties: false
      required: [text]
      properties:
        text: {type: string, maxLength: 50}
    Note:
      type: object
      additionalProperties: false
      required: [id, text]
      properties:
        id: {type: integer}
        text: {type: string}
    Error:
      type: object
      required: [error]
      properties:
        error: {type: string}
"##;

/// The users `POST /login` knows.
pub const USERS: [&str; 2] = ["ann", "bob"];

#[derive(Debug, Clone, Copy, Default)]
pub struct Defects {
    /// Any user may read any note.
    pub shared_reads: bool,
    /// Any user may change or delete any note.
    pub shared_writes: bool,
}

#[derive(Default)]
struct Notes {
    next: i64,
    /// Each note with its owner.
    items: BTreeMap<i64, (String, String)>,
}

struct App {
    defects: Defects,
    notes: Mutex<Notes>,
    /// Requests for a note by a user who does not own it.
    foreign: AtomicUsize,
}

/// A served notes API, and how many requests came for notes their sender did not own.
pub struct Served {
    pub router: Router,
    foreign: Arc<App>,
}

impl Served {
    pub fn foreign_requests(&self) -> usize {
        self.foreign.foreign.load(Ordering::Relaxed)
    }
}

pub fn app(defects: Defects) -> Served {
    let state = Arc::new(App {
        defects,
        notes: Mutex::default(),
        foreign: AtomicUsize::new(0),
    });
    let router = Router::new()
        .route("/login", post(login))
        .route("/notes", post(create))
        .route("/notes/{id}", get(read).put(update).delete(remove))
        .with_state(state.clone());
    Served {
        router,
        foreign: state,
    }
}

type Shared = State<Arc<App>>;

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"error": message}))).into_response()
}

/// The user a bearer token names (`token-ann`).
fn user(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let user = value.strip_prefix("Bearer token-")?;
    USERS.contains(&user).then(|| user.to_owned())
}

/// The text of a JSON `NewNote`.
fn text(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    let json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return None;
    }
    let value: Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object()?;
    let text = object.get("text")?.as_str()?;
    (object.len() == 1 && text.chars().count() <= 50).then(|| text.to_owned())
}

async fn login(body: axum::body::Bytes) -> Response {
    let value: Value = serde_json::from_slice(&body).unwrap_or_default();
    match value.get("user").and_then(Value::as_str) {
        Some(user) if USERS.contains(&user) => {
            axum::Json(json!({"token": format!("token-{user}")})).into_response()
        }
        _ => error(StatusCode::UNAUTHORIZED, "no such user"),
    }
}

async fn create(State(app): Shared, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let Some(user) = user(&headers) else {
        return error(StatusCode::UNAUTHORIZED, "who?");
    };
    let Some(text) = text(&headers, &body) else {
        return error(StatusCode::BAD_REQUEST, "a note is {\"text\": ...}");
    };
    let mut notes = app.notes.lock().unwrap();
    notes.next += 1;
    let id = notes.next;
    notes.items.insert(id, (user, text.clone()));
    (
        StatusCode::CREATED,
        axum::Json(json!({"id": id, "text": text})),
    )
        .into_response()
}

/// The note, if `user` may reach it (`shared`: the defect lets anyone).
fn find(app: &App, user: &str, id: &str, shared: bool) -> Option<(i64, String)> {
    let id: i64 = id.parse().ok()?;
    let notes = app.notes.lock().unwrap();
    let (owner, text) = notes.items.get(&id)?;
    if owner != user {
        app.foreign.fetch_add(1, Ordering::Relaxed);
        if !shared {
            return None;
        }
    }
    Some((id, text.clone()))
}

async fn read(State(app): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let Some(user) = user(&headers) else {
        return error(StatusCode::UNAUTHORIZED, "who?");
    };
    match find(&app, &user, &id, app.defects.shared_reads) {
        Some((id, text)) => axum::Json(json!({"id": id, "text": text})).into_response(),
        None => error(StatusCode::NOT_FOUND, "no such note of yours"),
    }
}

async fn update(
    State(app): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let Some(user) = user(&headers) else {
        return error(StatusCode::UNAUTHORIZED, "who?");
    };
    let Some((id, _)) = find(&app, &user, &id, app.defects.shared_writes) else {
        return error(StatusCode::NOT_FOUND, "no such note of yours");
    };
    let Some(text) = text(&headers, &body) else {
        return error(StatusCode::BAD_REQUEST, "a note is {\"text\": ...}");
    };
    if let Some(note) = app.notes.lock().unwrap().items.get_mut(&id) {
        note.1 = text.clone();
    }
    axum::Json(json!({"id": id, "text": text})).into_response()
}

async fn remove(State(app): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let Some(user) = user(&headers) else {
        return error(StatusCode::UNAUTHORIZED, "who?");
    };
    let Some((id, _)) = find(&app, &user, &id, app.defects.shared_writes) else {
        return error(StatusCode::NOT_FOUND, "no such note of yours");
    };
    app.notes.lock().unwrap().items.remove(&id);
    StatusCode::NO_CONTENT.into_response()
}
