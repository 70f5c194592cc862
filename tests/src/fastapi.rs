//! A server that behaves as a FastAPI app does for `tests/fixtures/fastapi.json` (OpenAPI
//! 3.1): trailing-slash collection paths, `Optional[...]` as `anyOf` with null, and every
//! validation error a 422 with pydantic's `{"detail": [{loc, msg, type}]}`. Correct unless
//! told to carry planted defects.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

/// The document the app publishes.
pub const SPEC: &str = include_str!("../fixtures/fastapi.json");

/// Defects to plant; all off is a correct server.
#[derive(Debug, Clone, Copy, Default)]
pub struct Defects {
    /// POST answers 500 (Starlette's plain text) for more than two tags.
    pub server_error: bool,
    /// POST accepts a price of zero or less.
    pub accepts_bad_price: bool,
    /// GET of an item returns its owner's password.
    pub leaked_password: bool,
    /// 404s say `{"error": ...}` where the document says `{"detail": ...}`.
    pub wrong_error_shape: bool,
}

impl Defects {
    pub fn all() -> Defects {
        Defects {
            server_error: true,
            accepts_bad_price: true,
            leaked_password: true,
            wrong_error_shape: true,
        }
    }
}

struct App {
    defects: Defects,
    items: Mutex<BTreeMap<i64, Value>>,
    next_id: Mutex<i64>,
}

pub fn app(defects: Defects) -> Router {
    let state = Arc::new(App {
        defects,
        items: Mutex::default(),
        next_id: Mutex::new(1),
    });
    Router::new()
        .route("/items/", get(list).post(create))
        .route("/items/{item_id}", get(read).delete(remove))
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

fn not_found(state: &App) -> Response {
    let body = match state.defects.wrong_error_shape {
        true => json!({"error": "Item not found"}),
        false => json!({"detail": "Item not found"}),
    };
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

async fn list(State(state): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let mut q: Option<String> = None;
    let mut limit = 10i64;
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match &*name {
            "q" if value.chars().count() > 50 => {
                return invalid(
                    &["query", "q"],
                    "String should have at most 50 characters",
                    "string_too_long",
                );
            }
            "q" => q = Some(value.into_owned()),
            "limit" => match value.parse::<i64>() {
                Ok(n) if (1..=100).contains(&n) => limit = n,
                Ok(_) => {
                    return invalid(
                        &["query", "limit"],
                        "Input should be between 1 and 100",
                        "less_than_equal",
                    );
                }
                Err(_) => {
                    return invalid(
                        &["query", "limit"],
                        "Input should be a valid integer",
                        "int_parsing",
                    );
                }
            },
            _ => {}
        }
    }
    let items = state.items.lock().unwrap();
    let found: Vec<Value> = items
        .values()
        .filter(|item| {
            q.as_ref().is_none_or(|q| {
                item["name"]
                    .as_str()
                    .is_some_and(|n| n.contains(q.as_str()))
            })
        })
        .take(limit as usize)
        .cloned()
        .collect();
    axum::Json(Value::Array(found)).into_response()
}

/// Any JSON value but null (the document's `JsonValue`).
fn json_value(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Array(items) => items.iter().all(json_value),
        Value::Object(map) => map.values().all(json_value),
        _ => true,
    }
}

async fn create(State(state): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    // FastAPI reads a body that is not declared JSON as no valid dictionary at all.
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if body.is_empty() {
        return invalid(&["body"], "Field required", "missing");
    }
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(value) if is_json => value,
        Ok(_) => {
            return invalid(
                &["body"],
                "Input should be a valid dictionary",
                "model_attributes_type",
            );
        }
        Err(_) => return invalid(&["body", "0"], "JSON decode error", "json_invalid"),
    };
    let Some(object) = parsed.as_object() else {
        return invalid(
            &["body"],
            "Input should be a valid dictionary",
            "model_attributes_type",
        );
    };
    let name = match object.get("name") {
        Some(Value::String(name)) if (1..=50).contains(&name.chars().count()) => name.clone(),
        Some(Value::String(_)) => {
            return invalid(
                &["body", "name"],
                "String length out of range",
                "string_too_long",
            );
        }
        Some(_) => {
            return invalid(
                &["body", "name"],
                "Input should be a valid string",
                "string_type",
            );
        }
        None => return invalid(&["body", "name"], "Field required", "missing"),
    };
    let price = match object.get("price").and_then(Value::as_f64) {
        Some(price) if price > 0.0 || state.defects.accepts_bad_price => price,
        Some(_) => {
            return invalid(
                &["body", "price"],
                "Input should be greater than 0",
                "greater_than",
            );
        }
        None => {
            return invalid(
                &["body", "price"],
                "Input should be a valid number",
                "float_type",
            );
        }
    };
    let tags = match object.get("tags") {
        None => Vec::new(),
        Some(Value::Array(tags)) if tags.iter().all(Value::is_string) => tags.clone(),
        Some(_) => {
            return invalid(
                &["body", "tags"],
                "Input should be a valid list of strings",
                "list_type",
            );
        }
    };
    let description = match object.get("description") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(text)) => json!(text),
        Some(_) => {
            return invalid(
                &["body", "description"],
                "Input should be a valid string",
                "string_type",
            );
        }
    };
    let parent_id = match object.get("parent_id") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Value::Number(n.clone()),
        Some(_) => {
            return invalid(
                &["body", "parent_id"],
                "Input should be a valid integer",
                "int_type",
            );
        }
    };
    let metadata = match object.get("metadata") {
        None | Some(Value::Null) => Value::Null,
        Some(value) if json_value(value) => value.clone(),
        Some(_) => {
            return invalid(
                &["body", "metadata"],
                "Input should be a valid JSON value",
                "json_type",
            );
        }
    };
    if state.defects.server_error && tags.len() > 2 {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Internal Server Error",
        )
            .into_response();
    }
    let id = {
        let mut next = state.next_id.lock().unwrap();
        *next += 1;
        *next - 1
    };
    let item = json!({"id": id, "name": name, "price": price, "tags": tags, "description": description,
                      "parent_id": parent_id, "children": [], "metadata": metadata});
    state.items.lock().unwrap().insert(id, item.clone());
    (StatusCode::CREATED, axum::Json(item)).into_response()
}

fn item_id(raw: &str) -> Result<i64, Box<Response>> {
    raw.parse::<i64>().map_err(|_| {
        Box::new(invalid(
            &["path", "item_id"],
            "Input should be a valid integer",
            "int_parsing",
        ))
    })
}

async fn read(State(state): State<Arc<App>>, Path(raw): Path<String>) -> Response {
    let id = match item_id(&raw) {
        Ok(id) => id,
        Err(response) => return *response,
    };
    let Some(mut item) = state.items.lock().unwrap().get(&id).cloned() else {
        return not_found(&state);
    };
    if state.defects.leaked_password {
        item["owner"] = json!({"name": "ann", "password": "hunter2"});
    }
    axum::Json(item).into_response()
}

async fn remove(State(state): State<Arc<App>>, Path(raw): Path<String>) -> Response {
    let id = match item_id(&raw) {
        Ok(id) => id,
        Err(response) => return *response,
    };
    match state.items.lock().unwrap().remove(&id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found(&state),
    }
}
