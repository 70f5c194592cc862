//! A server for `tests/fixtures/swagger2.yaml` (Swagger 2.0), behaving as the older Java and
//! Node services that publish such documents do: everything under `basePath` `/v2`, a JSON
//! `body` parameter, a urlencoded `formData` update, a multipart upload, an `api_key` header,
//! `x-nullable` fields and repeated query parameters. Correct unless told to carry defects.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// The document the service publishes.
pub const SPEC: &str = include_str!("../fixtures/swagger2.yaml");
/// The API key it wants on `POST /pets`.
pub const API_KEY: &str = "secret-key";

/// Defects to plant; all off is a correct server.
#[derive(Debug, Clone, Copy, Default)]
pub struct Defects {
    /// The form update accepts a status outside its enum.
    pub accepts_bad_status: bool,
    /// `POST /pets` ignores the API key.
    pub ignores_api_key: bool,
    /// The upload answers 500 when the caption is missing.
    pub upload_error: bool,
}

impl Defects {
    pub fn all() -> Defects {
        Defects {
            accepts_bad_status: true,
            ignores_api_key: true,
            upload_error: true,
        }
    }
}

struct Pets {
    defects: Defects,
    pets: Mutex<BTreeMap<i64, Value>>,
}

pub fn app(defects: Defects) -> Router {
    let pets = (1..=3).map(|id| {
        (
            id,
            json!({"id": id, "name": format!("pet{id}"), "tag": null, "status": "available"}),
        )
    });
    let state = Arc::new(Pets {
        defects,
        pets: Mutex::new(pets.collect()),
    });
    let api = Router::new()
        .route("/pets", get(find).post(add))
        .route("/pets/{pet_id}", get(fetch).post(update))
        .route("/pets/{pet_id}/image", post(upload))
        .with_state(state);
    Router::new()
        .nest("/v2", api)
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such route") })
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"message": message}))).into_response()
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn find(State(state): State<Arc<Pets>>, RawQuery(query): RawQuery) -> Response {
    let mut tags = Vec::new();
    let mut limit = 50usize;
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match &*name {
            "tags" if value.chars().count() > 10 => {
                return error(StatusCode::BAD_REQUEST, "tag too long");
            }
            "tags" => tags.push(value.into_owned()),
            "limit" => match value.parse::<i32>() {
                Ok(n @ 1..=50) => limit = n as usize,
                _ => return error(StatusCode::BAD_REQUEST, "limit must be 1 to 50"),
            },
            _ => {}
        }
    }
    let pets = state.pets.lock().unwrap();
    let found: Vec<Value> = pets
        .values()
        .filter(|p| {
            tags.is_empty()
                || p["tag"]
                    .as_str()
                    .is_some_and(|t| tags.iter().any(|w| w == t))
        })
        .take(limit)
        .cloned()
        .collect();
    axum::Json(Value::Array(found)).into_response()
}

async fn add(State(state): State<Arc<Pets>>, headers: HeaderMap, body: Bytes) -> Response {
    let key = headers.get("api_key").and_then(|v| v.to_str().ok());
    if key != Some(API_KEY) && !state.defects.ignores_api_key {
        return error(StatusCode::UNAUTHORIZED, "a valid api_key is needed");
    }
    if !content_type(&headers).starts_with("application/json") {
        return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "JSON only");
    }
    let Ok(Value::Object(pet)) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "a JSON object is needed");
    };
    let name = match pet.get("name") {
        Some(Value::String(name)) if (1..=20).contains(&name.chars().count()) => name.clone(),
        _ => return error(StatusCode::BAD_REQUEST, "name must be 1 to 20 characters"),
    };
    let tag = match pet.get("tag") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(tag)) if tag.chars().count() <= 10 => json!(tag),
        _ => return error(StatusCode::BAD_REQUEST, "tag must be at most 10 characters"),
    };
    let mut pets = state.pets.lock().unwrap();
    let id = pets.keys().next_back().copied().unwrap_or(0) + 1;
    let pet = json!({"id": id, "name": name, "tag": tag, "status": "available"});
    pets.insert(id, pet.clone());
    (StatusCode::CREATED, axum::Json(pet)).into_response()
}

fn pet_id(raw: &str) -> Result<i64, Box<Response>> {
    match raw.parse::<i64>() {
        Ok(id) if id >= 1 => Ok(id),
        _ => Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "petId must be a positive integer",
        ))),
    }
}

async fn fetch(State(state): State<Arc<Pets>>, Path(raw): Path<String>) -> Response {
    let id = match pet_id(&raw) {
        Ok(id) => id,
        Err(response) => return *response,
    };
    match state.pets.lock().unwrap().get(&id) {
        Some(pet) => axum::Json(pet.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "no such pet"),
    }
}

async fn update(
    State(state): State<Arc<Pets>>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let id = match pet_id(&raw) {
        Ok(id) => id,
        Err(response) => return *response,
    };
    if !content_type(&headers).starts_with("application/x-www-form-urlencoded") {
        return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "a form is needed");
    }
    let mut changes = Vec::new();
    for (name, value) in form_urlencoded::parse(&body) {
        let ok = match &*name {
            "name" => (1..=20).contains(&value.chars().count()),
            "status" => value == "available" || value == "sold" || state.defects.accepts_bad_status,
            _ => true,
        };
        if !ok {
            return error(StatusCode::BAD_REQUEST, &format!("invalid {name}"));
        }
        changes.push((name.into_owned(), value.into_owned()));
    }
    let mut pets = state.pets.lock().unwrap();
    let Some(pet) = pets.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, "no such pet");
    };
    for (name, value) in changes {
        if name == "name" || name == "status" {
            pet[name] = json!(value);
        }
    }
    axum::Json(pet.clone()).into_response()
}

/// The named parts of a multipart body (enough of RFC 7578 for the fixture).
fn multipart_fields(content_type: &str, body: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))?;
    let boundary = format!("--{}", boundary.trim_matches('"'));
    let text = String::from_utf8_lossy(body);
    let mut fields = Vec::new();
    for part in text.split(boundary.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let (head, value) = part.split_once("\r\n\r\n")?;
        let name = head.split("name=\"").nth(1)?.split('"').next()?.to_owned();
        fields.push((
            name,
            value
                .strip_suffix("\r\n")
                .unwrap_or(value)
                .as_bytes()
                .to_vec(),
        ));
    }
    Some(fields)
}

async fn upload(
    State(state): State<Arc<Pets>>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let id = match pet_id(&raw) {
        Ok(id) => id,
        Err(response) => return *response,
    };
    let kind = content_type(&headers);
    if !kind.starts_with("multipart/form-data") {
        return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "multipart only");
    }
    let Some(fields) = multipart_fields(kind, &body) else {
        return error(StatusCode::BAD_REQUEST, "malformed multipart body");
    };
    let field = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    let Some(file) = field("file") else {
        return error(StatusCode::BAD_REQUEST, "file is required");
    };
    match field("caption") {
        Some(caption) if String::from_utf8_lossy(caption).chars().count() > 30 => {
            return error(StatusCode::BAD_REQUEST, "caption too long");
        }
        None if state.defects.upload_error => {
            return error(StatusCode::INTERNAL_SERVER_ERROR, "caption missing");
        }
        _ => {}
    }
    if !state.pets.lock().unwrap().contains_key(&id) {
        return error(StatusCode::NOT_FOUND, "no such pet");
    }
    axum::Json(json!({"size": file.len()})).into_response()
}
