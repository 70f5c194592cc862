//! A server that behaves as httpbin and as an API with entity tags do: `/status/{code}`
//! answers the status asked for (`863` included) to every method, `TRACE` too;
//! `/cookies/set` and `/response-headers` reflect query text into `Set-Cookie` and other
//! response headers; and `/etags/{id}` honours `If-Match` and `If-None-Match` with 412 and
//! 304. Correct unless told to carry a defect (httpbin's own: a control character reflected
//! into a header, and `TRACE`, are 500s there).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, get};
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
    trace:
      responses:
        default: {description: the status asked for}
  /cookies/set:
    get:
      parameters: [{name: name, in: query, required: true, schema: {type: string}}]
      responses:
        "200": {description: the cookie set, content: {application/json: {schema: {type: object, required: [cookies], properties: {cookies: {type: object}}}}}}
        "400": {description: no name}
  /response-headers:
    get:
      parameters: [{name: freeform, in: query, schema: {type: string}}]
      responses:
        "200": {description: the headers set, content: {application/json: {schema: {type: object}}}}
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

/// Defects to plant.
#[derive(Debug, Clone, Copy, Default)]
pub struct Defects {
    /// `/status/{code}` answers 500 for every code from 500 up, 863 included.
    pub server_error_past_599: bool,
    /// Text with a control character, reflected into a response header, is a 500 (as
    /// Werkzeug refuses such header values) rather than percent-encoded.
    pub raw_header_reflection: bool,
    /// `TRACE /status/{code}` is a 500.
    pub trace_fails: bool,
}

impl Defects {
    /// httpbin's own defects (not the one past 599).
    pub fn httpbin() -> Defects {
        Defects {
            raw_header_reflection: true,
            trace_fails: true,
            ..Defects::default()
        }
    }
}

pub fn app(defects: Defects) -> Router {
    Router::new()
        .route("/status/{code}", get(status).on(MethodFilter::TRACE, trace))
        .route("/cookies/set", get(set_cookie))
        .route("/response-headers", get(response_headers))
        .route("/etags/{id}", get(read).put(change))
        .with_state(Arc::new(defects))
}

async fn trace(State(defects): State<Arc<Defects>>, code: Path<String>) -> Response {
    match defects.trace_fails {
        true => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        false => status(State(defects), code).await,
    }
}

/// A header value for reflected text: the text as it is where HTTP can carry it, else
/// percent-encoded; `None` (a 500) for a control character when the defect is planted.
fn reflected(defects: &Defects, text: &str) -> Option<HeaderValue> {
    match HeaderValue::from_str(text) {
        Ok(value) if text.is_ascii() => Some(value),
        _ if defects.raw_header_reflection && text.chars().any(char::is_control) => None,
        _ => {
            let encoded: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
            HeaderValue::from_str(&encoded).ok()
        }
    }
}

/// The query's values by name (the last of each), decoded.
fn query(raw: Option<String>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect()
}

async fn set_cookie(State(defects): State<Arc<Defects>>, RawQuery(raw): RawQuery) -> Response {
    let Some((_, value)) = query(raw).into_iter().rev().find(|(n, _)| n == "name") else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let Some(cookie) = reflected(&defects, &format!("name={value}; Path=/")) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut response = axum::Json(json!({"cookies": {"name": value}})).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response
}

async fn response_headers(
    State(defects): State<Arc<Defects>>,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut headers = HeaderMap::new();
    let mut body = serde_json::Map::new();
    for (name, value) in query(raw) {
        let Ok(header_name) = HeaderName::from_bytes(name.as_bytes()) else {
            continue;
        };
        let Some(reflected) = reflected(&defects, &value) else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        headers.append(header_name, reflected);
        body.insert(name, json!(value));
    }
    (headers, axum::Json(serde_json::Value::Object(body))).into_response()
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
