//! A server that behaves as httpbin and as an API with entity tags do: `/status/{code}`
//! answers the status asked for (`863` included), and `/etags/{id}` honours
//! `If-Match` and `If-None-Match` with 412 and 304. Correct unless told to carry a defect.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

pub const SPEC: &str = r##"
openapi: 3.0.3
info: {title: httpbin, version: "1"}
paths:
  /status/{code}:
    parameters: [{name: code, in: path, required: true, schema: {type: integer, enum: [200, 204, 863]}}]
    get:
      responses:
        default: {description: the status asked for}
  /etags/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: string, minLength: 1, maxLength: 8, pattern: "^[a-z]+$"}}]
    get:
      parameters: [{name: If-None-Match, in: header, schema: {type: string}}]
      responses:
        "200": {description: the thing, content: {application/json: {schema: {type: object, required: [id], properties: {id: {type: string}}}}}}
        "400": {description: not an id}
    put:
      parameters: [{name: If-Match, in: header, required: true, schema: {type: string}}]
      responses:
        "200": {description: changed, content: {application/json: {schema: {type: object, required: [id], properties: {id: {type: string}}}}}}
        "400": {description: not an id, or no If-Match}
"##;

/// The entity tag every item has.
const ETAG: &str = "\"v1\"";

/// Defects to plant: a status past 599 answered as a 5xx.
#[derive(Debug, Clone, Copy, Default)]
pub struct Defects {
    /// `/status/{code}` answers 500 for every code from 500 up, 863 included.
    pub server_error_past_599: bool,
}

pub fn app(defects: Defects) -> Router {
    Router::new()
        .route("/status/{code}", get(status))
        .route("/etags/{id}", get(read).put(change))
        .with_state(Arc::new(defects))
}

/// The statuses `/status/{code}` documents.
const CODES: [u16; 3] = [200, 204, 863];

async fn status(State(defects): State<Arc<Defects>>, Path(code): Path<String>) -> Response {
    let Some(code) = code.parse::<u16>().ok().filter(|c| CODES.contains(c)) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let code = match (defects.server_error_past_599, code) {
        (true, 600..) => 500,
        _ => code,
    };
    match StatusCode::from_u16(code) {
        Ok(status) => status.into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

fn valid_id(id: &str) -> bool {
    (1..=8).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_lowercase())
}

async fn read(Path(id): Path<String>, headers: HeaderMap) -> Response {
    if !valid_id(&id) {
        return StatusCode::BAD_REQUEST.into_response();
    }
    if headers.get("if-none-match").is_some_and(|tag| tag == ETAG) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    ([("etag", ETAG)], axum::Json(json!({"id": id}))).into_response()
}

async fn change(Path(id): Path<String>, headers: HeaderMap) -> Response {
    if !valid_id(&id) {
        return StatusCode::BAD_REQUEST.into_response();
    }
    match headers.get("if-match") {
        None => StatusCode::BAD_REQUEST.into_response(),
        Some(tag) if tag == ETAG || tag == "*" => axum::Json(json!({"id": id})).into_response(),
        Some(_) => StatusCode::PRECONDITION_FAILED.into_response(),
    }
}
